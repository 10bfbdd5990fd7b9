//! The scripted standardized patient: questions (paraphrases, lay terms, several in one
//! utterance) elicit the expected facts; unscripted review-of-systems questions get negatives.

use bedside::engine::encounter::{Config, Encounter, EntryKind, Input, Turn};

use crate::support::{case, catalog};

/// (case, question, facts that must be elicited by it)
const TABLE: &[(&str, &str, &[&str])] = &[
    (
        "sepsis-pneumonia",
        "What brings you in today?",
        &["chief_complaint"],
    ),
    (
        "sepsis-pneumonia",
        "When did the cough start?",
        &["cough_onset"],
    ),
    (
        "sepsis-pneumonia",
        "Are you coughing up any phlegm?",
        &["sputum"],
    ),
    (
        "sepsis-pneumonia",
        "Any chest pain when you take a deep breath?",
        &["pleuritic_pain"],
    ),
    (
        "sepsis-pneumonia",
        "What medications does he take?",
        &["meds"],
    ),
    ("sepsis-pneumonia", "Who does he live with?", &["living"]),
];

fn ask(case_id: &str, question: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut enc = Encounter::new(case(case_id), catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: question.into(),
        ..Turn::default()
    }))
    .expect("turn");
    let lines = enc
        .record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::ActorSaid { speaker, text, .. } if e.turn == 1 => {
                Some((speaker.clone(), text.clone()))
            }
            _ => None,
        })
        .collect();
    (enc.state().elicited.keys().cloned().collect(), lines)
}

#[test]
fn questions_elicit_the_expected_facts() {
    let mut failures = Vec::new();
    for &(case_id, question, expected) in TABLE {
        let (elicited, lines) = ask(case_id, question);
        for f in expected {
            if !elicited.iter().any(|e| e == f) {
                failures.push(format!("{case_id}: {question:?} did not elicit `{f}` (elicited {elicited:?}; said {lines:?})"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unscripted_review_of_systems_questions_get_a_negative_and_elicit_nothing() {
    let (elicited, lines) = ask("sepsis-pneumonia", "Has your eyesight been blurry at all?");
    assert!(elicited.is_empty(), "{elicited:?}");
    assert!(lines.iter().any(|(_, t)| t.starts_with("No")), "{lines:?}");
}

#[test]
fn statements_disclose_nothing() {
    let (elicited, _) = ask(
        "sepsis-pneumonia",
        "I'm going to listen to your chest and check your cough now.",
    );
    assert!(elicited.is_empty(), "{elicited:?}");
}
