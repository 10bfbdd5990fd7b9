//! Figures, not assertions (ignored; run by hand): the runner against the instant scripted
//! server, 100 encounters at concurrency 1, 2, 4 and 8. Reports wall time, the server's time,
//! and the time per call spent outside the server (engine, prompts, HTTP client, files).
//!
//! `cargo test --test native runner_figures -- --ignored --nocapture` (add `--release` for
//! the figures of an optimized build).

use std::time::Instant;

use bedside::eval::batch::{self, Options};

use super::server::WardServer;
use super::{plan_json, scratch, write_plan};
use crate::support::catalog;

#[test]
#[ignore = "figures: run by hand with --ignored --nocapture"]
fn runner_figures() {
    let cases = [
        "acs-inferior-stemi",
        "anaphylaxis-peanut",
        "breaking-bad-news",
        "dka-young-adult",
        "ectopic-pregnancy",
        "opioid-overdose",
        "paediatric-asthma",
        "sepsis-pneumonia",
        "stroke-thrombolysis",
        "upper-gi-bleed",
    ];
    println!("| concurrency | encounters | calls | wall s | server s | outside the server per call ms | share outside |");
    println!("|---|---|---|---|---|---|---|");
    for concurrency in [1u32, 2, 4, 8] {
        let server = WardServer::start();
        let dir = scratch(&format!("figures-{concurrency}"));
        let mut plan = plan_json(&server.url, &[("ward", "ward")], &cases, 10);
        plan["turn_limit"] = 12.into();
        let loaded = batch::load_plan(&write_plan(&dir, &plan), &catalog()).unwrap();
        let keys = batch::keys_from_env(&loaded.plan).unwrap();
        let options = Options {
            per_endpoint: Some(concurrency),
            ..Options::default()
        };
        let t0 = Instant::now();
        let index = batch::run(
            &loaded,
            &dir.join("out"),
            &options,
            catalog(),
            &keys,
            &|_| {},
        )
        .unwrap();
        let wall = t0.elapsed().as_secs_f64();
        assert_eq!(index.done, 100);
        let calls = server.seen().len();
        let server_s = server.busy().as_secs_f64();
        // Worker-seconds not spent in the server, per call.
        let outside = (wall * f64::from(concurrency) - server_s).max(0.0);
        println!(
            "| {concurrency} | {} | {calls} | {wall:.1} | {server_s:.2} | {:.1} | {:.1}% |",
            index.done,
            outside / calls as f64 * 1000.0,
            outside / (wall * f64::from(concurrency)) * 100.0,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
