//! Replay determinism: for random input sequences, replaying the recorded inputs reproduces
//! the identical record, and the record survives a JSON round trip unchanged.

use bedside::engine::encounter::{Config, Encounter, EndForm, Input, Record, Turn};
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
