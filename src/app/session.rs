//! A played encounter as the app keeps it: the engine's [`Encounter`] plus the saved form
//! ([`SavedEncounter`]: the inputs, enough to replay it exactly, and what the history lists).
//!
//! How the trainee's actions become engine inputs:
//! - a message from the speak box is one `Input::Turn` with that speech and no actions;
//! - an order (a picked suggestion or free text) is placed at once as one `Input::Turn` with
//!   empty speech and that single action, so it shows in the inbox as soon as it is placed;
//! - "done with this stage" is a turn with empty speech and `eos`;
//! - "wait N minutes" is `Input::Wait`, and the end form is `Input::End`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::catalog::Catalog;
use crate::engine::encounter::{
    Clinician, Config, Encounter, EndForm, EndReason, Input, InputError, Turn,
};
use crate::engine::load::load_case;
use crate::engine::score::{JudgeRun, Override};
use crate::llm::roles::LlmExchange;

use super::library::{Library, LibraryCase, Origin};

/// An encounter as stored in the browser (IndexedDB): enough to replay it, plus a summary for
/// the history page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedEncounter {
    pub id: String,
    pub case_id: String,
    pub case_title: String,
    pub case_version: String,
    /// The case file of an imported case, so the encounter replays even if the import is
    /// deleted or replaced. None for built-in cases (found again by id).
    #[serde(default)]
    pub case_json: Option<String>,
    pub config: Config,
    pub inputs: Vec<Input>,
    /// Wall-clock milliseconds since the Unix epoch.
    pub started_ms: f64,
    pub updated_ms: f64,
    /// Summary of the state after the last input.
    pub sim_time_s: u32,
    pub ended: Option<EndReason>,
    /// The judge run that scored the rubric's judge items, once one succeeded.
    #[serde(default)]
    pub judge: Option<JudgeRun>,
    /// Educator overrides, in the order made (the audit trail; the last per item wins).
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// Every LLM call made for this encounter (patient voice, clinician, judge): endpoint,
    /// model, prompt, raw reply or error. Never a key.
    #[serde(default)]
    pub exchanges: Vec<LlmExchange>,
    /// Patient-side lines a model voiced, by the log entry (`seq`) they replace. The engine's
    /// scripted line still decides what was elicited.
    #[serde(default)]
    pub voiced: BTreeMap<u32, String>,
    /// Who voiced the patient: "scripted", or the model's description (no key).
    #[serde(default = "scripted")]
    pub patient_voice: String,
    /// Returned results the trainee has seen (by order seq); the others show as new, also
    /// after a reload.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub seen_results: BTreeSet<u32>,
}

fn scripted() -> String {
    "scripted".to_string()
}

/// Why a saved encounter cannot be reopened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeError {
    /// The built-in case is not in this version of the app.
    CaseMissing(String),
    /// The stored case file no longer validates.
    CaseInvalid(String),
    /// Replaying input `index` was refused.
    Replay { index: usize, error: String },
}

impl std::fmt::Display for ResumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeError::CaseMissing(id) => {
                write!(f, "the case `{id}` is not in this version of Bedside")
            }
            ResumeError::CaseInvalid(d) => write!(f, "the saved case no longer loads: {d}"),
            ResumeError::Replay { index, error } => {
                write!(f, "replaying input {} failed: {error}", index + 1)
            }
        }
    }
}

/// A running (or finished) encounter and its saved form, kept in step.
#[derive(Debug, Clone)]
pub struct Session {
    pub encounter: Encounter,
    pub saved: SavedEncounter,
}

impl Session {
    /// Starts a new encounter on a library case.
    pub fn start(
        case: &LibraryCase,
        catalog: Arc<Catalog>,
        config: Config,
        id: String,
        now_ms: f64,
    ) -> Session {
        let encounter = Encounter::new(case.case.clone(), catalog, config.clone());
        let saved = SavedEncounter {
            id,
            case_id: case.case.meta.id.clone(),
            case_title: case.case.meta.title.clone(),
            case_version: case.case.meta.version.clone(),
            case_json: (case.origin == Origin::Imported).then(|| case.json.to_string()),
            config,
            inputs: Vec::new(),
            started_ms: now_ms,
            updated_ms: now_ms,
            sim_time_s: encounter.state().now_s,
            ended: None,
            judge: None,
            overrides: Vec::new(),
            exchanges: Vec::new(),
            voiced: BTreeMap::new(),
            patient_voice: scripted(),
            seen_results: BTreeSet::new(),
        };
        Session { encounter, saved }
    }

    /// Rebuilds a saved encounter by replaying its inputs.
    pub fn resume(
        saved: SavedEncounter,
        library: &Library,
        catalog: Arc<Catalog>,
    ) -> Result<Session, ResumeError> {
        let case = match &saved.case_json {
            Some(json) => Arc::new(
                load_case(&saved.case_id, json, &catalog)
                    .map_err(|d| ResumeError::CaseInvalid(d.to_string()))?,
            ),
            None => library
                .get(&saved.case_id)
                .filter(|c| c.origin == Origin::BuiltIn)
                .map(|c| c.case.clone())
                .ok_or_else(|| ResumeError::CaseMissing(saved.case_id.clone()))?,
        };
        let encounter = Encounter::replay(case, catalog, saved.config.clone(), &saved.inputs)
            .map_err(|(index, e)| ResumeError::Replay {
                index,
                error: e.to_string(),
            })?;
        Ok(Session { encounter, saved })
    }

    /// Applies one input; on success the saved form is updated (its caller then stores it) and
    /// the number of new log entries is returned. A refused input changes nothing.
    pub fn apply(&mut self, input: Input, now_ms: f64) -> Result<usize, InputError> {
        let n = self.encounter.apply(input.clone())?.len();
        self.saved.inputs.push(input);
        self.saved.updated_ms = now_ms;
        self.saved.sim_time_s = self.encounter.state().now_s;
        self.saved.ended = self.encounter.state().ended.as_ref().map(|e| e.reason);
        Ok(n)
    }

    pub fn is_ended(&self) -> bool {
        self.encounter.is_ended()
    }
}

/// A message from the speak box.
pub fn speak(text: &str) -> Option<Input> {
    let text = text.trim();
    (!text.is_empty()).then(|| {
        Input::Turn(Turn {
            speak: text.to_string(),
            actions: vec![],
            eos: false,
        })
    })
}

/// One order, placed at once.
pub fn order(text: &str) -> Option<Input> {
    let text = text.trim();
    (!text.is_empty()).then(|| {
        Input::Turn(Turn {
            speak: String::new(),
            actions: vec![text.to_string()],
            eos: false,
        })
    })
}

/// Cancel a pending order or stop a running one (by its action number).
pub fn cancel(action: u32) -> Input {
    Input::Cancel { action }
}

/// "Done with this stage".
pub fn stage_done() -> Input {
    Input::Turn(Turn {
        speak: String::new(),
        actions: vec![],
        eos: true,
    })
}

/// The end form as typed: differential one per line (or separated by semicolons).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndFormDraft {
    pub diagnosis: String,
    pub differential: String,
    pub plan: String,
    /// A disposition order's name, or empty for none.
    pub disposition: String,
}

impl EndFormDraft {
    pub fn to_input(&self) -> Result<Input, String> {
        let diagnosis = self.diagnosis.trim();
        if diagnosis.is_empty() {
            return Err("Enter a final diagnosis before ending the encounter.".into());
        }
        let disposition = self.disposition.trim();
        Ok(Input::End(EndForm {
            diagnosis: diagnosis.to_string(),
            differential: self
                .differential
                .split(['\n', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            plan: self.plan.trim().to_string(),
            disposition: (!disposition.is_empty()).then(|| disposition.to_string()),
        }))
    }
}

/// Who played the clinician, for the history page.
pub fn who_label(config: &Config) -> String {
    match &config.clinician {
        Clinician::Human => "Human".into(),
        Clinician::Model { provider, model } => format!("Model: {model} ({provider})"),
    }
}

/// One row of the history page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: String,
    pub case_title: String,
    pub date: String,
    pub who: String,
    pub status: String,
    pub ended: bool,
    pub sim_time: String,
    /// "33% · 5/15 items · points 33%" (see `app::results::score_label`); "—" until filled.
    pub scores: String,
}

/// The history in two lists, newest first: encounters still in progress, and finished ones.
/// Scores belong to the finished ones only (an unfinished encounter has no score yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySections {
    pub in_progress: Vec<HistoryRow>,
    pub finished: Vec<HistoryRow>,
}

pub fn history_sections(saved: &[SavedEncounter]) -> HistorySections {
    let (finished, in_progress) = history_rows(saved).into_iter().partition(|r| r.ended);
    HistorySections {
        in_progress,
        finished,
    }
}

/// The unfinished encounter of `case_id` to offer when the trainee starts that case again:
/// the one last touched, if any. A model's encounters are not offered to a trainee.
pub fn open_encounter_for<'a>(
    saved: &'a [SavedEncounter],
    case_id: &str,
) -> Option<&'a SavedEncounter> {
    saved
        .iter()
        .filter(|s| s.case_id == case_id && s.ended.is_none())
        .filter(|s| s.config.clinician == Clinician::Human)
        .max_by(|a, b| a.updated_ms.total_cmp(&b.updated_ms))
}

/// What the Resume-or-New choice says about an open encounter: "started 2026-11-24 20:15 UTC,
/// at 6:00 of simulated time, 4 inputs".
pub fn open_encounter_summary(s: &SavedEncounter, date: &str) -> String {
    let n = s.inputs.len();
    format!(
        "started {date}, at {} of simulated time, {n} input{}",
        super::labels::clock_label(s.sim_time_s),
        if n == 1 { "" } else { "s" }
    )
}

/// The ids chosen for deletion that are still listed (a row deleted elsewhere drops out).
pub fn selected_ids(
    selected: &std::collections::BTreeSet<String>,
    rows: &HistorySections,
) -> Vec<String> {
    rows.in_progress
        .iter()
        .chain(&rows.finished)
        .filter(|r| selected.contains(&r.id))
        .map(|r| r.id.clone())
        .collect()
}

pub fn history_rows(saved: &[SavedEncounter]) -> Vec<HistoryRow> {
    let mut rows: Vec<&SavedEncounter> = saved.iter().collect();
    rows.sort_by(|a, b| b.started_ms.total_cmp(&a.started_ms));
    rows.into_iter()
        .map(|s| HistoryRow {
            id: s.id.clone(),
            case_title: s.case_title.clone(),
            date: date_label(s.started_ms),
            who: who_label(&s.config),
            status: match s.ended {
                Some(r) => format!("Ended: {}", super::labels::end_reason_label(r)),
                None => "In progress".into(),
            },
            ended: s.ended.is_some(),
            sim_time: super::labels::clock_label(s.sim_time_s),
            scores: "—".into(),
        })
        .collect()
}

/// "2026-11-24 20:15 UTC" from epoch milliseconds.
pub fn date_label(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "unknown date".into();
    }
    let secs = (ms / 1000.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A new encounter id from the wall clock and a random number (both from the browser).
pub fn new_id(now_ms: f64, random: f64) -> String {
    let r = (random.clamp(0.0, 1.0) * 1_000_000.0) as u64;
    format!("enc-{}-{r:06}", now_ms.max(0.0) as u64)
}
