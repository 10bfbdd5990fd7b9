//! The runner as a state machine (no I/O): the per-endpoint bound, resume, failures and
//! retries, progress; and the figures: percentiles and cost computed by hand.

use bedside::eval::plan::{Job, Price};
use bedside::eval::run::{percentile, JobStatus, Runner};

use super::{parse, plan_json};

fn two_endpoints() -> (bedside::eval::plan::Plan, Vec<Job>) {
    let mut p = plan_json(
        "http://127.0.0.1:1/v1",
        &[("a", "m"), ("b", "m")],
        &["x", "y", "z"],
        1,
    );
    p["players"][1]["base_url"] = "http://127.0.0.1:2/v1".into();
    let plan = parse(&p);
    let jobs = plan.jobs(&["x".into(), "y".into(), "z".into()]);
    (plan, jobs)
}

#[test]
fn at_most_n_jobs_run_per_endpoint() {
    let (plan, jobs) = two_endpoints();
    let mut r = Runner::new(&plan, jobs, &|_| false, 2, 0);
    let mut started = Vec::new();
    while let Some(j) = r.start_next(0) {
        started.push(j);
    }
    // Three jobs per endpoint, two allowed at once on each: four start, two wait.
    assert_eq!(started.len(), 4);
    for player in [0, 1] {
        assert_eq!(started.iter().filter(|j| j.player == player).count(), 2);
    }
    let p = r.progress(0);
    assert_eq!((p.running, p.pending, p.done), (4, 2, 0));
    // One ends on endpoint a: only a's waiting job may start.
    let a = started.iter().find(|j| j.player == 0).unwrap().clone();
    r.finish(&a);
    let next = r.start_next(10).expect("room on a");
    assert_eq!(next.player, 0);
    assert!(r.start_next(10).is_none(), "b is still full");
}

#[test]
fn finished_jobs_never_start_again_and_failed_ones_only_on_request() {
    let (plan, jobs) = two_endpoints();
    let done_before = jobs[0].id.clone();
    let mut r = Runner::new(&plan, jobs, &|j| j.id == done_before, 8, 0);
    let mut started = Vec::new();
    while let Some(j) = r.start_next(0) {
        started.push(j);
    }
    assert_eq!(started.len(), 5, "the finished job is not started");
    assert!(started.iter().all(|j| j.id != done_before));
    r.fail(&started[0], "HTTP 503".into());
    r.requeue(&started[1]);
    for j in &started[2..] {
        r.finish(j);
    }
    let p = r.progress(1000);
    assert_eq!((p.done, p.failed, p.pending, p.running), (4, 1, 1, 0));
    // The stopped job runs again; the failed one waits for a retry.
    assert_eq!(
        r.start_next(1000).map(|j| j.id),
        Some(started[1].id.clone())
    );
    r.finish(&started[1]);
    assert!(r.start_next(1000).is_none());
    assert!(r.is_over());
    assert!(
        matches!(r.status(started[0].index), JobStatus::Failed { error } if error == "HTTP 503")
    );
    assert_eq!(r.retry_failed(), 1);
    assert_eq!(
        r.start_next(2000).map(|j| j.id),
        Some(started[0].id.clone())
    );
}

#[test]
fn the_eta_follows_this_runs_pace() {
    let (plan, jobs) = two_endpoints();
    let mut r = Runner::new(&plan, jobs, &|_| false, 1, 1_000);
    assert_eq!(r.progress(1_000).eta_ms, None, "no pace before a job ends");
    let a = r.start_next(1_000).unwrap();
    let b = r.start_next(1_000).unwrap();
    r.finish(&a);
    r.finish(&b);
    // Two jobs in 60 s: 30 s each; four left → 120 s.
    let p = r.progress(61_000);
    assert_eq!(p.elapsed_ms, 60_000);
    assert_eq!(p.eta_ms, Some(120_000));
    assert!(p.line().contains("2/6 done"), "{}", p.line());
    assert!(p.line().contains("1:00 elapsed"), "{}", p.line());
    assert!(p.line().contains("about 2:00 left"), "{}", p.line());
}

#[test]
fn percentiles_and_cost_by_hand() {
    let v: Vec<u64> = (1..=20).map(|x| x * 10).collect();
    // Nearest rank: the median of 20 values is the 10th (100), p95 the 19th (190).
    assert_eq!(percentile(&v, 0.5), Some(100));
    assert_eq!(percentile(&v, 0.95), Some(190));
    assert_eq!(percentile(&v, 1.0), Some(200));
    assert_eq!(percentile(&[7], 0.95), Some(7));
    assert_eq!(percentile(&[], 0.5), None);
    let price = Price {
        input_per_million: 2.0,
        output_per_million: 8.0,
        cached_input_per_million: Some(0.5),
    };
    // 1.5M input of which 0.5M cached, 0.25M output: 1.0×2 + 0.5×0.5 + 0.25×8 = 4.25.
    let cost = price.cost(1_500_000, 500_000, 250_000);
    assert!((cost - 4.25).abs() < 1e-9, "{cost}");
}
