//! Replay determinism: for random input sequences, replaying the recorded inputs reproduces
//! the identical record, and the record survives a JSON round trip unchanged. A tampered saved
//! encounter (a wait past the maximum, a case whose minutes run past the clock) is refused
//! with an error that says why, never a panic or a clock that wraps around.

use std::sync::Arc;

use bedside::app::library::Library;
use bedside::app::session::{ResumeError, SavedEncounter, Session};
use bedside::engine::case::{Effect, Event};
use bedside::engine::encounter::{
    Config, Encounter, EndForm, Input, InputError, Record, Turn, MAX_TIME_LIMIT_MIN, MAX_WAIT_MIN,
};
use bedside::engine::eval::evaluate;
use bedside::engine::rule::{DoneRule, Rule, SaidRule};
use proptest::prelude::*;

use crate::support::{case, catalog};

const UTTERANCES: &[&str] = &[
    "Hello, I'm Dr Lee. What brings you in today?",
    "When did it start?",
    "Any fever or chills?",
    "Do you have any allergies?",
    "What medications do you take?",
    "Do you smoke or drink?",
    "I'm going to examine you now.",
    "Any chest pain?",
    "",
];

const ACTIONS: &[&str] = &[
    "12 lead ecg",
    "aspirin 325 mg po",
    "cbc",
    "lactate",
    "blood cultures",
    "ceftriaxone 2 g iv",
    "ns bolus 1 L",
    "cxr",
    "xyzzy",
    "examine chest",
    "oxygen",
    "troponin",
];

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (0..UTTERANCES.len(), proptest::collection::vec(0..ACTIONS.len(), 0..3), proptest::bool::weighted(0.1)).prop_map(|(u, a, eos)| {
            Input::Turn(Turn { speak: UTTERANCES[u].into(), actions: a.into_iter().map(|i| ACTIONS[i].to_string()).collect(), eos })
        }),
        1 => (1u32..15).prop_map(|minutes| Input::Wait { minutes }),
        1 => Just(Input::End(EndForm { diagnosis: "pneumonia with sepsis".into(), ..Default::default() })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn replaying_inputs_reproduces_the_record(inputs in proptest::collection::vec(input(), 0..25), seed in any::<u64>()) {
        let case = case("sepsis-pneumonia");
        let config = Config { seed, ..Config::human() };
        let mut live = Encounter::new(case.clone(), catalog(), config.clone());
        for i in inputs {
            if live.is_ended() {
                prop_assert!(live.apply(i).is_err(), "an ended encounter refuses input");
                break;
            }
            let _ = live.apply(i);
        }
        let replayed = Encounter::replay(case, catalog(), config, &live.record().inputs).expect("recorded inputs replay");
        prop_assert_eq!(replayed.record(), live.record());
        let json = serde_json::to_string(live.record()).expect("serialize");
        let back: Record = serde_json::from_str(&json).expect("deserialize");
        prop_assert_eq!(&back, live.record());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Whatever came before, a wait past the maximum is refused by name and changes nothing.
    #[test]
    fn a_wait_past_the_maximum_is_refused_and_changes_nothing(
        inputs in proptest::collection::vec(input(), 0..12),
        minutes in MAX_WAIT_MIN + 1..=u32::MAX,
    ) {
        let mut enc = Encounter::new(case("sepsis-pneumonia"), catalog(), Config::human());
        for i in inputs {
            let _ = enc.apply(i);
        }
        let before = enc.record().clone();
        let refused = enc.apply(Input::Wait { minutes }).unwrap_err();
        if before.state.ended.is_none() && before.state.end_requested.is_none() {
            prop_assert_eq!(refused, InputError::WaitTooLong { minutes });
        }
        prop_assert_eq!(enc.record(), &before);
    }
}

#[test]
fn the_longest_wait_is_taken_and_one_minute_more_is_refused_by_name() {
    let mut enc = Encounter::new(case("sepsis-pneumonia"), catalog(), Config::human());
    let e = enc
        .apply(Input::Wait {
            minutes: MAX_WAIT_MIN + 1,
        })
        .unwrap_err();
    assert_eq!(
        e,
        InputError::WaitTooLong {
            minutes: MAX_WAIT_MIN + 1
        }
    );
    assert!(
        e.to_string().contains(&format!("at most {MAX_WAIT_MIN}")),
        "{e}"
    );
    assert!(enc.record().inputs.is_empty());
    enc.apply(Input::Wait {
        minutes: MAX_WAIT_MIN,
    })
    .expect("the longest wait is taken");
    // A play file says the same.
    let line = |m: u32| Input::from_play_line(&format!("{{\"wait\": {m}}}"));
    assert_eq!(
        line(MAX_WAIT_MIN),
        Ok(Input::Wait {
            minutes: MAX_WAIT_MIN
        })
    );
    let e = line(MAX_WAIT_MIN + 1).unwrap_err();
    assert!(e.contains(&format!("at most {MAX_WAIT_MIN}")), "{e}");
}

/// A played encounter as the browser saves it, as JSON.
fn saved_json() -> (Library, String) {
    let (lib, errors) = Library::builtin(&catalog());
    assert!(errors.is_empty(), "{errors:?}");
    let case = lib.get("sepsis-pneumonia").expect("case");
    let mut s = Session::start(case, catalog(), Config::human(), "enc-t".into(), 1.0);
    for input in [
        Input::Turn(Turn {
            speak: "Hello, what brings you in?".into(),
            ..Turn::default()
        }),
        Input::Wait { minutes: 7 },
    ] {
        s.apply(input, 2.0).expect("taken");
    }
    let json = serde_json::to_string(&s.saved()).expect("serialize");
    (lib, json)
}

#[test]
fn a_saved_encounter_tampered_with_a_huge_wait_says_so_when_reopened() {
    let (lib, json) = saved_json();
    let tampered = json.replace(
        "{\"wait\":{\"minutes\":7}}",
        "{\"wait\":{\"minutes\":4294967295}}",
    );
    assert_ne!(tampered, json, "the record has the wait: {json}");
    let saved: SavedEncounter = serde_json::from_str(&tampered).expect("still a saved encounter");
    let config = saved.config.clone();
    let e = Session::resume(saved.clone(), &lib, catalog()).unwrap_err();
    assert!(
        matches!(&e, ResumeError::Replay { index: 1, error } if error.contains(&format!("at most {MAX_WAIT_MIN}"))),
        "{e:?}"
    );
    let (index, e) =
        Encounter::replay(case("sepsis-pneumonia"), catalog(), config, &saved.inputs).unwrap_err();
    assert_eq!(
        (index, e),
        (1, InputError::WaitTooLong { minutes: u32::MAX })
    );
}

#[test]
fn a_saved_case_file_tampered_with_a_huge_time_limit_says_so_when_reopened() {
    let (lib, json) = saved_json();
    let mut saved: SavedEncounter = serde_json::from_str(&json).expect("saved encounter");
    let file =
        std::fs::read_to_string(crate::support::root().join("assets/cases/sepsis-pneumonia.json"))
            .expect("case file");
    let mut value: serde_json::Value = serde_json::from_str(&file).expect("case JSON");
    value["end"]["time_limit_min"] = u32::MAX.into();
    saved.case_json = Some(value.to_string());
    let e = Session::resume(saved, &lib, catalog()).unwrap_err();
    match e {
        ResumeError::CaseInvalid(d) => {
            assert!(d.contains("$.end.time_limit_min"), "{d}");
            assert!(d.contains(&format!("at most {MAX_TIME_LIMIT_MIN}")), "{d}");
        }
        other => panic!("expected the case to be refused: {other:?}"),
    }
}

/// A case built in code is not validated: minutes at the very end of the clock's range (a
/// time limit, an event's minute, deadlines and delays) must neither panic nor wrap.
#[test]
fn minutes_at_the_end_of_the_clocks_range_neither_panic_nor_wrap() {
    let mut c = (*case("sepsis-pneumonia")).clone();
    c.end.time_limit_min = u32::MAX;
    let notice = |id: &str, when: Rule| Event {
        id: id.into(),
        when,
        then: vec![Effect::Notice(format!("{id} fired"))],
    };
    // Only these events: the case's own would end it (untreated sepsis) long before.
    c.events = vec![notice("never", Rule::Minute(u32::MAX))];
    let late = Rule::Done(DoneRule {
        order: "blood_cultures".into(),
        dose: None,
        route: vec![],
        by_minute: Some(u32::MAX),
        elapsed_min: Some(u32::MAX),
        times: None,
    });
    c.events.push(notice("late", late.clone()));
    let c = Arc::new(c);
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    let mut last = 0;
    for input in [
        Input::Turn(Turn {
            actions: vec!["blood cultures".into(), "ceftriaxone 2 g iv".into()],
            ..Turn::default()
        }),
        Input::Wait {
            minutes: MAX_WAIT_MIN,
        },
        Input::Wait {
            minutes: MAX_WAIT_MIN,
        },
    ] {
        enc.apply(input).expect("taken");
        let now = enc.state().now_s;
        assert!(now > last, "the clock moves forward: {last} then {now}");
        last = now;
    }
    assert!(!enc
        .state()
        .fired_events
        .iter()
        .any(|e| e == "never" || e == "late"));
    for rule in [
        late,
        Rule::Minute(u32::MAX),
        Rule::Said(SaidRule {
            set: None,
            phrases: vec!["hello".into()],
            by_minute: Some(u32::MAX),
            before: None,
            after: None,
        }),
    ] {
        let v = evaluate(&rule, &c, enc.state());
        assert!(!v.why.is_empty());
    }
}
