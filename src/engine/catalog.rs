//! The shared order catalog (`assets/catalog.json`) and its matching index.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::lexicon::canonical_tokens;
use super::text::FuzzyVocab;
use super::units::{Route, Unit};
use super::validate::{Diagnostic, Diagnostics};

/// The catalog file format version this engine reads.
pub const CATALOG_SCHEMA_VERSION: u32 = 1;

/// What kind of order an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Exam,
    Bedside,
    Lab,
    Imaging,
    Medication,
    Fluid,
    Airway,
    Procedure,
    Consult,
    Disposition,
    Nursing,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Exam => "Examination",
            Category::Bedside => "Bedside test",
            Category::Lab => "Laboratory",
            Category::Imaging => "Imaging",
            Category::Medication => "Medication",
            Category::Fluid => "Fluids and blood",
            Category::Airway => "Oxygen and airway",
            Category::Procedure => "Procedure",
            Category::Consult => "Consult",
            Category::Disposition => "Disposition",
            Category::Nursing => "Nursing",
        }
    }
}

/// A dose: amount, unit and route, e.g. 325 mg PO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dose {
    pub amount: f64,
    pub unit: Unit,
    pub route: Route,
}

/// One orderable thing. `U` is how its dose ranges' units are held: [`Unit`] once loaded; the
/// file's text while loading, so that an unknown unit is reported at its path along with every
/// other error instead of stopping the parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order<U = Unit> {
    pub id: String,
    pub name: String,
    pub category: Category,
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Simulated minutes the order takes to carry out.
    pub time_cost_min: u32,
    /// Simulated minutes until the result is available (0: immediately).
    pub turnaround_min: u32,
    /// The normal result every case returns unless it overrides it.
    pub default_result: String,
    /// Typical adult dose (medications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose: Option<Dose>,
    /// Allowed routes (medications and fluids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Usual dose ranges, per route and age band, that the pharmacy check reads (medications
    /// and fluids). Each cites its public source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<DoseLimit<U>>,
    /// What a clinician should know about the entry's defaults ("the 10 units default is the
    /// hyperkalaemia dose"), with its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The dose of one puff of the inhaler form (pMDI), for orders written in puffs:
    /// salbutamol 100 mcg, ipratropium 20 mcg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_puff: Option<PuffDose>,
}

/// The dose one puff of an inhaler delivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PuffDose {
    pub amount: f64,
    /// mcg or mg.
    pub unit: Unit,
    /// The public reference for the strength.
    pub source: String,
}

/// Who a dose range is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// 16 years and over.
    #[default]
    Adult,
    /// Under 16: ranges are usually per kilogram.
    Child,
}

/// The usual range of one dose (or, with `rate`, of an infusion per hour) for one route:
/// what a ward pharmacist checks an order against. An order outside it is flagged; one over
/// [`GROSS_OVERDOSE_FACTOR`] times `max` is a harm in every case. `U` as in [`Order`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseLimit<U = Unit> {
    pub route: Route,
    /// One of [`LIMIT_UNITS`]; with `rate`, the amount per hour (or per minute for mcg/min).
    pub unit: U,
    pub min: f64,
    pub max: f64,
    /// An infusion rate rather than a single dose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rate: bool,
    #[serde(default, skip_serializing_if = "is_adult")]
    pub age: AgeBand,
    /// The public reference this range follows, e.g. "BNF: fentanyl, IV injection, acute pain".
    pub source: String,
}

impl Order<String> {
    /// The order with its dose ranges' units read (by [`check_limits`]).
    fn with_limits(self, limits: Vec<DoseLimit>) -> Order {
        Order {
            id: self.id,
            name: self.name,
            category: self.category,
            synonyms: self.synonyms,
            time_cost_min: self.time_cost_min,
            turnaround_min: self.turnaround_min,
            default_result: self.default_result,
            dose: self.dose,
            routes: self.routes,
            limits,
            note: self.note,
            per_puff: self.per_puff,
        }
    }
}

fn is_adult(a: &AgeBand) -> bool {
    *a == AgeBand::Adult
}

impl AgeBand {
    pub fn label(self) -> &'static str {
        match self {
            AgeBand::Adult => "adult",
            AgeBand::Child => "child",
        }
    }
}

/// The units a [`DoseLimit`] may be written in (the canonical units of `action::OrderedDose`
/// that a dose range can use: no litres, no oxygen flow).
pub const LIMIT_UNITS: &[Unit] = &[
    Unit::Mg,
    Unit::Mcg,
    Unit::G,
    Unit::Units,
    Unit::Ml,
    Unit::MEq,
    Unit::Mmol,
    Unit::MgPerKg,
    Unit::McgPerKg,
    Unit::UnitsPerKg,
    Unit::MlPerKg,
    Unit::McgPerMin,
];

/// A route the order does not list (an order that lists none takes any), reported at `at`
/// as "`what` `IV` is not among the order's routes [\"PO\"]".
fn check_route(
    order: &Order<String>,
    route: Route,
    at: String,
    what: &str,
    hint: &str,
    diags: &mut Diagnostics,
) {
    if !order.routes.is_empty() && !order.routes.contains(&route) {
        let listed: Vec<&str> = order.routes.iter().map(|r| r.as_str()).collect();
        diags.push(Diagnostic::new(
            at,
            format!("{what} `{route}` is not among the order's routes {listed:?}"),
            hint,
        ));
    }
}

/// Checks one order's own fields: its default route among its routes, its dose limits (see
/// [`check_limits`], whose read limits it returns), its dose per puff, and the placeholders in
/// its default result.
fn check_order(order: &Order<String>, path: &str, diags: &mut Diagnostics) -> Vec<DoseLimit> {
    if let Some(dose) = &order.dose {
        check_route(
            order,
            dose.route,
            format!("{path}.dose.route"),
            "default route",
            "add the route to `routes` or change the dose",
            diags,
        );
    }
    let limits = check_limits(order, path, diags);
    if let Some(p) = &order.per_puff {
        if !order.routes.contains(&Route::Inh) {
            diags.push(Diagnostic::new(
                format!("{path}.per_puff"),
                "a dose per puff for an order that is not inhaled",
                "add `INH` to `routes` or remove `per_puff`",
            ));
        }
        if !matches!(p.unit, Unit::Mcg | Unit::Mg) || p.amount <= 0.0 {
            diags.push(Diagnostic::new(
                format!("{path}.per_puff"),
                format!("a puff of {} {}", p.amount, p.unit),
                "give the strength per puff in mcg or mg, above 0",
            ));
        }
    }
    for name in super::case::unknown_placeholders(&order.default_result) {
        diags.push(super::case::placeholder_error(
            format!("{path}.default_result"),
            &name,
        ));
    }
    limits
}

/// Checks an order's dose limits: a known unit, 0 < min <= max, a route the order allows, one
/// limit per (route, age band, single dose or rate), and a cited source. Returns the limits
/// with their units read (those whose unit is unknown are reported and left out).
fn check_limits(order: &Order<String>, path: &str, diags: &mut Diagnostics) -> Vec<DoseLimit> {
    let mut seen: BTreeMap<(Route, bool, bool), usize> = BTreeMap::new();
    let mut read = Vec::with_capacity(order.limits.len());
    for (k, limit) in order.limits.iter().enumerate() {
        let at = format!("{path}.limits[{k}]");
        let unit = LIMIT_UNITS
            .iter()
            .copied()
            .find(|u| u.as_str() == limit.unit);
        match unit {
            None => diags.push(Diagnostic::new(
                format!("{at}.unit"),
                format!("unknown unit `{}`", limit.unit),
                format!(
                    "use one of {}",
                    LIMIT_UNITS
                        .iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(unit) => read.push(DoseLimit {
                route: limit.route,
                unit,
                min: limit.min,
                max: limit.max,
                rate: limit.rate,
                age: limit.age,
                source: limit.source.clone(),
            }),
        }
        if unit == Some(Unit::McgPerMin) && !limit.rate {
            diags.push(Diagnostic::new(
                format!("{at}.rate"),
                "a range in mcg/min is an infusion rate but `rate` is not set",
                "add `\"rate\": true` or give the single dose in mcg",
            ));
        }
        if limit.min <= 0.0 {
            diags.push(Diagnostic::new(
                format!("{at}.min"),
                format!("min is {}, it must be above 0", limit.min),
                "give the smallest usual dose",
            ));
        }
        if limit.min > limit.max {
            diags.push(Diagnostic::new(
                format!("{at}.max"),
                format!("max {} is below min {}", limit.max, limit.min),
                "swap min and max, or fix the one that is wrong",
            ));
        }
        check_route(
            order,
            limit.route,
            format!("{at}.route"),
            "route",
            "add the route to `routes` or remove the limit",
            diags,
        );
        let key = (limit.route, limit.age == AgeBand::Child, limit.rate);
        if let Some(&first) = seen.get(&key) {
            diags.push(Diagnostic::new(
                at.clone(),
                format!(
                    "a second {} {} limit for route `{}` (the first is limits[{first}])",
                    limit.age.label(),
                    if limit.rate { "rate" } else { "single-dose" },
                    limit.route
                ),
                "keep one limit per route, age band and single dose or rate",
            ));
        } else {
            seen.insert(key, k);
        }
        if limit.source.trim().is_empty() {
            diags.push(Diagnostic::new(
                format!("{at}.source"),
                "the limit cites no source",
                "name the public reference the range follows, e.g. \"BNF: Fentanyl, IV injection\"",
            ));
        }
    }
    read
}

/// A confirmed dose more than this many times a usual maximum is a harm in every case.
pub const GROSS_OVERDOSE_FACTOR: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    schema: u32,
    orders: Vec<Order<String>>,
}

/// A phrase that names an order, as canonical tokens. Phrases are numbered order by order,
/// so one order's phrases are consecutive.
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    pub order: usize,
    pub tokens: BTreeSet<String>,
}

/// The catalog with its matching index, built once at load.
#[derive(Debug, Clone)]
pub struct Catalog {
    orders: Vec<Order>,
    by_id: BTreeMap<String, usize>,
    pub(crate) phrases: Vec<Phrase>,
    /// canonical token → indices into `phrases`
    pub(crate) postings: BTreeMap<String, Vec<usize>>,
    pub(crate) vocab: FuzzyVocab,
    /// per order: bolus, infusion or neither (see [`order_form`])
    pub(crate) forms: Vec<Form>,
    /// normalized name → order index: an order typed with its exact catalog name (as a picked
    /// search suggestion is) means that order
    pub(crate) exact: BTreeMap<String, usize>,
}

impl Catalog {
    /// Parses and checks a catalog file. `source` names the file in errors.
    pub fn from_json(source: &str, json: &str) -> Result<Catalog, Diagnostics> {
        let file: CatalogFile =
            serde_json::from_str(json).map_err(|e| Diagnostics::from_serde(source, json, &e))?;
        let mut diags = Diagnostics::new(source);
        if file.schema != CATALOG_SCHEMA_VERSION {
            diags.push(Diagnostic::new(
                "$.schema",
                format!(
                    "schema is {}, this version of Bedside reads {CATALOG_SCHEMA_VERSION}",
                    file.schema
                ),
                "convert the catalog to the current schema",
            ));
        }
        let mut by_id = BTreeMap::new();
        let mut owner_of_phrase: BTreeMap<String, usize> = BTreeMap::new();
        let mut limits = Vec::with_capacity(file.orders.len());
        for (i, order) in file.orders.iter().enumerate() {
            let path = format!("$.orders[{i}]");
            if by_id.insert(order.id.clone(), i).is_some() {
                diags.push(Diagnostic::new(
                    format!("{path}.id"),
                    format!("duplicate order id `{}`", order.id),
                    "give every order a unique id",
                ));
            }
            limits.push(check_order(order, &path, &mut diags));
            for (field, phrase) in order_phrases(order) {
                let key = crate::engine::text::normalize(&phrase);
                if let Some(&other) = owner_of_phrase.get(&key) {
                    if other != i {
                        diags.push(Diagnostic::new(
                            format!("{path}.{field}"),
                            format!(
                                "the phrase `{phrase}` also names `{}`",
                                file.orders[other].id
                            ),
                            "keep each phrase on one order so matching is unambiguous",
                        ));
                    }
                } else {
                    owner_of_phrase.insert(key, i);
                }
            }
        }
        diags.into_result()?;
        let orders: Vec<Order> = file
            .orders
            .into_iter()
            .zip(limits)
            .map(|(o, limits)| o.with_limits(limits))
            .collect();
        // Exact names only: a bare synonym such as "heparin" must still go through the
        // bolus-or-infusion logic.
        let exact = orders
            .iter()
            .enumerate()
            .map(|(i, o)| (crate::engine::text::normalize(&o.name), i))
            .collect();
        Ok(Catalog::index(orders, by_id, exact))
    }

    fn index(
        orders: Vec<Order>,
        by_id: BTreeMap<String, usize>,
        exact: BTreeMap<String, usize>,
    ) -> Catalog {
        let mut phrases = Vec::new();
        let mut postings: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut vocab = FuzzyVocab::default();
        for (i, order) in orders.iter().enumerate() {
            let mut seen = BTreeSet::new();
            for (_, text) in order_phrases(order) {
                let tokens: BTreeSet<String> = canonical_tokens(&text).into_iter().collect();
                if tokens.is_empty() || !seen.insert(tokens.clone()) {
                    continue;
                }
                let p = phrases.len();
                for t in &tokens {
                    postings.entry(t.clone()).or_default().push(p);
                    vocab.insert(t.clone());
                }
                phrases.push(Phrase { order: i, tokens });
            }
        }
        let forms = orders.iter().map(order_form).collect();
        Catalog {
            orders,
            by_id,
            phrases,
            postings,
            vocab,
            forms,
            exact,
        }
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    pub fn get(&self, id: &str) -> Option<&Order> {
        self.by_id.get(id).map(|&i| &self.orders[i])
    }

    /// Whether an order is a continuous infusion (by its name: "Heparin infusion").
    pub fn is_infusion(&self, id: &str) -> bool {
        self.by_id
            .get(id)
            .is_some_and(|&i| self.forms[i] == Form::Infusion)
    }

    pub(crate) fn order_at(&self, index: usize) -> &Order {
        &self.orders[index]
    }

    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

/// The phrases that name an order, each with the field it comes from: its name, its id read
/// as words, and its synonyms.
fn order_phrases<U>(order: &Order<U>) -> impl Iterator<Item = (String, String)> + '_ {
    [
        ("name".to_string(), order.name.clone()),
        ("id".to_string(), order.id.replace('_', " ")),
    ]
    .into_iter()
    .chain(
        order
            .synonyms
            .iter()
            .enumerate()
            .map(|(k, s)| (format!("synonyms[{k}]"), s.clone())),
    )
}

/// How a medication or fluid order is given, when its id or name says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Bolus,
    Infusion,
    Other,
}

/// Where a word of [`FORM_WORDS`] counts: in an order's id or name, the order is of that form.
const NAME: u8 = 1;
/// Typed in an order, the clinician means that form ("heparin drip", "insulin 6 units hourly").
const TYPED: u8 = 2;
/// Implied by how a dose is written (a single dose with a unit, a bolus; a rate, an infusion):
/// the word counts for an order of that form as if it had been typed.
const IMPLIED: u8 = 4;

/// The words of the forms, one list for the catalog and the order matcher: where each counts
/// (`NAME`, `TYPED`, `IMPLIED`) and for which form. Typed words are canonical tokens.
const FORM_WORDS: &[(&str, Form, u8)] = &[
    ("infusion", Form::Infusion, NAME | TYPED | IMPLIED),
    ("drip", Form::Infusion, NAME | TYPED | IMPLIED),
    ("maintenance", Form::Infusion, NAME),
    ("gtt", Form::Infusion, TYPED),
    ("continuous", Form::Infusion, TYPED),
    ("hour", Form::Infusion, TYPED),
    ("hourly", Form::Infusion, TYPED),
    ("bolus", Form::Bolus, NAME | IMPLIED),
    ("push", Form::Bolus, NAME | IMPLIED),
    ("load", Form::Bolus, NAME | IMPLIED),
    ("loading", Form::Bolus, NAME),
];

/// The words of `form` that count where `place` says (one of `NAME`, `TYPED`, `IMPLIED`).
fn form_words(form: Form, place: u8) -> impl Iterator<Item = &'static str> {
    FORM_WORDS
        .iter()
        .filter(move |(_, f, at)| *f == form && at & place != 0)
        .map(|(w, _, _)| *w)
}

impl Form {
    /// The words a dose written in this form implies: "bolus", "push", "load" for a single
    /// dose; "infusion", "drip" for a rate.
    pub(crate) fn implied_words(self) -> impl Iterator<Item = &'static str> {
        form_words(self, IMPLIED)
    }

    /// Whether a typed (canonical) word asks for a continuous infusion: "drip", "hourly".
    pub(crate) fn typed_infusion(word: &str) -> bool {
        form_words(Form::Infusion, TYPED).any(|w| w == word)
    }
}

/// The form of an order: "Heparin IV bolus" and "push-dose epinephrine" are boluses,
/// "Heparin infusion", "insulin drip" and maintenance fluids infusions.
pub(crate) fn order_form(order: &Order) -> Form {
    let text = format!("{} {}", order.id.replace('_', " "), order.name).to_lowercase();
    let has = |form: Form| {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| form_words(form, NAME).any(|f| f == w))
    };
    if has(Form::Infusion) {
        Form::Infusion
    } else if has(Form::Bolus) {
        Form::Bolus
    } else {
        Form::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_shared_by_two_orders_is_reported_at_its_field() {
        let json = r#"{"schema": 1, "orders": [
            {"id": "aspirin", "name": "Aspirin", "category": "medication", "synonyms": ["asa"],
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Given."},
            {"id": "asa_other", "name": "Other", "category": "medication", "synonyms": ["x", "asa"],
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Given."},
            {"id": "third", "name": "Aspirin", "category": "medication",
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Given."}]}"#;
        let d = Catalog::from_json("catalog.json", json).unwrap_err();
        let paths: Vec<&str> = d.items.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            ["$.orders[1].synonyms[1]", "$.orders[2].name"],
            "{d}"
        );
    }

    /// A catalog of one unrelated order and one fentanyl order with these limits.
    fn with_limits(limits: &str) -> String {
        format!(
            r#"{{"schema": 1, "orders": [
            {{"id": "ecg", "name": "ECG", "category": "bedside",
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Sinus rhythm."}},
            {{"id": "fentanyl", "name": "Fentanyl", "category": "medication",
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Given.",
             "dose": {{"amount": 50, "unit": "mcg", "route": "IV"}}, "routes": ["IV", "IN"],
             "limits": [{limits}]}}]}}"#
        )
    }

    const FENTANYL_IV: &str =
        r#"{"route": "IV", "unit": "mcg", "min": 25, "max": 100, "source": "BNF: Fentanyl"}"#;

    /// The paths of the errors a catalog with these limits gets.
    fn limit_errors(limits: &str) -> Vec<String> {
        match Catalog::from_json("catalog.json", &with_limits(limits)) {
            Ok(_) => Vec::new(),
            Err(d) => d.items.into_iter().map(|i| i.path).collect(),
        }
    }

    #[test]
    fn well_formed_limits_load_and_keep_their_fields() {
        let json = with_limits(&format!(
            r#"{FENTANYL_IV},
            {{"route": "IN", "unit": "mcg", "min": 50, "max": 200, "source": "BNF: Fentanyl, nasal"}},
            {{"route": "IV", "unit": "mcg/kg", "min": 0.5, "max": 2, "age": "child",
              "source": "BNFC: Fentanyl"}},
            {{"route": "IV", "unit": "mcg", "min": 25, "max": 100, "rate": true,
              "source": "Infusion practice"}}"#
        ));
        let catalog = Catalog::from_json("catalog.json", &json).unwrap_or_else(|d| panic!("{d}"));
        let limits = &catalog.get("fentanyl").unwrap().limits;
        assert_eq!(limits.len(), 4);
        assert_eq!(limits[0].age, AgeBand::Adult);
        assert!(!limits[0].rate);
        assert_eq!(limits[2].age, AgeBand::Child);
        assert_eq!(limits[2].unit, "mcg/kg");
        assert!(limits[3].rate);
        // Adult and single-dose are the defaults and are not written out.
        let out = serde_json::to_string(&limits[0]).unwrap();
        assert!(!out.contains("age") && !out.contains("rate"), "{out}");
    }

    #[test]
    fn a_limit_in_an_unknown_unit_is_reported_at_its_unit() {
        let bad =
            r#"{"route": "IV", "unit": "micrograms", "min": 25, "max": 100, "source": "BNF"}"#;
        assert_eq!(limit_errors(bad), ["$.orders[1].limits[0].unit"]);
        // Litres and oxygen flows are canonical dose units but not dose-range units.
        let litres = r#"{"route": "IV", "unit": "L", "min": 1, "max": 2, "source": "BNF"}"#;
        assert_eq!(limit_errors(litres), ["$.orders[1].limits[0].unit"]);
    }

    #[test]
    fn a_per_minute_range_must_be_a_rate() {
        let bad = r#"{"route": "IV", "unit": "mcg/min", "min": 1, "max": 2, "source": "BNF"}"#;
        assert_eq!(limit_errors(bad), ["$.orders[1].limits[0].rate"]);
        let good = r#"{"route": "IV", "unit": "mcg/min", "min": 1, "max": 2, "rate": true,
            "source": "BNF"}"#;
        assert!(limit_errors(good).is_empty());
    }

    #[test]
    fn a_limit_with_min_not_above_zero_is_reported_at_min() {
        for min in ["0", "-5"] {
            let bad = format!(
                r#"{{"route": "IV", "unit": "mcg", "min": {min}, "max": 100, "source": "BNF"}}"#
            );
            assert_eq!(
                limit_errors(&bad),
                ["$.orders[1].limits[0].min"],
                "min {min}"
            );
        }
    }

    #[test]
    fn a_limit_with_max_below_min_is_reported_at_max() {
        let bad = r#"{"route": "IV", "unit": "mcg", "min": 100, "max": 25, "source": "BNF"}"#;
        assert_eq!(limit_errors(bad), ["$.orders[1].limits[0].max"]);
        // A single usual dose (min = max) is a range.
        let one = r#"{"route": "IV", "unit": "mcg", "min": 50, "max": 50, "source": "BNF"}"#;
        assert!(limit_errors(one).is_empty());
    }

    #[test]
    fn a_limit_for_a_route_the_order_does_not_allow_is_reported_at_its_route() {
        let bad = r#"{"route": "PO", "unit": "mcg", "min": 25, "max": 100, "source": "BNF"}"#;
        assert_eq!(
            limit_errors(&format!("{FENTANYL_IV}, {bad}")),
            ["$.orders[1].limits[1].route"]
        );
        // Without a routes list any route goes.
        let json = r#"{"schema": 1, "orders": [
            {"id": "x", "name": "X", "category": "medication",
             "time_cost_min": 1, "turnaround_min": 0, "default_result": "Given.",
             "limits": [{"route": "PO", "unit": "mg", "min": 1, "max": 2, "source": "BNF"}]}]}"#;
        assert!(Catalog::from_json("catalog.json", json).is_ok());
    }

    #[test]
    fn two_limits_for_the_same_route_age_and_form_are_reported_at_the_second() {
        let again = r#"{"route": "IV", "unit": "mcg", "min": 10, "max": 50, "source": "Other"}"#;
        let d = Catalog::from_json(
            "catalog.json",
            &with_limits(&format!("{FENTANYL_IV}, {again}")),
        )
        .unwrap_err();
        assert_eq!(d.items.len(), 1, "{d}");
        assert_eq!(d.items[0].path, "$.orders[1].limits[1]");
        assert!(d.items[0].message.contains("limits[0]"), "{d}");
        // The same route for a child, or as a rate, is a different limit.
        let child = r#"{"route": "IV", "unit": "mcg/kg", "min": 1, "max": 2, "age": "child",
            "source": "BNFC"}"#;
        let rate =
            r#"{"route": "IV", "unit": "mcg", "min": 25, "max": 50, "rate": true, "source": "X"}"#;
        assert!(limit_errors(&format!("{FENTANYL_IV}, {child}, {rate}")).is_empty());
    }

    #[test]
    fn a_limit_without_a_source_is_reported_at_its_source() {
        for source in ["", "   "] {
            let bad = format!(
                r#"{{"route": "IV", "unit": "mcg", "min": 25, "max": 100, "source": "{source}"}}"#
            );
            assert_eq!(limit_errors(&bad), ["$.orders[1].limits[0].source"]);
        }
        let missing = r#"{"route": "IV", "unit": "mcg", "min": 25, "max": 100}"#;
        assert!(Catalog::from_json("catalog.json", &with_limits(missing)).is_err());
    }

    #[test]
    fn every_limit_error_is_reported_at_once() {
        let bad = r#"{"route": "PR", "unit": "drops", "min": 0, "max": -1, "source": ""}"#;
        assert_eq!(
            limit_errors(bad),
            [
                "$.orders[1].limits[0].unit",
                "$.orders[1].limits[0].min",
                "$.orders[1].limits[0].max",
                "$.orders[1].limits[0].route",
                "$.orders[1].limits[0].source",
            ]
        );
    }
}
