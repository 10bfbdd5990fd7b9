//! The command-line tool's surface: help for every command, typed options, and the exit codes
//! its `--help` documents (0 success, 1 a file or run failed, 2 a wrong command line).
//! No model server is needed: the model-play cases fail before any call, or play against the
//! scripted fault server (`llm::fault_server`).

use std::process::{Command, Output};

use crate::support::root;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args(args)
        .current_dir(root())
        .env_remove("BEDSIDE_API_KEY")
        .output()
        .expect("run bedside-cli")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let out = cli(&["--help"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    for command in ["validate", "play", "catalog", "import-rubric", "model-play"] {
        assert!(
            stdout.contains(command),
            "{command} missing from:\n{stdout}"
        );
    }
    assert!(stdout.contains("Exit codes:") && stdout.contains("2  the command line is wrong"));
}

#[test]
fn model_play_help_works_and_names_its_options() {
    let out = cli(&["model-play", "--help"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for option in [
        "--base-url",
        "--model",
        "--provider",
        "--key-env",
        "--turns",
        "--max-tokens",
        "--temperature",
        "--seed",
        "--timeout",
        "--patient-model",
        "--patient-base-url",
        "--patient-key-env",
        "--judge",
        "--judge-after-failure",
        "--output",
    ] {
        assert!(stdout.contains(option), "{option} missing from:\n{stdout}");
    }
}

#[test]
fn wrong_command_lines_exit_2_naming_the_option() {
    let case = "assets/cases/anaphylaxis-peanut.json";
    let url = "http://127.0.0.1:9/v1";
    let model_play = |more: &[&str]| {
        let base = ["model-play", case, "--base-url", url, "--model", "m"];
        cli(&[&base[..], more].concat())
    };
    let out = model_play(&["--timeout", "0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--timeout: must be between 1 and 600 seconds"),
        "{stderr}"
    );

    let out = model_play(&["--turns", "many"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("--turns") && stderr.contains("many"),
        "{stderr}"
    );

    // The patient's endpoint needs its model; a bad one is named by its own option.
    let out = model_play(&["--patient-base-url", url]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--patient-base-url") && stderr.contains("--patient-model"),
        "{stderr}"
    );
    let out = model_play(&[
        "--patient-model",
        "p",
        "--patient-base-url",
        "ftp://patient.example/v1",
        "--max-tokens",
        "0",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--patient-base-url: `ftp://patient.example/v1` must start with"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("--max-tokens: must be between").count(),
        1,
        "an option shared by the roles is named once: {stderr}"
    );

    let out = cli(&["play", case, "x.jsonl", "--output", "pdf"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("pdf") && stderr.contains("summary"),
        "{stderr}"
    );

    let out = cli(&["validate"]);
    assert_eq!(out.status.code(), Some(2), "a case file is required");
}

#[test]
fn failures_exit_1_with_the_file_and_line() {
    let out = cli(&["validate", "assets/cases/no-such-case.json"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("assets/cases/no-such-case.json: cannot read"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 1 file failed validation"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("bedside-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let turns = dir.join("turns.jsonl");
    std::fs::write(
        &turns,
        "{\"speak\": \"Hello\", \"actions\": [], \"eos\": false}\n{\"speak\": 4}\n",
    )
    .unwrap();
    let out = cli(&[
        "play",
        "assets/cases/anaphylaxis-peanut.json",
        turns.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("turns.jsonl:2:"),
        "the failing line is named: {stderr}"
    );
    assert!(stdout.is_empty(), "nothing half-done is printed: {stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_model_play_that_cannot_reach_its_server_fails_with_exit_1_and_still_exports() {
    let out = cli(&[
        "model-play",
        "assets/cases/anaphylaxis-peanut.json",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--timeout",
        "5",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("stopped:").count(), 1, "said once: {stderr}");
    let export = bedside::engine::export::EncounterExport::from_json(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    assert_eq!(export.record.state.turn, 0, "no turn was played");
}

/// `model-play` with an LLM patient voice, against two scripted servers: the sampling options
/// reach both roles, the patient's key comes from its own variable and goes only to the
/// patient's endpoint, the voiced lines and every call are in the export, and no key is
/// printed.
#[test]
fn model_play_with_a_patient_model_and_the_sampling_options() {
    use crate::llm::fault_server::{openai_body, reply, sse, FaultServer, Step};
    const CLINICIAN_KEY: &str = "sk-test-CLINICIAN-0000000000001";
    const PATIENT_KEY: &str = "sk-test-PATIENT-00000000000002";
    let clinician = FaultServer::start(
        [
            r#"{"speak": "What brought you in today?", "actions": [], "eos": false}"#,
            r#"{"speak": "Have you had a reaction like this before?", "actions": [], "eos": false}"#,
            r#"{"diagnosis": "Anaphylaxis", "differential": [], "plan": "IM adrenaline", "disposition": null}"#,
        ]
        .iter()
        .map(|t| reply(200, &openai_body(t)))
        .collect(),
    );
    let voice = || Step::Stream {
        chunks: sse(&[
            r#"{"choices":[{"delta":{"content":"My throat "},"finish_reason":null}]}"#,
            r#"{"choices":[{"delta":{"content":"feels tight."},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]),
        complete: true,
    };
    let patient = FaultServer::start((0..6).map(|_| voice()).collect());
    let out = Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args([
            "model-play",
            "assets/cases/anaphylaxis-peanut.json",
            "--base-url",
            &clinician.url,
            "--model",
            "doc-model",
            "--patient-model",
            "sp-model",
            "--patient-base-url",
            &patient.url,
            "--turns",
            "2",
            "--max-tokens",
            "77",
            "--temperature",
            "0.3",
            "--timeout",
            "5",
        ])
        .env("BEDSIDE_API_KEY", CLINICIAN_KEY)
        .env("BEDSIDE_PATIENT_API_KEY", PATIENT_KEY)
        .current_dir(root())
        .output()
        .expect("run bedside-cli");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for key in [CLINICIAN_KEY, PATIENT_KEY] {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "a key leaked"
        );
    }
    assert_eq!(clinician.hits(), 3, "two turns and the end form: {stderr}");
    assert!(patient.hits() >= 2, "{stderr}");
    // The sampling options reach both roles; each key goes to its own endpoint.
    for (server, model, key, calls) in [
        (&clinician, "doc-model", CLINICIAN_KEY, clinician.hits()),
        (&patient, "sp-model", PATIENT_KEY, patient.hits()),
    ] {
        for i in 0..calls {
            let request = server.request(i);
            let body: serde_json::Value =
                serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
            assert_eq!(body["model"], model);
            assert_eq!(body["max_tokens"], 77);
            assert_eq!(body["temperature"], 0.3);
            assert!(
                request.to_ascii_lowercase().contains(&format!(
                    "authorization: bearer {}",
                    key.to_ascii_lowercase()
                )),
                "{request}"
            );
        }
    }
    let export = bedside::engine::export::EncounterExport::from_json(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stderr}"));
    assert_eq!(
        export.roles.patient,
        format!("model sp-model at {}", patient.url)
    );
    let app = export.app.expect("the model calls are attached");
    let voiced = app["voiced_lines"].as_object().unwrap();
    assert_eq!(voiced.len(), patient.hits());
    assert!(voiced.values().all(|v| v == "My throat feels tight."));
    assert_eq!(app["usage"]["clinician"]["calls"], 3);
    assert_eq!(app["usage"]["patient"]["calls"], patient.hits());
    assert_eq!(
        app["llm_exchanges"].as_array().unwrap().len(),
        3 + patient.hits()
    );
    assert!(stderr.contains("turn 3: Clean"), "{stderr}");
}
