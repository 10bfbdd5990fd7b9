//! The static play in the engine: the vignette holds the whole case as it presents, the
//! rules that need the dialogue or the clock are not applicable (never "not met"), and a
//! static answer's actions are all carried out at time zero and scored from the clinical
//! truth of the case (the ACS case's guideline management, and one harm).

use std::sync::Arc;

use bedside::engine::case::{Case, ResultOverride};
use bedside::engine::encounter::{Config, Encounter, EndForm, Input, Turn};
use bedside::engine::rule::Rule;
use bedside::engine::score::{score_named, Mark, ScoredBy};
use bedside::engine::vignette::FINDING_CATEGORIES;
use bedside::llm::prompts::vignette_text;

use crate::support::{case_paths, catalog, load, root, static_pathway_play};

fn static_config() -> Config {
    Config {
        vignette: true,
        turn_limit: Some(1),
        ..Config::human()
    }
}

fn rule(json: &str) -> Rule {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn every_vignette_holds_every_scripted_fact_and_every_defined_result() {
    let catalog = catalog();
    for path in case_paths() {
        let case = load(&path);
        let enc = Encounter::new(case.clone(), catalog.clone(), static_config());
        let v = enc.vignette();
        let text = vignette_text(&case, &v);
        let id = &case.meta.id;
        assert!(text.contains(case.door_note.trim()), "{id}: the door note");
        assert_eq!(v.facts.len(), case.facts.len(), "{id}: one line per fact");
        for f in &case.facts {
            // The answer now: the plain one, or one of its variants (chosen by the state).
            let told = std::iter::once(f.answer.as_str())
                .chain(f.variants.iter().map(|v| v.answer.as_str()))
                .any(|a| text.contains(a.trim()));
            assert!(told, "{id}: fact {} is not in the vignette", f.id);
        }
        let vitals = &enc.state().vitals;
        for (order, result) in &case.results {
            let Some(o) = catalog.get(order) else {
                continue;
            };
            let texts: Vec<String> = match result {
                ResultOverride::Text(t) => vec![vitals.fill(t)],
                ResultOverride::Variants(vs) => vs.iter().map(|v| vitals.fill(&v.text)).collect(),
            };
            let shown = texts.iter().any(|t| text.contains(t.trim()));
            if FINDING_CATEGORIES.contains(&o.category) {
                assert!(shown, "{id}: the result of {order} is not in the vignette");
            } else {
                // A treatment's response is a consequence of management, not the
                // presentation: a vignette that told it would tell the future.
                assert!(
                    !shown,
                    "{id}: the response to {order} ({:?}) leaks into the vignette",
                    o.category
                );
            }
        }
        // The hidden parts of the case stay hidden: no rubric item, no accepted diagnosis
        // given away by the title.
        for item in &case.rubric {
            assert!(
                !text.contains(&item.text),
                "{id}: rubric item {} shown",
                item.id
            );
        }
        assert!(
            !text.contains(&case.meta.title),
            "{id}: the title names the case"
        );
    }
}

#[test]
fn what_applies_without_a_conversation() {
    let applies = [
        r#"{"done": {"order": "aspirin", "by_minute": 10}}"#,
        r#"{"done": {"order": "aspirin", "dose": {"min": 150, "max": 325, "unit": "mg"}, "route": ["PO"]}}"#,
        r#"{"never": "tenecteplase"}"#,
        r#"{"diagnosis": {}}"#,
        r#"{"total": {"orders": ["ns_bolus"], "dose": {"min": 30, "unit": "mL/kg"}, "by_minute": 180}}"#,
        r#"{"all": [{"done": {"order": "oxygen_nasal_cannula"}}, {"not": {"phase": "arrest"}}]}"#,
        r#"{"not": {"done": {"order": "ibuprofen"}}}"#,
    ];
    for r in applies {
        assert_eq!(rule(r).applies_to_static(), Ok(()), "{r}");
    }
    let needs_the_encounter = [
        r#"{"elicited": "pain_onset"}"#,
        r#"{"said": {"set": "introduction"}}"#,
        r#"{"before": ["ecg_12_lead", "aspirin"]}"#,
        r#"{"result_before": {"result": "potassium", "then": "insulin_infusion"}}"#,
        r#"{"phase": "post_rosc"}"#,
        r#"{"minute": 30}"#,
        r#"{"done": {"order": "salbutamol_neb", "elapsed_min": 15}}"#,
        r#"{"done": {"order": "adrenaline_im", "times": 2}}"#,
        r#"{"any": [{"elicited": "no_tearing_back_pain"}, {"done": {"order": "bp_both_arms"}}]}"#,
        r#"{"not": {"said": {"set": "jargon"}}}"#,
        // An expectation only if the course reaches shock: no course, no expectation.
        r#"{"any": [{"not": {"phase": "septic_shock"}}, {"done": {"order": "norepinephrine"}}]}"#,
    ];
    for r in needs_the_encounter {
        let why = rule(r).applies_to_static();
        assert!(why.is_err_and(|w| !w.is_empty()), "{r}: {why:?}");
    }
}

/// The ACS case's static answer (the scripted server's, read as the static driver reads it):
/// the guideline management of an inferior STEMI with RV involvement (ESC 2023 ACS guideline:
/// ECG, aspirin and a P2Y12 inhibitor loading dose, unfractionated heparin 70–100 U/kg,
/// primary PCI), one harm (a nitrate in RV infarction), and the disposition written first.
fn acs_answer() -> (Turn, EndForm) {
    let parsed = bedside::llm::protocol::parse_static(crate::eval::server::STATIC_ANSWER);
    let (form, actions) = parsed.answer.expect("the scripted answer is usable");
    assert_eq!(parsed.notes, Vec::<String>::new(), "and clean");
    let turn = Turn {
        speak: String::new(),
        actions,
        eos: false,
    };
    (turn, form)
}

fn acs() -> Arc<Case> {
    load(&root().join("assets/cases/acs-inferior-stemi.json"))
}

#[test]
fn a_static_answer_is_carried_out_at_time_zero_and_scored_on_what_applies() {
    let case = acs();
    let (turn, form) = acs_answer();
    let mut turn = turn;
    // As the static driver hands it over: the disposition moved last.
    turn.actions = bedside::llm::static_play::dispositions_last(turn.actions, &catalog());
    assert_eq!(turn.actions.last().unwrap(), "transfer to the cath lab");
    let mut enc = Encounter::new(case.clone(), catalog(), static_config());
    enc.apply(Input::Turn(turn)).unwrap();
    assert!(enc.end_requested().is_some(), "one turn, then the end form");
    enc.apply(Input::End(form)).unwrap();
    assert!(enc.is_ended());
    let st = enc.state();
    assert_eq!(
        st.actions.len(),
        9,
        "every action placed, none cut off by the disposition"
    );
    for a in &st.actions {
        assert_eq!(a.time_s, 0, "{} placed at time zero", a.interpretation.raw);
    }
    let card = score_named(&case, Some(&catalog()), st, None, &[]);
    let mark = |id: &str| card.item(id).unwrap_or_else(|| panic!("{id}")).mark();
    // The management the guideline asks for, all ordered at once: met, deadlines included.
    for id in [
        "pc_ecg_10min",
        "pc_aspirin",
        "sbp_cath_lab",
        "mk_p2y12",
        "mk_anticoagulation",
        "mk_right_sided_ecg",
        "mk_diagnosis",
    ] {
        assert_eq!(mark(id), Mark::Met, "{id}: {}", card.item(id).unwrap().why);
    }
    // Harms apply: the nitrate was given; the others were avoided.
    assert_eq!(mark("harm_nitrate"), Mark::Harm);
    for id in [
        "harm_iv_beta_blocker",
        "harm_fibrinolysis",
        "harm_routine_oxygen",
    ] {
        assert_eq!(mark(id), Mark::Avoided, "{id}");
    }
    // What needs the dialogue or the course: not applicable, never missed.
    for id in [
        "ics_introduction",
        "ics_identity",
        "pc_onset",
        "mk_nitrate_screen",
        "pc_dissection_screen",
        "pc_monitoring",
        "ics_empathy",
        "ics_check_understanding",
        "ics_plain_explanation",
        "sbp_no_troponin_delay",
        "prof_addresses_concerns",
    ] {
        let item = card.item(id).unwrap();
        assert_eq!(item.mark(), Mark::NotApplicable, "{id}");
        assert_eq!(item.scored_by, ScoredBy::NotApplicable);
        assert!(
            item.why.starts_with("Not applicable to a static vignette"),
            "{}",
            item.why
        );
    }
    // The debrief asks for no fact: the vignette gave them all.
    let d = bedside::engine::debrief::debrief(&case, enc.record(), &card);
    assert!(d.key_facts.is_empty());
    let overall = card.scores().overall;
    assert_eq!((overall.expected_met, overall.expected_scored), (7, 7));
    assert_eq!(overall.not_applicable, 11);
    assert_eq!(overall.harms_done, 1);
}

#[test]
fn the_same_answer_in_a_dynamic_play_misses_the_dialogue_items() {
    // Without the static mark the same inputs are an ordinary encounter: the questions never
    // asked are missed, not excused.
    let case = acs();
    let (turn, form) = acs_answer();
    let mut enc = Encounter::new(case.clone(), catalog(), Config::human());
    enc.apply(Input::Turn(turn)).unwrap();
    if !enc.is_ended() {
        enc.apply(Input::End(form)).unwrap();
    }
    let card = score_named(&case, Some(&catalog()), enc.state(), None, &[]);
    for id in ["ics_introduction", "pc_onset", "mk_nitrate_screen"] {
        assert_eq!(card.item(id).unwrap().mark(), Mark::Missed, "{id}");
    }
    assert!(card.items.iter().all(|i| i.mark() != Mark::NotApplicable));
}

#[test]
fn no_item_of_any_case_is_missed_for_want_of_a_conversation() {
    // Every case's expert pathway, all its actions at once as a static answer.
    for path in case_paths() {
        let case = load(&path);
        let enc = static_pathway_play(&case, static_config());
        let card = score_named(&case, Some(&catalog()), enc.state(), None, &[]);
        for item in &case.rubric {
            let r = card.item(&item.id).unwrap();
            let applies = item
                .rule
                .as_ref()
                .is_some_and(|r| r.applies_to_static().is_ok());
            assert_eq!(
                r.mark() == Mark::NotApplicable,
                !applies,
                "{}: {} ({})",
                case.meta.id,
                item.id,
                r.why
            );
        }
        // The case's own standard of care, given at once, meets every expectation that
        // applies and does no harm: an item that needs time or talk but was taken as
        // applicable would show here as missed.
        for i in &card.items {
            assert!(
                matches!(i.mark(), Mark::Met | Mark::Avoided | Mark::NotApplicable),
                "{}: {} is {:?} for the expert pathway at once: {}",
                case.meta.id,
                i.id,
                i.mark(),
                i.why
            );
        }
        assert!(
            card.items.iter().any(|i| i.mark() != Mark::NotApplicable),
            "{}: a static play scores something",
            case.meta.id
        );
        assert_eq!(
            card.item("mk_diagnosis")
                .map(|i| i.mark())
                .unwrap_or(Mark::Met),
            Mark::Met,
            "{}: the pathway's diagnosis",
            case.meta.id
        );
    }
}
