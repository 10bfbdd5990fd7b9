//! The three roles over the fault server: fenced JSON, the corrective re-ask, context-window
//! trimming, patient lines streamed, judge errors, the end form.

use super::*;

// ---------------------------------------------------------------------------------------
// Roles over the fault server: fenced JSON, the corrective re-ask, judge errors.

pub(super) fn model_encounter(id: &str, turn_limit: u32) -> Encounter {
    let mut config = Config::model("openai", "test-model");
    config.turn_limit = Some(turn_limit);
    Encounter::new(support::case(id), support::catalog(), config)
}

/// Each protocol fault is recorded with its kind, asked about once with a message naming it,
/// and, when the second reply is as faulty, the turn is nothing said and nothing done.
#[test]
fn each_protocol_fault_is_recorded_reasked_and_at_worst_nothing_said() {
    use bedside::llm::protocol::Fault;
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    let greeting = "Hello Gary, I'm one of the doctors. What has been happening today?";
    enc.apply(Input::Turn(Turn {
        speak: greeting.into(),
        actions: vec![],
        eos: false,
    }))
    .unwrap();
    let repeat = format!(r#"{{"speak": "{greeting}", "actions": [], "eos": false}}"#);
    let dialogue = r#"{"speak": "Where is the pain?
Patient: In the middle of my chest.
Doctor: I see.", "actions": [], "eos": false}"#;
    let only_speak = r#"{"speak": "Where is the pain?"}"#;
    let long = r#"{"speak": "Where is the pain exactly, and", "actions": [], "eos": false}"#;
    let cases: [(Fault, String, &str); 5] = [
        (
            Fault::MissingFields,
            openai_body(only_speak),
            "lacks actions and eos",
        ),
        (
            Fault::Truncated,
            openai_body_ending(long, "length"),
            "cut off at the token limit",
        ),
        (
            Fault::OtherSpeakers,
            openai_body(dialogue),
            "other speakers' lines",
        ),
        (
            Fault::Repeated,
            openai_body(&repeat),
            "repeats an earlier turn",
        ),
        (Fault::NotJson, openai_body("Where is the pain?"), "prose"),
    ];
    for (fault, body, why) in &cases {
        let server = FaultServer::start(vec![reply(200, body), reply(200, body)]);
        let client = fast_client(&server.url, ProviderKind::OpenAi);
        let t = block_on(roles::clinician_turn(
            &client,
            enc.case(),
            enc.record(),
            &Cancel::new(),
        ));
        assert_eq!(
            t.input,
            Ok(Input::Turn(Turn::default())),
            "{fault:?}: nothing said"
        );
        assert_eq!(t.fallback, Fallback::Unusable, "{fault:?}");
        let faults: Vec<Option<Fault>> = t.exchanges.iter().map(|x| x.fault).collect();
        assert_eq!(faults, [Some(*fault), Some(*fault)], "{fault:?}");
        let second = server.request(1);
        assert!(
            second.contains("could not be used") && second.contains(why),
            "{fault:?}: {second}"
        );
        assert_eq!(roles::fault_counts(&t.exchanges).get(fault), Some(&2));
    }
    // A fault, then a good reply: the good reply is the turn.
    let good =
        r#"{"speak": "Where exactly is the pain?", "actions": ["12-lead ECG"], "eos": false}"#;
    let server = FaultServer::start(vec![
        reply(200, &openai_body(dialogue)),
        reply(200, &openai_body(good)),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Clean);
    assert_eq!(
        t.input,
        Ok(Input::Turn(Turn {
            speak: "Where exactly is the pain?".into(),
            actions: vec!["12-lead ECG".into()],
            eos: false
        }))
    );
    assert_eq!(t.exchanges[0].fault, Some(Fault::OtherSpeakers));
    assert_eq!(t.exchanges[1].fault, None);
}

#[test]
fn clinician_turns_fenced_json_reask_and_failure() {
    let enc = model_encounter("acs-inferior-stemi", 12);
    let fenced = "Sure, here is my turn:\n```json\n{\"speak\": \"Hello, I'm Dr Lee. What brings you in?\", \"actions\": [\"12-lead ECG\",], \"eos\": false}\n```";
    let server = FaultServer::start(vec![reply(200, &openai_body(fenced))]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Repaired);
    assert_eq!(
        t.input,
        Ok(Input::Turn(Turn {
            speak: "Hello, I'm Dr Lee. What brings you in?".into(),
            actions: vec!["12-lead ECG".into()],
            eos: false
        }))
    );
    assert_eq!(t.exchanges.len(), 1);
    assert_eq!(t.exchanges[0].raw_reply(), Some(fenced));
    assert!(t.exchanges[0]
        .notes
        .iter()
        .any(|n| n.contains("code fence")));

    // Cut off, then corrected.
    let server = FaultServer::start(vec![
        reply(200, &openai_body("{\"speak\": \"Hello, how are")),
        reply(
            200,
            &openai_body(r#"{"speak": "Hello.", "actions": [], "eos": false}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Clean);
    assert!(t.input.is_ok());
    assert_eq!(t.exchanges.len(), 2);
    assert_eq!(t.exchanges[0].fallback, Some(Fallback::Unusable));
    assert!(t.exchanges[1].correction);
    let second = server.request(1);
    assert!(
        second.contains("could not be used") && second.contains("cut off"),
        "{second}"
    );

    // Unusable twice: a protocol fault recorded on the exchanges, and the turn is taken as
    // nothing said and nothing done (never as speech a rule could credit).
    let server = FaultServer::start(vec![
        reply(200, &openai_body("{\"speak\": 12}")),
        reply(
            200,
            &openai_body("```json\n{\"speak\": \"x\", \"actions\": ["),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.input.unwrap(), Input::Turn(Turn::default()));
    assert_eq!(t.fallback, Fallback::Unusable);
    assert_eq!(t.exchanges.len(), 2);
    let notes = t.exchanges[1].notes.join("; ");
    assert!(notes.contains("cut off"), "{notes}");
    assert!(notes.contains("nothing said"), "{notes}");
}

#[test]
fn a_clinician_chat_too_long_for_the_model_drops_its_oldest_turns() {
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    for q in [
        "What brings you in?",
        "When did it start?",
        "Does it spread anywhere?",
        "Any allergies?",
    ] {
        enc.apply(Input::Turn(Turn {
            speak: q.into(),
            actions: vec![],
            eos: false,
        }))
        .unwrap();
    }
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"Requested tokens (2300) exceed context window of 2048"}}"#,
        ),
        reply(
            200,
            &openai_body(r#"{"speak": "Any medical history?", "actions": [], "eos": false}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert!(t.input.is_ok(), "{:?}", t.input);
    assert_eq!(t.exchanges.len(), 2);
    assert_eq!(
        t.exchanges[0].error.as_ref().map(|e| e.kind()),
        Some(ErrorKind::ContextLength)
    );
    let (first, second) = (server.request(0), server.request(1));
    assert!(first.contains("What brings you in?") && first.contains("Any allergies?"));
    assert!(
        !second.contains("What brings you in?"),
        "the oldest turn is dropped"
    );
    assert!(second.contains("Any allergies?") && second.contains("Earlier turns are omitted"));
    assert!(second.contains("Door note: "), "the door note stays");
}

#[test]
fn patient_reply_streams_per_line_and_trims_an_overlong_history() {
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    for q in [
        "Hello, I'm Dr Lee.",
        "What brings you in?",
        "Does the pain spread?",
        "When did it start?",
    ] {
        enc.apply(Input::Turn(Turn {
            speak: q.into(),
            actions: vec![],
            eos: false,
        }))
        .unwrap();
    }
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"This model's maximum context length is 2048 tokens."}}"#,
        ),
        Step::Stream {
            chunks: sse(&[
                r#"{"choices":[{"delta":{"content":"Gary Hollis: About forty "}}]}"#,
                r#"{"choices":[{"delta":{"content":"minutes ago, Doc."},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ]),
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut streamed: BTreeMap<u32, String> = BTreeMap::new();
    // Earlier lines voiced by the model replace the scripted ones in the history.
    let first_answer = enc
        .record()
        .log
        .iter()
        .find(|e| e.turn == 2 && matches!(e.kind, EntryKind::ActorSaid { .. }))
        .unwrap()
        .seq;
    let voiced = BTreeMap::from([(first_answer, "VOICED: my chest, it's crushing.".to_string())]);
    let (lines, ex) = block_on(roles::patient_reply(
        &client,
        &case,
        enc.record(),
        &voiced,
        &Cancel::new(),
        &mut |seq, t| streamed.entry(seq).or_default().push_str(t),
    ));
    let lines = lines.expect("voiced");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0].text, "About forty minutes ago, Doc.",
        "the speaker label is dropped"
    );
    assert_eq!(
        streamed[&lines[0].seq],
        "Gary Hollis: About forty minutes ago, Doc."
    );
    assert_eq!(ex.len(), 2);
    assert_eq!(
        ex[0].error.as_ref().map(|e| e.kind()),
        Some(ErrorKind::ContextLength)
    );
    let (first, second) = (server.request(0), server.request(1));
    assert!(
        first.contains("Hello, I'm Dr Lee.") && first.contains("VOICED: my chest"),
        "{first}"
    );
    assert!(
        !second.contains("Hello, I'm Dr Lee."),
        "the oldest exchange is dropped"
    );
    assert!(second.contains("When did it start?"));
    assert!(
        second.contains("forty minutes ago"),
        "the elicited fact guides the reply"
    );
}

#[test]
fn judge_over_the_fault_server() {
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    enc.apply(Input::Turn(Turn {
        speak: "Hello, I'm Dr Lee. I will explain what is going on as we go.".into(),
        actions: vec!["12-lead ECG".into()],
        eos: false,
    }))
    .unwrap();
    let ids: Vec<String> = prompts::judge_items(enc.case())
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert!(ids.len() >= 2);
    let good = serde_json::json!({"verdicts": ids.iter().enumerate().map(|(n, id)| serde_json::json!({
        "id": id, "met": n == 0, "evidence": if n == 0 { "I will explain what is going on" } else { "" }
    })).collect::<Vec<_>>()})
    .to_string();
    let missing =
        serde_json::json!({"verdicts": [{"id": ids[0], "met": false, "evidence": ""}]}).to_string();

    let server = FaultServer::start(vec![reply(
        200,
        &openai_body(&format!("```json\n{good}\n```")),
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let (v, ex) = block_on(roles::judge(
        &client,
        enc.case(),
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let v = v.expect("verdicts");
    assert_eq!(v.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), ids);
    assert!(v[0].met && !v[1].met);
    assert_eq!(ex.len(), 1);
    let prompt = &ex[0].chat.messages[0].text;
    for item in prompts::judge_items(enc.case()) {
        assert!(prompt.contains(&format!("id: {}", item.id)), "{prompt}");
    }
    assert!(
        prompt.contains("12-lead ECG") && prompt.contains("I'm Dr Lee"),
        "{prompt}"
    );
    // Items with a rule are the engine's: not sent to the judge.
    for item in enc.case().rubric.iter().filter(|i| i.rule.is_some()) {
        assert!(!prompt.contains(&format!("id: {}", item.id)));
    }

    let server = FaultServer::start(vec![
        reply(200, &openai_body(&missing)),
        reply(200, &openai_body(&missing)),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let (v, ex) = block_on(roles::judge(
        &client,
        enc.case(),
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let e = v.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.detail().contains("items not answered"), "{e}");
    assert_eq!(ex.len(), 2);
    assert!(
        server.request(1).contains(&ids[1]),
        "the re-ask names the ids"
    );
}

/// The judge reads what the clinician heard: a model's voiced line replaces the scripted one.
#[test]
fn the_judge_reads_the_voiced_lines() {
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "When did the pain start?".into(),
        ..Turn::default()
    }))
    .unwrap();
    let (seq, scripted) = enc
        .record()
        .log
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EntryKind::ActorSaid { text, .. } => Some((e.seq, text.clone())),
            _ => None,
        })
        .unwrap();
    let plain = prompts::judge_material(&case, enc.record(), &BTreeMap::new());
    assert!(plain.contains(&scripted));
    let voiced = BTreeMap::from([(seq, "About an hour ago, voiced by the model.".to_string())]);
    let heard = prompts::judge_material(&case, enc.record(), &voiced);
    assert!(heard.contains("About an hour ago, voiced by the model."));
    assert!(!heard.contains(&scripted));
}

/// The STEMI case played by the one driver with the clinician at `url`, to its end.
fn play_to_the_end(url: &str) -> bedside::llm::driver::Play {
    let run = block_on(fast_driver(url, None, None).play(
        model_encounter("acs-inferior-stemi", 12),
        BTreeMap::new(),
        &Cancel::new(),
        &mut (),
    ));
    assert!(
        matches!(run.state, PlayState::Finished { .. }),
        "{:?}",
        run.state
    );
    run
}

/// A model that orders a disposition is asked for its end form; the encounter ends with the
/// model's diagnosis, and the disposition is placed once (issue 10: nothing ends the encounter
/// behind the clinician's back, for models as for trainees).
#[test]
fn a_model_disposition_asks_for_the_end_form() {
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(
                r#"{"speak": "We're taking you to the cath lab now.", "actions": ["aspirin 300 mg PO", "transfer to cath lab"], "eos": false}"#,
            ),
        ),
        // The first end form has no diagnosis: asked once more.
        reply(200, &openai_body(r#"{"plan": "PCI"}"#)),
        reply(
            200,
            &openai_body(
                r#"{"diagnosis": "Inferior STEMI", "differential": ["aortic dissection"], "plan": "Primary PCI", "disposition": "transfer to cath lab"}"#,
            ),
        ),
    ]);
    let run = play_to_the_end(&server.url);
    let enc = &run.encounter;
    assert_eq!(server.hits(), 3);
    assert!(
        server.request(1).contains("The encounter is closing"),
        "the second call asks for the end form"
    );
    assert!(server.request(2).contains("diagnosis"));
    let ended = enc.state().ended.clone().expect("ended by the end form");
    assert_eq!(
        ended.reason,
        bedside::engine::encounter::EndReason::Disposition
    );
    let form = enc
        .state()
        .final_form
        .clone()
        .expect("the model's end form");
    assert_eq!(form.diagnosis, "Inferior STEMI");
    assert_eq!(
        enc.state()
            .actions
            .iter()
            .filter(|a| a.order_id() == Some("transfer_cath_lab"))
            .count(),
        1
    );
    assert_eq!(run.turns, [Fallback::Clean, Fallback::Clean]);
}

/// A model that gives no usable end form, even when asked again, closes the encounter
/// without a diagnosis: scored as none given, never guessed, and the run is not an error.
#[test]
fn an_unusable_end_form_closes_without_a_diagnosis() {
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(r#"{"speak": "", "actions": ["admit to ICU"], "eos": false}"#),
        ),
        reply(200, &openai_body(r#"{"plan": {"e.g. admit"}}"#)),
        reply(200, &openai_body("I think it is a heart problem.")),
    ]);
    let run = play_to_the_end(&server.url);
    let enc = &run.encounter;
    assert_eq!(server.hits(), 3);
    assert_eq!(run.turns, [Fallback::Clean, Fallback::Unusable]);
    let ended = enc.state().ended.clone().expect("closed");
    assert!(ended.detail.contains("no end form"), "{}", ended.detail);
    assert!(enc.state().final_form.is_none());
    let card = bedside::engine::score::score(enc.case(), enc.state(), None, &[]);
    let dx = card.items.iter().find(|i| i.id == "mk_diagnosis").unwrap();
    assert!(dx.why.contains("no final diagnosis"), "{}", dx.why);
}

/// The request body of a recorded request (after the blank line).
fn body_of(request: &str) -> serde_json::Value {
    let body = request.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {request}"))
}

/// The clinician turn asks for its JSON Schema natively; an endpoint that refuses
/// `json_schema` gets llama-cpp-python's `json_object` form, one that refuses that too gets
/// the prompt alone; the step down is remembered for the client's later calls, and each
/// exchange records the form used.
#[test]
fn structured_output_first_then_fallbacks_remembered_per_endpoint() {
    use bedside::llm::StructuredForm;
    let enc = model_encounter("acs-inferior-stemi", 12);
    let good =
        r#"{"speak": "Hello, I'm Dr Lee. What brings you in?", "actions": [], "eos": false}"#;
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"Unsupported response_format type: json_schema"}}"#,
        ),
        reply(
            422,
            r#"{"detail":[{"loc":["body","response_format","schema"],"msg":"extra fields not permitted"}]}"#,
        ),
        reply(200, &openai_body(good)),
        reply(200, &openai_body(good)),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Clean);
    let first = body_of(&server.request(0));
    assert_eq!(first["response_format"]["type"], "json_schema");
    let schema = &first["response_format"]["json_schema"]["schema"];
    assert_eq!(
        schema["required"],
        serde_json::json!(["speak", "actions", "eos"])
    );
    let second = body_of(&server.request(1));
    assert_eq!(second["response_format"]["type"], "json_object");
    assert_eq!(second["response_format"]["schema"], *schema);
    let third = body_of(&server.request(2));
    assert!(
        third.get("response_format").is_none(),
        "the prompt alone: {third}"
    );
    let completion = t.exchanges[0].completion.as_ref().unwrap();
    assert_eq!(completion.structured, Some(StructuredForm::PromptOnly));
    // Remembered: the next call goes straight to the prompt-only form.
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert!(t.input.is_ok());
    assert!(body_of(&server.request(3)).get("response_format").is_none());
    assert_eq!(server.hits(), 4);

    // An endpoint that takes json_schema: one call, recorded as such.
    let server = FaultServer::start(vec![reply(200, &openai_body(good))]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    let completion = t.exchanges[0].completion.as_ref().unwrap();
    assert_eq!(completion.structured, Some(StructuredForm::JsonSchema));
    // The patient's voice has no protocol: no response_format is sent for it.
    let chat = prompts::patient_chat(
        enc.case(),
        &enc.record().log,
        &BTreeMap::new(),
        &[],
        &enc.record().state.status,
        &prompts::PatientReply {
            speaker: "patient",
            facts: &[],
            scripted: "It hurts.",
            kind: None,
            reaction: None,
        },
        client.params(),
    );
    assert!(chat.schema.is_none());
}

/// Anthropic: the reply's shape is a forced tool; its input is the turn.
#[test]
fn anthropic_forced_tool_gives_the_turn() {
    use bedside::llm::StructuredForm;
    let enc = model_encounter("acs-inferior-stemi", 12);
    let body = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"tool_use","id":"t1","name":"clinician_turn","input":{"speak":"Hello, I'm Dr Lee.","actions":["12-lead ECG"],"eos":false}}],"stop_reason":"tool_use","usage":{"input_tokens":21,"output_tokens":9}}"#;
    let server = FaultServer::start(vec![reply(200, body)]);
    let client = fast_client(&server.url, ProviderKind::Anthropic);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(
        t.input,
        Ok(Input::Turn(Turn {
            speak: "Hello, I'm Dr Lee.".into(),
            actions: vec!["12-lead ECG".into()],
            eos: false
        }))
    );
    let sent = body_of(&server.request(0));
    assert_eq!(sent["tool_choice"]["name"], "clinician_turn");
    assert_eq!(sent["tools"][0]["input_schema"]["required"][1], "actions");
    let completion = t.exchanges[0].completion.as_ref().unwrap();
    assert_eq!(completion.structured, Some(StructuredForm::ToolUse));
}
