//! A CLI run's result folder (native only). The job files are the truth; the index is
//! rebuilt from them, so shards written to one shared folder, or merged from several, give
//! the same index as one unsharded run.
//!
//! ```text
//! OUT/run.json                the plan as read and the case ids its jobs are named by
//! OUT/jobs/<job>.json         one `bedside.job` record per finished job (written atomically)
//! OUT/failed/<job>.json       the last failure of a job not yet finished (no score)
//! OUT/index.json              every job's status and score, per-player tallies
//! OUT/medsp/<player>/<case>/<scenario>/<stamp>/final_evaluation_frozen_rubric.json
//!                             + run_manifest.json, with --medsp (MedSP1000's layout)
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::job::{JobOutcome, JobRecord, JobSummary};
use super::plan::{Job, Plan};
use super::run::tallies;
use crate::app::labels::folder_stamp;
use crate::engine::export::frozen_result;

pub const INDEX_FORMAT: &str = "bedside.run-index";

/// MedSP1000's scenario folder for a Bedside case (our cases have one scenario each).
pub const MEDSP_SCENARIO: &str = "default";

/// Writes `text` to `path` so that a reader sees the old file or the whole new one, never a
/// part: a temporary file in the same folder, flushed to disk, then renamed over it.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Unique per writer, also across machines sharing the folder (shards on a cluster's
    // shared volume, where every container's process may have the same id) and threads.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let host: String = std::env::var("HOSTNAME")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    let tmp = dir.join(format!(
        ".{name}.{host}.{}.{nanos}.{n}.tmp",
        std::process::id()
    ));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// One job's line in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexJob {
    pub id: String,
    pub player: String,
    pub case: String,
    pub repeat: u32,
    /// "done", "failed" or "to do".
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_met: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_scored: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One player's line in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexPlayer {
    pub label: String,
    pub done: usize,
    pub failed: usize,
    pub items_met: u32,
    pub items_scored: u32,
    /// Items met / items scored over the finished jobs (micro).
    pub completion: Option<f64>,
    pub calls: u32,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub latency_median_ms: Option<u64>,
    pub latency_p95_ms: Option<u64>,
    pub cost: Option<f64>,
}

/// `index.json`: what the folder holds for the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub format: String,
    pub plan: String,
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub to_do: usize,
    pub players: Vec<IndexPlayer>,
    pub jobs: Vec<IndexJob>,
}

impl Index {
    /// The index of `jobs` from the records at hand (a finished one wins over a failure).
    pub fn build(plan: &Plan, jobs: &[Job], case_ids: &[String], records: &[JobSummary]) -> Index {
        let mut by_id: BTreeMap<&str, &JobSummary> = BTreeMap::new();
        for r in records {
            let slot = by_id.entry(r.tag.job.as_str()).or_insert(r);
            if r.is_finished() {
                *slot = r;
            }
        }
        let mut out = Vec::new();
        let mut counted = Vec::new();
        for j in jobs {
            let record = by_id.get(j.id.as_str()).copied();
            let mut line = IndexJob {
                id: j.id.clone(),
                player: plan.players[j.player].label.clone(),
                case: case_ids[j.case].clone(),
                repeat: j.repeat,
                status: "to do".into(),
                items_met: None,
                items_scored: None,
                points_ratio: None,
                error: None,
            };
            if let Some(r) = record {
                counted.push(r);
                match (&r.outcome, &r.scores) {
                    (JobOutcome::Finished { .. }, Some(s)) => {
                        line.status = "done".into();
                        line.items_met = Some(s.overall.expected_met);
                        line.items_scored = Some(s.overall.expected_scored);
                        line.points_ratio = s.overall.points_ratio;
                    }
                    (JobOutcome::Failed { error }, _) => {
                        line.status = "failed".into();
                        line.error = Some(error.clone());
                    }
                    (JobOutcome::Finished { .. }, None) => {
                        line.status = "failed".into();
                        line.error = Some("finished without a score".into());
                    }
                }
            }
            out.push(line);
        }
        let count = |s: &str| out.iter().filter(|j| j.status == s).count();
        let players = tallies(plan, counted)
            .into_iter()
            .map(|(label, t)| IndexPlayer {
                completion: t.completion(),
                latency_median_ms: t.latency_median_ms(),
                latency_p95_ms: t.latency_p95_ms(),
                label,
                done: t.done,
                failed: t.failed,
                items_met: t.items_met,
                items_scored: t.items_scored,
                calls: t.calls,
                input_tokens: t.input_tokens,
                cached_input_tokens: t.cached_input_tokens,
                output_tokens: t.output_tokens,
                cost: t.cost,
            })
            .collect();
        Index {
            format: INDEX_FORMAT.into(),
            plan: plan.name.clone(),
            total: out.len(),
            done: count("done"),
            failed: count("failed"),
            to_do: count("to do"),
            players,
            jobs: out,
        }
    }
}

/// A run's result folder.
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// Opens (creating) the folder.
    pub fn open(root: &Path) -> std::io::Result<Folder> {
        fs::create_dir_all(root.join("jobs"))?;
        fs::create_dir_all(root.join("failed"))?;
        Ok(Folder {
            root: root.to_path_buf(),
        })
    }

    /// The folder at `root` as it is, for reading (nothing is created).
    pub fn at(root: &Path) -> Folder {
        Folder {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn job_path(&self, id: &str, finished: bool) -> PathBuf {
        let dir = if finished { "jobs" } else { "failed" };
        self.root.join(dir).join(format!("{id}.json"))
    }

    /// The finished record of job `id`, if the folder has one (`Err`: a file that cannot be
    /// read as one, named).
    pub fn finished(&self, id: &str) -> Option<Result<JobRecord, String>> {
        let path = self.job_path(id, true);
        let text = fs::read_to_string(&path).ok()?;
        Some(JobRecord::from_json(&text).map_err(|e| format!("{}: {e}", path.display())))
    }

    /// Saves a record: a finished one under `jobs/` (and its old failure goes), a failed one
    /// under `failed/`.
    pub fn save(&self, record: &JobRecord) -> std::io::Result<()> {
        let finished = record.is_finished();
        write_atomic(&self.job_path(&record.tag.job, finished), &record.to_json())?;
        if finished {
            let old = self.job_path(&record.tag.job, false);
            if old.exists() {
                fs::remove_file(old)?;
            }
        }
        Ok(())
    }

    /// Every record in the folder (finished first, then failures of jobs not finished), and
    /// the files that could not be read, named.
    pub fn records(&self) -> (Vec<JobRecord>, Vec<String>) {
        let mut records = Vec::new();
        let mut problems = Vec::new();
        for dir in ["jobs", "failed"] {
            let Ok(entries) = fs::read_dir(self.root.join(dir)) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let read = fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| JobRecord::from_json(&t));
                match read {
                    Ok(r)
                        if dir == "failed"
                            && records.iter().any(|f: &JobRecord| f.tag.job == r.tag.job) => {}
                    Ok(r) => records.push(r),
                    Err(e) => problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
        (records, problems)
    }

    /// Summaries of every record in the folder (see [`Folder::records`]).
    pub fn summaries(&self) -> Vec<JobSummary> {
        self.records().0.iter().map(JobRecord::summary).collect()
    }

    /// Rewrites `index.json` from these summaries.
    pub fn write_index(
        &self,
        plan: &Plan,
        jobs: &[Job],
        case_ids: &[String],
        summaries: &[JobSummary],
    ) -> std::io::Result<Index> {
        let index = Index::build(plan, jobs, case_ids, summaries);
        let text = serde_json::to_string_pretty(&index).unwrap_or_default() + "\n";
        write_atomic(&self.root.join("index.json"), &text)?;
        Ok(index)
    }

    /// Writes a finished record in MedSP1000's layout, so its analysis scripts read it:
    /// `medsp/<player>/<case>/<scenario>/<stamp>_r<repeat>/` with the frozen-rubric result
    /// and a run manifest.
    pub fn write_medsp(&self, record: &JobRecord) -> std::io::Result<()> {
        let Some(export) = &record.export else {
            return Ok(());
        };
        let dir = self
            .root
            .join("medsp")
            .join(&record.tag.player)
            .join(&record.tag.case)
            .join(MEDSP_SCENARIO)
            .join(format!(
                "{}_r{}",
                folder_stamp(record.started_ms as f64),
                record.tag.repeat
            ));
        let result = serde_json::to_string_pretty(&frozen_result(export)).unwrap_or_default();
        write_atomic(&dir.join("final_evaluation_frozen_rubric.json"), &result)?;
        let p = &record.provenance;
        let manifest = serde_json::json!({
            "case_id": record.tag.case,
            "scenario": MEDSP_SCENARIO,
            "model": p.model,
            "provider": p.provider,
            "base_url": p.endpoint,
            "strategy": p.strategy.label(),
            "temperature": p.temperature,
            "seed": p.seed,
            "max_turns": p.turn_limit.unwrap_or(12),
            "repeat": record.tag.repeat,
            "run": record.tag.run,
            "job": record.tag.job,
            "player": record.tag.player,
            "simulator": "bedside",
            "engine_version": p.engine_version,
            "case_version": p.case_version,
            "case_hash": p.case_hash,
            "prompt_versions": p.prompt_versions,
            "judges": p.judges,
            "started_ms": record.started_ms,
            "finished_ms": record.finished_ms,
        });
        let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        write_atomic(&dir.join("run_manifest.json"), &text)
    }

    /// Copies the records of `sources` (shards' folders) into this folder: a finished record
    /// wins over a failure; two different finished records of one job are refused.
    pub fn merge(&self, sources: &[Folder]) -> Result<usize, String> {
        let mut n = 0;
        for src in sources {
            let (records, problems) = src.records();
            if let Some(p) = problems.first() {
                return Err(format!("cannot read {p}"));
            }
            for r in records {
                match self.finished(&r.tag.job) {
                    Some(Ok(mine)) if r.is_finished() && mine != r => {
                        return Err(format!(
                            "job {} is finished in {} and in another folder with other results",
                            r.tag.job,
                            src.root.display()
                        ))
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => {
                        self.save(&r)
                            .map_err(|e| format!("{}: {e}", self.root.display()))?;
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }
}
