//! `bedside-cli run` and `merge` as plain functions (native only): resolve a plan's cases and
//! keys, run its jobs (or one shard of them) with bounded concurrency per endpoint on worker
//! threads, save each job's record the moment it ends, and skip the jobs a folder already
//! holds finished, so re-running the same command resumes after Ctrl-C or a crash.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::compare::Row;
use super::folder::{write_atomic, Folder, Index};
use super::job::{play_job, JobRecord, JobSpec, Secrets};
use super::plan::{Endpoint, Job, Plan, Shard};
use super::run::Runner;
use super::sources::{row_of_job, rows_from_files, Cases};
use crate::app::library::Library;
use crate::engine::case::Case;
use crate::engine::catalog::Catalog;
use crate::engine::load::load_case;
use crate::llm::settings::{ApiKey, Context, Field};
use crate::llm::transport::{block_on, Cancel, NativeTransport};

/// `run.json` in a result folder: the plan and the case ids its jobs are named by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    pub plan: Plan,
    pub case_ids: Vec<String>,
}

/// A plan with its cases loaded.
pub struct Loaded {
    pub plan: Plan,
    pub cases: Vec<Arc<Case>>,
    pub case_ids: Vec<String>,
}

impl Loaded {
    pub fn jobs(&self) -> Vec<Job> {
        self.plan.jobs(&self.case_ids)
    }
}

/// Reads the plan at `path` and loads its cases: a built-in id, or a `.json` path relative to
/// the plan's folder. Every problem at once, each naming the file and the place.
pub fn load_plan(path: &Path, catalog: &Catalog) -> Result<Loaded, String> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{source}: cannot read: {e}"))?;
    let plan = Plan::parse(&source, &text).map_err(|d| d.to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let (library, _) = Library::builtin(catalog);
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for (i, c) in plan.cases.iter().enumerate() {
        let c = c.trim();
        if c.ends_with(".json") || c.contains('/') {
            let file = dir.join(c);
            let loaded = std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: cannot read: {e}", file.display()))
                .and_then(|json| {
                    load_case(&file.display().to_string(), &json, catalog)
                        .map_err(|d| d.to_string())
                });
            match loaded {
                Ok(case) => cases.push(Arc::new(case)),
                Err(e) => problems.push(format!("{source}: $.cases[{i}]: {}", e.trim_end())),
            }
        } else {
            match library.get(c) {
                Some(lc) => cases.push(lc.case.clone()),
                None => problems.push(format!(
                    "{source}: $.cases[{i}]: no built-in case `{c}` — built-in: {}",
                    library
                        .cases()
                        .iter()
                        .map(|lc| lc.id())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }
    let case_ids: Vec<String> = cases.iter().map(|c| c.meta.id.clone()).collect();
    for (i, id) in case_ids.iter().enumerate() {
        if case_ids[..i].contains(id) {
            problems.push(format!(
                "{source}: $.cases[{i}]: case `{id}` is already in the plan (another file with the same id)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(Loaded {
            plan,
            cases,
            case_ids,
        })
    } else {
        Err(problems.join("\n"))
    }
}

/// Each endpoint's key from the environment variable the plan names (none: no key); checks
/// every endpoint with its key as Settings would. Errors name the endpoint and the variable,
/// never a key.
pub fn keys_from_env(plan: &Plan) -> Result<Vec<(String, ApiKey)>, String> {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (path, e) in plan.endpoints() {
        let key = match &e.key_env {
            Some(var) => match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => ApiKey::new(value),
                // A plan that names a variable needs its key: an unset one would fail every
                // call (or every judge) only once the run is under way.
                _ => {
                    problems.push(format!(
                        "{path}.key_env ({}): the environment variable {var} is unset or empty",
                        e.label
                    ));
                    ApiKey::default()
                }
            },
            None => ApiKey::default(),
        };
        let mut s = e.settings(0.0);
        s.key = key.clone();
        if let Err(errors) = s.validate(Context::Native) {
            for err in errors.iter().filter(|s| s.field == Field::Key) {
                let var = match &e.key_env {
                    Some(v) => format!("environment variable {v} (named by {path}.key_env)"),
                    None => format!("no key_env at {path}"),
                };
                problems.push(format!(
                    "{path} ({}): the key, from {var}: {}",
                    e.label, err.message
                ));
            }
        }
        keys.push((endpoint_key_id(e), key));
    }
    if problems.is_empty() {
        Ok(keys)
    } else {
        Err(problems.join("\n"))
    }
}

/// What identifies an endpoint's key among the plan's endpoints.
fn endpoint_key_id(e: &Endpoint) -> String {
    format!("{}\u{0}{}", e.label, e.base_url)
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Jobs in flight per endpoint; none: the plan's (default 2).
    pub per_endpoint: Option<u32>,
    pub shard: Option<Shard>,
    /// Also write MedSP1000's folder layout.
    pub medsp: bool,
}

/// Milliseconds since the Unix epoch (the runner's wall clock; the engine never reads it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the plan's jobs (this shard's) into `out`, skipping those it holds finished; reports
/// each finished or failed job with the progress line through `report`. Returns the index.
/// `Err`: the folder holds results of another plan or configuration, or cannot be written.
pub fn run(
    loaded: &Loaded,
    out: &Path,
    options: &Options,
    catalog: Arc<Catalog>,
    keys: &[(String, ApiKey)],
    report: &(dyn Fn(&str) + Sync),
) -> Result<Index, String> {
    let folder = Folder::open(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let run_file = RunFile {
        plan: loaded.plan.clone(),
        case_ids: loaded.case_ids.clone(),
    };
    let run_path = out.join("run.json");
    if let Ok(text) = std::fs::read_to_string(&run_path) {
        let old: RunFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a run file: {e}", run_path.display()))?;
        if old.plan.name != run_file.plan.name {
            return Err(format!(
                "{} holds the run `{}`, not `{}`: use another --out",
                out.display(),
                old.plan.name,
                run_file.plan.name
            ));
        }
    }
    // The plan as it stands now (its finished jobs are checked against it below).
    let text = serde_json::to_string_pretty(&run_file).unwrap_or_default() + "\n";
    write_atomic(&run_path, &text).map_err(|e| format!("{}: {e}", run_path.display()))?;
    let secrets = |e: &Endpoint| Secrets {
        key: keys
            .iter()
            .find(|(id, _)| *id == endpoint_key_id(e))
            .map(|(_, k)| k.clone())
            .unwrap_or_default(),
        extra_headers: Vec::new(),
    };
    let all = loaded.jobs();
    let mine: Vec<Job> = all
        .iter()
        .filter(|j| options.shard.is_none_or(|s| s.holds(j)))
        .cloned()
        .collect();
    let specs: Vec<JobSpec> = mine
        .iter()
        .map(|j| JobSpec::new(&loaded.plan, j, &loaded.cases[j.case], &secrets))
        .collect();
    // A finished record must answer its job as the plan now stands.
    let mut problems = Vec::new();
    let mut finished = vec![false; mine.len()];
    for (i, spec) in specs.iter().enumerate() {
        match folder.finished(&spec.tag.job) {
            None => {}
            Some(Err(e)) => problems.push(e),
            Some(Ok(r)) => match spec.answered_by(&r) {
                Ok(()) => finished[i] = true,
                Err(why) => {
                    problems.push(format!("{}: job {} was {why}", out.display(), spec.tag.job))
                }
            },
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "{}\nthe folder holds results the plan no longer describes: use another --out, or \
             delete those job files to play them again",
            problems.join("\n")
        ));
    }
    let per_endpoint = options
        .per_endpoint
        .unwrap_or_else(|| loaded.plan.concurrency());
    let runner = Runner::new(
        &loaded.plan,
        mine.clone(),
        &|j: &Job| finished[mine.iter().position(|m| m.id == j.id).unwrap_or(0)],
        per_endpoint,
        now_ms(),
    );
    let skipped = finished.iter().filter(|f| **f).count();
    if skipped > 0 {
        report(&format!(
            "resuming: {skipped} of {} jobs already finished",
            mine.len()
        ));
    }
    let workers = runner.workers();
    // The index is rebuilt after each job from summaries kept here (read from the folder
    // once), not by re-reading every record: a run of n jobs reads n files, not n².
    let summaries = Mutex::new(folder.summaries());
    let state = Mutex::new(runner);
    let wake = Condvar::new();
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let job = {
                    let mut r = lock();
                    loop {
                        if let Some(job) = r.start_next(now_ms()) {
                            break Some(job);
                        }
                        if r.progress(now_ms()).pending == 0 {
                            break None;
                        }
                        r = wake.wait(r).unwrap_or_else(|e| e.into_inner());
                    }
                };
                let Some(job) = job else { break };
                let i = mine.iter().position(|m| m.id == job.id).unwrap_or(0);
                let record = block_on(play_job(
                    &specs[i],
                    loaded.cases[job.case].clone(),
                    catalog.clone(),
                    NativeTransport::new,
                    &now_ms,
                    &Cancel::new(),
                    &mut (),
                ));
                let mut r = lock();
                let Some(rec) = record else {
                    // Stopped before it ended: still to do.
                    r.requeue(&job);
                    wake.notify_all();
                    continue;
                };
                match save(&folder, &rec, options.medsp) {
                    Ok(()) => {
                        let line = outcome_line(&rec);
                        if rec.is_finished() {
                            r.finish(&job);
                        } else {
                            r.fail(&job, line.clone());
                        }
                        let mut known = summaries.lock().unwrap_or_else(|e| e.into_inner());
                        known.push(rec.summary());
                        if let Err(e) =
                            folder.write_index(&loaded.plan, &all, &loaded.case_ids, &known)
                        {
                            *failure.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("{}: index.json: {e}", out.display()));
                        }
                        report(&format!("{line}\n  {}", r.progress(now_ms()).line()));
                    }
                    Err(e) => {
                        r.fail(&job, e.clone());
                        *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    }
                }
                wake.notify_all();
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    // Last, from the folder itself: other shards may have written to it meanwhile.
    folder
        .write_index(&loaded.plan, &all, &loaded.case_ids, &folder.summaries())
        .map_err(|e| format!("{}: index.json: {e}", out.display()))
}

fn save(folder: &Folder, record: &JobRecord, medsp: bool) -> Result<(), String> {
    let at = |e: std::io::Error| format!("{}: {e}", folder.root().display());
    folder.save(record).map_err(at)?;
    if medsp && record.is_finished() {
        folder.write_medsp(record).map_err(at)?;
    }
    Ok(())
}

/// "done sepsis--smol--r1: 7/12 items" or "failed sepsis--smol--r1: <error>".
fn outcome_line(r: &JobRecord) -> String {
    match (&r.outcome, r.scores()) {
        (super::job::JobOutcome::Finished { .. }, Some(s)) => format!(
            "done {}: {}/{} items",
            r.tag.job, s.overall.expected_met, s.overall.expected_scored
        ),
        (super::job::JobOutcome::Failed { error }, _) => format!("failed {}: {error}", r.tag.job),
        _ => format!("failed {}: no score", r.tag.job),
    }
}

/// Merges shard folders into `out`: the same run (their `run.json` agree), records copied
/// (a finished one wins over a failure), then one index. Returns it.
pub fn merge(out: &Path, sources: &[&Path]) -> Result<Index, String> {
    let mut run: Option<RunFile> = None;
    let mut folders = Vec::new();
    for src in sources {
        let path = src.join("run.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: cannot read: {e} (is it a run folder?)", path.display()))?;
        let this: RunFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a run file: {e}", path.display()))?;
        if let Some(first) = &run {
            if *first != this {
                return Err(format!(
                    "{} is a different run (its plan or cases differ from the first folder's)",
                    src.display()
                ));
            }
        }
        run = Some(this);
        folders.push(Folder::open(src).map_err(|e| format!("{}: {e}", src.display()))?);
    }
    let run = run.ok_or("no folders to merge")?;
    let target = Folder::open(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let text = serde_json::to_string_pretty(&run).unwrap_or_default() + "\n";
    write_atomic(&out.join("run.json"), &text).map_err(|e| format!("{}: {e}", out.display()))?;
    target.merge(&folders)?;
    let jobs = run.plan.jobs(&run.case_ids);
    target
        .write_index(&run.plan, &jobs, &run.case_ids, &target.summaries())
        .map_err(|e| format!("{}: index.json: {e}", out.display()))
}

/// The rows of a comparison from paths: a run folder (its `run.json` and `jobs/`), a folder
/// of exports and job records (every `*.json` in it and below), or one such file. Cases are
/// the built-in ones (found by id and version). What cannot be read is named in the
/// problems; the rest still counts.
pub fn report_rows(paths: &[&Path], catalog: &Catalog) -> (Vec<Row>, Vec<String>) {
    let (library, _) = Library::builtin(catalog);
    let find = |id: &str| library.get(id).map(|c| c.case.clone());
    let cases = Cases {
        find: &find,
        catalog: Some(catalog),
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut loose: Vec<(String, String)> = Vec::new();
    for path in paths {
        let run_file = path.join("run.json");
        if run_file.is_file() {
            let run: Result<RunFile, String> = std::fs::read_to_string(&run_file)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
            let run = match run {
                Ok(run) => run,
                Err(e) => {
                    problems.push(format!("{}: not a run file: {e}", run_file.display()));
                    continue;
                }
            };
            let (records, unreadable) = Folder::at(path).records();
            problems.extend(unreadable);
            rows.extend(
                records
                    .iter()
                    .filter_map(|r| row_of_job(r, &cases, Some(&run.plan))),
            );
        } else if path.is_dir() {
            json_files(path, &mut loose, &mut problems);
        } else {
            match std::fs::read_to_string(path) {
                Ok(text) => loose.push((path.display().to_string(), text)),
                Err(e) => problems.push(format!("{}: cannot read: {e}", path.display())),
            }
        }
    }
    let (more, unreadable) = rows_from_files(&loose, &cases, None);
    rows.extend(more);
    problems.extend(unreadable);
    (rows, problems)
}

/// Every `*.json` under `dir`, in name order.
fn json_files(dir: &Path, out: &mut Vec<(String, String)>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("{}: cannot read: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<std::path::PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            json_files(&p, out, problems);
        } else if p.extension().is_some_and(|x| x == "json") {
            match std::fs::read_to_string(&p) {
                Ok(text) => out.push((p.display().to_string(), text)),
                Err(e) => problems.push(format!("{}: cannot read: {e}", p.display())),
            }
        }
    }
}
