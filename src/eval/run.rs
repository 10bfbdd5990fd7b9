//! A run as a state machine, the same in the browser and the CLI: which job to start next
//! (bounded per endpoint), what finished or failed, progress with an ETA, and per-player
//! tallies (completion, tokens, cost, latency). No I/O and no clock: times are passed in.

use std::collections::BTreeMap;

use super::job::JobSummary;
use super::plan::{Job, Plan};
use crate::llm::settings::Role;

/// Where one job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    Pending,
    Running {
        since_ms: u64,
    },
    Done,
    /// Failed with this error; retried on request, never scored.
    Failed {
        error: String,
    },
}

/// The run's jobs and their status.
#[derive(Debug, Clone)]
pub struct Runner {
    jobs: Vec<Job>,
    /// Each job's endpoint (its player's base URL): the unit of the concurrency bound.
    endpoint: Vec<String>,
    status: Vec<JobStatus>,
    per_endpoint: usize,
    started_ms: u64,
    /// Jobs this runner finished (resumed ones excluded), for the ETA.
    finished_here: usize,
}

/// Counts and times for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub running: usize,
    pub failed: usize,
    pub pending: usize,
    pub elapsed_ms: u64,
    /// At this runner's pace so far; none before its first finished job.
    pub eta_ms: Option<u64>,
}

impl Progress {
    /// "12/40 done · 2 running · 1 failed · 3:05 elapsed · about 7:40 left".
    pub fn line(&self) -> String {
        let mut parts = vec![format!("{}/{} done", self.done, self.total)];
        if self.running > 0 {
            parts.push(format!("{} running", self.running));
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        parts.push(format!("{} elapsed", minutes(self.elapsed_ms)));
        if let Some(eta) = self.eta_ms {
            if self.pending + self.running > 0 {
                parts.push(format!("about {} left", minutes(eta)));
            }
        }
        parts.join(" · ")
    }
}

/// "m:ss" (or "h:mm:ss") of milliseconds.
fn minutes(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

impl Runner {
    /// `jobs` of `plan`, with those in `done` already finished (resumed: they never run
    /// again), at most `per_endpoint` in flight per endpoint.
    pub fn new(
        plan: &Plan,
        jobs: Vec<Job>,
        done: &dyn Fn(&Job) -> bool,
        per_endpoint: u32,
        now_ms: u64,
    ) -> Runner {
        let endpoint = jobs
            .iter()
            .map(|j| plan.players[j.player].settings(0.0).base().to_string())
            .collect();
        let status = jobs
            .iter()
            .map(|j| {
                if done(j) {
                    JobStatus::Done
                } else {
                    JobStatus::Pending
                }
            })
            .collect();
        Runner {
            jobs,
            endpoint,
            status,
            per_endpoint: per_endpoint.max(1) as usize,
            started_ms: now_ms,
            finished_here: 0,
        }
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn status(&self, i: usize) -> &JobStatus {
        &self.status[i]
    }

    fn running_at(&self, endpoint: &str) -> usize {
        self.status
            .iter()
            .zip(&self.endpoint)
            .filter(|(s, e)| matches!(s, JobStatus::Running { .. }) && e.as_str() == endpoint)
            .count()
    }

    /// The next pending job whose endpoint has room, marked running; none when every
    /// pending job waits for its endpoint (or none is pending).
    pub fn start_next(&mut self, now_ms: u64) -> Option<Job> {
        let i = (0..self.jobs.len()).find(|&i| {
            self.status[i] == JobStatus::Pending
                && self.running_at(&self.endpoint[i]) < self.per_endpoint
        })?;
        self.status[i] = JobStatus::Running { since_ms: now_ms };
        Some(self.jobs[i].clone())
    }

    fn index(&self, job: &Job) -> Option<usize> {
        self.jobs.iter().position(|j| j.id == job.id)
    }

    pub fn finish(&mut self, job: &Job) {
        if let Some(i) = self.index(job) {
            self.status[i] = JobStatus::Done;
            self.finished_here += 1;
        }
    }

    pub fn fail(&mut self, job: &Job, error: String) {
        if let Some(i) = self.index(job) {
            self.status[i] = JobStatus::Failed { error };
        }
    }

    /// A job stopped before it finished (cancelled, paused): back to pending.
    pub fn requeue(&mut self, job: &Job) {
        if let Some(i) = self.index(job) {
            self.status[i] = JobStatus::Pending;
        }
    }

    /// Every failed job back to pending; returns how many.
    pub fn retry_failed(&mut self) -> usize {
        let mut n = 0;
        for s in &mut self.status {
            if matches!(s, JobStatus::Failed { .. }) {
                *s = JobStatus::Pending;
                n += 1;
            }
        }
        n
    }

    /// How many workers to start: the bound per endpoint for each endpoint with pending jobs,
    /// no more than the jobs pending.
    pub fn workers(&self) -> usize {
        let pending: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| self.status[i] == JobStatus::Pending)
            .collect();
        let endpoints: std::collections::BTreeSet<&str> =
            pending.iter().map(|&i| self.endpoint[i].as_str()).collect();
        (self.per_endpoint * endpoints.len()).min(pending.len())
    }

    /// Nothing pending or running.
    pub fn is_over(&self) -> bool {
        !self
            .status
            .iter()
            .any(|s| matches!(s, JobStatus::Pending | JobStatus::Running { .. }))
    }

    pub fn progress(&self, now_ms: u64) -> Progress {
        let count = |f: fn(&JobStatus) -> bool| self.status.iter().filter(|s| f(s)).count();
        let done = count(|s| *s == JobStatus::Done);
        let running = count(|s| matches!(s, JobStatus::Running { .. }));
        let failed = count(|s| matches!(s, JobStatus::Failed { .. }));
        let pending = count(|s| *s == JobStatus::Pending);
        let elapsed_ms = now_ms.saturating_sub(self.started_ms);
        let eta_ms = (self.finished_here > 0).then(|| {
            let per_job = elapsed_ms as f64 / self.finished_here as f64;
            (per_job * (pending + running) as f64) as u64
        });
        Progress {
            total: self.jobs.len(),
            done,
            running,
            failed,
            pending,
            elapsed_ms,
            eta_ms,
        }
    }
}

/// One player's figures over its records so far (tokens, calls and latency: the player's
/// own clinician calls).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub done: usize,
    pub failed: usize,
    /// Positive items met and scored over every finished job (completion micro).
    pub items_met: u32,
    pub items_scored: u32,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub calls: u32,
    /// Every successful call's latency, sorted.
    pub latencies_ms: Vec<u64>,
    /// From the plan's price, when it has one.
    pub cost: Option<f64>,
}

impl Tally {
    /// Items met / items scored over the finished jobs (MedSP1000's micro ratio).
    pub fn completion(&self) -> Option<f64> {
        super::stats::Count {
            met: self.items_met,
            scored: self.items_scored,
        }
        .ratio()
    }

    pub fn latency_median_ms(&self) -> Option<u64> {
        percentile(&self.latencies_ms, 0.5)
    }

    pub fn latency_p95_ms(&self) -> Option<u64> {
        percentile(&self.latencies_ms, 0.95)
    }
}

/// Each player's tally (by label, in the plan's order of players) over `records`. A failed
/// record counts as failed and adds its usage (its calls were paid for), never a score.
pub fn tallies<'a>(
    plan: &Plan,
    records: impl IntoIterator<Item = &'a JobSummary>,
) -> Vec<(String, Tally)> {
    let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
    for r in records {
        let t = by.entry(r.tag.player.as_str()).or_default();
        match &r.scores {
            Some(s) if r.is_finished() => {
                t.done += 1;
                t.items_met += s.overall.expected_met;
                t.items_scored += s.overall.expected_scored;
            }
            _ => t.failed += 1,
        }
        // The player's own calls: the patient voice and the judges are other models.
        if let Some(u) = r.usage.get(&Role::Clinician) {
            t.input_tokens += u.input_tokens;
            t.cached_input_tokens += u.cached_input_tokens;
            t.output_tokens += u.output_tokens;
            t.calls += u.calls;
        }
        t.latencies_ms.extend(&r.latencies_ms);
    }
    plan.players
        .iter()
        .map(|p| {
            let mut t = by.remove(p.label.as_str()).unwrap_or_default();
            t.latencies_ms.sort_unstable();
            t.cost = p
                .price
                .map(|price| price.cost(t.input_tokens, t.cached_input_tokens, t.output_tokens));
            (p.label.clone(), t)
        })
        .collect()
}

/// The nearest-rank percentile `p` (0–1) of sorted values; none when empty.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    super::stats::nearest_rank(sorted, p)
}
