//! An evaluation plan: model players × cases × repeats, judged by none, one or a panel of
//! judges. The same JSON file drives the browser's Evaluate page and `bedside-cli run`
//! (`assets/plan.schema.json` is its JSON Schema). A plan never holds a key: each endpoint
//! names the environment variable the CLI reads it from (the browser takes keys from Settings).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::validate::{parse_value, typed, Diagnostic, Diagnostics};
use crate::llm::driver::Strategy;
use crate::llm::settings::{Context, Field, ProviderKind, ProviderSettings};

pub const PLAN_FORMAT: &str = "bedside.plan";
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// Most repeats of one (player, case): more is a different study, not a repeat.
pub const MAX_REPEATS: u32 = 100;

/// In-flight jobs per endpoint when the plan does not say.
pub const DEFAULT_CONCURRENCY: u32 = 2;

/// An evaluation plan (`bedside.plan`, version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// JSON Schema of this file (for editors); ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// Always "bedside.plan".
    pub format: String,
    pub format_version: u32,
    /// What this run is for, shown in progress and reports.
    pub name: String,
    /// The model players (1 or more), each a model configuration with a unique label.
    pub players: Vec<Player>,
    /// The cases: a built-in case id (`stemi-inferior`), or in the CLI a path to a case file
    /// ending in `.json`, relative to the plan file.
    pub cases: Vec<String>,
    /// Encounters per (player, case), 1–100.
    #[serde(default = "one")]
    pub repeats: u32,
    /// Judges of the rubric's judge items, each scoring separately; none: rules only.
    #[serde(default)]
    pub judges: Vec<Endpoint>,
    /// A model voicing the patient side (the engine still decides what is elicited); none:
    /// the case's scripted lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Endpoint>,
    /// The encounter's turn limit; none: MedSP1000's 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_limit: Option<u32>,
    /// Jobs in flight at once per endpoint (base URL); none: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

fn one() -> u32 {
    1
}

/// A model configuration: who to call, how to sample, and (for a player) how to play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A short unique name: letters, digits, `.`, `-`, `_` (it names result files).
    pub label: String,
    /// "open_ai" (any OpenAI-compatible server) or "anthropic".
    #[schemars(with = "String")]
    pub provider: ProviderKind,
    /// E.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (CLI); none: no key (local servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// Sampling temperature; none: 0.7 for players and the patient, 0 for judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u32>,
    /// Price per million tokens, for the cost estimate; none: cost not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// Which seed each job sends; default `per_repeat` from 0.
    #[serde(default)]
    pub seed: SeedPolicy,
    /// How a player makes each turn (judges and the patient voice: `single` only).
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub strategy: Strategy,
}

/// A model player is a model configuration.
pub type Player = Endpoint;

/// US dollars (or any currency, consistently) per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_million: f64,
    pub output_per_million: f64,
    /// Cached input tokens' price, where the provider discounts them; none: the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_million: Option<f64>,
}

impl Price {
    /// The cost of this many tokens.
    pub fn cost(&self, input: u64, cached_input: u64, output: u64) -> f64 {
        let cached = cached_input.min(input);
        let fresh = (input - cached) as f64;
        let cached_price = self
            .cached_input_per_million
            .unwrap_or(self.input_per_million);
        (fresh * self.input_per_million
            + cached as f64 * cached_price
            + output as f64 * self.output_per_million)
            / 1e6
    }
}

/// Which seed each job sends (OpenAI-compatible servers take one; Anthropic has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeedPolicy {
    /// No seed sent.
    None,
    /// The same seed for every job of this player.
    Fixed { seed: u64 },
    /// `base + repeat` (repeats counted from 1): repeats differ, re-runs reproduce.
    PerRepeat { base: u64 },
}

impl Default for SeedPolicy {
    fn default() -> Self {
        SeedPolicy::PerRepeat { base: 0 }
    }
}

impl SeedPolicy {
    pub fn seed(self, repeat: u32) -> Option<u64> {
        match self {
            SeedPolicy::None => None,
            SeedPolicy::Fixed { seed } => Some(seed),
            SeedPolicy::PerRepeat { base } => Some(base.wrapping_add(u64::from(repeat))),
        }
    }
}

/// Default temperature of a judge: its verdicts should not be a lottery.
pub const JUDGE_TEMPERATURE: f64 = 0.0;

impl Endpoint {
    /// The provider settings this endpoint describes, without a key (the runner adds it),
    /// with `temperature` when the endpoint sets none.
    pub fn settings(&self, default_temperature: f64) -> ProviderSettings {
        let mut s = ProviderSettings::new(self.provider, &self.base_url, &self.model);
        s.temperature = self.temperature.unwrap_or(default_temperature);
        if let Some(n) = self.max_tokens {
            s.max_tokens = n;
        }
        if let Some(t) = self.timeout_s {
            s.timeout_s = t;
        }
        s
    }
}

/// One job: a (player, case, repeat) of the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Job {
    /// `<case>--<player>--r<repeat>`: unique within the plan, safe as a file name.
    pub id: String,
    /// Position in the plan's job list (repeat-major, then case, then player).
    pub index: usize,
    pub player: usize,
    pub case: usize,
    /// Counted from 1.
    pub repeat: u32,
}

/// `--shard I/N`: the jobs whose index is `I - 1` modulo `N` (a deterministic, balanced share).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Counted from 1.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses "I/N" with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write I/N with 1 ≤ I ≤ N, e.g. 2/8");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn holds(self, job: &Job) -> bool {
        job.index % self.count as usize == (self.index - 1) as usize
    }
}

impl Plan {
    /// Reads a plan: JSON syntax, shape (every error with its path), then the checks of
    /// [`Plan::check`]. `source` names the file in the errors.
    pub fn parse(source: &str, json: &str) -> Result<Plan, Diagnostics> {
        let value = parse_value(source, json)?;
        let mut diags = Diagnostics::new(source);
        let plan: Option<Plan> = typed(&value, "$", &mut diags);
        let plan = plan.ok_or(diags)?;
        let problems = plan.check(Context::Native);
        if problems.is_empty() {
            Ok(plan)
        } else {
            let mut diags = Diagnostics::new(source);
            for d in problems {
                diags.push(d);
            }
            Err(diags)
        }
    }

    /// Everything wrong with a well-formed plan, each with its path. Keys are not checked
    /// here: they come from the environment (CLI) or Settings (browser) when the run starts.
    pub fn check(&self, context: Context) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut err = |path: String, message: String, hint: &str| {
            out.push(Diagnostic::new(path, message, hint))
        };
        if self.format != PLAN_FORMAT {
            err(
                "$.format".into(),
                format!("`{}` is not a plan", self.format),
                "a plan starts with \"format\": \"bedside.plan\"",
            );
        }
        if self.format_version == 0 || self.format_version > PLAN_FORMAT_VERSION {
            err(
                "$.format_version".into(),
                format!(
                    "version {} is not one this build reads",
                    self.format_version
                ),
                "this build reads version 1",
            );
        }
        if self.name.trim().is_empty() {
            err(
                "$.name".into(),
                "the plan has no name".into(),
                "name what the run is for",
            );
        }
        if self.players.is_empty() {
            err(
                "$.players".into(),
                "no players".into(),
                "add at least one model configuration",
            );
        }
        if self.cases.is_empty() {
            err(
                "$.cases".into(),
                "no cases".into(),
                "list case ids or case files",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.cases.iter().enumerate() {
            if c.trim().is_empty() {
                err(
                    format!("$.cases[{i}]"),
                    "empty case".into(),
                    "a built-in case id or a path to a case file",
                );
            } else if !seen.insert(c.trim()) {
                err(
                    format!("$.cases[{i}]"),
                    format!("`{c}` is listed twice"),
                    "use `repeats` to play a case more than once",
                );
            }
        }
        if self.repeats == 0 || self.repeats > MAX_REPEATS {
            err(
                "$.repeats".into(),
                format!("{} repeats", self.repeats),
                "between 1 and 100",
            );
        }
        if self.concurrency == Some(0) {
            err(
                "$.concurrency".into(),
                "a concurrency of 0 runs nothing".into(),
                "1 or more jobs at once per endpoint",
            );
        }
        if self.turn_limit == Some(0) {
            err(
                "$.turn_limit".into(),
                "a turn limit of 0 leaves no turn".into(),
                "leave it out for MedSP1000's 12",
            );
        }
        // Labels are unique within each list (players, judges).
        let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, e) in self.endpoints() {
            let list = path.split('[').next().unwrap_or(&path).to_string();
            check_endpoint(e, &path, context, labels.entry(list).or_default(), &mut out);
            let player = path.starts_with("$.players[");
            match e.strategy.validate() {
                Err(m) if player => out.push(Diagnostic::new(
                    format!("{path}.strategy"),
                    m,
                    "{\"kind\": \"single\"} or {\"kind\": \"best_of\", \"n\": 4, \"temperature\": 1.0}",
                )),
                _ if !player && e.strategy != Strategy::Single => out.push(Diagnostic::new(
                    format!("{path}.strategy"),
                    "only a player has a strategy",
                    "leave `strategy` out here",
                )),
                _ => {}
            }
        }
        out
    }

    /// Every endpoint with its path in the plan: the players, the judges, then the patient
    /// voice.
    pub fn endpoints(&self) -> Vec<(String, &Endpoint)> {
        let players = self.players.iter().enumerate();
        let judges = self.judges.iter().enumerate();
        players
            .map(|(i, p)| (format!("$.players[{i}]"), p))
            .chain(judges.map(|(i, j)| (format!("$.judges[{i}]"), j)))
            .chain(self.patient.iter().map(|p| ("$.patient".to_string(), p)))
            .collect()
    }

    /// Every job, in order: repeat-major, then case, then player, so that a run stopped half
    /// way has played every player on the same cases.
    pub fn jobs(&self, case_ids: &[String]) -> Vec<Job> {
        let mut jobs = Vec::new();
        for repeat in 1..=self.repeats {
            for (case, case_id) in case_ids.iter().enumerate() {
                for (player, p) in self.players.iter().enumerate() {
                    jobs.push(Job {
                        id: format!("{case_id}--{}--r{repeat}", p.label),
                        index: jobs.len(),
                        player,
                        case,
                        repeat,
                    });
                }
            }
        }
        jobs
    }

    pub fn concurrency(&self) -> u32 {
        self.concurrency.unwrap_or(DEFAULT_CONCURRENCY)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A label names files: short, plain, unique.
fn label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("the label is empty".into());
    }
    if label.len() > 64 {
        return Some(format!("the label is {} characters long", label.len()));
    }
    if label.starts_with('.') || label.contains("--") {
        return Some(format!("`{label}` cannot start with `.` or contain `--`"));
    }
    let bad: String = label
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .collect();
    (!bad.is_empty()).then(|| format!("`{label}` has characters a file name cannot carry: {bad}"))
}

fn check_endpoint(
    e: &Endpoint,
    path: &str,
    context: Context,
    labels: &mut BTreeSet<String>,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(m) = label_problem(&e.label) {
        out.push(Diagnostic::new(
            format!("{path}.label"),
            m,
            "letters, digits, `.`, `-` and `_`, at most 64, e.g. gpt-4o-mini.bon4",
        ));
    } else if !labels.insert(e.label.clone()) {
        out.push(Diagnostic::new(
            format!("{path}.label"),
            format!("`{}` is used twice", e.label),
            "every label in a list is unique",
        ));
    }
    if let Some(var) = &e.key_env {
        let ok = !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            out.push(Diagnostic::new(
                format!("{path}.key_env"),
                format!("`{var}` is not an environment variable's name"),
                "letters, digits and `_`, e.g. OPENAI_API_KEY (the key itself never goes in a plan)",
            ));
        }
    }
    if let Some(price) = e.price {
        let prices = [
            ("input_per_million", Some(price.input_per_million)),
            ("output_per_million", Some(price.output_per_million)),
            ("cached_input_per_million", price.cached_input_per_million),
        ];
        for (name, v) in prices {
            if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                out.push(Diagnostic::new(
                    format!("{path}.price.{name}"),
                    "a price is a number of 0 or more".to_string(),
                    "per million tokens, e.g. 0.15",
                ));
            }
        }
    }
    if let Err(errors) = e.settings(0.0).validate(context) {
        for s in errors.into_iter().filter(|s| s.field != Field::Key) {
            out.push(Diagnostic::new(
                format!("{path}.{}", s.field),
                s.message,
                "as in Settings",
            ));
        }
    }
}

/// The JSON Schema of the plan format, as shipped in `assets/plan.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Plan);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
