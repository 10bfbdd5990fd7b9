//! The one driver (`llm::driver`) over the fault server: a run to the end with the patient
//! voiced and the judge called, what the observer is told, a clinician failure (no judge
//! unless asked), pause and resume, stop, and an observer that cannot keep a turn.

use super::*;
use bedside::llm::driver::{Observer, TurnReport};
use bedside::llm::prompts::JUDGE_PROMPT_VERSION;
use bedside::llm::roles::VoicedLine;

const ASK_ONSET: &str = r#"{"speak": "When did the pain start?", "actions": [], "eos": false}"#;
const ASK_SPREAD: &str =
    r#"{"speak": "Does the pain go anywhere else?", "actions": ["12-lead ECG"], "eos": false}"#;
const END_FORM: &str = r#"{"diagnosis": "Inferior STEMI", "differential": ["aortic dissection"], "plan": "Primary PCI", "disposition": null}"#;

/// The clinician's replies for a 2-turn encounter: two questions, then the end form.
fn clinician_script() -> Vec<Step> {
    [ASK_ONSET, ASK_SPREAD, END_FORM]
        .iter()
        .map(|t| reply(200, &openai_body(t)))
        .collect()
}

/// A patient line streamed in two pieces, the first with a speaker label to drop.
fn voice_step(n: usize) -> Step {
    Step::Stream {
        chunks: sse(&[
            r#"{"choices":[{"delta":{"content":"Gary Hollis: Voiced "}}]}"#,
            &format!(
                r#"{{"choices":[{{"delta":{{"content":"line {n}."}},"finish_reason":"stop"}}]}}"#
            ),
            "[DONE]",
        ]),
        complete: true,
    }
}

fn verdicts(case: &str) -> String {
    let ids: Vec<String> = prompts::judge_items(&support::case(case))
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let verdicts: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "met": false, "evidence": ""}))
        .collect();
    openai_body(&serde_json::json!({ "verdicts": verdicts }).to_string())
}

/// Everything the driver tells, and what the test asks of it.
#[derive(Default)]
struct Recorder {
    exchanges: Vec<Role>,
    turns: Vec<TurnReport>,
    streamed: BTreeMap<u32, String>,
    voiced: Vec<Result<Vec<VoicedLine>, String>>,
    /// Pause once this many turns are taken.
    pause_after: Option<usize>,
    /// Cancel this once a turn is taken.
    stop: Option<Cancel>,
    /// Refuse every turn, as a saved session that is gone would.
    refuse: bool,
}

impl Observer for Recorder {
    fn exchange(&mut self, exchange: &LlmExchange) {
        self.exchanges.push(exchange.role);
    }

    fn turn(&mut self, turn: &TurnReport, encounter: &Encounter) -> Result<(), String> {
        assert_eq!(
            encounter.record().inputs.last(),
            Some(&turn.input),
            "told after the engine took it"
        );
        self.turns.push(turn.clone());
        if let Some(c) = &self.stop {
            c.cancel();
        }
        if self.refuse {
            return Err("the page is gone".into());
        }
        Ok(())
    }

    fn voice_text(&mut self, seq: u32, piece: &str) {
        self.streamed.entry(seq).or_default().push_str(piece);
    }

    fn voice_finished(&mut self, result: &Result<Vec<VoicedLine>, bedside::llm::error::LlmError>) {
        self.voiced.push(result.clone().map_err(|e| e.to_string()));
    }

    fn pause(&self) -> bool {
        self.pause_after.is_some_and(|n| self.turns.len() >= n)
    }
}

#[test]
fn the_driver_plays_to_the_end_voices_the_patient_and_calls_the_judge() {
    let clinician = FaultServer::start(clinician_script());
    let patient = FaultServer::start((1..=6).map(voice_step).collect());
    let judge = FaultServer::start(vec![reply(200, &verdicts("acs-inferior-stemi"))]);
    let driver = fast_driver(&clinician.url, Some(&patient.url), Some(&judge.url));
    let mut seen = Recorder::default();
    let play = block_on(driver.play(
        model_encounter("acs-inferior-stemi", 2),
        BTreeMap::new(),
        &Cancel::new(),
        &mut seen,
    ));
    let PlayState::Finished { reason, .. } = &play.state else {
        panic!("{:?}", play.state)
    };
    assert_eq!(*reason, EndReason::TurnLimit);
    assert_eq!(clinician.hits(), 3, "two turns, then the end form");
    assert_eq!(play.turns, [Fallback::Clean; 3]);
    assert_eq!(seen.turns.len(), 3);
    assert!(matches!(seen.turns[2].input, Input::End(_)));
    assert_eq!(
        play.encounter
            .state()
            .final_form
            .as_ref()
            .map(|f| f.diagnosis.as_str()),
        Some("Inferior STEMI")
    );
    // The patient side is voiced after each question (not after the end form), streamed.
    let patient_calls = play
        .exchanges
        .iter()
        .filter(|x| x.role == Role::Patient)
        .count();
    assert_eq!(patient_calls, patient.hits());
    assert!(patient_calls >= 2, "{patient_calls}");
    assert_eq!(seen.voiced.len(), 2, "one voicing per question");
    assert!(seen.voiced.iter().all(Result::is_ok), "{:?}", seen.voiced);
    assert_eq!(play.voiced.len(), patient_calls);
    for (seq, text) in &play.voiced {
        assert!(
            text.starts_with("Voiced line"),
            "the label is dropped: {text}"
        );
        assert_eq!(seen.streamed[seq], format!("Gary Hollis: {text}"));
    }
    // The second voicing's history is what the clinician heard: the first voiced line.
    let first = play.voiced.values().next().unwrap();
    assert!(patient.request(patient_calls - 1).contains(first.as_str()));
    // The judge scored the ended encounter: one builder, one prompt version.
    let run = play
        .judge
        .clone()
        .expect("the judge was called")
        .expect("a checked run");
    assert_eq!(run.prompt_version, JUDGE_PROMPT_VERSION);
    assert_eq!(run.model, "OpenAI-compatible / test-model");
    assert_eq!(judge.hits(), 1);
    // The observer was told of every call, in order.
    let roles: Vec<Role> = play.exchanges.iter().map(|x| x.role).collect();
    assert_eq!(seen.exchanges, roles);
    assert_eq!(roles.last(), Some(&Role::Judge));
    // The export record: every call, faults per kind, usage per role, the voiced lines.
    let record = roles::export_record(&play.exchanges, &play.voiced);
    assert_eq!(record["usage"]["clinician"]["calls"], 3);
    assert_eq!(record["usage"]["patient"]["calls"], patient_calls);
    assert_eq!(record["usage"]["judge"]["calls"], 1);
    assert_eq!(
        record["llm_exchanges"].as_array().unwrap().len(),
        play.exchanges.len()
    );
    assert_eq!(
        record["voiced_lines"].as_object().unwrap().len(),
        play.voiced.len()
    );
}

#[test]
fn a_clinician_failure_stops_the_run_and_the_judge_is_called_only_if_asked() {
    for judge_after_failure in [false, true] {
        let clinician = FaultServer::start(vec![reply(
            401,
            r#"{"error":{"message":"invalid api key"}}"#,
        )]);
        let judge = FaultServer::start(vec![reply(200, &verdicts("acs-inferior-stemi"))]);
        let players = Players {
            clinician: settings(&clinician.url, ProviderKind::OpenAi),
            patient: None,
            judge: Some(settings(&judge.url, ProviderKind::OpenAi)),
        };
        let config = PlayConfig {
            judge_after_failure,
            ..fast_config()
        };
        let driver = Driver::new(&players, &config, NativeTransport::new);
        let play = block_on(driver.play(
            model_encounter("acs-inferior-stemi", 12),
            BTreeMap::new(),
            &Cancel::new(),
            &mut (),
        ));
        let PlayState::Failed(PlayError::Clinician(e)) = &play.state else {
            panic!("{:?}", play.state)
        };
        assert_eq!(e.kind(), ErrorKind::Key);
        assert_eq!(clinician.hits(), 1, "a refused key is not retried");
        assert!(play.turns.is_empty());
        if judge_after_failure {
            assert_eq!(
                judge.hits(),
                1,
                "asked for: the judge scores the partial record"
            );
            assert!(matches!(play.judge, Some(Ok(_))), "{:?}", play.judge);
        } else {
            assert_eq!(judge.hits(), 0, "the judge is not called after a failure");
            assert!(play.judge.is_none());
        }
    }
}

/// Pause is asked between turns: the run returns with the encounter as it stands, and playing
/// that encounter again goes on from there to the end.
#[test]
fn a_paused_run_resumes_where_it_stopped() {
    let clinician = FaultServer::start(clinician_script());
    let driver = fast_driver(&clinician.url, None, None);
    let mut seen = Recorder {
        pause_after: Some(1),
        ..Recorder::default()
    };
    let paused = block_on(driver.play(
        model_encounter("acs-inferior-stemi", 2),
        BTreeMap::new(),
        &Cancel::new(),
        &mut seen,
    ));
    assert_eq!(paused.state, PlayState::Paused);
    assert_eq!(paused.turns.len(), 1);
    assert_eq!(clinician.hits(), 1, "no call while paused");
    assert_eq!(paused.encounter.state().turn, 1);
    seen.pause_after = None;
    let resumed = block_on(driver.play(paused.encounter, paused.voiced, &Cancel::new(), &mut seen));
    assert!(
        matches!(resumed.state, PlayState::Finished { .. }),
        "{:?}",
        resumed.state
    );
    assert_eq!(resumed.turns.len(), 2);
    assert_eq!(clinician.hits(), 3);
    assert!(
        clinician.request(1).contains("When did the pain start?"),
        "the resumed run's prompt has the first turn"
    );
}

/// Stop (the Cancel) ends the run as stopped, not failed; a turn the observer cannot keep
/// fails it.
#[test]
fn stop_and_an_observer_that_cannot_keep_the_turn() {
    let clinician = FaultServer::start(clinician_script());
    let driver = fast_driver(&clinician.url, None, None);
    let cancel = Cancel::new();
    let mut seen = Recorder {
        stop: Some(cancel.clone()),
        ..Recorder::default()
    };
    let play = block_on(driver.play(
        model_encounter("acs-inferior-stemi", 2),
        BTreeMap::new(),
        &cancel,
        &mut seen,
    ));
    assert_eq!(play.state, PlayState::Stopped);
    assert_eq!((play.turns.len(), clinician.hits()), (1, 1));
    assert!(!play.encounter.is_ended());

    let clinician = FaultServer::start(clinician_script());
    let driver = fast_driver(&clinician.url, None, None);
    let mut seen = Recorder {
        refuse: true,
        ..Recorder::default()
    };
    let play = block_on(driver.play(
        model_encounter("acs-inferior-stemi", 2),
        BTreeMap::new(),
        &Cancel::new(),
        &mut seen,
    ));
    assert_eq!(
        play.state,
        PlayState::Failed(PlayError::Observer("the page is gone".into()))
    );
    assert_eq!(clinician.hits(), 1);
}
