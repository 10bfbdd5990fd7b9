//! Interpreting a free-text order ("give ASA 325mg PO", "12 lead ecg", "CXR") as a catalog
//! entry with a confidence, keeping any dose and route for rules to check.

use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Category, Form, Order, Phrase};
use super::lexicon::canonical_tokens;
use super::text::normalize;
use super::units::{compatible, fmt_num, rate_suffix, Dimension, Route, Unit};

/// Below this confidence an order is "unsupported" (not understood).
pub const MIN_CONFIDENCE: f64 = 0.6;

/// A dose as the clinician wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderedDose {
    pub amount: f64,
    /// A rate per hour ("18 units/kg/h", "125 mL per hour") keeps its amount per hour in the
    /// base unit (18 units/kg, 125 mL), as catalog infusion doses are given.
    pub unit: Unit,
}

/// The catalog entry an order matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedOrder {
    pub id: String,
    pub name: String,
    pub category: Category,
    /// 0..=1; 1 is an exact name or synonym.
    pub confidence: f64,
}

/// What the engine understood of one free-text order: the order, and its form (dose, unit,
/// route, rate) exactly as the engine records it and the rules read it. What the clinician did
/// not type but the catalog supplies (a medication's default route, the usual unit of a bare
/// number) is filled in and listed in `filled`, so it can be shown as such.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub raw: String,
    /// None: not understood or not available (status "unsupported").
    pub order: Option<MatchedOrder>,
    pub dose: Option<OrderedDose>,
    pub route: Option<Route>,
    /// The dose is a rate: per hour, or per minute for mcg/min.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rate: bool,
    /// Parts taken from the catalog rather than typed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<Filled>,
    /// A number typed with a medication that could not be read as its dose (no unit, and the
    /// drug has no single usual unit; or puffs of a drug with no inhaler form): the order
    /// panel asks about it; it is never dropped silently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_number: Option<f64>,
    /// Puffs typed ("10 puffs"): `dose` is then their total by the catalog's dose per puff
    /// (10 × 100 mcg = 1000 mcg), and the form shows both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub puffs: Option<f64>,
}

/// A part of an order's form the catalog supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filled {
    /// The drug's default route (its catalog dose's route, or its only route).
    Route,
    /// The drug's usual unit, for a number typed without one ("ticagrelor 180").
    Unit,
}

impl Interpretation {
    /// The form as shown and recorded: "300 mg PO", "18 units/kg/h IV", "15 L"; none when
    /// the order has no dose or route.
    pub fn form_label(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(n) = self.puffs {
            parts.push(format!(
                "{} puff{}",
                fmt_num(n),
                if n == 1.0 { "" } else { "s" }
            ));
        }
        if let Some(d) = &self.dose {
            let dose = format!("{} {}{}", fmt_num(d.amount), d.unit, self.per());
            parts.push(if self.puffs.is_some() {
                format!("({dose})")
            } else {
                dose
            });
        }
        if let Some(r) = self.route {
            parts.push(r.to_string());
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// "/h" after a rate's unit (mcg/min already says per minute).
    fn per(&self) -> &'static str {
        self.dose
            .as_ref()
            .map_or("", |d| rate_suffix(self.rate, d.unit))
    }

    /// The form with what was filled in: "300 mg PO (default route)"; none for an order
    /// not understood or without a form.
    pub fn placed_form(&self) -> Option<String> {
        self.order.as_ref()?;
        let f = self.form_label()?;
        Some(match self.filled_note() {
            Some(n) => format!("{f} ({n})"),
            None => f,
        })
    }

    /// What the catalog filled in, in words: "default route", "usual unit".
    pub fn filled_note(&self) -> Option<String> {
        let words: Vec<&str> = self
            .filled
            .iter()
            .map(|f| match f {
                Filled::Route => "default route",
                Filled::Unit => "usual unit",
            })
            .collect();
        (!words.is_empty()).then(|| words.join(", "))
    }

    /// The order as one line: "Aspirin 300 mg PO (default route)".
    pub fn summary(&self) -> String {
        let name = self
            .order
            .as_ref()
            .map_or(self.raw.as_str(), |o| o.name.as_str());
        match self.placed_form() {
            Some(f) => format!("{name} {f}"),
            None => name.to_string(),
        }
    }

    /// The text that, interpreted again, gives this interpretation: the catalog name plus
    /// what was typed (a filled-in part is left for the catalog to fill again; a number that
    /// could not be read as a dose is kept, so the order panel still asks about it).
    pub fn order_text(&self) -> String {
        let Some(o) = &self.order else {
            return self.raw.clone();
        };
        let mut s = o.name.clone();
        if let Some(n) = self.unread_number {
            s.push_str(&format!(" {}", fmt_num(n)));
        }
        if let Some(n) = self.puffs {
            s.push_str(&format!(" {} puffs", fmt_num(n)));
        } else if let Some(d) = &self.dose {
            if self.filled.contains(&Filled::Unit) {
                s.push_str(&format!(" {}", fmt_num(d.amount)));
            } else {
                s.push_str(&format!(" {} {}{}", fmt_num(d.amount), d.unit, self.per()));
            }
        }
        if let Some(r) = self.route {
            if !self.filled.contains(&Filled::Route) {
                s.push_str(&format!(" {r}"));
            }
        }
        s
    }
}

/// Words that carry no meaning for matching an order. Sorted, for binary search (a test
/// checks).
const FILLER: &[&str] = &[
    "a",
    "administer",
    "also",
    "an",
    "and",
    "apply",
    "arrange",
    "asap",
    "at",
    "away",
    "be",
    "begin",
    "call",
    "can",
    "check",
    "chew",
    "chewable",
    "chewed",
    "contact",
    "do",
    "dose",
    "draw",
    "for",
    "get",
    "give",
    "her",
    "him",
    "his",
    "i",
    "immediately",
    "insert",
    "let",
    "lets",
    "like",
    "me",
    "my",
    "need",
    "needs",
    "now",
    "obtain",
    "of",
    "on",
    "once",
    "order",
    "our",
    "page",
    "patient",
    "perform",
    "place",
    "please",
    "pt",
    "put",
    "request",
    "run",
    "send",
    "set",
    "some",
    "start",
    "stat",
    "that",
    "the",
    "their",
    "them",
    "then",
    "this",
    "to",
    "up",
    "urgent",
    "urgently",
    "us",
    "via",
    "want",
    "we",
    "will",
    "with",
    "would",
    "x1",
    "you",
];

/// Route words → canonical route code. Sorted by word, for binary search (a test checks).
const ROUTES: &[(&str, Route)] = &[
    ("chew", Route::Po),
    ("chewed", Route::Po),
    ("im", Route::Im),
    ("inh", Route::Inh),
    ("inhaled", Route::Inh),
    ("inhaler", Route::Inh),
    ("intramuscular", Route::Im),
    ("intramuscularly", Route::Im),
    ("intranasal", Route::In),
    ("intranasally", Route::In),
    ("intraosseous", Route::Io),
    ("intravenous", Route::Iv),
    ("intravenously", Route::Iv),
    ("io", Route::Io),
    ("iv", Route::Iv),
    ("ivp", Route::Iv),
    ("mdi", Route::Inh),
    ("nasal", Route::In),
    ("neb", Route::Neb),
    ("nebulised", Route::Neb),
    ("nebulized", Route::Neb),
    ("oral", Route::Po),
    ("orally", Route::Po),
    ("pmdi", Route::Inh),
    ("po", Route::Po),
    ("pr", Route::Pr),
    ("puffer", Route::Inh),
    ("rectal", Route::Pr),
    ("rectally", Route::Pr),
    ("sc", Route::Sc),
    ("sl", Route::Sl),
    ("spacer", Route::Inh),
    ("sq", Route::Sc),
    ("subcut", Route::Sc),
    ("subcutaneous", Route::Sc),
    ("subcutaneously", Route::Sc),
    ("sublingual", Route::Sl),
    ("sublingually", Route::Sl),
    ("topical", Route::Top),
    ("topically", Route::Top),
];

/// Unit words → canonical unit. Sorted by word, for binary search (a test checks).
const UNITS: &[(&str, Unit)] = &[
    ("cc", Unit::Ml),
    ("g", Unit::G),
    ("gm", Unit::G),
    ("gram", Unit::G),
    ("grams", Unit::G),
    ("iu", Unit::Units),
    ("l", Unit::L),
    ("l/min", Unit::LPerMin),
    ("liter", Unit::L),
    ("liters", Unit::L),
    ("litre", Unit::L),
    ("litres", Unit::L),
    ("lpm", Unit::LPerMin),
    ("mcg", Unit::Mcg),
    ("mcg/kg", Unit::McgPerKg),
    ("mcg/min", Unit::McgPerMin),
    ("meq", Unit::MEq),
    ("mg", Unit::Mg),
    ("mg/kg", Unit::MgPerKg),
    ("mgs", Unit::Mg),
    ("microgram", Unit::Mcg),
    ("micrograms", Unit::Mcg),
    ("milligram", Unit::Mg),
    ("milligrams", Unit::Mg),
    ("ml", Unit::Ml),
    ("ml/kg", Unit::MlPerKg),
    ("mls", Unit::Ml),
    ("mmol", Unit::Mmol),
    ("puff", Unit::Puffs),
    ("puffs", Unit::Puffs),
    ("u", Unit::Units),
    ("u/kg", Unit::UnitsPerKg),
    ("ug", Unit::Mcg),
    ("ug/kg", Unit::McgPerKg),
    ("unit", Unit::Units),
    ("unit/kg", Unit::UnitsPerKg),
    ("units", Unit::Units),
    ("units/kg", Unit::UnitsPerKg),
];

fn unit_of(token: &str) -> Option<Unit> {
    UNITS
        .binary_search_by(|(u, _)| (*u).cmp(token))
        .ok()
        .map(|i| UNITS[i].1)
}

fn route_of(token: &str) -> Option<Route> {
    ROUTES
        .binary_search_by(|(r, _)| (*r).cmp(token))
        .ok()
        .map(|i| ROUTES[i].1)
}

/// Splits "325mg" into ("325", "mg").
fn split_number_unit(token: &str) -> Option<(f64, &str)> {
    let end = token.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    if end == 0 {
        return None;
    }
    let amount: f64 = token[..end].parse().ok()?;
    Some((amount, &token[end..]))
}

/// Laterality words qualify an order ("right knee x-ray") or are part of its name
/// ("right-sided ECG"): they count when an order's phrase has them and cost nothing when not.
const LATERALITY: &[&str] = &["right", "left", "bilateral"];

/// Unit suffixes that make a dose a rate ("18 units/kg/h", "125 ml/hr").
const PER_HOUR: &[&str] = &["/h", "/hr", "/hour"];

/// A unit as written, canonical, and whether it was a rate per hour.
fn parse_unit(token: &str) -> Option<(Unit, bool)> {
    if let Some(u) = unit_of(token) {
        // mcg/min is an infusion rate; L/min an oxygen flow.
        return Some((u, u == Unit::McgPerMin));
    }
    PER_HOUR
        .iter()
        .find_map(|s| token.strip_suffix(s))
        .and_then(unit_of)
        .map(|u| (u, true))
}

/// What the text says besides the order's name.
struct Parsed<'a> {
    dose: Option<OrderedDose>,
    route: Option<Route>,
    /// The dose was written as a rate (per hour, per minute).
    rate: bool,
    /// The words left to match.
    rest: Vec<&'a str>,
    /// Numbers typed without a unit (also left in `rest`: "12 lead").
    numbers: Vec<&'a str>,
}

/// Extracts dose, rate and route; returns them with the words that are left to match.
fn parse(normalized: &str) -> Parsed<'_> {
    let tokens: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
    let mut p = Parsed {
        dose: None,
        route: None,
        rate: false,
        rest: Vec::with_capacity(tokens.len()),
        numbers: Vec::new(),
    };
    let mut i = 0;
    let mut dose_just_read = false;
    while i < tokens.len() {
        let t = tokens[i];
        let was_dose = std::mem::take(&mut dose_just_read);
        if was_dose {
            // "per hour", "an hour", "/hr" after a dose make it a rate.
            let next = tokens.get(i + 1).copied();
            if matches!(t, "per" | "an" | "a" | "every" | "each")
                && matches!(next, Some("hour" | "hr" | "h"))
            {
                p.rate = true;
                i += 2;
                continue;
            }
            if t == "hourly" {
                p.rate = true;
                i += 1;
                continue;
            }
        }
        if p.dose.is_none() {
            if let Some((amount, unit)) = split_number_unit(t) {
                if let Some((u, rate)) = parse_unit(unit) {
                    p.dose = Some(OrderedDose { amount, unit: u });
                    p.rate |= rate;
                    dose_just_read = true;
                    i += 1;
                    continue;
                }
            }
            if let Ok(amount) = t.parse::<f64>() {
                if let Some((u, rate)) = tokens.get(i + 1).and_then(|n| parse_unit(n)) {
                    p.dose = Some(OrderedDose { amount, unit: u });
                    p.rate |= rate;
                    dose_just_read = true;
                    i += 2;
                    continue;
                }
                p.numbers.push(t);
            }
        }
        if p.route.is_none() {
            if let Some(r) = route_of(t) {
                p.route = Some(r);
                // Keep route words that also name orders ("neb", "iv" in "iv access"); the
                // matcher treats unmatched words as noise anyway.
                p.rest.push(t);
                i += 1;
                continue;
            }
            // "in" is a route only right after a dose and at the end or before a nose word
            // ("2 mg in", "2 mg in each nostril"), never as a preposition ("40 mmol in 1 L").
            if t == "in"
                && was_dose
                && tokens
                    .get(i + 1)
                    .is_none_or(|n| matches!(*n, "each" | "nostril" | "nostrils" | "nose"))
            {
                p.route = Some(Route::In);
                i += 1;
                continue;
            }
        }
        p.rest.push(t);
        i += 1;
    }
    p
}

/// Extracts dose and route; returns them with the text that is left to match.
#[cfg(test)]
fn extract_dose_route(normalized: &str) -> (Option<OrderedDose>, Option<String>, String) {
    let p = parse(normalized);
    (p.dose, p.route.map(|r| r.to_string()), p.rest.join(" "))
}

/// Interprets one free-text order against the catalog.
pub fn interpret(raw: &str, catalog: &Catalog) -> Interpretation {
    let normalized = normalize(raw);
    let parsed = parse(&normalized);
    let order = exact_match(&parsed, catalog).or_else(|| best_match(&parsed, catalog));
    resolve(raw, order, &parsed, catalog, false)
}

/// The interpretation of `raw` as another catalog order than the one it names: what a picked
/// search suggestion places. The typed dose is offered only to an order that takes one of its
/// kind ("5 mg" is not glued onto a saline bolus). For the order the text names, use
/// [`interpret`].
pub fn interpret_as(raw: &str, order: MatchedOrder, catalog: &Catalog) -> Interpretation {
    let normalized = normalize(raw);
    let parsed = parse(&normalized);
    resolve(raw, Some(order), &parsed, catalog, true)
}

/// Whether an order of this category takes a dose.
fn dosed(category: Category) -> bool {
    matches!(category, Category::Medication | Category::Fluid)
}

/// The units an order is usually dosed in: its dose limits' units for the route (single
/// doses or rates, as written), else its catalog dose's unit.
fn usual_units(order: &Order, route: Option<Route>, rate: bool) -> Vec<Unit> {
    let mut units: Vec<Unit> = order
        .limits
        .iter()
        .filter(|l| l.rate == rate && route.is_none_or(|r| l.route == r))
        .map(|l| l.unit)
        .collect();
    if units.is_empty() && !rate {
        units.extend(order.dose.as_ref().map(|d| d.unit));
    }
    units.sort_unstable();
    units.dedup();
    units
}

/// Completes what the text says with what the matched order implies: a medication's default
/// route, the usual unit of a bare number, and marks every filled part. An order that takes no
/// dose (a lab, an exam) has no route, and keeps a dose only when the text names it; with
/// `only_fitting_dose` (a suggestion for another order than the text names) a dose of another
/// kind is not carried over.
fn resolve(
    raw: &str,
    order: Option<MatchedOrder>,
    parsed: &Parsed,
    catalog: &Catalog,
    only_fitting_dose: bool,
) -> Interpretation {
    let mut i = Interpretation {
        raw: raw.to_string(),
        dose: oxygen_flow(parsed.dose.clone(), order.as_ref()),
        order,
        route: parsed.route,
        rate: parsed.rate,
        filled: Vec::new(),
        unread_number: None,
        puffs: None,
    };
    let Some(o) = i.order.as_ref().and_then(|m| catalog.get(&m.id)) else {
        return i;
    };
    if !dosed(o.category) {
        undosed_form(&mut i, o, only_fitting_dose);
        return i;
    }
    let name = normalize(&o.name);
    let name_words: Vec<&str> = name.split(' ').collect();
    // The order's catalog name typed (or picked) as it is, with a route word inside it
    // ("Maintenance IV fluids 1 L"): no route was typed, the order's default applies, shown
    // as such.
    if i.route.is_some()
        && parsed.rest.join(" ") == name
        && name_words.iter().any(|w| route_of(w).is_some())
    {
        i.route = None;
    }
    read_puffs(&mut i, o, only_fitting_dose);
    if only_fitting_dose {
        drop_unfitting_dose(&mut i, o);
    }
    fill_route(&mut i, o);
    if i.dose.is_none() {
        fill_unit(&mut i, parsed, o, &name_words);
    }
    i
}

/// An exam, test or procedure takes no route, and no dose unless the text itself names it
/// ("crossmatch 4 units"); oxygen keeps its flow.
fn undosed_form(i: &mut Interpretation, o: &Order, only_fitting_dose: bool) {
    let keeps_typed = !only_fitting_dose && o.category != Category::Airway;
    if keeps_typed {
        i.route = None;
        return;
    }
    if o.category != Category::Airway
        || i.dose.as_ref().is_some_and(|d| {
            !matches!(
                d.unit.dimension(),
                Some(Dimension::Flow | Dimension::Volume)
            )
        })
    {
        i.dose = None;
        i.rate = false;
    }
    i.route = None;
}

/// Puffs are the inhaler form's dose per puff times the count, inhaled unless a route says
/// otherwise; a drug with no inhaler form cannot read them (the panel asks).
fn read_puffs(i: &mut Interpretation, o: &Order, only_fitting_dose: bool) {
    let Some(n) = i
        .dose
        .as_ref()
        .filter(|d| d.unit == Unit::Puffs)
        .map(|d| d.amount)
    else {
        return;
    };
    i.dose = None;
    match &o.per_puff {
        Some(p) => {
            i.dose = Some(OrderedDose {
                amount: n * p.amount,
                unit: p.unit,
            });
            i.puffs = Some(n);
            if i.route.is_none() {
                i.route = Some(Route::Inh);
            }
        }
        None => {
            i.rate = false;
            if !only_fitting_dose {
                i.unread_number = Some(n);
            }
        }
    }
}

/// A suggestion for another order keeps the typed dose only if that order takes one of its
/// kind ("5 mg" is not glued onto a saline bolus).
fn drop_unfitting_dose(i: &mut Interpretation, o: &Order) {
    if let Some(d) = &i.dose {
        let usual = usual_units(o, None, i.rate);
        if !usual.is_empty() && !usual.iter().any(|u| compatible(d.unit, *u)) {
            i.dose = None;
            i.rate = false;
        }
    }
}

/// No route typed: the drug's default (its catalog dose's route, or its only route), marked.
fn fill_route(i: &mut Interpretation, o: &Order) {
    if i.route.is_some() {
        return;
    }
    let default = o
        .dose
        .as_ref()
        .map(|d| d.route)
        .or_else(|| (o.routes.len() == 1).then(|| o.routes[0]));
    if let Some(r) = default {
        i.route = Some(r);
        i.filled.push(Filled::Route);
    }
}

/// A number typed without a unit (and not part of the order's name) takes the drug's one
/// usual unit, marked; with no single usual unit it is kept for the panel to ask about.
fn fill_unit(i: &mut Interpretation, parsed: &Parsed, o: &Order, name_words: &[&str]) {
    let Some(n) = parsed
        .numbers
        .iter()
        .find(|n| !name_words.contains(n))
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|n| *n > 0.0)
    else {
        return;
    };
    match usual_units(o, i.route, i.rate).as_slice() {
        [unit] => {
            i.dose = Some(OrderedDose {
                amount: n,
                unit: *unit,
            });
            i.filled.push(Filled::Unit);
        }
        _ => i.unread_number = Some(n),
    }
}

/// Litres written for an oxygen device are a flow: "o2 15L nrb" is 15 L/min.
fn oxygen_flow(dose: Option<OrderedDose>, order: Option<&MatchedOrder>) -> Option<OrderedDose> {
    match dose {
        Some(d) if d.unit == Unit::L && order.is_some_and(|o| o.category == Category::Airway) => {
            Some(OrderedDose {
                amount: d.amount,
                unit: Unit::LPerMin,
            })
        }
        other => other,
    }
}

/// Up to `limit` catalog entries for a search box, best first (prefix-friendly: the last
/// word may be incomplete).
pub fn search(query: &str, catalog: &Catalog, limit: usize) -> Vec<MatchedOrder> {
    let normalized = normalize(query);
    if normalized.is_empty() {
        return Vec::new();
    }
    let parsed = parse(&normalized);
    let mut scored = score_all(&parsed, catalog, true);
    // What placing the text as typed would place comes first, so Enter on the highlighted
    // suggestion and "order exactly as typed" agree.
    // Among suggestions that tie for first, what placing the text as typed would place comes
    // first, so Enter on the highlighted suggestion and "order exactly as typed" agree.
    if let Some(chosen) = exact_match(&parsed, catalog).or_else(|| best_match(&parsed, catalog)) {
        let top = scored.first().map_or(0.0, |m| m.confidence);
        if let Some(pos) = scored
            .iter()
            .position(|m| m.id == chosen.id && m.confidence >= top - 1e-9)
        {
            let m = scored.remove(pos);
            scored.insert(0, m);
        }
    }
    scored.truncate(limit);
    scored
}

/// The order whose catalog name is exactly the text left after the dose (and,
/// failing that, after route words too): "Push-dose epinephrine 0.5 mg IM" is the push-dose
/// order, even though "IM" alone would pull towards "Epinephrine IM".
fn exact_match(parsed: &Parsed, catalog: &Catalog) -> Option<MatchedOrder> {
    let whole = parsed.rest.join(" ");
    let without_routes = parsed
        .rest
        .iter()
        .filter(|t| route_of(t).is_none())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    [whole, without_routes]
        .iter()
        .find_map(|text| catalog.exact.get(text.as_str()))
        .map(|&i| {
            let o = &catalog.orders()[i];
            MatchedOrder {
                id: o.id.clone(),
                name: o.name.clone(),
                category: o.category,
                confidence: 1.0,
            }
        })
}

/// The best match above [`MIN_CONFIDENCE`]. A dosed drug the catalog lacks is not
/// understood, never another order reached through a route word ("clarithromycin 500 mg IV"
/// is not IV access).
fn best_match(parsed: &Parsed, catalog: &Catalog) -> Option<MatchedOrder> {
    score_all(parsed, catalog, false)
        .into_iter()
        .next()
        .filter(|m| m.confidence >= MIN_CONFIDENCE)
        .filter(|m| {
            parsed.route.is_none()
                || parsed.dose.is_none()
                || names_more_than_a_route(parsed, m, catalog)
        })
}

/// Whether a dosed order's text shares a word other than a route word ("iv") with one of the
/// order's phrases: "clarithromycin 500 mg IV" shares only "iv" with "Heparin IV bolus". Text
/// that is nothing but route words ("iv") names what it names.
fn names_more_than_a_route(parsed: &Parsed, m: &MatchedOrder, catalog: &Catalog) -> bool {
    let content: Vec<String> = canonical_tokens(&parsed.rest.join(" "))
        .into_iter()
        .filter(|t| route_of(t).is_none() && FILLER.binary_search(&t.as_str()).is_err())
        .map(|t| catalog.vocab.correct(&t).map_or(t, str::to_string))
        .collect();
    content.is_empty()
        || catalog
            .phrases
            .iter()
            .filter(|p| catalog.order_at(p.order).id == m.id)
            .any(|p| content.iter().any(|t| p.tokens.contains(t)))
}

/// Catalog words from `prefix` on, in order (those starting with it come first).
fn words_from<'c>(
    catalog: &'c Catalog,
    prefix: &str,
) -> impl Iterator<Item = (&'c String, &'c Vec<usize>)> {
    catalog.postings.range::<str, _>((
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    ))
}

/// Whether some catalog word starts with `prefix`.
fn starts_a_word(catalog: &Catalog, prefix: &str) -> bool {
    words_from(catalog, prefix)
        .next()
        .is_some_and(|(w, _)| w.starts_with(prefix))
}

/// Scores every catalog entry that shares a word with the text; best first, deterministic.
///
/// A phrase's score weighs recall (how much of the phrase the text has) against precision
/// (how much of the text the phrase explains). Optional words — filler ("call", "the"),
/// laterality, and the form a dose implies ("bolus" for a single dose with a unit,
/// "infusion" for a rate) — count when a phrase has them and cost nothing when it does not.
/// Orders of the implied form get a small bonus and those of the other form a small penalty,
/// so "heparin 5000 units IV" is the bolus and "heparin 18 units/kg/h" the infusion; matched
/// filler words only break ties ("call icu" is the consult, "icu" the admission).
fn score_all(parsed: &Parsed, catalog: &Catalog, prefix: bool) -> Vec<MatchedOrder> {
    let raw_tokens = canonical_tokens(&parsed.rest.join(" "));
    let Some(query) = Query::new(parsed, &raw_tokens, catalog, prefix) else {
        return Vec::new();
    };
    // (order index, best score)
    let mut best: Vec<(usize, f64)> = Vec::new();
    for p in query.candidates(catalog) {
        let phrase = &catalog.phrases[p];
        let Some(score) = query.score(phrase, parsed.route, catalog) else {
            continue;
        };
        // Candidates are in phrase order, and an order's phrases are consecutive.
        match best.last_mut() {
            Some(entry) if entry.0 == phrase.order => {
                if score > entry.1 {
                    entry.1 = score;
                }
            }
            _ => best.push((phrase.order, score)),
        }
    }
    if let Some(d) = &parsed.dose {
        weigh_by_dose(&mut best, d, parsed.rate, catalog);
    }
    ranked(best, catalog)
}

/// The words of an order's text as the matcher weighs them.
struct Query<'a> {
    /// Words a phrase is matched on (corrected to catalog words); sorted, distinct.
    tokens: Vec<&'a str>,
    /// Words that count when a phrase has them and cost nothing when not (filler,
    /// laterality), other than `tokens`.
    optional: Vec<&'a str>,
    /// Typos corrected to catalog words.
    corrections: usize,
    /// While searching: the word being typed, matching catalog words it starts.
    prefix_token: Option<&'a str>,
    /// The form the text implies, and its words the text does not have.
    form: Form,
    implied: Vec<&'static str>,
}

impl<'a> Query<'a> {
    /// The query of these canonical words; none when no word is left to match.
    fn new(
        parsed: &Parsed,
        raw_tokens: &'a [String],
        catalog: &'a Catalog,
        prefix: bool,
    ) -> Option<Query<'a>> {
        let mut q = Query::read(raw_tokens, catalog, prefix);
        q.tokens.sort_unstable();
        q.tokens.dedup();
        if q.tokens.is_empty() {
            return None;
        }
        q.form = implied_form(parsed, raw_tokens, &q.tokens);
        q.implied = q
            .form
            .implied_words()
            .filter(|f| !q.tokens.contains(f))
            .collect();
        let tokens = &q.tokens;
        q.optional.retain(|o| !tokens.contains(o));
        Some(q)
    }

    /// Sorts the words: route words the catalog does not use go, filler and laterality are
    /// optional, typos are corrected (and counted), and while searching the last word may be
    /// the start of a catalog word.
    fn read(raw_tokens: &'a [String], catalog: &'a Catalog, prefix: bool) -> Query<'a> {
        let mut q = Query {
            tokens: Vec::with_capacity(raw_tokens.len()),
            optional: Vec::new(),
            corrections: 0,
            prefix_token: None,
            form: Form::Other,
            implied: Vec::new(),
        };
        let last = raw_tokens.len().saturating_sub(1);
        for (i, t) in raw_tokens.iter().enumerate() {
            let t = t.as_str();
            if route_of(t).is_some() && !catalog.vocab.contains(t) {
                continue;
            }
            // While typing, the last word is what the user is looking for, even "right".
            let typing = prefix && i == last;
            if !typing && (FILLER.binary_search(&t).is_ok() || LATERALITY.contains(&t)) {
                q.optional.push(t);
                continue;
            }
            // The word being typed is the start of a catalog word before it is a typo of
            // another ("listen to hear" is on its way to "heart", not "ear").
            if typing && !catalog.vocab.contains(t) && starts_a_word(catalog, t) {
                q.prefix_token = Some(t);
                q.tokens.push(t);
                continue;
            }
            // A plural of shorthand the stemmer leaves alone ("bps", "ivs", "ecgs").
            let t = if catalog.vocab.contains(t) {
                t
            } else {
                t.strip_suffix('s')
                    .filter(|s| s.len() >= 2 && catalog.vocab.contains(s))
                    .unwrap_or(t)
            };
            match catalog.vocab.correct(t) {
                Some(c) => {
                    if c != t {
                        q.corrections += 1;
                    }
                    q.tokens.push(c);
                }
                None => {
                    if typing {
                        q.prefix_token = Some(t);
                    }
                    q.tokens.push(t);
                }
            }
        }
        q
    }

    /// The phrases sharing a word with the query (or, when searching, a word starting with
    /// the word being typed), in phrase order.
    fn candidates(&self, catalog: &Catalog) -> Vec<usize> {
        let mut candidates: Vec<usize> = Vec::new();
        for t in &self.tokens {
            if let Some(ps) = catalog.postings.get(*t) {
                candidates.extend_from_slice(ps);
            }
        }
        if let Some(p) = self.prefix_token {
            for (word, ps) in words_from(catalog, p) {
                if !word.starts_with(p) {
                    break;
                }
                candidates.extend_from_slice(ps);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// One phrase's score for the query (none when it matches no word): recall against
    /// precision, less for corrected typos, the implied form's bonus or penalty, matched
    /// filler as a tie-break, and the typed route.
    fn score(&self, phrase: &Phrase, route: Option<Route>, catalog: &Catalog) -> Option<f64> {
        let order_form = catalog.forms[phrase.order];
        // The implied form's words count only for orders of that form ("heparin bolus"),
        // not for others that happen to say "bolus" ("lidocaine bolus" is IV lidocaine).
        let implies = self.form != Form::Other && order_form == self.form;
        let mut matched = 0usize;
        let mut matched_optional = 0usize;
        let mut matched_words = 0usize;
        for t in &phrase.tokens {
            let t = t.as_str();
            if self.tokens.binary_search(&t).is_ok()
                || self.prefix_token.is_some_and(|pt| t.starts_with(pt))
            {
                matched += 1;
            } else if self.optional.contains(&t) {
                matched_optional += 1;
                matched_words += 1;
            } else if implies && self.implied.contains(&t) {
                matched_optional += 1;
            }
        }
        if matched == 0 {
            return None;
        }
        let all = matched + matched_optional;
        let recall = all as f64 / phrase.tokens.len() as f64;
        let precision = all as f64 / (self.tokens.len() + matched_optional) as f64;
        let mut score = if recall >= 1.0 {
            if precision >= 1.0 {
                1.0
            } else {
                0.75 + 0.2 * precision
            }
        } else {
            0.9 * 2.0 * precision * recall / (precision + recall)
        };
        score *= 0.95f64.powi(self.corrections as i32);
        // Of two orders of one drug, the one of the implied form wins; the other form falls
        // behind ("heparin 5000 units" is not the infusion).
        match (self.form, order_form) {
            (Form::Other, _) | (_, Form::Other) => {}
            (implied, form) if implied == form => score += 0.03,
            _ => score *= 0.97,
        }
        score += 0.001 * matched_words as f64;
        let order = catalog.order_at(phrase.order);
        if let Some(r) = route {
            if !order.routes.is_empty() {
                if order.routes.contains(&r) {
                    score += 0.02;
                } else {
                    score *= 0.85;
                }
            }
        }
        Some(score)
    }
}

/// The form the text implies: a rate or an infusion word, an infusion; a single dose with a
/// unit and no rate, a bolus (an oxygen flow is neither).
fn implied_form(parsed: &Parsed, raw_tokens: &[String], tokens: &[&str]) -> Form {
    // "over 1 hour" says how long a dose runs, not that it is a rate: "0.9% saline 1 L over
    // 1 hour" is a bolus.
    let hour_is_duration = raw_tokens.iter().enumerate().all(|(i, t)| {
        t != "hour"
            || (i >= 2
                && raw_tokens[i - 2] == "over"
                && (raw_tokens[i - 1].parse::<f64>().is_ok()
                    || matches!(raw_tokens[i - 1].as_str(), "a" | "an" | "one")))
    });
    let infusion = parsed.rate
        || tokens
            .iter()
            .any(|t| Form::typed_infusion(t) && !(*t == "hour" && hour_is_duration));
    if infusion {
        Form::Infusion
    } else if parsed
        .dose
        .as_ref()
        .is_some_and(|d| d.unit != Unit::LPerMin)
    {
        Form::Bolus
    } else {
        Form::Other
    }
}

/// A dose says what kind of order it is: "potassium 10 mmol/h" is the drug, not the lab
/// ("serum potassium"); "KCl 40 mmol in 1 L saline" is the potassium, not the saline.
fn weigh_by_dose(best: &mut [(usize, f64)], d: &OrderedDose, rate: bool, catalog: &Catalog) {
    let drug_dose = matches!(
        d.unit.dimension(),
        Some(
            Dimension::Mass
                | Dimension::Amount
                | Dimension::MassPerKg
                | Dimension::AmountPerKg
                | Dimension::UnitsPerKg
        )
    );
    for (i, score) in best.iter_mut() {
        let order = catalog.order_at(*i);
        if dosed(order.category) {
            let usual = usual_units(order, None, rate);
            if usual.iter().any(|u| compatible(d.unit, *u)) {
                *score += 0.02;
            } else if !usual.is_empty() && drug_dose {
                *score *= 0.9;
            }
        } else if drug_dose && order.category != Category::Airway {
            *score *= 0.9;
        }
    }
}

/// The scored orders, best first (ties by catalog order), as matches with their confidence
/// rounded to 0.001.
fn ranked(mut best: Vec<(usize, f64)>, catalog: &Catalog) -> Vec<MatchedOrder> {
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    best.into_iter()
        .map(|(i, score)| {
            let o = catalog.order_at(i);
            MatchedOrder {
                id: o.id.clone(),
                name: o.name.clone(),
                category: o.category,
                confidence: (score.min(1.0) * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_tables_are_sorted_and_distinct() {
        assert!(FILLER.windows(2).all(|w| w[0] < w[1]));
        assert!(ROUTES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(UNITS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn doses_and_routes_are_extracted() {
        let (d, r, rest) = extract_dose_route("give asa 325mg po");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 325.0,
                unit: Unit::Mg
            })
        );
        assert_eq!(r.as_deref(), Some("PO"));
        assert_eq!(rest, "give asa po");
        let (d, r, _) = extract_dose_route("epinephrine 0.5 mg im");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 0.5,
                unit: Unit::Mg
            })
        );
        assert_eq!(r.as_deref(), Some("IM"));
        let (d, _, _) = extract_dose_route("normal saline 30 ml/kg");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 30.0,
                unit: Unit::MlPerKg
            })
        );
        let (d, r, _) = extract_dose_route("naloxone 2 mg in");
        assert_eq!(d.map(|d| d.amount), Some(2.0));
        assert_eq!(r.as_deref(), Some("IN"));
        let p = parse("heparin 18 units/kg/h iv");
        assert!(p.rate);
        assert_eq!(
            p.dose.map(|d| (d.amount, d.unit)),
            Some((18.0, Unit::UnitsPerKg))
        );
        assert_eq!(p.rest, ["heparin", "iv"]);
        let p = parse("insulin 6 units per hour");
        assert!(p.rate);
        assert_eq!(p.rest, ["insulin"]);
        assert!(!parse("heparin 5000 units").rate);
        assert!(parse("norepinephrine 5 mcg/min").rate);
        assert!(!parse("oxygen 15 l/min").rate);
        let (d, r, rest) = extract_dose_route("12 lead ecg");
        assert_eq!((d, r), (None, None));
        assert_eq!(rest, "12 lead ecg");
    }
}
