//! Reproducibility: the same plan against a deterministic model, run twice into two folders,
//! leaves the same records but for the wall clock.

use bedside::eval::batch::Options;
use bedside::eval::job::JobRecord;

use super::server::WardServer;
use super::{load, plan_json, records, run, scratch};

/// The fields that read the wall clock: when a job started and ended, when it was exported,
/// and how long each call took (per call, per role, and the list of latencies).
const WALL_CLOCK: &[&str] = &[
    "started_ms",
    "finished_ms",
    "latencies_ms",
    "latency_ms",
    "exported_at",
];

/// `v` without the wall-clock fields, at any depth; returns how many it removed.
fn scrub(v: &mut serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(map) => {
            let before = map.len();
            map.retain(|k, _| !WALL_CLOCK.contains(&k.as_str()));
            let mut n = before - map.len();
            for x in map.values_mut() {
                n += scrub(x);
            }
            n
        }
        serde_json::Value::Array(items) => items.iter_mut().map(scrub).sum(),
        _ => 0,
    }
}

#[test]
fn the_same_plan_replays_to_identical_records_but_for_the_wall_clock() {
    let server = WardServer::start();
    let dir = scratch("reproduce");
    let mut plan = plan_json(
        &server.url,
        &[("a", "ward"), ("bon", "ward-b")],
        &["sepsis-pneumonia", "anaphylaxis-peanut"],
        2,
    );
    plan["players"][1]["strategy"] =
        serde_json::json!({"kind": "best_of", "n": 2, "temperature": 1.0});
    plan["patient"] = serde_json::json!({
        "label": "voice", "provider": "open_ai", "base_url": server.url, "model": "ward",
        "timeout_s": 5,
    });
    plan["judges"] = serde_json::json!([{
        "label": "yes", "provider": "open_ai", "base_url": server.url, "model": "judge-yes",
        "timeout_s": 5,
    }]);
    let loaded = load(&dir, &plan);
    for (name, jobs) in [("first", 1), ("second", 4)] {
        // Concurrency differs between the two runs: results must not depend on it.
        let options = Options {
            per_endpoint: Some(jobs),
            ..Options::default()
        };
        run(&loaded, &dir.join(name), &options);
    }
    let (first, second) = (records(&dir.join("first")), records(&dir.join("second")));
    assert_eq!(first.len(), 8);
    assert_eq!(second.len(), 8);
    for (a, b) in first.iter().zip(&second) {
        assert!(a.is_finished() && b.is_finished(), "{}", a.tag.job);
        // The parts that matter, each on its own (a clearer failure than the whole).
        let (ea, eb) = (a.export.as_ref().unwrap(), b.export.as_ref().unwrap());
        assert_eq!(ea.record, eb.record, "{}: the engine record", a.tag.job);
        assert_eq!(ea.scores, eb.scores, "{}: the scores", a.tag.job);
        assert_eq!(ea.scorecard, eb.scorecard, "{}: the scorecard", a.tag.job);
        assert_eq!(a.provenance, b.provenance, "{}: provenance", a.tag.job);
        assert_eq!(a.judges, b.judges, "{}: the judges' verdicts", a.tag.job);
        let exchanges = |r: &JobRecord| -> Vec<(serde_json::Value, Option<String>)> {
            let app = r.export.as_ref().unwrap().app.as_ref().unwrap();
            app["llm_exchanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["chat"].clone(),
                        x["completion"]["text"].as_str().map(str::to_string),
                    )
                })
                .collect()
        };
        let (xa, xb) = (exchanges(a), exchanges(b));
        assert!(xa.len() > 5, "{}: every call is kept", a.tag.job);
        assert!(xa.iter().all(|(chat, reply)| chat["messages"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
            && reply.is_some()));
        assert_eq!(xa, xb, "{}: the exchanges' prompts and replies", a.tag.job);
        // And everything else, but for the wall clock.
        let (mut va, mut vb) = (
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap(),
        );
        let removed = scrub(&mut va);
        scrub(&mut vb);
        assert!(
            removed > xa.len(),
            "the clock is read per call (latency) and per job: {removed}"
        );
        assert_eq!(va, vb, "{}: the whole record but the wall clock", a.tag.job);
    }
    // The wall clock did run: the two runs are not one copied.
    assert!(first
        .iter()
        .zip(&second)
        .any(|(a, b)| a.started_ms != b.started_ms));
}
