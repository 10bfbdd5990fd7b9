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
    // chest pain: paraphrases and lay terms
    (
        "acs-inferior-stemi",
        "What happened this morning?",
        &["chief_complaint"],
    ),
    ("acs-inferior-stemi", "When did it begin?", &["pain_onset"]),
    (
        "acs-inferior-stemi",
        "Does the pain spread anywhere, like your arm or jaw?",
        &["pain_radiation"],
    ),
    (
        "acs-inferior-stemi",
        "Have you been sweating or feeling sick?",
        &["sweating_nausea"],
    ),
    (
        "acs-inferior-stemi",
        "Any ripping pain going through to your back?",
        &["no_tearing_back_pain"],
    ),
    (
        "acs-inferior-stemi",
        "Do you smoke? And does heart trouble run in the family?",
        &["smoking", "family_history"],
    ),
    (
        "acs-inferior-stemi",
        "Have you taken Viagra or anything similar in the last two days?",
        &["no_pde5_inhibitor"],
    ),
    (
        "acs-inferior-stemi",
        "Are you allergic to any medicines?",
        &["allergies"],
    ),
    // several questions in one utterance
    (
        "dka-young-adult",
        "Have you been really thirsty? Have you missed any insulin doses?",
        &["polyuria_polydipsia", "insulin_omission"],
    ),
    (
        "dka-young-adult",
        "Is there any chance you could be pregnant?",
        &["lmp_pregnancy"],
    ),
    (
        "dka-young-adult",
        "Is it hard to afford your insulin?",
        &["insulin_cost"],
    ),
    ("dka-young-adult", "What's worrying you most?", &["concern"]),
    // another actor answers
    (
        "anaphylaxis-peanut",
        "What did he eat at the restaurant?",
        &["trigger_food"],
    ),
    (
        "anaphylaxis-peanut",
        "Does your throat feel tight, or is your voice changing?",
        &["throat"],
    ),
    (
        "anaphylaxis-peanut",
        "Has this happened before?",
        &["prior_reaction"],
    ),
    (
        "anaphylaxis-peanut",
        "Do you carry an EpiPen?",
        &["no_autoinjector"],
    ),
    (
        "stroke-thrombolysis",
        "When was she last seen normal?",
        &["last_known_well"],
    ),
    (
        "stroke-thrombolysis",
        "Is she on any blood thinners like warfarin?",
        &["no_anticoagulant"],
    ),
    (
        "stroke-thrombolysis",
        "Has she had a stroke before, or any bleeding in the brain?",
        &["no_prior_stroke_bleed"],
    ),
    (
        "stroke-thrombolysis",
        "Did she have a fit or any jerking?",
        &["no_seizure"],
    ),
    (
        "stroke-thrombolysis",
        "Does she normally manage on her own at home?",
        &["baseline_function"],
    ),
    (
        "paediatric-asthma",
        "How many puffs of his blue inhaler has he had?",
        &["reliever_use"],
    ),
    (
        "paediatric-asthma",
        "Has he ever been admitted to hospital or intensive care with his asthma?",
        &["admissions"],
    ),
    (
        "paediatric-asthma",
        "Does anyone smoke at home?",
        &["smoke_exposure"],
    ),
    (
        "paediatric-asthma",
        "Could he have choked on something?",
        &["foreign_body"],
    ),
    (
        "opioid-overdose",
        "How did you find him?",
        &["what_happened"],
    ),
    (
        "opioid-overdose",
        "Do you know what he took?",
        &["substance"],
    ),
    (
        "opioid-overdose",
        "Was he drinking alcohol as well?",
        &["alcohol_benzos"],
    ),
    // gynaecology
    ("ectopic-pregnancy", "When was your last period?", &["lmp"]),
    (
        "ectopic-pregnancy",
        "Is there a chance you might be pregnant?",
        &["pregnancy_possible"],
    ),
    (
        "ectopic-pregnancy",
        "Any bleeding or spotting from down below?",
        &["bleeding"],
    ),
    (
        "ectopic-pregnancy",
        "Have you felt faint or light-headed?",
        &["dizziness"],
    ),
    (
        "ectopic-pregnancy",
        "Do you know your blood group?",
        &["blood_group"],
    ),
    // psychiatry
    (
        "suicide-risk-assessment",
        "How has your mood been lately?",
        &["mood"],
    ),
    (
        "suicide-risk-assessment",
        "Have you been having thoughts of suicide?",
        &["active_ideation"],
    ),
    (
        "suicide-risk-assessment",
        "Do you have a plan for how you would do it?",
        &["plan"],
    ),
    (
        "suicide-risk-assessment",
        "Is there a gun in the house?",
        &["firearm"],
    ),
    (
        "suicide-risk-assessment",
        "Have you ever tried to end your life before?",
        &["previous_attempt"],
    ),
    // GI bleed
    (
        "upper-gi-bleed",
        "Have your stools been black?",
        &["melaena"],
    ),
    (
        "upper-gi-bleed",
        "Any heart problems, like a heart attack?",
        &["no_cardiac_disease"],
    ),
    (
        "upper-gi-bleed",
        "Any liver problems or yellowing of the skin?",
        &["no_liver_disease"],
    ),
];

/// (case, question, exactly the facts it elicits): a question about one thing is not
/// answered about another.
const EXACT: &[(&str, &str, &[&str])] = &[
    // an allergy to medicines is about allergies, not the medication list
    (
        "acs-inferior-stemi",
        "Do you have any allergies to medicines?",
        &["allergies"],
    ),
    (
        "sepsis-pneumonia",
        "Is he allergic to any medications?",
        &["allergies"],
    ),
    (
        "dka-young-adult",
        "Have you ever had a reaction to a medicine?",
        &["allergies"],
    ),
    (
        "anaphylaxis-peanut",
        "Do you have any allergies to medicines?",
        &["drug_allergies"],
    ),
    (
        "upper-gi-bleed",
        "Is he allergic to any tablets or medicines?",
        &["allergies"],
    ),
    // ... but both, when both are asked
    (
        "sepsis-pneumonia",
        "Any allergies, and what medicines does he take?",
        &["allergies", "meds"],
    ),
    (
        "stroke-thrombolysis",
        "Is she allergic to anything and what tablets does she take?",
        &["allergies", "medications"],
    ),
    // drinking next to eating, or about fluids, is not alcohol
    (
        "suicide-risk-assessment",
        "How is your eating and drinking?",
        &["appetite"],
    ),
    (
        "breaking-bad-news",
        "How is your eating and drinking?",
        &["weight_appetite"],
    ),
    ("upper-gi-bleed", "How is he eating and drinking?", &[]),
    (
        "sepsis-pneumonia",
        "How has he been eating and drinking?",
        &["intake_urine"],
    ),
    (
        "sepsis-pneumonia",
        "Has he been drinking enough fluids?",
        &["intake_urine"],
    ),
    (
        "paediatric-asthma",
        "Has he been drinking enough?",
        &["fluids"],
    ),
    // ... while drinking on its own, or with alcohol, is
    ("sepsis-pneumonia", "Does he drink alcohol?", &["alcohol"]),
    (
        "stroke-thrombolysis",
        "How much does she drink?",
        &["alcohol"],
    ),
    (
        "suicide-risk-assessment",
        "Have you been drinking more than usual?",
        &["alcohol"],
    ),
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
    assert!(TABLE.len() >= 40, "{} questions", TABLE.len());
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
fn questions_elicit_exactly_what_they_ask_about() {
    let mut failures = Vec::new();
    for &(case_id, question, expected) in EXACT {
        let (elicited, lines) = ask(case_id, question);
        if elicited != expected {
            failures.push(format!(
                "{case_id}: {question:?} elicited {elicited:?}, expected {expected:?} (said {lines:?})"
            ));
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

#[test]
fn other_actors_speak_only_while_present() {
    // In the GI-bleed case only the spouse knows about the ibuprofen, and arrives at minute 10.
    let question = || {
        Input::Turn(Turn {
            speak: "Has he been taking any painkillers like ibuprofen?".into(),
            ..Turn::default()
        })
    };
    let mut enc = Encounter::new(case("upper-gi-bleed"), catalog(), Config::human());
    enc.apply(question()).expect("turn");
    assert!(
        !enc.state().elicited.contains_key("otc_ibuprofen"),
        "the spouse is not here yet"
    );
    enc.apply(Input::Wait { minutes: 10 }).expect("wait");
    assert!(enc.state().actors_present.contains("spouse"));
    enc.apply(question()).expect("turn");
    let e = enc
        .state()
        .elicited
        .get("otc_ibuprofen")
        .expect("elicited once the spouse is present");
    assert_eq!(e.speaker, "spouse");
}

#[test]
fn a_fact_told_by_a_family_member_counts_as_elicited() {
    // The stroke patient is aphasic: the daughter answers, and the fact is recorded as hers.
    let mut enc = Encounter::new(case("stroke-thrombolysis"), catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "When was she last seen normal?".into(),
        ..Turn::default()
    }))
    .expect("turn");
    assert_eq!(
        enc.state()
            .elicited
            .get("last_known_well")
            .map(|e| e.speaker.as_str()),
        Some("daughter")
    );
}

#[test]
fn an_unconscious_patient_answers_once_a_phase_lets_him() {
    // Opioid overdose: unresponsive until naloxone works (phase `awake` sets
    // `patient_can_answer`); the same question then gets his own answer.
    let mut enc = Encounter::new(case("opioid-overdose"), catalog(), Config::human());
    let ask = |enc: &mut Encounter| {
        enc.apply(Input::Turn(Turn {
            speak: "Can you tell me your full name and date of birth?".into(),
            ..Turn::default()
        }))
        .expect("turn");
    };
    assert!(!enc.patient_can_answer());
    ask(&mut enc);
    assert!(
        !enc.state().elicited.contains_key("identity"),
        "unresponsive"
    );
    enc.apply(Input::Turn(Turn {
        speak: String::new(),
        actions: vec!["IV access".into(), "naloxone 0.4 mg IV".into()],
        eos: false,
    }))
    .expect("turn");
    enc.apply(Input::Wait { minutes: 3 }).expect("wait");
    assert_eq!(enc.state().phase, "awake");
    assert!(enc.patient_can_answer());
    ask(&mut enc);
    let e = enc
        .state()
        .elicited
        .get("identity")
        .expect("answers once awake");
    assert_eq!(e.speaker, "patient");
}
