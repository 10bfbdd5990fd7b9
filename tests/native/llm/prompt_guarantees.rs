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
    let reply = prompts::PatientReply::of(&e.kind).unwrap();
    let (speaker, facts) = (reply.speaker, reply.facts);
    let present: Vec<String> = enc.state().actors_present.iter().cloned().collect();
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
    // The conversation ends with the clinician's question and the note for this reply.
    let last = &chat.messages.last().unwrap().text;
    assert!(
        last.starts_with("When did this start?\n\n[Note for this reply"),
        "{last}"
    );
    let who = prompts::speaker_name(&case, speaker);
    assert!(last.contains(&format!("spoken by {who}.")), "{last}");
    for id in facts {
        let fact = case.facts.iter().find(|f| &f.id == id).unwrap();
        if fact.variants.is_empty() {
            assert!(last.contains(fact.answer.trim()), "{id}: {last}");
        }
    }
    assert_eq!(chat.messages[0].text, case.patient.opening_line);
}

/// The chats a model would be sent over the strong play of case `id`: the patient's, one per
/// patient-side line, and the clinician's, one per turn.
pub(super) fn strong_play_chats(id: &str, params: &bedside::llm::Params) -> (Vec<Chat>, Vec<Chat>) {
    let case = support::case(id);
    let play = std::fs::read_to_string(
        support::root().join(format!("tests/fixtures/plays/{id}.strong.jsonl")),
    )
    .unwrap();
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::model("m", "m"));
    let mut patient_calls: Vec<Chat> = Vec::new();
    let mut clinician_calls: Vec<Chat> = Vec::new();
    for line in play.lines().filter(|l| !l.trim().is_empty()) {
        clinician_calls.push(prompts::clinician_chat(&case, enc.record(), params.clone()));
        let before = enc.record().log.len();
        if enc.apply(Input::from_play_line(line).unwrap()).is_err() || enc.is_ended() {
            break;
        }
        let record = enc.record();
        for (i, e) in record.log.iter().enumerate().skip(before) {
            let Some(reply) = prompts::PatientReply::of(&e.kind) else {
                continue;
            };
            let present: Vec<String> = record.state.actors_present.iter().cloned().collect();
            patient_calls.push(prompts::patient_chat(
                &case,
                &record.log[..i],
                &BTreeMap::new(),
                &present,
                &record.state.status,
                &reply,
                params.clone(),
            ));
        }
    }
    (patient_calls, clinician_calls)
}

/// The cache layout: the patient's system part and every message but the last are byte for
/// byte what the previous reply sent (so a provider's prompt cache covers them), and so is
/// the clinician's; the per-reply part is only in the last message. Checked over the strong
/// play of a case with other people present (their arrival changes who is present, not the
/// stable part), on the wire as sent.
#[test]
fn the_stable_prefix_is_byte_identical_from_one_call_to_the_next() {
    use bedside::llm::provider;
    for id in [
        "breaking-bad-news",
        "paediatric-asthma",
        "acs-inferior-stemi",
    ] {
        let settings = settings("http://127.0.0.1:1/v1", ProviderKind::OpenAi);
        let (patient_calls, clinician_calls) = strong_play_chats(id, &settings.params());
        assert!(
            patient_calls.len() >= 4,
            "{id}: {} patient calls",
            patient_calls.len()
        );
        for (role, calls) in [("patient", &patient_calls), ("clinician", &clinician_calls)] {
            for pair in calls.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert_eq!(a.system, b.system, "{id} {role}: the system part changed");
                let stable = a.messages.len() - 1;
                assert_eq!(
                    a.messages[..stable],
                    b.messages[..stable],
                    "{id} {role}: an earlier message changed"
                );
                // On the wire: the request body up to the last message of the earlier call is
                // a byte-identical prefix of the later one.
                let body = |c: &Chat| {
                    provider::request(&settings, c, false, Default::default())
                        .body
                        .unwrap()
                };
                let (wa, wb) = (body(a), body(b));
                let last = serde_json::to_string(&a.messages[stable].text).unwrap();
                let at = wa.rfind(&last).expect("the last message is in the body");
                let cut = wa[..at].rfind("{\"role\"").unwrap();
                assert_eq!(
                    wa[..cut],
                    wb[..cut],
                    "{id} {role}: the request's prefix differs"
                );
            }
        }
        // The per-reply part is in the last message only.
        for c in &patient_calls {
            assert!(!c.system.contains("[Note for this reply"));
            let notes = c
                .messages
                .iter()
                .filter(|m| m.text.contains("[Note for this reply"))
                .count();
            assert_eq!(notes, 1, "{id}");
            assert!(c
                .messages
                .last()
                .unwrap()
                .text
                .contains("[Note for this reply"));
        }
    }
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
