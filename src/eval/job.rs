//! One job of a run: resolving it from the plan (settings, seed, strategy), playing it
//! through the one driver, and the record it leaves (`bedside.job`): the encounter export
//! with every exchange, what reproduces it, its usage, and each judge's separate verdicts.
//! A failed job's record says why and carries no score: it is never a score of 0.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::plan::{Endpoint, Job, Plan, JUDGE_TEMPERATURE};
use crate::app::labels::iso_utc;
use crate::app::settings::model_label;
use crate::engine::case::Case;
use crate::engine::catalog::Catalog;
use crate::engine::encounter::{Encounter, EndReason};
use crate::engine::export::{EncounterExport, Roles};
use crate::engine::score::{score_named, JudgeRun, Scores};
use crate::llm::client::{Client, UsageTotals};
use crate::llm::driver::{Driver, Observer, PlayConfig, PlayState, Players, Strategy};
use crate::llm::roles;
use crate::llm::settings::{ApiKey, ProviderKind, ProviderSettings, Role};
use crate::llm::transport::{Cancel, Transport};

pub const JOB_FORMAT: &str = "bedside.job";
pub const JOB_FORMAT_VERSION: u32 = 1;

/// The engine's version, recorded with every job.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What ties an encounter to its run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTag {
    /// The plan's name.
    pub run: String,
    pub job: String,
    /// The player's label.
    pub player: String,
    pub case: String,
    pub repeat: u32,
}

/// Everything a job's result depends on besides the model's sampling: comparing two
/// provenances tells whether a finished job still answers the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub engine_version: String,
    pub case_version: String,
    /// SHA-256 of the case as the engine read it.
    pub case_hash: String,
    pub provider: ProviderKind,
    pub endpoint: String,
    pub model: String,
    pub strategy: Strategy,
    pub temperature: f64,
    pub max_tokens: u32,
    pub seed: Option<u64>,
    pub turn_limit: Option<u32>,
    /// The patient voice: "scripted" or a model's description.
    pub patient: String,
    /// The judges' labels and models.
    pub judges: Vec<String>,
    pub prompt_versions: BTreeMap<String, String>,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobOutcome {
    /// The encounter ended; it is scored.
    Finished { reason: EndReason, detail: String },
    /// The run could not finish the encounter (endpoint down, key refused, replies unusable
    /// after retries): no score, retried on request.
    Failed { error: String },
}

/// One judge's separate verdicts on a finished job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeResult {
    pub label: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<JudgeRun>,
    /// The scores with this judge's verdicts (rules + this judge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    /// Why this judge scored nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job's record (`bedside.job`): one file per job in a CLI run folder, one saved encounter
/// in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub format: String,
    pub format_version: u32,
    pub tag: JobTag,
    pub provenance: Provenance,
    pub outcome: JobOutcome,
    /// Wall-clock milliseconds since the Unix epoch.
    pub started_ms: u64,
    pub finished_ms: u64,
    /// Model usage per role (calls, tokens, latency).
    pub usage: BTreeMap<Role, UsageTotals>,
    /// Latency of each successful clinician call, in order (for medians and percentiles).
    pub latencies_ms: Vec<u64>,
    pub judges: Vec<JudgeResult>,
    /// The encounter, scored with the first judge that answered (finished jobs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<EncounterExport>,
}

/// What progress, tallies and the index need of a record (a few hundred bytes, where the
/// record holds every prompt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub tag: JobTag,
    pub outcome: JobOutcome,
    /// The scores this job counts with: rules plus the first judge that answered; none for a
    /// failed job.
    pub scores: Option<Scores>,
    pub usage: BTreeMap<Role, UsageTotals>,
    pub latencies_ms: Vec<u64>,
    /// "label: why" for each judge that scored nothing (its items stay not scored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judge_errors: Vec<String>,
}

impl JobSummary {
    pub fn is_finished(&self) -> bool {
        matches!(self.outcome, JobOutcome::Finished { .. })
    }
}

impl JobRecord {
    pub fn is_finished(&self) -> bool {
        matches!(self.outcome, JobOutcome::Finished { .. })
    }

    /// The scores this job counts with: rules plus the first judge that answered; none for a
    /// failed job.
    pub fn scores(&self) -> Option<&Scores> {
        self.export.as_ref().map(|e| &e.scores)
    }

    pub fn summary(&self) -> JobSummary {
        JobSummary {
            tag: self.tag.clone(),
            outcome: self.outcome.clone(),
            scores: self.scores().cloned(),
            usage: self.usage.clone(),
            latencies_ms: self.latencies_ms.clone(),
            judge_errors: self.judge_errors(),
        }
    }

    /// "label: why" for each judge that scored nothing.
    pub fn judge_errors(&self) -> Vec<String> {
        self.judges
            .iter()
            .filter_map(|j| j.error.as_ref().map(|e| format!("{}: {e}", j.label)))
            .collect()
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a record back, refusing other formats and newer versions.
    pub fn from_json(text: &str) -> Result<JobRecord, String> {
        let r: JobRecord = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if r.format != JOB_FORMAT {
            return Err(format!("`{}` is not a job record", r.format));
        }
        if r.format_version > JOB_FORMAT_VERSION {
            return Err(format!(
                "format_version {} is newer than this build reads ({JOB_FORMAT_VERSION})",
                r.format_version
            ));
        }
        Ok(r)
    }
}

/// SHA-256 (hex) of the case as the engine holds it: the same for the same content, whatever
/// the file's spacing.
pub fn case_hash(case: &Case) -> String {
    let json = serde_json::to_string(case).unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a plan never holds: an endpoint's key and extra headers' values.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub key: ApiKey,
    pub extra_headers: Vec<(String, String)>,
}

/// A job resolved against its plan: the settings of every role (keys included, never
/// recorded), the run's config and what it will record.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub tag: JobTag,
    pub provenance: Provenance,
    pub players: Players,
    /// The judges by label (none: rules only).
    pub judges: Vec<(String, ProviderSettings)>,
    pub config: PlayConfig,
}

impl JobSpec {
    /// Resolves `job` of `plan` on `case`; `secrets` gives each endpoint's key and extra
    /// headers (the CLI reads the environment variable the plan names, the browser its
    /// Settings).
    pub fn new(
        plan: &Plan,
        job: &Job,
        case: &Case,
        secrets: &dyn Fn(&Endpoint) -> Secrets,
    ) -> Self {
        let player = &plan.players[job.player];
        let settings = |e: &Endpoint, temperature: f64, seed: Option<u64>| {
            let mut s = e.settings(temperature);
            let secrets = secrets(e);
            s.key = secrets.key;
            s.extra_headers = secrets.extra_headers;
            s.seed = seed;
            s
        };
        let seed = player.seed.seed(job.repeat);
        let clinician = settings(player, 0.7, seed);
        let patient = plan
            .patient
            .as_ref()
            .map(|p| settings(p, 0.7, p.seed.seed(job.repeat)));
        let judges: Vec<(String, ProviderSettings)> = plan
            .judges
            .iter()
            .map(|j| {
                (
                    j.label.clone(),
                    settings(j, JUDGE_TEMPERATURE, j.seed.seed(job.repeat)),
                )
            })
            .collect();
        let config = PlayConfig {
            turn_limit: plan.turn_limit,
            strategy: player.strategy.clone(),
            // Retry jitter differs per job, reproducibly.
            jitter_seed: seed.unwrap_or(0) ^ (job.index as u64).wrapping_mul(0x9E37_79B9),
            ..PlayConfig::default()
        };
        let provenance = Provenance {
            engine_version: ENGINE_VERSION.to_string(),
            case_version: case.meta.version.clone(),
            case_hash: case_hash(case),
            provider: clinician.kind,
            endpoint: clinician.base().to_string(),
            model: clinician.model.trim().to_string(),
            strategy: player.strategy.clone(),
            temperature: clinician.temperature,
            max_tokens: clinician.max_tokens,
            seed,
            // A static play is one turn long whatever the plan says.
            turn_limit: match player.strategy {
                crate::llm::driver::Strategy::Static => {
                    Some(crate::llm::static_play::STATIC_TURN_LIMIT)
                }
                _ => plan.turn_limit,
            },
            patient: patient
                .as_ref()
                .map(model_label)
                .unwrap_or_else(|| "scripted".into()),
            judges: judges
                .iter()
                .map(|(label, s)| format!("{label}: {}", model_label(s)))
                .collect(),
            prompt_versions: crate::llm::prompts::prompt_versions()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        JobSpec {
            tag: JobTag {
                run: plan.name.clone(),
                job: job.id.clone(),
                player: player.label.clone(),
                case: case.meta.id.clone(),
                repeat: job.repeat,
            },
            provenance,
            players: Players {
                clinician,
                patient,
                judge: None,
            },
            judges,
            config,
        }
    }

    /// Whether a finished record still answers this job: same case content, engine, model,
    /// endpoint and sampling. `Err` says what differs.
    pub fn answered_by(&self, record: &JobRecord) -> Result<(), String> {
        if record.tag.job != self.tag.job {
            return Err(format!("it is job {}", record.tag.job));
        }
        let (a, b) = (&record.provenance, &self.provenance);
        let differs = [
            ("engine version", a.engine_version != b.engine_version),
            ("case content", a.case_hash != b.case_hash),
            ("endpoint", a.endpoint != b.endpoint),
            ("model", a.model != b.model),
            ("provider", a.provider != b.provider),
            ("strategy", a.strategy != b.strategy),
            ("temperature", a.temperature != b.temperature),
            ("max tokens", a.max_tokens != b.max_tokens),
            ("seed", a.seed != b.seed),
            ("turn limit", a.turn_limit != b.turn_limit),
            ("patient voice", a.patient != b.patient),
            ("judges", a.judges != b.judges),
            ("prompt versions", a.prompt_versions != b.prompt_versions),
        ];
        let what: Vec<&str> = differs
            .iter()
            .filter(|(_, d)| *d)
            .map(|(name, _)| *name)
            .collect();
        if what.is_empty() {
            Ok(())
        } else {
            Err(format!("played with another {}", what.join(", ")))
        }
    }
}

/// Plays one job to its record: the clinician through the driver, then each judge on a
/// finished encounter. `None` when `cancel` stopped it (the job is still to do). `now_ms`
/// reads the wall clock (the caller's: the engine never does).
pub async fn play_job<T: Transport>(
    spec: &JobSpec,
    case: Arc<Case>,
    catalog: Arc<Catalog>,
    mut transport: impl FnMut() -> T,
    now_ms: &dyn Fn() -> u64,
    cancel: &Cancel,
    observer: &mut dyn Observer,
) -> Option<JobRecord> {
    let started_ms = now_ms();
    let driver = Driver::new(&spec.players, &spec.config, &mut transport);
    let encounter = Encounter::new(
        case.clone(),
        catalog,
        spec.config.encounter_config(&spec.players.clinician),
    );
    let play = driver
        .play(encounter, BTreeMap::new(), cancel, observer)
        .await;
    let mut exchanges = play.exchanges;
    let outcome = match play.state {
        PlayState::Finished { reason, detail } => JobOutcome::Finished { reason, detail },
        PlayState::Failed(e) => JobOutcome::Failed {
            error: e.to_string(),
        },
        PlayState::Stopped | PlayState::Paused => return None,
    };
    let record = play.encounter.record();
    let mut judges = Vec::new();
    // A static play's judge items are not applicable: the panel is not called.
    if matches!(outcome, JobOutcome::Finished { .. })
        && !crate::llm::prompts::judge_items(&case).is_empty()
        && !record.state.vignette
    {
        for (i, (label, settings)) in spec.judges.iter().enumerate() {
            let mut client = Client::new(
                transport(),
                settings.clone(),
                spec.config.jitter_seed.wrapping_add(3 + i as u64),
            );
            client.retry = spec.config.retry.clone();
            let (result, calls) =
                roles::score_with_judge(&client, &case, record, &play.voiced, cancel).await;
            if cancel.is_cancelled() {
                return None;
            }
            for x in &calls {
                observer.exchange(x);
            }
            exchanges.extend(calls);
            let (run, error) = match result {
                Ok(run) => (Some(run), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let scores = run.as_ref().map(|r| {
                score_named(
                    &case,
                    Some(play.encounter.catalog()),
                    &record.state,
                    Some(r),
                    &[],
                )
                .scores()
            });
            judges.push(JudgeResult {
                label: label.clone(),
                model: model_label(settings),
                run,
                scores,
                error,
            });
        }
    }
    let finished_ms = now_ms();
    let export = matches!(outcome, JobOutcome::Finished { .. }).then(|| {
        let judge = judges.iter().find_map(|j| j.run.as_ref());
        let card = score_named(
            &case,
            Some(play.encounter.catalog()),
            &record.state,
            judge,
            &[],
        );
        let roles = Roles::from_record(
            record,
            &spec.provenance.patient,
            judge.map(|j| j.model.as_str()),
        );
        let mut export = EncounterExport::new(
            &spec.tag.job,
            &iso_utc(finished_ms as f64),
            &case,
            roles,
            record,
            &card,
        );
        export.app = Some(roles::export_record(&exchanges, &play.voiced));
        export
    });
    Some(JobRecord {
        format: JOB_FORMAT.to_string(),
        format_version: JOB_FORMAT_VERSION,
        tag: spec.tag.clone(),
        provenance: spec.provenance.clone(),
        outcome,
        started_ms,
        finished_ms,
        usage: roles::usage_by_role(&exchanges),
        latencies_ms: exchanges
            .iter()
            .filter(|x| x.role == Role::Clinician)
            .filter_map(|x| x.completion.as_ref().map(|c| c.latency_ms))
            .collect(),
        judges,
        export,
    })
}
