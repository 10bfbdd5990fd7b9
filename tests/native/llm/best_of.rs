//! The best-of-N clinician strategy (`llm::best_of`, `driver::Strategy`): over the fault server,
//! the calls per turn (N + 1, N when no candidate is usable, one for the end form), the
//! selector's pick is the turn the engine took, a selector reply that cannot be read takes the
//! first usable candidate, retries stay inside one call, and the candidates' sampling; over the
//! real SmolLM2, a best-of-2 run to the end. Plus the strategy's serde, schema and validation,
//! the exchange's step in exports, and the prompt versions.

use super::*;
use bedside::llm::driver::Strategy;
use bedside::llm::protocol;
use bedside::llm::roles::TurnStep;

const N: u32 = 3;
const CANDIDATE_TEMPERATURE: f64 = 1.0;
const SEED: u64 = 40;

fn turn(speak: &str, actions: &[&str]) -> String {
    serde_json::json!({"speak": speak, "actions": actions, "eos": false}).to_string()
}

fn ok(content: &str) -> Step {
    reply(200, &openai_body(content))
}

/// The JSON body of the server's `i`-th request.
fn body(server: &FaultServer, i: usize) -> serde_json::Value {
    let request = server.request(i);
    let (_, body) = request.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(body).expect("a JSON body")
}

/// The exchanges of a run, split into turns: a turn starts with its first candidate or with a
/// call that is not part of a best-of turn (the end form).
fn by_turn(exchanges: &[LlmExchange]) -> Vec<Vec<&LlmExchange>> {
    let mut turns: Vec<Vec<&LlmExchange>> = Vec::new();
    for x in exchanges.iter().filter(|x| x.role == Role::Clinician) {
        let starts = matches!(x.step, None | Some(TurnStep::Candidate(1)));
        match turns.last_mut() {
            Some(t) if !starts => t.push(x),
            _ => turns.push(vec![x]),
        }
    }
    turns
}

fn best_of_config(n: u32) -> PlayConfig {
    PlayConfig {
        seed: Some(SEED),
        strategy: Strategy::BestOf {
            n,
            temperature: CANDIDATE_TEMPERATURE,
        },
        ..fast_config()
    }
}

/// A best-of-3 run of a 3-turn encounter, the clinician on `server`, no patient voice or judge.
fn play_best_of_three(server: &FaultServer) -> bedside::llm::driver::Play {
    let players = Players {
        clinician: settings(&server.url, ProviderKind::OpenAi),
        patient: None,
        judge: None,
    };
    let driver = Driver::new(&players, &best_of_config(N), NativeTransport::new);
    block_on(driver.play(
        model_encounter("acs-inferior-stemi", 3),
        BTreeMap::new(),
        &Cancel::new(),
        &mut (),
    ))
}

/// A best-of-3 run of three turns and the end form: turn 1 with three different candidates
/// (the first after a 503 and a retry) and the selector picking the 2nd; turn 2 with one
/// unusable candidate and a selector reply that cannot be read; turn 3 with no usable
/// candidate; then the end form in one call.
#[test]
fn best_of_three_calls_n_plus_one_per_turn_and_takes_the_selectors_pick() {
    let first = turn("When did the pain start?", &[]);
    let second = turn("Does the pain go anywhere else?", &["12-lead ECG"]);
    let third = turn("Have you had this pain before?", &[]);
    let later_a = turn("Are you short of breath?", &[]);
    let later_b = turn("Do you take any medicines?", &["aspirin 300 mg PO"]);
    let prose = "I would ask about the pain.";
    let end_form = r#"{"diagnosis": "Inferior STEMI", "differential": ["aortic dissection"], "plan": "Primary PCI", "disposition": "admit to cardiology"}"#;
    let script = vec![
        // Turn 1: the first candidate's call is retried once after a 503.
        reply(503, r#"{"error":{"message":"overloaded"}}"#),
        ok(&first),
        ok(&second),
        ok(&third),
        ok(r#"{"choice": 2}"#),
        // Turn 2: candidate 1 is prose (unusable); the selector answers in words.
        ok(prose),
        ok(&later_a),
        ok(&later_b),
        ok("The second one is best."),
        // Turn 3: nothing usable.
        ok(prose),
        ok(""),
        ok(&turn("", &[])),
        // The end form.
        ok(end_form),
    ];
    let clinician = FaultServer::start(script);
    let play = play_best_of_three(&clinician);
    assert!(
        matches!(play.state, PlayState::Finished { .. }),
        "{:?}",
        play.state
    );
    let n = N as usize;
    let turns = by_turn(&play.exchanges);
    assert_eq!(turns.len(), 4, "three turns and the end form");
    assert_eq!(play.turns.len(), 4);
    let steps = |t: &[&LlmExchange]| t.iter().map(|x| x.step).collect::<Vec<_>>();
    let full: Vec<Option<TurnStep>> = (1..=N)
        .map(|k| Some(TurnStep::Candidate(k)))
        .chain([Some(TurnStep::Selector)])
        .collect();
    // Turns with a usable candidate: N candidates and the selector.
    assert_eq!(turns[0].len(), n + 1);
    assert_eq!(steps(&turns[0]), full);
    assert_eq!(turns[1].len(), n + 1);
    assert_eq!(steps(&turns[1]), full);
    // No usable candidate: N calls, no selector, taken as nothing said.
    assert_eq!(turns[2].len(), n);
    assert_eq!(steps(&turns[2]), full[..n]);
    assert_eq!(play.turns[2], Fallback::Unusable);
    assert_eq!(
        play.encounter.record().inputs[2],
        Input::Turn(Turn::default())
    );
    assert!(turns[2][n - 1]
        .notes
        .iter()
        .any(|note| note.contains("no candidate was usable")));
    // The end form: one call, no step.
    assert_eq!(steps(&turns[3]), [None]);
    assert!(matches!(play.encounter.record().inputs[3], Input::End(_)));
    // Every call is one exchange; the server saw one request more, the retry, which is an
    // attempt inside the first candidate's call.
    assert_eq!(play.exchanges.len(), 3 * n + 2 + 1);
    let retries: u32 = play
        .exchanges
        .iter()
        .filter_map(|x| x.completion.as_ref())
        .map(|c| c.attempts - 1)
        .sum();
    assert_eq!(turns[0][0].completion.as_ref().unwrap().attempts, 2);
    assert_eq!(retries, 1);
    assert_eq!(clinician.hits(), play.exchanges.len() + retries as usize);
    let usage = roles::usage_totals(&play.exchanges);
    assert_eq!(
        (usage.calls, usage.retries),
        (play.exchanges.len() as u32, 1)
    );

    // The selector's pick (the 2nd) is the turn the engine took.
    let said = |turn: u32| -> Vec<String> {
        play.encounter
            .record()
            .log
            .iter()
            .filter(|e| e.turn == turn)
            .filter_map(|e| match &e.kind {
                EntryKind::ClinicianSaid { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(said(1), ["Does the pain go anywhere else?"]);
    let Input::Turn(taken) = &play.encounter.record().inputs[0] else {
        panic!("a turn")
    };
    assert_eq!(taken.actions, ["12-lead ECG"]);
    assert_eq!(play.turns[0], Fallback::Clean);
    // A selector reply that cannot be read: the first usable candidate (the 2nd sampled),
    // noted on the selector's exchange.
    assert_eq!(said(2), ["Are you short of breath?"]);
    let selector = turns[1][n];
    assert!(
        selector
            .notes
            .iter()
            .any(|note| note.contains("the first usable candidate is taken")),
        "{:?}",
        selector.notes
    );
    assert!(selector.error.is_none(), "never an error");
    assert!(said(3).is_empty(), "nothing said in turn 3");

    // The requests: candidates at the strategy's temperature with seeds seed + k − 1; the
    // selector at the role's own parameters, shown the usable candidates numbered from 1.
    let role = settings(&clinician.url, ProviderKind::OpenAi);
    for k in 0..n {
        let b = body(&clinician, 1 + k);
        assert_eq!(b["temperature"], CANDIDATE_TEMPERATURE);
        assert_eq!(b["seed"], SEED + k as u64);
    }
    let sel = body(&clinician, 1 + n);
    assert_eq!(sel["temperature"], role.temperature);
    assert_eq!(sel["seed"], SEED);
    let sel_text = sel.to_string();
    assert!(sel_text.contains("selector_choice"), "the reply's schema");
    assert_eq!(sel["messages"][0]["content"], prompts::selector_system());
    let last = sel["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("\n1. {") && last.contains("\n3. {") && !last.contains("\n4. "));
    assert!(last.contains("Does the pain go anywhere else?"));
    assert!(!last.contains("Your turn"), "the turn's cue is replaced");
    // Turn 2's selector is shown the two usable candidates only.
    let sel2 = turns[1][n].chat.messages.last().unwrap().text.clone();
    assert!(
        sel2.contains("\n2. {") && !sel2.contains("\n3. {"),
        "{sel2}"
    );
    assert!(!sel2.contains(prose));
    // The export shows the step of each call.
    let export = roles::export_record(&play.exchanges, &play.voiced);
    let calls = export["llm_exchanges"].as_array().unwrap();
    assert_eq!(calls[0]["step"], serde_json::json!({"candidate": 1}));
    assert_eq!(calls[n]["step"], "selector");
    assert!(calls.last().unwrap().get("step").is_none());
}

/// A failed call fails the turn as a single turn's does: the run stops at once.
#[test]
fn a_failed_candidate_call_fails_the_turn() {
    let clinician = FaultServer::start(vec![
        ok(&turn("When did the pain start?", &[])),
        reply(401, r#"{"error":{"message":"invalid api key"}}"#),
    ]);
    let play = play_best_of_three(&clinician);
    let PlayState::Failed(PlayError::Clinician(e)) = &play.state else {
        panic!("{:?}", play.state)
    };
    assert_eq!(e.kind(), ErrorKind::Key);
    assert_eq!(clinician.hits(), 2, "no call after the failed one");
    assert!(play.turns.is_empty());
    assert_eq!(play.exchanges.len(), 2);
    assert_eq!(play.exchanges[1].step, Some(TurnStep::Candidate(2)));
    assert!(play.exchanges[1].error.is_some());
}

#[test]
fn the_strategy_round_trips_validates_and_has_a_schema() {
    let single = Strategy::default();
    assert_eq!(single, Strategy::Single);
    let bon = Strategy::BestOf {
        n: 4,
        temperature: 1.0,
    };
    for s in [&single, &bon] {
        let json = serde_json::to_string(s).unwrap();
        assert_eq!(&serde_json::from_str::<Strategy>(&json).unwrap(), s);
    }
    assert_eq!(
        serde_json::to_value(&bon).unwrap(),
        serde_json::json!({"kind": "best_of", "n": 4, "temperature": 1.0})
    );
    assert_eq!(
        serde_json::to_value(&single).unwrap(),
        serde_json::json!({"kind": "single"})
    );
    assert!(
        serde_json::from_str::<Strategy>(
            r#"{"kind": "best_of", "n": 4, "temperature": 1, "x": 1}"#
        )
        .is_err(),
        "unknown fields are refused"
    );
    assert!(serde_json::from_str::<Strategy>(r#"{"kind": "best_of", "n": 4}"#).is_err());
    assert_eq!(single.label(), "single");
    assert_eq!(bon.label(), "best-of-4 (temperature 1.0)");
    assert_eq!(single.calls_per_turn(), 1);
    assert_eq!(bon.calls_per_turn(), 4 + 1);

    assert_eq!(single.validate(), Ok(()));
    assert_eq!(bon.validate(), Ok(()));
    let bad = |n, temperature| Strategy::BestOf { n, temperature }.validate().unwrap_err();
    for n in [0, 1, 17] {
        let e = bad(n, 1.0);
        assert!(e.starts_with("n ") && e.contains(&n.to_string()), "{e}");
        assert!(!e.contains("temperature"), "{e}");
    }
    for t in [-0.1, 2.1, f64::NAN] {
        let e = bad(2, t);
        assert!(e.starts_with("temperature "), "{e}");
    }
    let both = bad(1, 3.0);
    assert!(
        both.contains("n must") && both.contains("temperature must"),
        "{both}"
    );
    assert_eq!(
        Strategy::BestOf {
            n: 2,
            temperature: 0.0
        }
        .validate(),
        Ok(())
    );
    assert_eq!(
        Strategy::BestOf {
            n: 16,
            temperature: 2.0
        }
        .validate(),
        Ok(())
    );

    // A plan that embeds it can derive its JSON Schema.
    let schema = serde_json::to_value(schemars::schema_for!(Strategy)).unwrap();
    let text = schema.to_string();
    assert!(
        text.contains("best_of") && text.contains("single"),
        "{text}"
    );
}

#[test]
fn steps_prompt_versions_and_the_selectors_reply() {
    // An exchange saved before steps existed still reads; a step is written only when set.
    let old = r#"{"role": "clinician", "provider": "open_ai", "base_url": "http://x/v1", "model": "m",
        "chat": {"system": "s", "messages": [], "params": {"model": "m", "temperature": 0.0, "max_tokens": 1}}}"#;
    let x: LlmExchange = serde_json::from_str(old).unwrap();
    assert_eq!(x.step, None);
    assert!(serde_json::to_value(&x).unwrap().get("step").is_none());
    for step in [TurnStep::Candidate(3), TurnStep::Selector] {
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(serde_json::from_str::<TurnStep>(&json).unwrap(), step);
    }

    let versions = prompts::prompt_versions();
    assert_eq!(
        versions.keys().copied().collect::<Vec<_>>(),
        ["clinician", "judge", "patient", "selector", "static"]
    );
    assert_eq!(versions["static"], prompts::STATIC_PROMPT_VERSION);
    assert_eq!(versions["judge"], prompts::JUDGE_PROMPT_VERSION);
    assert_eq!(versions["clinician"], prompts::CLINICIAN_PROMPT_VERSION);
    assert_eq!(versions["patient"], prompts::PATIENT_PROMPT_VERSION);
    assert_eq!(versions["selector"], prompts::SELECTOR_PROMPT_VERSION);

    assert_eq!(protocol::parse_choice(r#"{"choice": 3}"#, 3), Ok(2));
    assert_eq!(
        protocol::parse_choice("```json\n{\"choice\": \"1\"}\n```", 2),
        Ok(0)
    );
    for bad in [
        r#"{"choice": 0}"#,
        r#"{"choice": 4}"#,
        r#"{"pick": 1}"#,
        "2",
        "",
    ] {
        assert!(protocol::parse_choice(bad, 3).is_err(), "{bad}");
    }
}

/// SmolLM2 plays best-of-2 to the end of a 1-turn encounter (one turn: N + 1 calls, 4 to 7 s
/// each on two shared cores): each ordinary turn costs N + 1 calls (N when no candidate was
/// usable), the end form one call or two (its re-ask). The seeds make the run the same each
/// time (a candidate is usable in it).
#[test]
fn smollm2_plays_best_of_two_to_the_end() {
    let Some((server, _guard)) = smol("smollm2_plays_best_of_two_to_the_end") else {
        return;
    };
    const N: u32 = 2;
    const TURN_LIMIT: u32 = 1;
    let started = Instant::now();
    let players = Players {
        clinician: smol_settings(&server.url, 64),
        patient: None,
        judge: None,
    };
    let config = PlayConfig {
        strategy: Strategy::BestOf {
            n: N,
            temperature: CANDIDATE_TEMPERATURE,
        },
        ..PlayConfig::default()
    };
    let driver = Driver::new(&players, &config, NativeTransport::new);
    let play = block_on(driver.play(
        model_encounter("acs-inferior-stemi", TURN_LIMIT),
        BTreeMap::new(),
        &Cancel::new(),
        &mut (),
    ));
    let turns = by_turn(&play.exchanges);
    eprintln!(
        "SmolLM2 best-of-{N}: {:.1} s, calls per turn {:?}, turns {:?}, state {:?}",
        started.elapsed().as_secs_f64(),
        turns.iter().map(Vec::len).collect::<Vec<_>>(),
        play.turns,
        play.state
    );
    for x in &play.exchanges {
        assert!(
            x.completion.is_some(),
            "every call got an answer: {:?}",
            x.error
        );
        eprintln!(
            "  {:?} {} ms: {:?} {:?}",
            x.step,
            x.completion.as_ref().map_or(0, |c| c.latency_ms),
            x.completion
                .as_ref()
                .map(|c| c.text.chars().take(90).collect::<String>()),
            x.notes
        );
    }
    let PlayState::Finished { reason, .. } = &play.state else {
        panic!("{:?}", play.state)
    };
    assert!(play.encounter.is_ended());
    let state = play.encounter.state();
    let ordinary = state.turn as usize;
    assert!(ordinary >= 1);
    if *reason == EndReason::TurnLimit {
        assert_eq!(ordinary, TURN_LIMIT as usize);
    }
    assert_eq!(
        turns.len(),
        ordinary + 1,
        "the ordinary turns and the end form"
    );
    assert_eq!(play.turns.len(), ordinary + 1);
    for (i, t) in turns[..ordinary].iter().enumerate() {
        let usable = t.iter().any(|x| {
            matches!(x.step, Some(TurnStep::Candidate(_))) && x.fallback != Some(Fallback::Unusable)
        });
        let expected = if usable { N + 1 } else { N } as usize;
        assert_eq!(
            t.len(),
            expected,
            "turn {}: {:?}",
            i + 1,
            t.iter().map(|x| x.step).collect::<Vec<_>>()
        );
        assert_eq!(
            t.last().unwrap().step == Some(TurnStep::Selector),
            usable,
            "the selector is called exactly when a candidate is usable"
        );
    }
    let end = &turns[ordinary];
    assert!(end.iter().all(|x| x.step.is_none()));
    assert!(
        (1..=2).contains(&end.len()),
        "the end form and at most its re-ask"
    );
    assert!(
        turns[..ordinary].iter().any(|t| t.len() == N as usize + 1),
        "at least one turn went to the selector"
    );
}
