//! Evaluation runs (`bedside::eval`): the plan format and its errors, jobs and shards, the
//! runner's state machine and tallies, the estimate before a run, judge panels,
//! reproducibility, and whole runs through `eval::batch` and the CLI
//! against the scripted ward server (faults, resume after a kill, shards) and real SmolLM2.

mod browser;
mod compare;
mod estimate;
mod figures;
mod judges;
mod plan;
mod report;
mod reproduce;
mod runs;
pub(crate) mod server;
mod state;
mod stats;

use std::path::{Path, PathBuf};

use bedside::eval::batch::{self, Loaded, Options};
use bedside::eval::folder::{Folder, Index};
use bedside::eval::job::JobRecord;
use bedside::eval::plan::Plan;

use crate::support::catalog;

/// A fresh, empty folder under the system's temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bedside-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A plan of `players` (label, model) on one endpoint × `cases` × `repeats`, 2 turns.
pub fn plan_json(
    url: &str,
    players: &[(&str, &str)],
    cases: &[&str],
    repeats: u32,
) -> serde_json::Value {
    let players: Vec<serde_json::Value> = players
        .iter()
        .map(|(label, model)| {
            serde_json::json!({
                "label": label, "provider": "open_ai", "base_url": url, "model": model,
                "temperature": 0.0, "max_tokens": 64, "timeout_s": 5,
            })
        })
        .collect();
    serde_json::json!({
        "format": "bedside.plan", "format_version": 1, "name": "test run",
        "players": players, "cases": cases, "repeats": repeats, "turn_limit": 2,
    })
}

pub fn write_plan(dir: &Path, plan: &serde_json::Value) -> PathBuf {
    let path = dir.join("plan.json");
    std::fs::write(&path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    path
}

pub fn parse(plan: &serde_json::Value) -> Plan {
    Plan::parse("plan.json", &plan.to_string()).unwrap_or_else(|d| panic!("{d}"))
}

/// Writes `plan` in `dir` and loads it with its cases.
pub fn load(dir: &Path, plan: &serde_json::Value) -> Loaded {
    let path = write_plan(dir, plan);
    batch::load_plan(&path, &catalog()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a loaded plan into `out` (no keys needed) and returns the index.
pub fn run(loaded: &Loaded, out: &Path, options: &Options) -> Index {
    let keys = batch::keys_from_env(&loaded.plan).expect("no keys needed");
    batch::run(loaded, out, options, catalog(), &keys, &|_| {}).unwrap_or_else(|e| panic!("{e}"))
}

/// Every record in a result folder, by job id.
pub fn records(out: &Path) -> Vec<JobRecord> {
    let (mut records, problems) = Folder::open(out).unwrap().records();
    assert!(problems.is_empty(), "{problems:?}");
    records.sort_by(|a, b| a.tag.job.cmp(&b.tag.job));
    records
}
