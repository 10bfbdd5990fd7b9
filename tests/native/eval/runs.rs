//! Whole runs: `eval::batch` and `bedside-cli run` against the scripted ward server (faults,
//! retry, a kill and a resume, shards and merge) and against real SmolLM2.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bedside::engine::score::Mark;
use bedside::eval::batch::{self, Options};
use bedside::eval::job::{JobOutcome, JobRecord};
use bedside::eval::report::{Filter, Report};
use bedside::eval::stats::Count;
use bedside::llm::settings::Role;

use super::server::WardServer;
use super::{load, plan_json, records, run, scratch, write_plan};
use crate::support::catalog;

/// Clinician calls of one job whose replies are all usable: a turn per allowed turn, then
/// the end form.
fn calls_per_job(turn_limit: u32) -> usize {
    turn_limit as usize + 1
}

#[test]
fn failed_jobs_are_shown_failed_never_scored_and_retried_on_request() {
    let server = WardServer::start();
    let dir = scratch("faults");
    let mut plan = plan_json(
        &server.url,
        &[
            ("steady", "ward"),
            ("flaky", "flaky"),
            ("down", "down"),
            ("garbled", "garbled"),
        ],
        &["sepsis-pneumonia", "anaphylaxis-peanut"],
        1,
    );
    // The patient voice's stream is cut mid-way: the scripted lines stand, the job goes on.
    plan["patient"] = serde_json::json!({
        "label": "voice", "provider": "open_ai", "base_url": server.url, "model": "cut",
        "timeout_s": 5,
    });
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let index = run(&loaded, &out, &Options::default());
    assert_eq!(index.total, 8);
    for job in &index.jobs {
        let failing = job.player == "down" || job.player == "garbled";
        if failing {
            assert_eq!(job.status, "failed", "{job:?}");
            assert!(job.error.as_deref().is_some_and(|e| !e.is_empty()));
            assert_eq!(job.items_scored, None, "a failed job has no score: {job:?}");
            assert!(out.join("failed").join(format!("{}.json", job.id)).exists());
        } else {
            assert_eq!(job.status, "done", "{job:?}");
            assert!(job.items_scored.is_some_and(|n| n > 0), "{job:?}");
            assert!(out.join("jobs").join(format!("{}.json", job.id)).exists());
        }
    }
    for p in &index.players {
        let failing = p.label == "down" || p.label == "garbled";
        assert_eq!(
            (p.done, p.failed),
            if failing { (0, 2) } else { (2, 0) },
            "{p:?}"
        );
        if failing {
            assert_eq!(p.items_scored, 0, "failures add nothing to a denominator");
            assert_eq!(p.completion, None);
        }
    }
    for r in records(&out).iter().filter(|r| r.is_finished()) {
        let usage = &r.usage[&Role::Clinician];
        assert_eq!(usage.calls as usize, calls_per_job(2), "{}", r.tag.job);
        if r.tag.player == "flaky" {
            assert_eq!(
                usage.retries, usage.calls,
                "each call refused once, then answered"
            );
        }
        assert!(usage.input_tokens > 0, "the server's usage is recorded");
        assert_eq!(r.latencies_ms.len(), calls_per_job(2));
        assert!(r.usage.contains_key(&Role::Patient), "the voice was tried");
        let e = r.export.as_ref().expect("a finished job's export");
        assert!(!e.record.log.is_empty());
        assert!(r.provenance.patient.contains("cut"));
    }
    // The endpoints come back; the same command retries only what failed.
    server.heal();
    let opened_before = server.seen().iter().filter(|s| s.opens_job()).count();
    let index = run(&loaded, &out, &Options::default());
    assert_eq!((index.done, index.failed), (8, 0));
    let opened: Vec<String> = server.seen()[..]
        .iter()
        .filter(|s| s.opens_job())
        .skip(opened_before)
        .map(|s| s.model.clone())
        .collect();
    assert_eq!(
        opened.len(),
        4,
        "only the four failed jobs ran again: {opened:?}"
    );
    assert!(
        opened.iter().all(|m| m == "down" || m == "garbled"),
        "{opened:?}"
    );
    assert_eq!(
        std::fs::read_dir(out.join("failed")).unwrap().count(),
        0,
        "a job that finished leaves no failure behind"
    );
}

/// A run killed while a job is in flight, then the same command again: every job ends up
/// done, and the server saw each job's calls once, except the one in flight at the kill.
#[test]
fn a_killed_cli_run_resumes_and_plays_every_job_exactly_once() {
    let server = WardServer::start();
    let dir = scratch("kill");
    let plan = plan_json(
        &server.url,
        &[("ward", "ward")],
        &[
            "sepsis-pneumonia",
            "anaphylaxis-peanut",
            "paediatric-asthma",
        ],
        1,
    );
    let path = write_plan(&dir, &plan);
    let out = dir.join("out");
    let cli = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--jobs",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run bedside-cli")
    };
    // The second job's first call hangs: the first job is saved, the second is in flight.
    server.hang_on_first_turn(2);
    let mut child = cli(&out);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !server.is_hanging() {
        assert!(
            Instant::now() < deadline,
            "the run never reached the second job"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    server.release();
    let saved: Vec<_> = std::fs::read_dir(out.join("jobs")).unwrap().collect();
    assert_eq!(
        saved.len(),
        1,
        "one job was finished and saved before the kill"
    );
    let before = server.seen().len();
    assert_eq!(
        before,
        calls_per_job(2) + 1,
        "one whole job and the hung call"
    );

    let resumed = cli(&out).wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{log}");
    assert!(
        log.contains("resuming: 1 of 3 jobs already finished"),
        "{log}"
    );
    let records = records(&out);
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(JobRecord::is_finished));
    // Exactly the two unfinished jobs were played by the second run.
    assert_eq!(server.seen().len() - before, 2 * calls_per_job(2));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["done"], 3);
}

/// What a record says about the encounter, without the wall clock.
fn played(r: &JobRecord) -> serde_json::Value {
    let e = r.export.as_ref().unwrap();
    serde_json::json!({
        "tag": r.tag, "provenance": r.provenance, "outcome": r.outcome,
        "record": e.record, "scores": e.scores,
    })
}

#[test]
fn two_shards_merge_to_the_results_of_one_unsharded_run() {
    let server = WardServer::start();
    let dir = scratch("shards");
    let plan = plan_json(
        &server.url,
        &[("a", "ward"), ("b", "ward-b")],
        &["sepsis-pneumonia", "anaphylaxis-peanut", "dka-young-adult"],
        1,
    );
    let loaded = load(&dir, &plan);
    let whole = run(&loaded, &dir.join("whole"), &Options::default());
    let shard = |s: &str, name: &str| {
        let options = Options {
            shard: Some(bedside::eval::plan::Shard::parse(s).unwrap()),
            ..Options::default()
        };
        let index = run(&loaded, &dir.join(name), &options);
        (index.done, index.to_do)
    };
    assert_eq!(shard("1/2", "s1"), (3, 3), "each shard plays its half");
    assert_eq!(shard("2/2", "s2"), (3, 3));
    let merged = batch::merge(&dir.join("merged"), &[&dir.join("s1"), &dir.join("s2")])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(merged.jobs, whole.jobs, "the same job lines and scores");
    // Each job sent its player's seed: per repeat from 0, so 1 for the first repeat.
    assert!(server.seen().iter().all(|s| s.seed == Some(1)));
    assert_eq!(merged.done, 6);
    let by_id = |out: &Path| {
        let mut v: Vec<(String, serde_json::Value)> = records(out)
            .iter()
            .map(|r| (r.tag.job.clone(), played(r)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(by_id(&dir.join("merged")), by_id(&dir.join("whole")));
    // Merging a folder of another run is refused.
    let mut other = plan.clone();
    other["name"] = "another run".into();
    let other_loaded = load(&scratch("shards-other"), &other);
    run(&other_loaded, &dir.join("other"), &Options::default());
    let err = batch::merge(&dir.join("merged2"), &[&dir.join("s1"), &dir.join("other")])
        .expect_err("different runs");
    assert!(err.contains("different run"), "{err}");
}

#[test]
fn a_folder_of_another_configuration_is_not_resumed() {
    let server = WardServer::start();
    let dir = scratch("changed");
    let mut plan = plan_json(&server.url, &[("a", "ward")], &["sepsis-pneumonia"], 1);
    let out = dir.join("out");
    run(&load(&dir, &plan), &out, &Options::default());
    plan["players"][0]["temperature"] = 0.9.into();
    let loaded = load(&dir, &plan);
    let keys = batch::keys_from_env(&loaded.plan).unwrap();
    let err = batch::run(
        &loaded,
        &out,
        &Options::default(),
        catalog(),
        &keys,
        &|_| {},
    )
    .expect_err("the finished job no longer answers the plan");
    assert!(
        err.contains("sepsis-pneumonia--a--r1") && err.contains("temperature"),
        "{err}"
    );
}

#[test]
fn a_best_of_player_makes_n_plus_one_calls_per_turn_and_records_them() {
    let server = WardServer::start();
    let dir = scratch("bestof");
    let mut plan = plan_json(&server.url, &[("bon3", "ward")], &["sepsis-pneumonia"], 1);
    plan["players"][0]["strategy"] =
        serde_json::json!({"kind": "best_of", "n": 3, "temperature": 1.0});
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let index = run(&loaded, &out, &Options::default());
    assert_eq!(index.done, 1);
    let r = &records(&out)[0];
    // Two turns of n + 1 calls, then the end form in one.
    assert_eq!(r.usage[&Role::Clinician].calls, 2 * (3 + 1) + 1);
    assert_eq!(server.seen().len(), 2 * (3 + 1) + 1);
    assert_eq!(
        r.provenance.strategy,
        bedside::llm::driver::Strategy::BestOf {
            n: 3,
            temperature: 1.0
        }
    );
    assert!(r.provenance.prompt_versions.contains_key("selector"));
}

#[test]
fn a_static_player_answers_once_at_time_zero_and_is_compared_on_the_items_that_apply() {
    let server = WardServer::start();
    let dir = scratch("static");
    let mut plan = plan_json(
        &server.url,
        &[
            ("ward-static", "ward"),
            ("ward", "ward"),
            ("prose", "static-prose"),
            ("prose-once", "static-prose-once"),
        ],
        &["acs-inferior-stemi"],
        1,
    );
    for i in [0, 2, 3] {
        plan["players"][i]["strategy"] = serde_json::json!({"kind": "static"});
    }
    plan["judges"] = serde_json::json!([
        {"label": "judge", "provider": "open_ai", "base_url": server.url, "model": "judge-yes"}
    ]);
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let index = run(&loaded, &out, &Options::default());
    assert_eq!(index.done, 4, "{index:?}");
    let seen = server.seen();
    let asked = |model: &str, schema: &str| {
        seen.iter()
            .filter(|s| s.model == model && s.schema.as_deref() == Some(schema))
            .count()
    };
    // The static players' judge items are not applicable: the panel is called for the
    // dynamic player's encounter alone.
    assert_eq!(
        seen.iter()
            .filter(|s| s.schema.as_deref() == Some("judge_verdicts"))
            .count(),
        1
    );
    for r in records(&out) {
        let e = r.export.as_ref().expect("finished");
        let calls = r.usage[&Role::Clinician].calls;
        let card = &e.scorecard;
        let mark = |id: &str| card.item(id).unwrap().mark();
        match r.tag.player.as_str() {
            "ward-static" => {
                assert_eq!(calls, 1, "one call in all");
                assert_eq!(
                    r.provenance.strategy,
                    bedside::llm::driver::Strategy::Static
                );
                // One turn, whatever the plan's limit (2 here): the record says so.
                assert_eq!(r.provenance.turn_limit, Some(1));
                assert_eq!(e.record.config.turn_limit, Some(1));
                assert!(e.record.state.vignette && e.record.config.vignette);
                assert!(e.record.state.actions.iter().all(|a| a.time_s == 0));
                assert_eq!(mark("pc_aspirin"), Mark::Met);
                assert_eq!(mark("mk_diagnosis"), Mark::Met);
                assert_eq!(mark("harm_nitrate"), Mark::Harm);
                assert_eq!(mark("pc_onset"), Mark::NotApplicable);
                assert_eq!(
                    mark("ics_plain_explanation"),
                    Mark::NotApplicable,
                    "no judge"
                );
                assert!(card.items.iter().all(|i| i.mark() != Mark::NotScored));
            }
            "prose" => {
                // Prose twice: nothing done, no diagnosis, the encounter closed.
                assert_eq!(calls, 2, "asked once more");
                assert!(e.record.state.actions.is_empty());
                assert_eq!(e.record.state.final_form, None);
                assert_eq!(mark("mk_diagnosis"), Mark::Missed);
                assert_eq!(mark("pc_onset"), Mark::NotApplicable);
            }
            "prose-once" => {
                assert_eq!(calls, 2, "the re-ask's answer is used");
                assert_eq!(mark("mk_diagnosis"), Mark::Met);
            }
            _ => {
                assert_eq!(
                    calls,
                    2 + 1,
                    "the dynamic player: two turns and the end form"
                );
                // The scripted questions never ask about erectile-dysfunction drugs.
                assert_eq!(mark("mk_nitrate_screen"), Mark::Missed);
                assert!(card.items.iter().all(|i| i.mark() != Mark::NotApplicable));
            }
        }
    }
    assert_eq!(asked("ward", "static_answer"), 1);
    assert_eq!(asked("static-prose", "static_answer"), 2);
    // The comparison pairs the static player with the dynamic player of the same model, on
    // the static play's items: its seven guideline actions and diagnosis, all met, against
    // a dynamic play of questions only, which met none of them.
    let (rows, problems) = batch::report_rows(&[out.as_path()], &catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let report = Report::build(&rows, &Filter::default());
    let gaps: Vec<_> = report
        .static_gap
        .iter()
        .filter(|g| g.static_player == "ward-static")
        .collect();
    assert_eq!(gaps.len(), 1, "{:?}", report.static_gap);
    let g = gaps[0];
    assert_eq!(g.dynamic_player, "ward");
    assert_eq!(g.cases[0].applicable, 7);
    assert_eq!(g.static_items, Count { met: 7, scored: 7 });
    assert_eq!(g.dynamic_items, Count { met: 0, scored: 7 });
    assert_eq!(g.gap, Some(1.0));
}

#[test]
fn the_medsp_layout_is_written_for_every_finished_job() {
    let server = WardServer::start();
    let dir = scratch("medsp");
    let plan = plan_json(&server.url, &[("a", "ward")], &["sepsis-pneumonia"], 2);
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let options = Options {
        medsp: true,
        ..Options::default()
    };
    run(&loaded, &out, &options);
    let case_dir = out.join("medsp/a/sepsis-pneumonia/default");
    let runs: Vec<_> = std::fs::read_dir(&case_dir).unwrap().collect();
    assert_eq!(runs.len(), 2, "one folder per repeat");
    for r in runs {
        let d = r.unwrap().path();
        let result: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join("final_evaluation_frozen_rubric.json")).unwrap(),
        )
        .unwrap();
        let s = &result["_score_summary"];
        let total = s["total_items"].as_u64().unwrap();
        assert!(total > 0);
        assert_eq!(
            s["completed_items"].as_u64().unwrap() + s["false_items"].as_u64().unwrap(),
            total
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("run_manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["case_id"], "sepsis-pneumonia");
        assert_eq!(manifest["model"], "ward");
        assert_eq!(manifest["max_turns"], 2);
    }
}

#[test]
fn a_run_against_smollm2_finishes_and_records_what_reproduces_it() {
    let Some((smol, _guard)) = crate::llm::smol::smol("a_run_against_smollm2") else {
        return;
    };
    let dir = scratch("smol");
    let mut plan = plan_json(
        &smol.url,
        &[("smol", "SmolLM2")],
        &["sepsis-pneumonia", "anaphylaxis-peanut"],
        1,
    );
    plan["players"][0]["max_tokens"] = 120.into();
    plan["players"][0]["timeout_s"] = 120.into();
    plan["players"][0]["price"] =
        serde_json::json!({"input_per_million": 1.0, "output_per_million": 2.0});
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let index = run(
        &loaded,
        &out,
        &Options {
            per_endpoint: Some(1),
            ..Options::default()
        },
    );
    assert_eq!((index.done, index.failed), (2, 0), "{index:?}");
    let p = &index.players[0];
    assert!(
        p.input_tokens > 0 && p.output_tokens > 0,
        "llama.cpp reports usage: {p:?}"
    );
    let expected = (p.input_tokens as f64 * 1.0 + p.output_tokens as f64 * 2.0) / 1e6;
    assert!((p.cost.unwrap() - expected).abs() < 1e-12);
    assert!(p.latency_median_ms.is_some() && p.latency_p95_ms >= p.latency_median_ms);
    for r in records(&out) {
        assert!(matches!(r.outcome, JobOutcome::Finished { .. }));
        assert_eq!(r.provenance.model, "SmolLM2");
        assert_eq!(
            r.provenance.seed,
            Some(1),
            "per-repeat seed from 0, repeat 1"
        );
        assert_eq!(r.provenance.case_hash.len(), 64);
        let app = r.export.as_ref().unwrap().app.as_ref().unwrap();
        assert!(!app["llm_exchanges"].as_array().unwrap().is_empty());
    }
}

/// Walks a folder's files (recursively) and returns the paths of those containing `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(needle)) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn a_key_from_the_environment_is_sent_and_never_written() {
    const SECRET: &str = "sk-eval-SECRET-4242";
    // Only this test reads this variable.
    std::env::set_var("BEDSIDE_TEST_EVAL_KEY", SECRET);
    let server = WardServer::start();
    let dir = scratch("key");
    let mut plan = plan_json(&server.url, &[("a", "ward")], &["sepsis-pneumonia"], 1);
    plan["players"][0]["key_env"] = "BEDSIDE_TEST_EVAL_KEY".into();
    let loaded = load(&dir, &plan);
    let out = dir.join("out");
    let options = Options {
        medsp: true,
        ..Options::default()
    };
    assert_eq!(run(&loaded, &out, &options).done, 1);
    let sent = server
        .seen()
        .iter()
        .filter(|s| s.authorization.contains(SECRET))
        .count();
    assert_eq!(sent, server.seen().len(), "every call carries the key");
    assert_eq!(
        files_containing(&out, SECRET),
        Vec::<String>::new(),
        "no file holds the key"
    );
    assert!(
        !files_containing(&out, "BEDSIDE_TEST_EVAL_KEY").is_empty(),
        "the plan names the variable"
    );
}

#[test]
fn a_plan_naming_an_unset_key_variable_does_not_start() {
    let mut plan = plan_json(
        "http://127.0.0.1:9/v1",
        &[("a", "m")],
        &["sepsis-pneumonia"],
        1,
    );
    plan["judges"] = serde_json::json!([{
        "label": "j", "provider": "open_ai", "base_url": "https://api.example.org/v1",
        "model": "m", "key_env": "BEDSIDE_TEST_UNSET_KEY_VARIABLE"
    }]);
    let plan = super::parse(&plan);
    let err = batch::keys_from_env(&plan).expect_err("the variable is unset");
    assert!(
        err.contains("$.judges[0].key_env") && err.contains("BEDSIDE_TEST_UNSET_KEY_VARIABLE"),
        "{err}"
    );
}
