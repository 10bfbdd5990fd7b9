//! The command-line tool's surface: help for every command, typed options, and the exit codes
//! its `--help` documents (0 success, 1 a file or run failed, 2 a wrong command line).
//! Nothing here needs a model server: the model-play cases fail before any call.

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
        "--judge",
        "--output",
    ] {
        assert!(stdout.contains(option), "{option} missing from:\n{stdout}");
    }
}

#[test]
fn wrong_command_lines_exit_2_naming_the_option() {
    let case = "assets/cases/anaphylaxis-peanut.json";
    let url = "http://127.0.0.1:9/v1";
    let out = cli(&[
        "model-play",
        case,
        "--base-url",
        url,
        "--model",
        "m",
        "--timeout",
        "0",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--timeout: must be between 1 and 600 seconds"),
        "{stderr}"
    );

    let out = cli(&[
        "model-play",
        case,
        "--base-url",
        url,
        "--model",
        "m",
        "--turns",
        "many",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("--turns") && stderr.contains("many"),
        "{stderr}"
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
