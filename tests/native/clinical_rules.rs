//! The unit and order semantics of issue 17, each from clinical truth with a case that meets it
//! and one that does not: "result available before" (the potassium known before insulin),
//! totals across orders (Surviving Sepsis Campaign 2021: at least 30 mL/kg crystalloid within
//! 3 hours, as repeated boluses), rates per hour (JBDS/ADA DKA: fixed-rate insulin 0.1
//! units/kg/h, potassium 10–20 mmol/h), puffs (BNF: salbutamol pMDI 100 mcg a puff,
//! ipratropium 20 mcg; BTS/SIGN 158 and GINA: up to 10 puffs via a spacer), and the catalog's
//! new antibiotics and reworded results.

use std::sync::Arc;

use bedside::engine::action::interpret;
use bedside::engine::case::{Case, Event};
use bedside::engine::encounter::{Config, Encounter, EntryKind, Input, Turn};
use bedside::engine::eval::evaluate;
use bedside::engine::load::load_case;
use bedside::engine::pharmacy::{check_dose, DoseLevel};
use bedside::engine::rule::Rule;

use crate::support::{case, catalog, load, root};

/// The minimal case, with the patient's weight set.
fn patient_of(weight_kg: f64) -> Case {
    let mut c = (*load(&root().join("tests/fixtures/minimal-case.json"))).clone();
    c.patient.weight_kg = Some(weight_kg);
    c.end.time_limit_min = 600;
    c
}

enum Step<'a> {
    Order(&'a [&'a str]),
    Wait(u32),
    /// Cancel or stop the action with this seq.
    Stop(u32),
}
use Step::*;

fn run(c: &Case, steps: &[Step]) -> Encounter {
    let mut enc = Encounter::new(Arc::new(c.clone()), catalog(), Config::human());
    for s in steps {
        let input = match s {
            Order(actions) => Input::Turn(Turn {
                speak: String::new(),
                actions: actions.iter().map(|a| a.to_string()).collect(),
                eos: false,
            }),
            Wait(m) => Input::Wait { minutes: *m },
            Stop(a) => Input::Cancel { action: *a },
        };
        enc.apply(input).expect("input taken");
    }
    enc
}

fn rule(json: &str) -> Rule {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// (holds, why) of a rule after the steps.
fn verdict(c: &Case, steps: &[Step], json: &str) -> (bool, String) {
    let enc = run(c, steps);
    let v = evaluate(&rule(json), c, enc.state());
    (v.holds, v.why)
}

fn check(c: &Case, steps: &[Step], json: &str, holds: bool, why: &str) {
    let (h, w) = verdict(c, steps, json);
    assert!(
        h == holds && w.contains(why),
        "{json}: holds {h} ({w}); expected {holds} with {why:?}"
    );
}

// --- result available before ---------------------------------------------------------------

const K_BEFORE_INSULIN: &str =
    r#"{"result_before": {"result": "vbg", "then": "insulin_infusion"}}"#;

#[test]
fn the_potassium_must_be_back_before_insulin_is_placed() {
    let c = patient_of(58.0);
    // The gas (10-minute turnaround) is back before the insulin is ordered: met.
    check(
        &c,
        &[
            Order(&["iv access", "vbg"]),
            Wait(12),
            Order(&["insulin 6 units/h iv"]),
        ],
        K_BEFORE_INSULIN,
        true,
        "was back at",
    );
    // Ordered two minutes before the insulin but not back: ordering alone is not knowing.
    check(
        &c,
        &[
            Order(&["iv access", "vbg"]),
            Order(&["insulin 6 units/h iv"]),
            Wait(30),
        ],
        K_BEFORE_INSULIN,
        false,
        "before the result of",
    );
    // The plain `before` rule, comparing order times, would have given that play the credit.
    let (before, _) = verdict(
        &c,
        &[
            Order(&["iv access", "vbg"]),
            Order(&["insulin 6 units/h iv"]),
        ],
        r#"{"before": {"first": "vbg", "then": "insulin_infusion"}}"#,
    );
    assert!(before, "order times alone");
    // No insulin at all: the rule, like `before`, needs both.
    check(
        &c,
        &[Order(&["vbg"]), Wait(12)],
        K_BEFORE_INSULIN,
        false,
        "Insulin infusion not done",
    );
    // A gas never sent.
    check(
        &c,
        &[Order(&["iv access", "insulin 6 units/h iv"])],
        K_BEFORE_INSULIN,
        false,
        "Vbg not done",
    );
}

#[test]
fn a_result_by_a_minute() {
    let c = patient_of(70.0);
    let rule = r#"{"result_before": {"result": "electrolytes", "by_minute": 40}}"#;
    // Electrolytes take 30 minutes: sent at 5, back at 35.
    check(
        &c,
        &[Wait(5), Order(&["lytes"]), Wait(40)],
        rule,
        true,
        "was back at 35:00",
    );
    // Sent at 15, back at 45: too late.
    check(
        &c,
        &[Wait(15), Order(&["lytes"]), Wait(40)],
        rule,
        false,
        "late (due by 40:00)",
    );
    // Sent at 15 and the clock at 44: not back yet.
    check(
        &c,
        &[Wait(15), Order(&["lytes"]), Wait(28)],
        rule,
        false,
        "its result was not back",
    );
}

#[test]
fn an_event_fires_when_the_result_comes_back() {
    let mut c = patient_of(70.0);
    c.events.push(Event {
        id: "gas_back".into(),
        when: rule(r#"{"result_before": {"result": "vbg", "by_minute": 60}}"#),
        then: serde_json::from_str(r#"[{"notice": "The nurse hands you the gas."}]"#).unwrap(),
    });
    let enc = run(&c, &[Wait(3), Order(&["vbg"]), Wait(20)]);
    let at = enc
        .record()
        .log
        .iter()
        .find(|e| matches!(&e.kind, EntryKind::Notice { text, .. } if text.contains("hands you the gas")))
        .map(|e| e.time_s);
    // Ordered at 3:00 with a 10-minute turnaround: back at 13:00, and the event with it.
    assert_eq!(at, Some(13 * 60));
}

#[test]
fn result_before_is_validated() {
    let json = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["rubric"][0]["rule"] = serde_json::json!({"result_before": {"result": "vgb"}});
    let err = load_case("x.json", &v.to_string(), &catalog())
        .unwrap_err()
        .to_string();
    assert!(err.contains("result_before.result"), "{err}");
    assert!(err.contains("before what"), "{err}");
}

// --- totals ---------------------------------------------------------------------------------

/// Surviving Sepsis Campaign 2021: at least 30 mL/kg IV crystalloid within the first 3 hours.
const SSC_FLUIDS: &str = r#"{"total": {"orders": ["ns_bolus", "lr_bolus", "plasmalyte_bolus"], "dose": {"min": 30, "unit": "mL/kg"}, "by_minute": 180}}"#;

#[test]
fn repeated_boluses_add_up_to_thirty_ml_per_kg() {
    // 65 kg: 30 mL/kg is 1950 mL.
    let c = patient_of(65.0);
    // 1 L of Hartmann's, reassessed, then 1 L of saline: 2000 mL, 30.8 mL/kg.
    check(
        &c,
        &[
            Order(&["iv access", "hartmann's 1 L"]),
            Wait(30),
            Order(&["0.9% saline 1000 mL bolus"]),
        ],
        SSC_FLUIDS,
        true,
        "within at least 30 mL/kg",
    );
    // One litre only: 15.4 mL/kg.
    check(
        &c,
        &[Order(&["iv access", "hartmann's 1 L"]), Wait(60)],
        SSC_FLUIDS,
        false,
        "outside at least 30 mL/kg",
    );
    // Written per kilogram in one order.
    check(
        &c,
        &[Order(&["iv access", "ns 30 ml/kg"])],
        SSC_FLUIDS,
        true,
        "Total given 30 mL/kg",
    );
    // The second litre after three hours does not count for the 3-hour target.
    check(
        &c,
        &[
            Order(&["iv access", "hartmann's 1 L"]),
            Wait(185),
            Order(&["hartmann's 1 L"]),
        ],
        SSC_FLUIDS,
        false,
        "by 180:00",
    );
    // Four 250 mL boluses are 1 L: not enough.
    check(
        &c,
        &[
            Order(&["iv access", "ns 250 ml bolus"]),
            Order(&["ns 250 ml bolus"]),
            Order(&["ns 250 ml bolus"]),
            Order(&["ns 250 ml bolus"]),
        ],
        SSC_FLUIDS,
        false,
        "Total given 15.385 mL/kg",
    );
}

#[test]
fn what_was_not_given_does_not_count() {
    let c = patient_of(65.0);
    // A bolus stopped early: how much ran is unknown, so it counts nothing.
    check(
        &c,
        &[
            Order(&["iv access", "hartmann's 1 L", "ns 1 L"]),
            Wait(5),
            Stop(2),
        ],
        SSC_FLUIDS,
        false,
        "(stopped)",
    );
    // Held for IV access and then cancelled: never given.
    check(
        &c,
        &[Order(&["hartmann's 1 L", "ns 1 L"]), Stop(0)],
        SSC_FLUIDS,
        false,
        "Total given 0 mL/kg",
    );
    // A bolus with no volume adds nothing, and the verdict says so.
    check(
        &c,
        &[Order(&["iv access", "hartmann's 1 L", "fluid bolus"])],
        SSC_FLUIDS,
        false,
        "no dose given",
    );
}

#[test]
fn a_rate_counts_for_the_time_it_ran() {
    let c = patient_of(70.0);
    let total = r#"{"total": {"orders": ["maintenance_fluids"], "dose": {"min": 240, "max": 260, "unit": "mL"}}}"#;
    // 125 mL/h for about two hours: about 250 mL.
    check(
        &c,
        &[
            Order(&["iv access", "maintenance fluids 125 ml/h"]),
            Wait(118),
        ],
        total,
        true,
        "within 240–260 mL",
    );
    // Stopped after an hour: what ran until the stop, however long the encounter goes on.
    let enc = run(
        &c,
        &[
            Order(&["iv access", "maintenance fluids 125 ml/h"]),
            Wait(58),
            Stop(1),
            Wait(120),
        ],
    );
    let a = &enc.state().actions[1];
    let ran_h = f64::from(a.stopped_s.unwrap() - a.done_at().unwrap()) / 3600.0;
    assert!((0.95..1.05).contains(&ran_h), "{ran_h}");
    let v = evaluate(&rule(total), &c, enc.state());
    let expected = format!(
        "Total given {} mL",
        bedside::engine::units::fmt_num(125.0 * ran_h)
    );
    assert!(
        !v.holds && v.why.contains(&expected),
        "{} / {expected}",
        v.why
    );
}

// --- rates per hour -------------------------------------------------------------------------

/// JBDS 2023 / ADA 2024: fixed-rate IV insulin 0.1 units/kg/h (the DKA patient weighs 58 kg).
const FRII: &str = r#"{"done": {"order": "insulin_infusion", "dose": {"min": 0.09, "max": 0.11, "unit": "units/kg", "rate": true}, "route": ["IV"]}}"#;

#[test]
fn insulin_and_potassium_rates_are_read_per_hour() {
    let c = patient_of(58.0);
    for typed in [
        "insulin 6 units/h IV",
        "insulin infusion 6 units per hour",
        "fixed rate insulin 0.1 units/kg/h",
        "insulin 6 units/hr iv",
    ] {
        check(&c, &[Order(&["iv access", typed])], FRII, true, "Insulin");
    }
    // 6 units with no "per hour" is not a rate, whatever the order's name.
    check(
        &c,
        &[Order(&["iv access", "insulin infusion 6 units iv"])],
        FRII,
        false,
        "not a rate per hour",
    );
    // 10 units/h for 58 kg is 0.17 units/kg/h: too fast.
    check(
        &c,
        &[Order(&["iv access", "insulin 10 units/h iv"])],
        FRII,
        false,
        "outside",
    );
    // Potassium: JBDS/ADA 10–20 mmol/h by pump.
    let k_rate = r#"{"done": {"order": "potassium_chloride", "dose": {"min": 10, "max": 20, "unit": "mEq", "rate": true}}}"#;
    for typed in [
        "potassium 10 mmol/h",
        "kcl 20 mmol/hour iv",
        "KCl 10 mEq/h IV",
    ] {
        check(
            &c,
            &[Order(&["iv access", typed])],
            k_rate,
            true,
            "Potassium",
        );
    }
    check(
        &c,
        &[Order(&["iv access", "kcl 40 mmol/h iv"])],
        k_rate,
        false,
        "outside",
    );
    // 40 mmol in a litre of saline is a single amount, not a rate; a rule for the bag reads it.
    let k_bag = r#"{"done": {"order": "potassium_chloride", "dose": {"min": 20, "max": 40, "unit": "mEq", "rate": false}, "route": ["IV"]}}"#;
    check(
        &c,
        &[Order(&["iv access", "kcl 40 mmol in 1 L 0.9% saline"])],
        k_bag,
        true,
        "Potassium",
    );
    check(
        &c,
        &[Order(&["iv access", "kcl 40 mmol in 1 L 0.9% saline"])],
        k_rate,
        false,
        "single dose",
    );
    // ... and a 40 mmol/h rate does not pass for a 40 mmol bag.
    check(
        &c,
        &[Order(&["iv access", "kcl 40 mmol/h iv"])],
        k_bag,
        false,
        "is a rate",
    );
}

#[test]
fn potassium_orders_name_the_drug_and_its_rate_is_checked() {
    let cat = catalog();
    let i = interpret("potassium 10 mmol/h", &cat);
    assert_eq!(
        i.order.as_ref().map(|o| o.id.as_str()),
        Some("potassium_chloride")
    );
    assert!(i.rate);
    assert_eq!(
        i.placed_form().as_deref(),
        Some("10 mmol/h IV (default route)")
    );
    // The lab is still the lab.
    let i = interpret("serum potassium", &cat);
    assert_eq!(
        i.order.as_ref().map(|o| o.id.as_str()),
        Some("electrolytes")
    );
    // "in 1 L" is a preposition, not the intranasal route.
    let i = interpret("kcl 40 mmol in 1 L 0.9% saline", &cat);
    assert_eq!(
        i.order.as_ref().map(|o| o.id.as_str()),
        Some("potassium_chloride")
    );
    assert_eq!(i.route.map(|r| r.as_str()), Some("IV"));
    let i = interpret("naloxone 2 mg in", &cat);
    assert_eq!(i.route.map(|r| r.as_str()), Some("IN"));
    // BNF/NPSA: above 20 mmol/h is outside the usual rate.
    let dka = case("dka-young-adult");
    let fast = interpret("kcl 40 mmol/h iv", &cat);
    let flag = check_dose(&fast, &cat, &dka.patient).expect("flagged");
    assert_eq!(flag.level, DoseLevel::AboveUsual);
    assert!(check_dose(&interpret("kcl 10 mmol/h iv", &cat), &cat, &dka.patient).is_none());
}

// --- puffs ----------------------------------------------------------------------------------

#[test]
fn puffs_are_the_inhalers_dose_per_puff() {
    let cat = catalog();
    let i = interpret("salbutamol 10 puffs via spacer", &cat);
    assert_eq!(
        i.order.as_ref().map(|o| o.id.as_str()),
        Some("albuterol_neb")
    );
    assert_eq!(
        i.dose.as_ref().map(|d| (d.amount, d.unit.as_str())),
        Some((1000.0, "mcg"))
    );
    assert_eq!(i.route.map(|r| r.as_str()), Some("INH"));
    assert_eq!(i.placed_form().as_deref(), Some("10 puffs (1000 mcg) INH"));
    // The placed form typed again places the same.
    let again = interpret(&i.order_text(), &cat);
    assert_eq!(
        (again.dose, again.route, again.puffs),
        (i.dose, i.route, i.puffs)
    );
    // Puffs without a route word are inhaled, not the nebuliser the catalog defaults to.
    let i = interpret("salbutamol 4 puffs", &cat);
    assert_eq!(i.route.map(|r| r.as_str()), Some("INH"));
    // Ipratropium pMDI: 20 mcg a puff.
    let i = interpret("ipratropium 8 puffs", &cat);
    assert_eq!(
        i.dose.as_ref().map(|d| (d.amount, d.unit.as_str())),
        Some((160.0, "mcg"))
    );
    // Spacer, MDI, inhaler are the inhaled route.
    for typed in [
        "salbutamol 1000 mcg via spacer",
        "salbutamol 100mcg mdi",
        "salbutamol inhaler",
    ] {
        assert_eq!(
            interpret(typed, &cat).route.map(|r| r.as_str()),
            Some("INH"),
            "{typed}"
        );
    }
    // A drug with no inhaler form cannot read puffs: the number is kept for the question.
    let i = interpret("aspirin 2 puffs", &cat);
    assert!(i.dose.is_none());
    assert_eq!(i.unread_number, Some(2.0));
}

#[test]
fn puffs_meet_dose_rules_and_the_pharmacy_check() {
    // The asthma child: BTS/SIGN 158 up to 10 puffs (1000 mcg) via spacer.
    let asthma = case("paediatric-asthma");
    let c = (*asthma).clone();
    let rule = r#"{"done": {"order": "albuterol_neb", "dose": {"min": 200, "max": 1000, "unit": "mcg"}, "route": ["INH"]}}"#;
    check(
        &c,
        &[Order(&["salbutamol 10 puffs via spacer"])],
        rule,
        true,
        "Albuterol",
    );
    check(
        &c,
        &[Order(&["salbutamol 1000 mcg via spacer"])],
        rule,
        true,
        "Albuterol",
    );
    check(
        &c,
        &[Order(&["salbutamol 20 puffs via spacer"])],
        rule,
        false,
        "outside",
    );
    let cat = catalog();
    assert!(check_dose(
        &interpret("salbutamol 10 puffs via spacer", &cat),
        &cat,
        &c.patient
    )
    .is_none());
    let flag = check_dose(
        &interpret("salbutamol 20 puffs via spacer", &cat),
        &cat,
        &c.patient,
    )
    .expect("flagged");
    assert_eq!(flag.level, DoseLevel::AboveUsual);
}

// --- catalog --------------------------------------------------------------------------------

#[test]
fn the_new_antibiotics_place_with_their_bnf_limits() {
    let cat = catalog();
    let adult = patient_of(70.0).patient;
    for (typed, id, flagged) in [
        ("clarithromycin 500 mg IV", "clarithromycin", false),
        ("clarithromycin 500mg po", "clarithromycin", false),
        ("clarithromycin 2 g iv", "clarithromycin", true),
        ("benzylpenicillin 1.2 g IV", "benzylpenicillin", false),
        ("benpen 2.4g iv", "benzylpenicillin", false),
        ("benzylpenicillin 10 g iv", "benzylpenicillin", true),
        ("cefuroxime 1.5 g iv", "cefuroxime", false),
        ("cefuroxime 4 g iv", "cefuroxime", true),
    ] {
        let i = interpret(typed, &cat);
        assert_eq!(i.order.as_ref().map(|o| o.id.as_str()), Some(id), "{typed}");
        assert_eq!(check_dose(&i, &cat, &adult).is_some(), flagged, "{typed}");
        let o = cat.get(id).unwrap();
        assert!(o.limits.iter().all(|l| l.source.contains("BNF")), "{id}");
    }
}

#[test]
fn defaults_are_labelled_and_results_claim_nothing_they_cannot_know() {
    let cat = catalog();
    let note = |id: &str| cat.get(id).and_then(|o| o.note.clone()).unwrap_or_default();
    assert!(
        note("heparin_bolus").contains("70-100 units/kg"),
        "{}",
        note("heparin_bolus")
    );
    assert!(note("heparin_bolus").contains("ESC 2023"));
    assert!(note("insulin_regular_bolus").contains("hyperkalaemia"));
    let text = |id: &str| cat.get(id).unwrap().default_result.to_lowercase();
    for id in [
        "nitroglycerin_sl",
        "nitroglycerin_iv",
        "metoprolol",
        "tenecteplase",
    ] {
        for claim in [
            "no hypotension",
            "no drop",
            "no immediate",
            "no bleeding",
            "bradycardia",
        ] {
            assert!(!text(id).contains(claim), "{id}: {}", text(id));
        }
    }
    for id in ["ns_bolus", "lr_bolus", "plasmalyte_bolus"] {
        assert!(
            !text(id).contains("wide open") && !text(id).contains("pressure bag"),
            "{id}"
        );
    }
    // JBDS/ADA DKA potassium runs at 10–20 mmol/h: the result must not cap it at 10.
    assert!(
        !text("potassium_chloride").contains("≤ 10"),
        "{}",
        text("potassium_chloride")
    );
    // "1 L over 1 hour" in the DKA case: the result shown says nothing of a pressure bag.
    let enc = run(
        &case("dka-young-adult"),
        &[Order(&["iv access", "0.9% saline 1 L over 1 hour"])],
    );
    let shown = enc.state().actions[1].result.clone().unwrap_or_default();
    assert!(
        !shown.contains("pressure bag") && !shown.contains("wide open"),
        "{shown}"
    );
}
