//! A judge panel: each judge scores every finished job separately, the export counts with the
//! first judge that answered, a judge that is down costs the job nothing but that judge's
//! scores, and a job the clinician did not finish calls no judge.

use std::path::Path;
use std::sync::Arc;

use bedside::engine::case::Case;
use bedside::engine::score::{score_named, Scores};
use bedside::eval::batch::Options;
use bedside::eval::job::{JobOutcome, JobRecord};
use bedside::llm::prompts::judge_items;
use bedside::llm::settings::Role;

use super::server::WardServer;
use super::{load, plan_json, records, run, scratch};
use crate::support::catalog;

fn judge(url: &str, label: &str, model: &str) -> serde_json::Value {
    serde_json::json!({
        "label": label, "provider": "open_ai", "base_url": url, "model": model,
        "timeout_s": 5,
    })
}

/// Runs `plan` into `dir/out` and returns its records with the loaded cases.
fn run_all(dir: &Path, plan: &serde_json::Value) -> (Vec<JobRecord>, Vec<Arc<Case>>) {
    let loaded = load(dir, plan);
    let out = dir.join("out");
    run(&loaded, &out, &Options::default());
    (records(&out), loaded.cases)
}

/// The scores of a record's encounter by the rules alone (no judge).
fn rules_only(r: &JobRecord, case: &Case) -> Scores {
    let e = r.export.as_ref().expect("a finished job's export");
    score_named(case, Some(&catalog()), &e.record.state, None, &[]).scores()
}

#[test]
fn each_judge_of_a_panel_scores_separately_and_a_judge_that_is_down_scores_nothing() {
    let server = WardServer::start();
    let dir = scratch("judges");
    let mut plan = plan_json(
        &server.url,
        &[("ward", "ward")],
        &["sepsis-pneumonia", "anaphylaxis-peanut"],
        1,
    );
    plan["judges"] = serde_json::json!([
        judge(&server.url, "gone", "down"),
        judge(&server.url, "yes", "judge-yes"),
        judge(&server.url, "no", "judge-no"),
    ]);
    let (records, cases) = run_all(&dir, &plan);
    assert_eq!(records.len(), 2);
    for r in &records {
        let case = cases.iter().find(|c| c.meta.id == r.tag.case).unwrap();
        let items = judge_items(case);
        assert!(!items.is_empty(), "{} has judge items", r.tag.case);
        let positive = items.iter().filter(|i| i.weight >= 0.0).count() as u32;
        let harms = items.len() as u32 - positive;
        assert!(
            matches!(r.outcome, JobOutcome::Finished { .. }),
            "a judge that is down never fails the job: {:?}",
            r.outcome
        );
        let labels: Vec<&str> = r.judges.iter().map(|j| j.label.as_str()).collect();
        assert_eq!(
            labels,
            ["gone", "yes", "no"],
            "every judge, in the plan's order"
        );
        let (gone, yes, no) = (&r.judges[0], &r.judges[1], &r.judges[2]);

        // The judge that is down: its error, and no scores from it (not zeros).
        assert!(
            gone.error.as_deref().is_some_and(|e| !e.is_empty()),
            "{gone:?}"
        );
        assert_eq!(gone.run, None);
        assert_eq!(gone.scores, None);
        // The run page and the tallies hear of it: only the judge that is down.
        let said = r.summary().judge_errors;
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("gone: "), "{said:?}");

        // The two that answered: a verdict per judge item each, as they said.
        for (j, met) in [(yes, true), (no, false)] {
            assert_eq!(j.error, None, "{j:?}");
            let run = j.run.as_ref().expect("a judge that answered has a run");
            assert_eq!(run.verdicts.len(), items.len());
            assert!(run.verdicts.iter().all(|v| v.met == met), "{run:?}");
        }
        let rules = rules_only(r, case);
        let (yes_s, no_s) = (yes.scores.as_ref().unwrap(), no.scores.as_ref().unwrap());
        assert_eq!(
            rules.overall.not_scored,
            items.len() as u32,
            "rules leave judge items open"
        );
        for s in [yes_s, no_s] {
            assert_eq!(s.overall.not_scored, 0, "a judge scores every judge item");
            assert_eq!(
                s.overall.expected_scored,
                rules.overall.expected_scored + positive
            );
            assert_eq!(s.overall.harms_scored, rules.overall.harms_scored + harms);
        }
        assert_eq!(
            yes_s.overall.expected_met,
            rules.overall.expected_met + positive
        );
        assert_eq!(no_s.overall.expected_met, rules.overall.expected_met);
        assert_eq!(yes_s.overall.harms_done, rules.overall.harms_done + harms);
        assert_eq!(no_s.overall.harms_done, rules.overall.harms_done);
        assert_ne!(
            yes_s, no_s,
            "the two judges' scores differ as their verdicts do"
        );

        // The export counts with the first judge that answered: `yes` (`gone` never did).
        let e = r.export.as_ref().unwrap();
        assert_eq!(&e.scores, yes_s);
        assert_eq!(r.scores(), Some(yes_s));
        let info = e
            .scorecard
            .judge
            .as_ref()
            .expect("the export names its judge");
        assert!(info.model.contains("judge-yes"), "{info:?}");
        assert!(e
            .roles
            .judge
            .as_deref()
            .is_some_and(|j| j.contains("judge-yes")));

        // Each judge was called once per job (the one that is down: one failed call, after
        // the client's retries).
        let judge_usage = &r.usage[&Role::Judge];
        assert_eq!(
            (judge_usage.calls, judge_usage.failed_calls),
            (3, 1),
            "{judge_usage:?}"
        );
    }
    let asked = |model: &str| {
        server
            .seen()
            .iter()
            .filter(|s| s.schema.as_deref() == Some("judge_verdicts") && s.model == model)
            .count()
    };
    assert_eq!(
        asked("judge-yes"),
        2,
        "one verdict request per finished job"
    );
    assert_eq!(asked("judge-no"), 2);
    assert!(asked("down") >= 2);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/index.json")).unwrap())
            .unwrap();
    assert_eq!(index["done"], 2, "{index}");
}

#[test]
fn a_job_the_clinician_did_not_finish_calls_no_judge() {
    let server = WardServer::start();
    let dir = scratch("judges-failed");
    let mut plan = plan_json(&server.url, &[("down", "down")], &["sepsis-pneumonia"], 1);
    plan["judges"] = serde_json::json!([
        judge(&server.url, "yes", "judge-yes"),
        judge(&server.url, "no", "judge-no"),
    ]);
    let (records, _) = run_all(&dir, &plan);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert!(
        matches!(r.outcome, JobOutcome::Failed { .. }),
        "{:?}",
        r.outcome
    );
    assert!(r.judges.is_empty(), "{:?}", r.judges);
    assert_eq!(
        r.scores(),
        None,
        "a failed job has no score, not a score of 0"
    );
    assert!(!r.usage.contains_key(&Role::Judge));
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.schema.as_deref() != Some("judge_verdicts")),
        "no judge was asked"
    );
    assert!(
        server.seen().iter().all(|s| s.model == "down"),
        "only the clinician's endpoint was called"
    );
}
