//! Orders that behave like a hospital's (issue 10): a placed order means what it shows, the
//! pharmacist's dose check, IV access before IV drugs, cancel and stop, dispositions that open
//! the end form, and the strong plays placed through the order panel's own path.

use std::sync::Arc;

use bedside::app::orders::{order_for_enter, review, suggestions, OrderReview, SUGGESTIONS};
use bedside::engine::action::{interpret, Filled};
use bedside::engine::case::Case;
use bedside::engine::catalog::Category;
use bedside::engine::encounter::{
    ActionStatus, Config, Encounter, EndForm, EndReason, Input, InputError, Turn,
};
use bedside::engine::eval::evaluate;
use bedside::engine::pharmacy::{check_dose, DoseLevel};
use bedside::engine::rule::Rule;
use bedside::engine::score::{score, Mark, GROSS_OVERDOSE_ITEM};
use bedside::llm::protocol::{parse_end_form, Fallback};

use crate::support::{case, case_paths, catalog, load, root};

fn start(id: &str) -> Encounter {
    Encounter::new(case(id), catalog(), Config::human())
}

fn order(enc: &mut Encounter, actions: &[&str]) {
    enc.apply(Input::Turn(Turn {
        speak: String::new(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        eos: false,
    }))
    .expect("turn taken");
}

/// (typed, catalog id, amount, unit, route, filled parts): what a ward would place.
type PlacedRow<'a> = (
    &'a str,
    &'a str,
    Option<f64>,
    Option<&'a str>,
    Option<&'a str>,
    &'a [Filled],
);

#[test]
fn a_placed_order_means_what_it_shows() {
    let rows: &[PlacedRow] = &[
        // No route typed: aspirin's default route, shown as such.
        (
            "aspirin 300mg",
            "aspirin",
            Some(300.0),
            Some("mg"),
            Some("PO"),
            &[Filled::Route],
        ),
        // A bare number next to a drug dosed in mg is mg, shown as such.
        (
            "ticagrelor 180",
            "ticagrelor",
            Some(180.0),
            Some("mg"),
            Some("PO"),
            &[Filled::Route, Filled::Unit],
        ),
        (
            "asa 300 po",
            "aspirin",
            Some(300.0),
            Some("mg"),
            Some("PO"),
            &[Filled::Unit],
        ),
        // Typed in full: nothing filled.
        (
            "morphine 5mg iv",
            "morphine",
            Some(5.0),
            Some("mg"),
            Some("IV"),
            &[],
        ),
        // Exams and tests take no dose or route.
        ("12 lead ecg", "ecg_12_lead", None, None, None, &[]),
    ];
    let mut problems = Vec::new();
    for (typed, id, amount, unit, route, filled) in rows {
        let i = interpret(typed, &catalog());
        let got = (
            i.order.as_ref().map(|o| o.id.as_str()),
            i.dose.as_ref().map(|d| d.amount),
            i.dose.as_ref().map(|d| d.unit.as_str()),
            i.route.map(|r| r.as_str()),
            i.filled.as_slice(),
        );
        let want = (Some(*id), *amount, *unit, *route, *filled);
        if got != want {
            problems.push(format!("{typed}: got {got:?}, want {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        interpret("aspirin 300mg", &catalog()).summary(),
        "Aspirin 300 mg PO (default route)"
    );
}

#[test]
fn a_drug_the_catalog_lacks_is_not_understood_rather_than_another_order() {
    // No teicoplanin in the catalog: the route word must not make it IV access.
    let i = interpret("teicoplanin 400 mg IV", &catalog());
    assert_eq!(i.order, None, "{i:?}");
    // Clarithromycin, once missing the same way, is now an order of its own (issue 17).
    let i = interpret("clarithromycin 500 mg IV", &catalog());
    assert_eq!(i.order.map(|o| o.id).as_deref(), Some("clarithromycin"));
    // A number the app cannot place is kept for the question, never dropped silently.
    let i = interpret("ecg x2", &catalog());
    assert!(i.dose.is_none() && i.unread_number.is_none(), "{i:?}");
}

#[test]
fn every_suggestion_places_exactly_what_it_shows_and_only_drugs_carry_a_dose() {
    let cat = catalog();
    for query in [
        "morphine 5mg iv",
        "aspirin 300mg",
        "asa 300 po",
        "ticagrelor 180",
        "heparin 5000 units iv",
        "o2 15l",
        "salbutamol 5 mg neb",
        "ns 1 l",
        "examine chest",
        "cbc",
    ] {
        let list = suggestions(query, &cat, SUGGESTIONS);
        assert!(!list.is_empty(), "{query}: no suggestion");
        for s in &list {
            let again = interpret(&s.order_text, &cat);
            assert_eq!(
                again.order.as_ref().map(|o| &o.id),
                Some(&s.id),
                "{query}: \"{}\" does not place {}",
                s.order_text,
                s.id
            );
            assert_eq!(
                (&again.dose, &again.route, again.rate, &again.filled),
                (
                    &s.placed.dose,
                    &s.placed.route,
                    s.placed.rate,
                    &s.placed.filled
                ),
                "{query}: \"{}\" shows {:?} but places {:?}",
                s.order_text,
                s.form,
                again.form_label()
            );
            let order = cat.get(&s.id).unwrap();
            if !matches!(
                order.category,
                Category::Medication | Category::Fluid | Category::Airway
            ) {
                assert!(
                    s.placed.dose.is_none() && s.placed.route.is_none(),
                    "{query}: {} ({:?}) must carry no dose or route, shows {:?}",
                    s.name,
                    order.category,
                    s.form
                );
            }
            assert!(s.detail.starts_with("takes "), "{}", s.detail);
        }
    }
}

#[test]
fn the_pharmacist_flags_doses_outside_the_usual_range() {
    let adult = case("acs-inferior-stemi");
    let cat = catalog();
    let check = |c: &Case, text: &str| check_dose(&interpret(text, &cat), &cat, &c.patient);
    // Fentanyl is dosed in micrograms: 5 mg IV is about fifty times a usual dose.
    let f = check(&adult, "fentanyl 5 mg iv").expect("flagged");
    assert_eq!(f.level, DoseLevel::GrossOverdose, "{f:?}");
    assert!(f.message.contains("5 mg fentanyl IV"), "{}", f.message);
    assert!(!f.source.is_empty());
    assert_eq!(check(&adult, "fentanyl 50 mcg iv"), None);
    assert_eq!(check(&adult, "morphine 5 mg iv"), None);
    assert_eq!(check(&adult, "aspirin 300 mg"), None);
    // A child of 24 kg: an adult's 2 g of magnesium is about twice the usual 40 mg/kg.
    let child = case("paediatric-asthma");
    let m = check(&child, "magnesium sulfate 2 g iv").expect("flagged for a child");
    assert_eq!(m.level, DoseLevel::AboveUsual, "{m:?}");
    assert_eq!(
        check(&child, "magnesium sulfate 1 g iv"),
        None,
        "about 40 mg/kg"
    );
}

#[test]
fn a_gross_overdose_is_a_harm_in_every_case() {
    for path in case_paths() {
        let c = load(&path);
        let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
        let card = score(&c, enc.state(), None, &[]);
        let item = card
            .items
            .iter()
            .find(|i| i.id == GROSS_OVERDOSE_ITEM)
            .expect("every case has the safety item");
        assert_eq!(item.mark(), Mark::Avoided, "{}", c.meta.id);
        if enc.is_ended() {
            continue;
        }
        order(&mut enc, &["IV access", "fentanyl 5 mg IV"]);
        let card = score(&c, enc.state(), None, &[]);
        let item = card.items.iter().find(|i| i.id == GROSS_OVERDOSE_ITEM);
        assert_eq!(
            item.map(|i| i.mark()),
            Some(Mark::Harm),
            "{}: {:?}",
            c.meta.id,
            item.map(|i| &i.why)
        );
        assert!(card
            .scores()
            .critical_failures
            .contains(&GROSS_OVERDOSE_ITEM.to_string()));
    }
}

#[test]
fn iv_drugs_wait_for_access_and_start_when_it_is_in() {
    let mut enc = start("acs-inferior-stemi");
    order(&mut enc, &["0.9% saline 500 mL IV"]);
    let a = &enc.state().actions[0];
    assert!(a.awaiting_access && a.done_at().is_none(), "{a:?}");
    assert_eq!(a.status, ActionStatus::Pending);
    let said: Vec<&str> = enc
        .record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            bedside::engine::encounter::EntryKind::Notice { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(said.iter().any(|t| t.contains("no IV access")), "{said:?}");
    let rule: Rule = serde_json::from_str(r#"{"done": {"order": "ns_bolus"}}"#).unwrap();
    assert!(
        !evaluate(&rule, enc.case(), enc.state()).holds,
        "held is not given"
    );
    // An oral drug needs no line.
    order(&mut enc, &["aspirin 300 mg"]);
    assert!(enc.state().actions[1].done_at().is_some());
    order(&mut enc, &["IV access"]);
    let access_at = enc.state().actions[2].time_s;
    let a = &enc.state().actions[0];
    assert_eq!(
        a.done_at(),
        Some(access_at),
        "given once the line is in: {a:?}"
    );
    assert!(a.result.is_some());
    assert!(evaluate(&rule, enc.case(), enc.state()).holds);
}

#[test]
fn pending_orders_can_be_cancelled_and_running_ones_stopped() {
    let mut enc = start("dka-young-adult");
    order(
        &mut enc,
        &["troponin", "IV access", "insulin infusion 0.1 units/kg/h"],
    );
    let trop = enc.state().actions[0].seq;
    assert_eq!(enc.state().actions[0].status, ActionStatus::Pending);
    enc.apply(Input::Cancel { action: trop }).expect("cancel");
    assert!(enc.state().actions[0].cancelled_s.is_some());
    assert!(matches!(
        enc.apply(Input::Cancel { action: trop }),
        Err(InputError::CannotCancel(_))
    ));
    enc.apply(Input::Wait { minutes: 70 }).expect("wait");
    assert_eq!(
        enc.state().actions[0].result,
        None,
        "a cancelled test never results"
    );
    let done: Rule = serde_json::from_str(r#"{"done": {"order": "hs_troponin"}}"#).unwrap();
    assert!(!evaluate(&done, enc.case(), enc.state()).holds);
    // IV access was done at once: nothing to cancel.
    assert!(enc.cancellable(1).is_err());
    // The infusion runs until stopped, and stays given.
    let insulin = enc.state().actions[2].clone();
    assert_eq!(insulin.status, ActionStatus::Executed, "{insulin:?}");
    order(&mut enc, &["stop the insulin infusion"]);
    let insulin = &enc.state().actions[2];
    assert!(insulin.stopped_s.is_some(), "{insulin:?}");
    assert!(insulin.done_at().is_some());
    let log_kinds: Vec<String> = enc
        .record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            bedside::engine::encounter::EntryKind::Cancelled { name, stopped, .. } => {
                Some(format!("{stopped} {name}"))
            }
            _ => None,
        })
        .collect();
    assert_eq!(log_kinds.len(), 2, "{log_kinds:?}");
    assert!(log_kinds[0].starts_with("false") && log_kinds[1].starts_with("true"));
    // Nothing matching: a notice, no change.
    order(&mut enc, &["cancel the CT head"]);
    assert!(matches!(
        &enc.record().log.last().unwrap().kind,
        bedside::engine::encounter::EntryKind::Notice { text, .. } if text.contains("no pending or running")
    ));
}

#[test]
fn a_disposition_closes_the_encounter_and_asks_for_the_end_form() {
    let mut enc = start("acs-inferior-stemi");
    order(&mut enc, &["transfer to cath lab"]);
    assert!(
        !enc.is_ended(),
        "a disposition never ends the encounter by itself"
    );
    let req = enc.end_requested().expect("the end form is due").clone();
    assert_eq!(req.reason, EndReason::Disposition);
    assert_eq!(
        enc.apply(Input::Wait { minutes: 5 }).unwrap_err(),
        InputError::EndFormDue
    );
    let turn = enc.state().turn;
    enc.apply(Input::End(EndForm {
        diagnosis: "Inferior STEMI with right ventricular involvement".into(),
        differential: vec![],
        plan: "Primary PCI".into(),
        disposition: Some("Transfer to cath lab".into()),
    }))
    .expect("end form");
    let ended = enc.state().ended.clone().expect("ended");
    assert_eq!(ended.reason, EndReason::Disposition);
    assert_eq!(enc.state().turn, turn);
    let transfers = enc
        .state()
        .actions
        .iter()
        .filter(|a| a.order_id() == Some("transfer_cath_lab"))
        .count();
    assert_eq!(transfers, 1, "the disposition is not placed twice");
    let dx: Rule = serde_json::from_str(r#"{"diagnosis": {}}"#).unwrap();
    assert!(evaluate(&dx, enc.case(), enc.state()).holds);
}

#[test]
fn the_order_panel_asks_before_a_disposition_a_queried_dose_or_an_unreadable_number() {
    let enc = start("acs-inferior-stemi");
    assert!(matches!(
        review("Transfer to cath lab", &enc),
        OrderReview::Disposition { name } if name == "Transfer to cath lab"
    ));
    assert!(matches!(
        review("fentanyl 5 mg iv", &enc),
        OrderReview::ConfirmDose { message } if message.starts_with("Dangerous dose")
    ));
    assert_eq!(review("aspirin 300 mg", &enc), OrderReview::Place);
    assert_eq!(review("12 lead ecg", &enc), OrderReview::Place);
}

#[test]
fn a_model_closes_with_an_end_form() {
    let p = parse_end_form(
        r#"{"diagnosis": "Inferior STEMI", "differential": ["aortic dissection"], "plan": "PCI", "disposition": "transfer to cath lab"}"#,
    );
    assert_eq!(p.fallback, Fallback::Clean);
    let f = p.form.unwrap();
    assert_eq!(f.diagnosis, "Inferior STEMI");
    assert_eq!(f.differential, ["aortic dissection"]);
    assert_eq!(f.disposition.as_deref(), Some("transfer to cath lab"));
    let p = parse_end_form(
        "```json\n{\"diagnosis\": \"DKA\", \"differential\": \"sepsis; gastroenteritis\",}\n```",
    );
    assert_eq!(p.fallback, Fallback::Repaired);
    assert_eq!(p.form.unwrap().differential, ["sepsis", "gastroenteritis"]);
    let p = parse_end_form(r#"{"speak": "Goodbye", "actions": [], "eos": true}"#);
    assert_eq!(p.fallback, Fallback::Unusable);
    assert!(p.form.is_none(), "no diagnosis, no end form");
}

/// A play's inputs as the trainee's UI would send them: speech as its own turn, each order
/// picked from the suggestions with Enter (the first, highlighted one) as its own turn, a
/// disposition through the end form, "done with this stage" as an empty turn.
fn through_the_order_panel(c: &Arc<Case>, lines: &[Input]) -> Vec<Input> {
    let cat = catalog();
    let mut out = Vec::new();
    let mut disposition: Option<String> = None;
    for input in lines {
        match input {
            Input::Turn(t) => {
                if !t.speak.trim().is_empty() {
                    out.push(Input::Turn(Turn {
                        speak: t.speak.clone(),
                        ..Turn::default()
                    }));
                }
                for a in &t.actions {
                    let list = suggestions(a, &cat, SUGGESTIONS);
                    let placed = order_for_enter(a, &list, (!list.is_empty()).then_some(0))
                        .expect("a non-empty order");
                    if interpret(&placed, &cat)
                        .order
                        .is_some_and(|o| o.category == Category::Disposition)
                        && c.end.on_disposition
                    {
                        disposition.get_or_insert(placed);
                        continue;
                    }
                    out.push(Input::Turn(Turn {
                        actions: vec![placed],
                        ..Turn::default()
                    }));
                }
                if t.eos {
                    out.push(Input::Turn(Turn {
                        eos: true,
                        ..Turn::default()
                    }));
                }
            }
            Input::End(form) => {
                let mut form = form.clone();
                if form
                    .disposition
                    .as_deref()
                    .is_none_or(|d| d.trim().is_empty())
                {
                    form.disposition = disposition.take();
                }
                out.push(Input::End(form));
            }
            other => out.push(other.clone()),
        }
    }
    out
}

fn play(c: &Arc<Case>, inputs: &[Input]) -> Encounter {
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    for input in inputs {
        if enc.is_ended() {
            break;
        }
        if enc.takes(input) {
            enc.apply(input.clone()).expect("input taken");
        }
    }
    enc
}

/// Each timed item's deadlines (`by_minute` on `done` and `said` rules) with the same rule
/// without its deadline, to find when the play met it.
fn deadlines(rule: &Rule, out: &mut Vec<(u32, Rule)>) {
    match rule {
        Rule::Done(d) if d.by_minute.is_some() => {
            let mut open = d.clone();
            open.by_minute = None;
            out.push((d.by_minute.unwrap(), Rule::Done(open)));
        }
        Rule::Said(s) if s.by_minute.is_some() => {
            let mut open = s.clone();
            open.by_minute = None;
            out.push((s.by_minute.unwrap(), Rule::Said(open)));
        }
        Rule::All(rs) => rs.iter().for_each(|r| deadlines(r, out)),
        _ => {}
    }
}

/// Every shipped strong play placed through the order panel earns what the free-text play
/// earns, and meets each timing target it meets with at least two simulated minutes to spare.
#[test]
fn strong_plays_score_the_same_through_the_order_panel_with_time_to_spare() {
    let mut problems = Vec::new();
    for path in case_paths() {
        let c = load(&path);
        let id = c.meta.id.clone();
        let text =
            std::fs::read_to_string(root().join(format!("tests/fixtures/plays/{id}.strong.jsonl")))
                .unwrap();
        let lines: Vec<Input> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Input::from_play_line(l).unwrap())
            .collect();
        let typed = play(&c, &lines);
        let picked = play(&c, &through_the_order_panel(&c, &lines));
        let (a, b) = (
            score(&c, typed.state(), None, &[]),
            score(&c, picked.state(), None, &[]),
        );
        for (x, y) in a.items.iter().zip(&b.items) {
            if x.outcome != y.outcome {
                problems.push(format!(
                    "{id} {}: typed {:?} ({}), picked {:?} ({})",
                    x.id, x.outcome, x.why, y.outcome, y.why
                ));
            }
        }
        for item in c.rubric.iter().filter(|i| i.weight > 0.0) {
            let Some(rule) = &item.rule else { continue };
            if !evaluate(rule, &c, picked.state()).holds {
                continue;
            }
            let mut ds = Vec::new();
            deadlines(rule, &mut ds);
            for (by, open) in ds {
                let v = evaluate(&open, &c, picked.state());
                let at = v.evidence.iter().map(|e| e.time_s).min().unwrap_or(0);
                if at + 120 > by * 60 {
                    problems.push(format!(
                        "{id} {}: met at {}:{:02} through the panel, target {by}:00 (less than 2 minutes to spare)",
                        item.id,
                        at / 60,
                        at % 60
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_clock_line_says_what_is_under_way() {
    let mut enc = start("dka-young-adult");
    let line =
        |enc: &Encounter| bedside::app::view::clock_view(enc.case(), enc.state()).in_progress;
    assert_eq!(line(&enc), "");
    order(&mut enc, &["venous blood gas", "0.9% saline 1 L IV"]);
    assert_eq!(line(&enc), "1 result pending · 1 held for IV access");
    order(&mut enc, &["IV access", "insulin infusion 0.1 units/kg/h"]);
    assert!(line(&enc).ends_with("1 infusion running"), "{}", line(&enc));
}

#[test]
fn closing_without_an_end_form_is_only_for_a_closing_encounter() {
    let mut enc = start("acs-inferior-stemi");
    assert_eq!(enc.apply(Input::Close).unwrap_err(), InputError::NotClosing);
    order(&mut enc, &["admit to ICU"]);
    assert!(enc.takes(&Input::Close));
    enc.apply(Input::Close).expect("closes");
    assert!(enc.is_ended() && enc.state().final_form.is_none());
}

#[test]
fn the_end_forms_disposition_takes_no_time_after_the_clinician_has_finished() {
    let mut enc = start("opioid-overdose");
    let before = enc.state().now_s;
    enc.apply(Input::End(EndForm {
        diagnosis: "Opioid overdose".into(),
        differential: vec![],
        plan: String::new(),
        disposition: Some("observation unit".into()),
    }))
    .expect("end form");
    assert_eq!(enc.state().ended.as_ref().map(|e| e.time_s), Some(before));
    assert!(enc
        .state()
        .actions
        .iter()
        .any(|a| a.order_id() == Some("observation_unit")));
}
