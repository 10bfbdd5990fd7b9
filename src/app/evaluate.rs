//! The Evaluate page's logic: a plan built from the form and the providers in Settings, the
//! stored run (plan, cases, failures), a finished job stored as a normal saved encounter
//! tagged with its run, job and player, and what a run's saved encounters say about it (which
//! jobs are done, each one's summary for the tallies). Plain Rust with native tests; the page
//! (`ui::evaluate`) only draws it and drives `eval::job::play_job`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::library::{Library, Origin};
use super::results::scorecard;
use super::session::{SavedEncounter, Session};
use crate::engine::catalog::Catalog;
use crate::engine::validate::Diagnostic;
use crate::eval::job::{JobOutcome, JobRecord, JobSummary, Secrets};
use crate::eval::plan::{Endpoint, Plan, Price, SeedPolicy, PLAN_FORMAT, PLAN_FORMAT_VERSION};
use crate::llm::driver::Strategy;
use crate::llm::settings::{is_loopback_host, url_host, Context, ProviderSettings, Role, Settings};

/// A run as the browser keeps it: the plan, the case ids its jobs are named by, and the last
/// error of each job that failed and has not finished since. Finished jobs are saved
/// encounters (their tag names the run), never listed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRun {
    pub id: String,
    pub plan: Plan,
    pub case_ids: Vec<String>,
    /// Wall-clock milliseconds since the Unix epoch.
    pub created_ms: f64,
    #[serde(default)]
    pub failures: BTreeMap<String, String>,
}

/// One player row of the form: a provider from Settings, the model (blank: the provider's),
/// sampling, strategy and price.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerForm {
    pub label: String,
    /// Which Settings role's provider (endpoint and key) the player calls.
    pub provider: Role,
    pub model: String,
    pub temperature: String,
    /// 1: single; 2 or more: best-of-N.
    pub best_of: String,
    pub best_of_temperature: String,
    /// The static play: the whole case at once, one call ([`crate::llm::static_play`]).
    pub static_play: bool,
    /// Per million tokens; blank: no cost shown.
    pub price_in: String,
    pub price_out: String,
}

impl PlayerForm {
    pub fn new(provider: Role, settings: &Settings, n: usize) -> PlayerForm {
        let s = settings.role(provider);
        PlayerForm {
            label: s
                .map(|s| label_of(&s.model, n))
                .unwrap_or_else(|| format!("player-{n}")),
            provider,
            model: String::new(),
            temperature: s.map(|s| s.temperature.to_string()).unwrap_or_default(),
            best_of: "1".into(),
            best_of_temperature: "1.0".into(),
            static_play: false,
            price_in: String::new(),
            price_out: String::new(),
        }
    }
}

/// A label from a model name: letters, digits, `.`, `-`, `_`, with the row's number.
fn label_of(model: &str, n: usize) -> String {
    let base: String = model
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let base = base.trim_matches('-').replace("--", "-");
    if base.is_empty() {
        format!("player-{n}")
    } else {
        format!("{base}-{n}")
    }
}

/// The whole form.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanForm {
    pub name: String,
    pub cases: BTreeSet<String>,
    pub repeats: String,
    /// Blank: MedSP1000's 12.
    pub turn_limit: String,
    pub concurrency: String,
    pub players: Vec<PlayerForm>,
    /// Score the judge items with the judge in Settings.
    pub judge: bool,
    /// Voice the patient with the patient model in Settings.
    pub patient: bool,
}

impl PlanForm {
    pub fn new(settings: &Settings) -> PlanForm {
        PlanForm {
            name: "Evaluation".into(),
            cases: BTreeSet::new(),
            repeats: "1".into(),
            turn_limit: String::new(),
            concurrency: "2".into(),
            players: settings
                .clinician
                .is_some()
                .then(|| PlayerForm::new(Role::Clinician, settings, 1))
                .into_iter()
                .collect(),
            judge: false,
            patient: false,
        }
    }
}

/// An endpoint from a Settings provider (its key stays in Settings).
pub fn endpoint_from(label: &str, s: &ProviderSettings) -> Endpoint {
    Endpoint {
        label: label.to_string(),
        provider: s.kind,
        base_url: s.base().to_string(),
        model: s.model.trim().to_string(),
        key_env: None,
        temperature: Some(s.temperature),
        max_tokens: Some(s.max_tokens),
        timeout_s: Some(s.timeout_s),
        price: None,
        seed: match s.seed {
            Some(seed) => SeedPolicy::PerRepeat { base: seed },
            None => SeedPolicy::None,
        },
        strategy: Strategy::Single,
    }
}

/// `text` as a number, or a problem at `path`.
fn number(text: &str, path: String, what: &str, problems: &mut Vec<Diagnostic>) -> Option<f64> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            problems.push(Diagnostic::new(
                path,
                format!("`{t}` is not a number"),
                what,
            ));
            None
        }
    }
}

/// The plan the form describes, or every problem, each with the field it is about (`$.name`,
/// `players[1].temperature`…).
pub fn plan_from_form(form: &PlanForm, settings: &Settings) -> Result<Plan, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let p = &mut problems;
    let repeats = number(&form.repeats, "repeats".into(), "1 to 100", p).unwrap_or(1.0);
    let concurrency =
        number(&form.concurrency, "concurrency".into(), "1 or more", p).unwrap_or(2.0);
    let turn_limit = if form.turn_limit.trim().is_empty() {
        None
    } else {
        number(
            &form.turn_limit,
            "turn_limit".into(),
            "leave blank for 12",
            p,
        )
        .map(|v| v as u32)
    };
    let mut players = Vec::new();
    for (i, row) in form.players.iter().enumerate() {
        let path = |f: &str| format!("players[{i}].{f}");
        let temperature = number(&row.temperature, path("temperature"), "0 to 2", p);
        let n = number(&row.best_of, path("best_of"), "1 for one call per turn", p).unwrap_or(1.0);
        let candidates_t = number(
            &row.best_of_temperature,
            path("best_of_temperature"),
            "0 to 2",
            p,
        );
        let priced = !(row.price_in.trim().is_empty() && row.price_out.trim().is_empty());
        let price_in = priced
            .then(|| number(&row.price_in, path("price_in"), "per million tokens", p))
            .flatten();
        let price_out = priced
            .then(|| number(&row.price_out, path("price_out"), "per million tokens", p))
            .flatten();
        let Some(s) = settings.role(row.provider) else {
            p.push(Diagnostic::new(
                path("provider"),
                format!("no {} provider in Settings", row.provider.label()),
                "set it up in Settings, or choose another",
            ));
            continue;
        };
        let mut e = endpoint_from(row.label.trim(), s);
        if !row.model.trim().is_empty() {
            e.model = row.model.trim().to_string();
        }
        if let Some(t) = temperature {
            e.temperature = Some(t);
        }
        if row.static_play && n > 1.0 {
            p.push(Diagnostic::new(
                path("best_of"),
                "a static play is one call: it has no candidates per turn",
                "1, or untick static",
            ));
        } else if row.static_play {
            e.strategy = Strategy::Static;
        } else if n > 1.0 {
            e.strategy = Strategy::BestOf {
                n: n as u32,
                temperature: candidates_t.unwrap_or(1.0),
            };
        }
        if let (Some(i), Some(o)) = (price_in, price_out) {
            e.price = Some(Price {
                input_per_million: i,
                output_per_million: o,
                cached_input_per_million: None,
            });
        }
        players.push(e);
    }
    let role = |on: bool, role: Role, label: &str, problems: &mut Vec<Diagnostic>| {
        if !on {
            return None;
        }
        match settings.role(role) {
            Some(s) => Some(endpoint_from(label, s)),
            None => {
                problems.push(Diagnostic::new(
                    role.label(),
                    format!("no {} provider in Settings", role.label()),
                    "set it up in Settings, or untick it",
                ));
                None
            }
        }
    };
    let judge = role(form.judge, Role::Judge, "judge", p);
    let patient = role(form.patient, Role::Patient, "patient", p);
    let plan = Plan {
        json_schema: None,
        format: PLAN_FORMAT.into(),
        format_version: PLAN_FORMAT_VERSION,
        name: form.name.trim().to_string(),
        players,
        cases: form.cases.iter().cloned().collect(),
        repeats: repeats as u32,
        judges: judge.into_iter().collect(),
        patient,
        turn_limit,
        concurrency: Some(concurrency as u32),
    };
    problems.extend(plan.check(Context::Browser).into_iter().map(|mut d| {
        d.path = d.path.trim_start_matches("$.").to_string();
        d
    }));
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// A plan file (the CLI's format) read for the browser: every error of the file, then the
/// browser's own rules: cases are library ids (a case file must be imported in the library
/// first), and endpoints must be reachable from the page. Keys are never read from a plan:
/// they come from Settings, by address, when the run starts.
pub fn plan_from_file(
    source: &str,
    text: &str,
    library: &Library,
) -> Result<Plan, Vec<Diagnostic>> {
    let plan = Plan::parse(source, text).map_err(|d| d.items)?;
    let mut problems = plan.check(Context::Browser);
    for (i, c) in plan.cases.iter().enumerate() {
        if library.get(c.trim()).is_none() {
            problems.push(Diagnostic::new(
                format!("$.cases[{i}]"),
                format!("no case `{c}` in this browser's library"),
                "use a case id from the library; import a case file there first",
            ));
        }
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// The key and extra headers of the Settings provider at an endpoint's address (same kind and
/// base URL); none when Settings has none there.
pub fn secrets_for(e: &Endpoint, settings: &Settings) -> Secrets {
    provider_at(e, settings)
        .map(|s| Secrets {
            key: s.key.clone(),
            extra_headers: s.extra_headers.clone(),
        })
        .unwrap_or_default()
}

/// The Settings provider at an endpoint's address: the same kind and base URL.
fn provider_at<'a>(e: &Endpoint, settings: &'a Settings) -> Option<&'a ProviderSettings> {
    let base = e.settings(0.0).base().to_string();
    Role::ALL
        .into_iter()
        .filter_map(|r| settings.role(r))
        .find(|s| s.kind == e.provider && s.base() == base)
}

/// Endpoints Settings cannot call as the plan says: no provider at that address (Settings
/// changed since the plan was made), or a remote one without a key (a key kept only in memory
/// is gone after a reload). One line each; the run does not start until they are fixed.
pub fn missing_keys(plan: &Plan, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    for (_, e) in plan.endpoints() {
        let base = e.settings(0.0).base().to_string();
        let provider = provider_at(e, settings);
        let local = url_host(&base).is_some_and(is_loopback_host);
        match provider {
            None => out.push(format!(
                "{}: no provider at {base} in Settings (set one up there)",
                e.label
            )),
            Some(p) if p.key.is_empty() && !local => out.push(format!(
                "{}: no key for {base} in Settings (enter it there; a key kept only in memory is gone after a reload)",
                e.label
            )),
            Some(_) => {}
        }
    }
    out
}

/// The saved encounter's id of a run's job.
pub fn encounter_id(run: &str, job: &str) -> String {
    format!("{run}.{job}")
}

/// A finished job as a normal saved encounter, tagged with its run, job and player (it shows in
/// the history and opens in the debrief). `None` for a failed job: it is never an encounter.
pub fn saved_from_job(record: &JobRecord, library: &Library) -> Option<SavedEncounter> {
    let export = record.export.as_ref()?;
    let app = export.app.as_ref();
    let field = |k: &str| app.and_then(|a| a.get(k)).cloned().unwrap_or_default();
    let case_json = library
        .get(&record.tag.case)
        .filter(|c| c.origin == Origin::Imported)
        .map(|c| c.json.to_string());
    let mut job = record.clone();
    job.export = None;
    Some(SavedEncounter {
        id: encounter_id(&record.tag.run, &record.tag.job),
        case_id: export.case.id.clone(),
        case_title: export.case.title.clone(),
        case_version: export.case.version.clone(),
        case_json,
        config: export.record.config.clone(),
        inputs: export.record.inputs.clone(),
        started_ms: record.started_ms as f64,
        updated_ms: record.finished_ms as f64,
        sim_time_s: export.record.state.now_s,
        ended: export.record.state.ended.as_ref().map(|e| e.reason),
        judge: record.judges.iter().find_map(|j| j.run.clone()),
        overrides: Vec::new(),
        exchanges: serde_json::from_value(field("llm_exchanges")).unwrap_or_default(),
        voiced: serde_json::from_value(field("voiced_lines")).unwrap_or_default(),
        patient_voice: record.provenance.patient.clone(),
        seen_results: BTreeSet::new(),
        job: Some(job),
    })
}

/// The encounters of run `run` among `saved`.
pub fn run_encounters<'a>(run: &str, saved: &'a [SavedEncounter]) -> Vec<&'a SavedEncounter> {
    saved
        .iter()
        .filter(|s| s.job.as_ref().is_some_and(|j| j.tag.run == run))
        .collect()
}

/// What the tallies need of a stored job: its tag, usage and latencies as recorded, and its
/// scores as the stored encounter scores now (with its judge and any educator overrides).
/// `Err` when the encounter no longer replays (shown, not counted).
pub fn summary_of(
    saved: &SavedEncounter,
    library: &Library,
    catalog: Arc<Catalog>,
) -> Result<JobSummary, String> {
    let job = saved.job.as_ref().ok_or("not an evaluation job")?;
    let session = Session::resume(saved.clone(), library, catalog).map_err(|e| e.to_string())?;
    Ok(JobSummary {
        tag: job.tag.clone(),
        outcome: job.outcome.clone(),
        scores: matches!(job.outcome, JobOutcome::Finished { .. })
            .then(|| scorecard(&session).scores()),
        usage: job.usage.clone(),
        latencies_ms: job.latencies_ms.clone(),
        judge_errors: job.judge_errors(),
    })
}

/// A new run's id from the wall clock and a random number.
pub fn run_id(now_ms: f64, random: u64) -> String {
    format!("run-{:x}-{:04x}", now_ms as u64, random & 0xffff)
}
