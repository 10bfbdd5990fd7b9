//! The shipped catalog's dose limits (usual dose ranges per route and age band): complete,
//! consistent with each order's own default dose, and clinically right where guidelines are
//! unambiguous.

use bedside::engine::action::interpret;
use bedside::engine::catalog::{AgeBand, Category, DoseLimit, Order};

use crate::support::{case_paths, catalog, load, root};

/// Medications and fluids with no dose range, and why.
const EXCEPTIONS: &[(&str, &str)] = &[(
    "massive_transfusion",
    "activating the protocol orders packs of blood components, not a dose",
)];

/// Routes of an order that have no dose range, and why.
const ROUTE_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "lidocaine_local",
        "TOP",
        "topical lidocaine (gel, cream, spray) is applied to an area; its amount depends on the \
         preparation, not a dose unit",
    ),
    (
        "albuterol_ipratropium",
        "INH",
        "the combination inhaler is dosed in puffs of a fixed-ratio product, not in one amount",
    ),
    (
        "methotrexate",
        "IV",
        "IV methotrexate is oncology protocol dosing by body surface area, set by specialists",
    ),
];

/// Child ranges in absolute units, because the guideline doses children by age band or device
/// strength rather than per kilogram.
const CHILD_ABSOLUTE: &[(&str, &str)] = &[
    (
        "albuterol_neb",
        "BNFC: nebulised 2.5-5 mg and 2-10 puffs by age",
    ),
    ("ipratropium", "BNFC: 125-500 micrograms nebulised by age"),
    (
        "epinephrine_autoinjector",
        "devices come in 0.15 and 0.3 mg strengths, chosen by weight band",
    ),
    ("glucagon", "BNFC: 0.5 mg under 25 kg, 1 mg above"),
];

/// Drugs commonly given to children in emergencies, which must have a child range.
const CHILD_DRUGS: &[&str] = &[
    "albuterol_neb",
    "ipratropium",
    "prednisolone",
    "dexamethasone",
    "hydrocortisone",
    "magnesium_sulfate",
    "epinephrine_im",
    "epinephrine_iv_arrest",
    "acetaminophen_po",
    "ibuprofen",
    "ondansetron",
    "ceftriaxone",
    "amoxicillin",
    "amoxicillin_clavulanate",
    "morphine",
    "fentanyl",
    "naloxone",
    "ns_bolus",
    "dextrose_10",
    "midazolam",
    "lorazepam",
    "levetiracetam",
    "adenosine",
];

const PER_KG: &[&str] = &["mg/kg", "mcg/kg", "units/kg", "mL/kg"];

fn in_scope(o: &Order) -> bool {
    matches!(o.category, Category::Medication | Category::Fluid)
}

/// An order named as an infusion or a drip (its dose is a rate per hour).
fn is_infusion(o: &Order) -> bool {
    let text = format!("{} {}", o.id.replace('_', " "), o.name).to_lowercase();
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "infusion" || w == "drip")
}

fn limit(id: &str, route: &str, age: AgeBand, rate: bool) -> DoseLimit {
    let catalog = catalog();
    let order = catalog.get(id).unwrap_or_else(|| panic!("no order `{id}`"));
    order
        .limits
        .iter()
        .find(|l| l.route == route && l.age == age && l.rate == rate)
        .unwrap_or_else(|| panic!("`{id}` has no {age:?} {route} limit (rate {rate})"))
        .clone()
}

fn adult(id: &str, route: &str) -> DoseLimit {
    limit(id, route, AgeBand::Adult, false)
}

fn child(id: &str, route: &str) -> DoseLimit {
    limit(id, route, AgeBand::Child, false)
}

fn adult_rate(id: &str, route: &str) -> DoseLimit {
    limit(id, route, AgeBand::Adult, true)
}

fn contains(l: &DoseLimit, amount: f64, unit: &str) -> bool {
    assert_eq!(l.unit, unit, "{l:?}");
    l.min - 1e-9 <= amount && amount <= l.max + 1e-9
}

/// An amount in another unit of the same kind (mass, volume, per-kg mass...), or with the
/// patient's weight between absolute and per-kg units.
fn convert(amount: f64, from: &str, to: &str, weight_kg: Option<f64>) -> Option<f64> {
    fn scale(u: &str) -> Option<(f64, &'static str, bool)> {
        Some(match u {
            "g" => (1000.0, "mass", false),
            "mg" => (1.0, "mass", false),
            "mcg" => (0.001, "mass", false),
            "L" => (1000.0, "vol", false),
            "mL" => (1.0, "vol", false),
            "units" => (1.0, "units", false),
            "mEq" | "mmol" => (1.0, "mEq", false),
            "mcg/min" => (1.0, "mcg/min", false),
            "mg/kg" => (1.0, "mass", true),
            "mcg/kg" => (0.001, "mass", true),
            "mL/kg" => (1.0, "vol", true),
            "units/kg" => (1.0, "units", true),
            _ => return None,
        })
    }
    let (a, ka, per_kg_a) = scale(from)?;
    let (b, kb, per_kg_b) = scale(to)?;
    if ka != kb {
        return None;
    }
    let base = amount * a;
    let base = match (per_kg_a, per_kg_b) {
        (false, true) => base / weight_kg?,
        (true, false) => base * weight_kg?,
        _ => base,
    };
    Some(base / b)
}

#[test]
fn every_medication_and_fluid_has_limits_except_the_listed_ones() {
    let catalog = catalog();
    let scoped: Vec<&Order> = catalog.orders().iter().filter(|o| in_scope(o)).collect();
    assert_eq!(scoped.len(), 175, "160 medications and 15 fluids");
    let mut missing = Vec::new();
    for o in &scoped {
        let excepted = EXCEPTIONS.iter().any(|(id, _)| *id == o.id);
        if excepted {
            assert!(
                o.limits.is_empty(),
                "`{}` is an exception but has limits",
                o.id
            );
        } else if o.limits.is_empty() {
            missing.push(o.id.as_str());
        }
    }
    assert!(missing.is_empty(), "no limits: {missing:?}");
    for (id, reason) in EXCEPTIONS {
        let o = catalog
            .get(id)
            .unwrap_or_else(|| panic!("exception `{id}` is no order"));
        assert!(in_scope(o) && !reason.is_empty());
    }
    // Nothing outside medications and fluids carries a dose range.
    for o in catalog.orders().iter().filter(|o| !in_scope(o)) {
        assert!(o.limits.is_empty(), "`{}` is not a medication", o.id);
    }
}

#[test]
fn every_route_an_order_allows_has_an_adult_limit() {
    let catalog = catalog();
    let mut missing = Vec::new();
    for o in catalog
        .orders()
        .iter()
        .filter(|o| in_scope(o) && !o.limits.is_empty())
    {
        let routes = o.routes.iter().chain(o.dose.as_ref().map(|d| &d.route));
        for route in routes {
            let has = o
                .limits
                .iter()
                .any(|l| &l.route == route && l.age == AgeBand::Adult);
            let excepted = ROUTE_EXCEPTIONS
                .iter()
                .any(|(id, r, _)| *id == o.id && route == r);
            assert!(
                !(has && excepted),
                "`{}` {route} is excepted but has a limit",
                o.id
            );
            if !has && !excepted {
                missing.push(format!("{} {route}", o.id));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an adult limit: {missing:?}"
    );
    for (id, route, reason) in ROUTE_EXCEPTIONS {
        let o = catalog.get(id).expect("route exception names an order");
        assert!(o.routes.iter().any(|r| r == route) && !reason.is_empty());
    }
}

#[test]
fn infusions_have_rate_limits_and_only_rate_limits() {
    let catalog = catalog();
    for o in catalog.orders().iter().filter(|o| in_scope(o)) {
        if is_infusion(o) && o.id != "albumin" {
            // (Albumin is given as an amount in grams, whatever its name says.)
            assert!(
                o.limits.iter().all(|l| l.rate),
                "`{}` is an infusion; its limits are rates",
                o.id
            );
        }
        for l in &o.limits {
            assert!(
                l.unit != "mcg/min" || l.rate,
                "`{}`: mcg/min is a rate",
                o.id
            );
        }
    }
}

#[test]
fn every_default_dose_falls_inside_its_own_limit() {
    let catalog = catalog();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for o in catalog.orders().iter().filter(|o| in_scope(o)) {
        let Some(dose) = &o.dose else { continue };
        let rate = dose.unit == "mcg/min" || is_infusion(o);
        let for_band = |age: AgeBand| {
            o.limits
                .iter()
                .find(|l| l.route == dose.route && l.age == age && l.rate == rate)
        };
        // The adult range, unless the dose is per kilogram and only a child range is.
        let adult_fits = for_band(AgeBand::Adult).and_then(|l| {
            convert(dose.amount, dose.unit.as_str(), l.unit.as_str(), None).map(|a| (l, a))
        });
        let fit = adult_fits.or_else(|| {
            for_band(AgeBand::Child)
                .filter(|_| PER_KG.contains(&dose.unit.as_str()))
                .and_then(|l| {
                    convert(dose.amount, dose.unit.as_str(), l.unit.as_str(), None).map(|a| (l, a))
                })
        });
        match fit {
            Some((l, amount)) if l.min - 1e-9 <= amount && amount <= l.max + 1e-9 => checked += 1,
            Some((l, _)) => wrong.push(format!(
                "{}: {} {} {} outside {}-{} {}",
                o.id, dose.amount, dose.unit, dose.route, l.min, l.max, l.unit
            )),
            None => wrong.push(format!(
                "{}: no limit in a unit like {} for {} (rate {rate})",
                o.id, dose.unit, dose.route
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 140, "only {checked} default doses checked");
}

#[test]
fn child_ranges_are_per_kilogram_except_where_guidelines_dose_by_age() {
    let catalog = catalog();
    for o in catalog.orders() {
        for l in o.limits.iter().filter(|l| l.age == AgeBand::Child) {
            let absolute = CHILD_ABSOLUTE.iter().any(|(id, _)| *id == o.id);
            assert!(
                PER_KG.contains(&l.unit.as_str()) || absolute,
                "`{}` child {} range in {}",
                o.id,
                l.route,
                l.unit
            );
        }
    }
    for id in CHILD_DRUGS {
        let o = catalog.get(id).unwrap_or_else(|| panic!("no order `{id}`"));
        assert!(
            o.limits.iter().any(|l| l.age == AgeBand::Child),
            "`{id}` is commonly given to children and has no child range"
        );
    }
    // Aspirin is not for under-16s (Reye's syndrome): no child range to pass.
    assert!(catalog
        .get("aspirin")
        .unwrap()
        .limits
        .iter()
        .all(|l| l.age == AgeBand::Adult));
}

#[test]
fn guideline_spot_checks() {
    // BNF: IV fentanyl for analgesia is titrated in 25-100 microgram doses.
    let l = adult("fentanyl", "IV");
    assert!(contains(&l, 50.0, "mcg") && l.max <= 200.0 && l.min >= 10.0);
    // Resuscitation Council UK 2021 anaphylaxis: adult IM adrenaline 0.5 mg, never more.
    let l = adult("epinephrine_im", "IM");
    assert!(contains(&l, 0.5, "mg") && l.max <= 0.5);
    // ... and about 0.01 mg/kg in children.
    assert!(contains(&child("epinephrine_im", "IM"), 0.01, "mg/kg"));
    // RCUK 2021 ALS: adrenaline 1 mg IV in cardiac arrest; PLS 10 micrograms/kg.
    let l = adult("epinephrine_iv_arrest", "IV");
    assert!(contains(&l, 1.0, "mg") && l.max <= 1.0);
    assert!(contains(
        &child("epinephrine_iv_arrest", "IO"),
        10.0,
        "mcg/kg"
    ));
    // Push-dose adrenaline is micrograms, a hundredth of the arrest dose.
    assert!(adult("epinephrine_push_dose", "IV").max <= 50.0);
    // ESC 2023 ACS: aspirin 150-300 mg loading, 75 mg daily; US 325 mg chewed at most.
    let l = adult("aspirin", "PO");
    assert!(contains(&l, 300.0, "mg") && contains(&l, 75.0, "mg") && l.max <= 325.0);
    // BNF: IV morphine for acute pain, up to 10 mg a dose.
    let l = adult("morphine", "IV");
    assert!(contains(&l, 4.0, "mg") && l.max <= 10.0);
    // BNF/BNFC: paracetamol 1 g a dose in adults, 15 mg/kg in children (never over 20).
    let l = adult("acetaminophen_po", "PO");
    assert!(contains(&l, 1000.0, "mg") && l.max <= 1000.0);
    let l = child("acetaminophen_po", "PO");
    assert!(contains(&l, 15.0, "mg/kg") && l.max <= 20.0);
    // AHA/ASA 2019 stroke: alteplase 0.9 mg/kg; tenecteplase 0.25 mg/kg.
    assert!(contains(&adult("alteplase", "IV"), 0.9, "mg/kg"));
    let l = adult("tenecteplase", "IV");
    assert!(contains(&l, 0.25, "mg/kg") && l.max <= 0.55);
    // ESC 2023 ACS / ACCP: UFH infusion 12 (ACS) to 18 (VTE) units/kg/h.
    let l = adult_rate("heparin_infusion", "IV");
    assert!(contains(&l, 12.0, "units/kg") && contains(&l, 18.0, "units/kg") && l.max <= 18.0);
    // JBDS/NICE DKA: fixed-rate insulin 0.1 units/kg/h; BSPED/ISPAD: 0.05-0.1 in children.
    assert!(contains(
        &adult_rate("insulin_infusion", "IV"),
        0.1,
        "units/kg"
    ));
    let l = limit("insulin_infusion", "IV", AgeBand::Child, true);
    assert!(contains(&l, 0.05, "units/kg") && l.max <= 0.1);
    // BTS/SIGN 158: nebulised salbutamol 5 mg (2.5 mg in young children).
    let l = adult("albuterol_neb", "NEB");
    assert!(contains(&l, 5.0, "mg") && l.max <= 5.0);
    assert!(contains(&child("albuterol_neb", "NEB"), 2.5, "mg"));
    // BNF: adenosine 6 mg, then 12 mg; ERC 2021 up to 18 mg.
    let l = adult("adenosine", "IV");
    assert!(contains(&l, 6.0, "mg") && contains(&l, 12.0, "mg") && l.max <= 18.0);
    // RCUK 2021 ALS: amiodarone 300 mg then 150 mg in arrest.
    let l = adult("amiodarone", "IV");
    assert!(contains(&l, 300.0, "mg") && contains(&l, 150.0, "mg") && l.max <= 300.0);
    // BTS/SIGN: IV magnesium 2 g in adults; BNFC 40 mg/kg in children.
    assert!(contains(&adult("magnesium_sulfate", "IV"), 2.0, "g"));
    assert!(contains(&child("magnesium_sulfate", "IV"), 40.0, "mg/kg"));
    // Naloxone: 0.4 mg IV; the nasal spray is 1.8-4 mg.
    assert!(contains(&adult("naloxone", "IV"), 0.4, "mg"));
    assert!(contains(&adult("naloxone", "IN"), 4.0, "mg"));
    // NICE NG51 / APLS: crystalloid boluses 500 mL in adults, 10-20 mL/kg in children.
    assert!(contains(&adult("ns_bolus", "IV"), 500.0, "mL"));
    let l = child("ns_bolus", "IV");
    assert_eq!((l.min, l.max, l.unit.as_str()), (10.0, 20.0, "mL/kg"));
    // BNF/NPSA: IV potassium at most 20 mmol an hour.
    assert!(adult_rate("potassium_chloride", "IV").max <= 20.0);
    // BNF: ceftriaxone 2 g IV; IM at most 1 g per site; BNFC meningitis 80 mg/kg.
    assert!(contains(&adult("ceftriaxone", "IV"), 2.0, "g"));
    assert!(adult("ceftriaxone", "IM").max <= 1.0);
    assert!(contains(&child("ceftriaxone", "IV"), 80.0, "mg/kg"));
    // BNFC/APLS: hypoglycaemia 2 mL/kg of 10% glucose.
    assert!(contains(&child("dextrose_10", "IV"), 2.0, "mL/kg"));
    // BNFC: prednisolone 1-2 mg/kg in acute asthma.
    let l = child("prednisolone", "PO");
    assert_eq!((l.min, l.max), (1.0, 2.0));
    // NICE NG217 / APLS: lorazepam 4 mg (0.1 mg/kg) at most in status epilepticus.
    assert!(adult("lorazepam", "IV").max <= 4.0);
    assert!(child("lorazepam", "IV").max <= 0.1);
    // FDA label: IV ketorolac 30 mg at most; BNF/EMA: metoclopramide 10 mg at most.
    assert!(adult("ketorolac", "IV").max <= 30.0);
    assert!(adult("metoclopramide", "IV").max <= 10.0);
    // Pressors run in micrograms a minute.
    let l = adult_rate("norepinephrine", "IV");
    assert!(contains(&l, 5.0, "mcg/min") && l.max <= 40.0);
    // BNF: gentamicin once daily 5-7 mg/kg.
    let l = adult("gentamicin", "IV");
    assert!(contains(&l, 5.0, "mg/kg") && contains(&l, 7.0, "mg/kg"));
}

#[test]
fn every_dose_in_the_strong_plays_is_within_its_usual_range() {
    let catalog = catalog();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for path in case_paths() {
        let case = load(&path);
        let id = &case.meta.id;
        let band = if case.patient.age < 16 {
            AgeBand::Child
        } else {
            AgeBand::Adult
        };
        let play = root().join(format!("tests/fixtures/plays/{id}.strong.jsonl"));
        let Ok(text) = std::fs::read_to_string(&play) else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("play line is JSON");
            let actions = v["actions"].as_array().cloned().unwrap_or_default();
            for raw in actions.iter().filter_map(|a| a.as_str()) {
                let got = interpret(raw, &catalog);
                let (Some(m), Some(dose)) = (&got.order, &got.dose) else {
                    continue;
                };
                let order = catalog.get(&m.id).expect("matched order exists");
                if !in_scope(order) {
                    continue;
                }
                let route = got
                    .route
                    .or_else(|| order.dose.as_ref().map(|d| d.route))
                    .or_else(|| order.routes.first().copied())
                    .expect("a route");
                let lower = raw.to_lowercase();
                let rate = dose.unit == "mcg/min"
                    || is_infusion(order)
                    || ["/h", "per hour", "an hour", "hourly"]
                        .iter()
                        .any(|w| lower.contains(w));
                let l = order
                    .limits
                    .iter()
                    .find(|l| l.route == route && l.age == band && l.rate == rate)
                    .or_else(|| {
                        order
                            .limits
                            .iter()
                            .find(|l| l.route == route && l.age == AgeBand::Adult && l.rate == rate)
                    });
                let Some(l) = l else {
                    wrong.push(format!("{id}: `{raw}`: no {route} limit (rate {rate})"));
                    continue;
                };
                match convert(
                    dose.amount,
                    dose.unit.as_str(),
                    l.unit.as_str(),
                    case.patient.weight_kg,
                ) {
                    Some(a) if l.min - 1e-9 <= a && a <= l.max + 1e-9 => checked += 1,
                    Some(a) => wrong.push(format!(
                        "{id}: `{raw}` is {a} {}, outside {}-{}",
                        l.unit, l.min, l.max
                    )),
                    None => wrong.push(format!(
                        "{id}: `{raw}` in {} cannot be compared with {}",
                        dose.unit, l.unit
                    )),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 15, "only {checked} doses checked");
}
