//! The three roles and the CLI against the real SmolLM2: whatever the tiny model says, the
//! result is recorded, scored and free of the key.

use super::*;

#[test]
fn smollm2_completion_streaming_and_test_connection() {
    let Some((server, _guard)) = smol("smollm2_completion_streaming_and_test_connection") else {
        return;
    };
    let client = smol_client(&server.url, 48);
    let chat = Chat {
        system: "You are a helpful assistant. Answer in one short sentence.".into(),
        messages: vec![Message::user("What is the capital of France?")],
        params: client.params(),
        schema: None,
    };
    let c = block_on(client.complete(&chat, &Cancel::new())).unwrap_or_else(|e| {
        panic!(
            "{e}\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        )
    });
    assert!(!c.text.trim().is_empty());
    assert!(
        c.usage.input_tokens > 10 && c.usage.output_tokens > 0,
        "{:?}",
        c.usage
    );
    assert_eq!(c.model.as_deref(), Some("SmolLM2"));
    assert_eq!(c.attempts, 1);
    let t = client.totals();
    assert_eq!(
        (t.calls, t.input_tokens, t.output_tokens),
        (1, c.usage.input_tokens, c.usage.output_tokens)
    );
    eprintln!(
        "SmolLM2 completion: {} ms, {:?}: {:?}",
        c.latency_ms, c.usage, c.text
    );

    let mut pieces: Vec<String> = Vec::new();
    let s = block_on(client.stream(&chat, &Cancel::new(), &mut |p| pieces.push(p.to_string())))
        .expect("stream");
    assert!(pieces.len() >= 3, "only {} pieces", pieces.len());
    assert_eq!(pieces.concat(), s.text);
    assert!(!s.text.trim().is_empty());
    assert_eq!(client.totals().calls, 2);
    assert!(c.usage_reported);
    assert!(client.totals().output_tokens >= c.usage.output_tokens);
    // llama-cpp-python sends no usage in streams: recorded as unreported, not as zero tokens.
    if !s.usage_reported {
        assert_eq!(client.totals().unreported_usage, 1);
    }
    eprintln!(
        "SmolLM2 stream: {} pieces, {} ms, usage {:?}",
        pieces.len(),
        s.latency_ms,
        s.usage
    );

    let report = block_on(client.test_connection(&Cancel::new()));
    assert!(report.ok, "{}", report.summary());
    assert!(
        report.summary().contains("including `SmolLM2`"),
        "{}",
        report.summary()
    );
    assert!(
        report.summary().contains("answered in"),
        "{}",
        report.summary()
    );

    // A wrong model name through test connection: a plain-words finding, not a crash.
    let mut wrong = smol_client(&server.url, 8);
    wrong = Client::new(
        NativeTransport::new(),
        {
            let mut s = wrong.settings().clone();
            s.model = "no-such-model".into();
            s
        },
        1,
    );
    let report = block_on(wrong.test_connection(&Cancel::new()));
    assert!(
        report.summary().contains("not `no-such-model`"),
        "{}",
        report.summary()
    );
}

#[test]
fn smollm2_plays_the_clinician_with_recorded_fallbacks() {
    let Some((server, _guard)) = smol("smollm2_plays_the_clinician_with_recorded_fallbacks") else {
        return;
    };
    let players = Players {
        clinician: smol_settings(&server.url, 64),
        patient: None,
        judge: None,
    };
    let driver = Driver::new(&players, &PlayConfig::default(), NativeTransport::new);
    let run = block_on(driver.play(
        model_encounter("acs-inferior-stemi", 3),
        BTreeMap::new(),
        &Cancel::new(),
        &mut (),
    ));
    let enc = &run.encounter;
    eprintln!(
        "SmolLM2 clinician: turns {:?}, faults {:?}, state {:?}, usage {:?}",
        run.turns,
        roles::fault_counts(&run.exchanges),
        run.state,
        driver.clinician().totals()
    );
    for ex in &run.exchanges {
        assert_eq!(ex.role, Role::Clinician);
        let c = ex.completion.as_ref().expect("every call got an answer");
        assert!(ex.fallback.is_some(), "the fallback is recorded");
        assert!(!ex.chat.messages.is_empty());
        eprintln!(
            "  {:?} {:?}: {:?}",
            ex.fallback.unwrap(),
            ex.notes,
            openai_preview(&c.text)
        );
    }
    match &run.state {
        PlayState::Finished { .. } => {
            assert!(enc.is_ended());
            // Each turn to the limit, then the end form it closes with (or Close).
            assert_eq!(run.turns.len() as u32, enc.state().turn + 1);
            assert!(!run.turns.is_empty());
        }
        PlayState::Failed(PlayError::Clinician(e)) => {
            assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
            assert!(!e.detail().is_empty());
            let last = run.exchanges.last().unwrap();
            assert!(last.correction && last.error.is_some());
        }
        other => panic!("unexpected state: {other:?}"),
    }
    if let Some(ended) = enc.state().ended.as_ref() {
        // Ended by the run's own course: the turn limit, or the model's "done with this
        // stage" on the last stage (with structured output the tiny model does send eos).
        match ended.reason {
            EndReason::TurnLimit => assert_eq!(enc.state().turn, 3),
            EndReason::Stage => assert!(
                enc.record()
                    .inputs
                    .iter()
                    .any(|i| matches!(i, Input::Turn(t) if t.eos)),
                "a stage end needs an eos"
            ),
            other => panic!("unexpected end: {other:?}"),
        }
    }
    // The first prompt is the door note and the opening, nothing hidden.
    let first = &run.exchanges[0].chat.messages[0].text;
    assert!(first.starts_with("Door note: "));
    assert!(first.contains(&enc.case().patient.opening_line));
}

#[test]
fn smollm2_plays_a_static_vignette_in_one_answer() {
    let Some((server, _guard)) = smol("smollm2_plays_a_static_vignette_in_one_answer") else {
        return;
    };
    let players = Players {
        clinician: smol_settings(&server.url, 256),
        patient: None,
        judge: Some(smol_settings(&server.url, 64)),
    };
    let config = PlayConfig {
        strategy: bedside::llm::driver::Strategy::Static,
        ..PlayConfig::default()
    };
    let driver = Driver::new(&players, &config, NativeTransport::new);
    let encounter = Encounter::new(
        support::case("acs-inferior-stemi"),
        support::catalog(),
        config.encounter_config(&players.clinician),
    );
    let run = block_on(driver.play(encounter, BTreeMap::new(), &Cancel::new(), &mut ()));
    let enc = &run.encounter;
    eprintln!(
        "SmolLM2 static: state {:?}, turns {:?}, actions {:?}, end form {:?}",
        run.state,
        run.turns,
        enc.state()
            .actions
            .iter()
            .map(|a| a.interpretation.raw.as_str())
            .collect::<Vec<_>>(),
        enc.state().final_form
    );
    assert!(
        matches!(run.state, PlayState::Finished { .. }),
        "{:?}",
        run.state
    );
    // One call, or one and its re-ask; no judge call (its items do not apply).
    assert!(
        (1..=2).contains(&run.exchanges.len()),
        "{}",
        run.exchanges.len()
    );
    assert!(run.exchanges.iter().all(|x| x.role == Role::Clinician));
    assert!(run.judge.is_none());
    // The call carried the whole case: the door note, a fact, a result.
    let asked = &run.exchanges[0].chat.messages[0].text;
    let case = enc.case();
    assert!(asked.contains(case.door_note.trim()));
    assert!(asked.contains(case.facts[1].answer.trim()));
    assert!(asked.contains("ST elevation in V4R"));
    // Whatever the tiny model answered: all of it at time zero, and the dialogue's items not
    // applicable, never missed.
    assert!(enc.state().actions.iter().all(|a| a.time_s == 0));
    let card =
        bedside::engine::score::score_named(case, Some(enc.catalog()), enc.state(), None, &[]);
    use bedside::engine::score::Mark;
    for id in [
        "ics_introduction",
        "pc_onset",
        "mk_nitrate_screen",
        "ics_plain_explanation",
    ] {
        assert_eq!(card.item(id).unwrap().mark(), Mark::NotApplicable, "{id}");
    }
    assert!(card.items.iter().all(|i| i.mark() != Mark::NotScored));
    match &enc.state().final_form {
        Some(form) => assert!(!form.diagnosis.trim().is_empty()),
        None => assert_eq!(card.item("mk_diagnosis").unwrap().mark(), Mark::Missed),
    }
}

fn openai_preview(s: &str) -> String {
    s.chars().take(100).collect()
}

#[test]
fn smollm2_voices_the_patient_and_judges() {
    let Some((server, _guard)) = smol("smollm2_voices_the_patient_and_judges") else {
        return;
    };
    let client = smol_client(&server.url, 60);
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "Hello, I'm Dr Lee, one of the emergency doctors. When did the pain start?".into(),
        actions: vec!["12-lead ECG".into()],
        eos: false,
    }))
    .unwrap();
    let mut streamed: BTreeMap<u32, String> = BTreeMap::new();
    let (lines, ex) = block_on(roles::patient_reply(
        &client,
        &case,
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
        &mut |seq, t| streamed.entry(seq).or_default().push_str(t),
    ));
    let lines = lines.unwrap_or_else(|e| panic!("{e}"));
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(!l.text.is_empty());
        assert!(streamed[&l.seq].contains(&l.text) || streamed[&l.seq].trim().ends_with(&l.text));
        eprintln!(
            "SmolLM2 patient ({}): {:?} {:?}",
            l.speaker,
            l.text,
            ex.iter()
                .map(|x| x.completion.as_ref().map(|c| c.latency_ms))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(ex.len(), lines.len());
    assert!(ex[0].chat.system.contains("standardized patient"));
    let last = &ex[0].chat.messages.last().unwrap().text;
    assert!(
        last.contains("forty minutes ago"),
        "the engine's elicited fact guides the reply: {last}"
    );

    let judge = smol_client(&server.url, 160);
    let (verdicts, ex) = block_on(roles::judge(
        &judge,
        &case,
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let ids: Vec<String> = prompts::judge_items(&case)
        .iter()
        .map(|i| i.id.clone())
        .collect();
    match verdicts {
        Ok(v) => {
            assert_eq!(v.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), ids);
            assert!(v.iter().all(|v| !v.met || !v.evidence.is_empty()));
            eprintln!("SmolLM2 judge: verdicts {v:?}");
        }
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::Protocol | ErrorKind::ContextLength),
                "{e}"
            );
            assert!(!e.detail().is_empty() || e.kind() == ErrorKind::ContextLength);
            eprintln!("SmolLM2 judge: clear error: {e}");
            for x in &ex {
                eprintln!(
                    "  judge call: {:?}",
                    x.completion.as_ref().map(|c| (c.usage, c.latency_ms))
                );
            }
        }
    }
    assert!(!ex.is_empty() && ex.len() <= 2);
    assert!(ex.iter().all(|x| x.role == Role::Judge));
}

/// The command-line tool lets SmolLM2 play a case natively: whatever the tiny model does, the
/// output is a complete export with every call recorded, and the key never appears.
#[test]
fn the_cli_model_play_exports_every_call_and_never_the_key() {
    let Some((server, _guard)) = smol("the_cli_model_play_exports_every_call_and_never_the_key")
    else {
        return;
    };
    let key = "sk-test-CLI-DO-NOT-LEAK-4242";
    let out = Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args([
            "model-play",
            "assets/cases/anaphylaxis-peanut.json",
            "--base-url",
            &server.url,
            "--model",
            "SmolLM2",
            "--turns",
            "2",
            "--max-tokens",
            "160",
            "--temperature",
            "0.2",
            "--seed",
            "5",
        ])
        .env("BEDSIDE_API_KEY", key)
        .current_dir(support::root())
        .output()
        .expect("run bedside-cli");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "the key leaked"
    );
    let export = bedside::engine::export::EncounterExport::from_json(&stdout)
        .unwrap_or_else(|e| panic!("{e}\nstderr: {stderr}"));
    assert_eq!(export.roles.clinician, "OpenAI-compatible / SmolLM2");
    let app = export.app.expect("the LLM calls are attached");
    let calls = app["llm_exchanges"].as_array().unwrap();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c["base_url"] == server.url.as_str()));
    let stopped = stderr.contains("stopped:");
    assert_eq!(
        out.status.success(),
        !stopped,
        "exit code follows the run: {stderr}"
    );
    if !stopped {
        assert_eq!(export.record.state.turn, 2, "ran to the 2-turn limit");
    } else {
        assert!(
            calls.iter().any(|c| !c["error"].is_null()),
            "the failure is recorded"
        );
    }
}
