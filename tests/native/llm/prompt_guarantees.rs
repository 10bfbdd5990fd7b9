//! The prompt guarantees: no hidden case text in the clinician prompt, the script and rules
//! in the patient prompt, no key in any exchange record.

use super::*;

// ---------------------------------------------------------------------------------------
// Prompt guarantees.

/// Plays the strong script of `id` and checks the clinician prompt before every turn.
#[test]
fn clinician_prompt_never_contains_hidden_case_text() {
    for path in support::case_paths() {
        let case = support::load(&path);
        let id = case.meta.id.clone();
        let play = std::fs::read_to_string(
            support::root().join(format!("tests/fixtures/plays/{id}.strong.jsonl")),
        )
        .expect("strong play");
        let mut enc = Encounter::new(
            case.clone(),
            support::catalog(),
            Config::model("openai", "m"),
        );
        let mut checked = 0;
        for line in play.lines().filter(|l| !l.trim().is_empty()) {
            check_clinician_prompt(&case, &enc);
            checked += 1;
            let input = Input::from_play_line(line).expect("play line");
            if enc.apply(input).is_err() || enc.is_ended() {
                break;
            }
        }
        check_clinician_prompt(&case, &enc);
        assert!(checked >= 3, "{id}: too few turns checked");
    }
}

fn check_clinician_prompt(case: &Case, enc: &Encounter) {
    let chat = prompts::clinician_chat(
        case,
        enc.record(),
        bedside::llm::Params {
            model: "m".into(),
            temperature: 0.0,
            max_tokens: 10,
            seed: None,
        },
    );
    let mut text = chat.system.clone();
    for m in &chat.messages {
        text.push_str(&m.text);
        text.push('\n');
    }
    let id = &case.meta.id;
    assert!(
        text.contains(case.door_note.trim()),
        "{id}: the door note is missing"
    );
    let state = enc.state();
    for f in &case.facts {
        if f.answer.len() >= 12 && !state.elicited.contains_key(&f.id) {
            assert!(
                !text.contains(f.answer.trim()),
                "{id}: unelicited fact `{}` is in the prompt",
                f.id
            );
        }
    }
    for r in &case.rubric {
        assert!(
            !text.contains(r.text.trim()),
            "{id}: rubric item `{}` is in the prompt",
            r.id
        );
    }
    let released: Vec<&str> = enc
        .record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Result { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let overrides = serde_json::to_value(&case.results).unwrap();
    let mut hidden = Vec::new();
    collect_texts(&overrides, &mut hidden);
    for order in support::catalog().orders() {
        hidden.push(order.default_result.clone());
    }
    for h in hidden.iter().filter(|h| h.len() >= 20) {
        if !released.iter().any(|r| r.contains(h.as_str())) {
            assert!(
                !text.contains(h.as_str()),
                "{id}: an unreleased result is in the prompt: {h}"
            );
        }
    }
    for d in &case.diagnoses.accepted {
        if d.len() >= 8 && !case.door_note.to_lowercase().contains(&d.to_lowercase()) {
            let spoken = enc.record().log.iter().any(|e| match &e.kind {
                EntryKind::ActorSaid { text, .. }
                | EntryKind::Result { text, .. }
                | EntryKind::Notice { text, .. } => text.to_lowercase().contains(&d.to_lowercase()),
                _ => false,
            });
            // The clinician's own turns and the order names it got back may name it; the
            // rest of what the environment says must not.
            let environment: String = chat
                .messages
                .iter()
                .filter(|m| m.speaker == bedside::llm::Speaker::User)
                .flat_map(|m| m.text.lines())
                .filter(|l| !l.contains("Order \""))
                .map(|l| match l.split_once("Result — ") {
                    // The order's catalog name is the clinician's own choice; its text is not.
                    Some((_, rest)) => rest.split_once(": ").map_or(rest, |x| x.1),
                    None => l,
                })
                .collect::<Vec<_>>()
                .join("\n")
                .to_lowercase();
            if !spoken {
                assert!(
                    !environment.contains(&d.to_lowercase()),
                    "{id}: accepted diagnosis `{d}` leaked"
                );
            }
        }
    }
}

fn collect_texts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_texts(x, out)),
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::String(t)) = o.get("text") {
                out.push(t.clone());
            } else {
                o.values().for_each(|x| collect_texts(x, out));
            }
        }
        _ => {}
    }
}

#[test]
fn patient_prompt_carries_the_script_and_the_sp_rules() {
    let case = support::case("stroke-thrombolysis");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "When did this start?".into(),
        actions: vec![],
        eos: false,
    }))
    .unwrap();
    let log = &enc.record().log;
    let (i, e) = log
        .iter()
        .enumerate()
        .rev()
        .find(|(_, e)| matches!(e.kind, EntryKind::ActorSaid { .. }))
        .unwrap();
    let EntryKind::ActorSaid {
        speaker,
        text,
        facts,
        kind,
        reaction,
    } = &e.kind
    else {
        unreachable!()
    };
    let present: Vec<String> = enc.state().actors_present.iter().cloned().collect();
    let reply = prompts::PatientReply {
        speaker,
        facts,
        scripted: text,
        kind: *kind,
        reaction: reaction.as_deref(),
    };
    let chat = prompts::patient_chat(
        &case,
        &log[..i],
        &BTreeMap::new(),
        &present,
        &enc.state().status,
        &reply,
        bedside::llm::Params {
            model: "m".into(),
            temperature: 0.7,
            max_tokens: 80,
            seed: None,
        },
    );
    let s = &chat.system;
    assert!(s.contains(case.patient.persona.trim()));
    assert!(s.contains(case.patient.affect.trim()));
    for f in case
        .facts
        .iter()
        .filter(|f| f.speakers.is_empty() || f.speakers.iter().any(|s| s == "patient"))
    {
        assert!(s.contains(f.answer.trim()), "fact {} missing", f.id);
    }
    for rule in [
        "never volunteer",
        "Stay in character",
        "the case says",
        "Speak only as",
    ] {
        assert!(
            s.to_lowercase().contains(&rule.to_lowercase()),
            "rule `{rule}` missing"
        );
    }
    for r in &case.rubric {
        assert!(
            !s.contains(r.text.trim()),
            "the rubric has no place in the patient prompt"
        );
    }
    // The conversation ends with the clinician's question.
    assert_eq!(chat.messages.last().unwrap().text, "When did this start?");
    assert_eq!(chat.messages[0].text, case.patient.opening_line);
}

#[test]
fn no_key_in_any_exchange_record() {
    let enc = model_encounter("anaphylaxis-peanut", 12);
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(r#"{"speak": "Hello", "actions": [], "eos": false}"#),
        ),
        reply(
            401,
            &format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let ok = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    let bad = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert!(ok.input.is_ok() && bad.input.is_err());
    let all: Vec<LlmExchange> = ok.exchanges.into_iter().chain(bad.exchanges).collect();
    let json = serde_json::to_string(&all).unwrap();
    no_key_in(&json);
    no_key_in(&format!("{all:?}"));
    no_key_in(&format!("{:?}", client.settings()));
    let back: Vec<LlmExchange> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].role, Role::Clinician);
    assert_eq!(back[0].base_url, server.url);
    // The engine record holds the model name only.
    no_key_in(&serde_json::to_string(enc.record()).unwrap());
}
