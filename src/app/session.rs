//! A played encounter as the app keeps it: the engine's [`Encounter`] and what the app adds
//! to it (id, dates, model calls, voiced lines, judge run, overrides, results seen), with the
//! stored form ([`SavedEncounter`]: the inputs, enough to replay it exactly, and what the
//! history lists) built from them when it is saved.
//!
//! How the trainee's actions become engine inputs:
//! - a message from the speak box is one `Input::Turn` with that speech and no actions;
//! - an order (a picked suggestion or free text) is placed at once as one `Input::Turn` with
//!   empty speech and that single action, so it shows in the inbox as soon as it is placed;
//! - "done with this stage" is a turn with empty speech and `eos`;
//! - "wait N minutes" is `Input::Wait` (1 to [`MAX_WAIT_MIN`]), and the end form is
//!   `Input::End`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::catalog::Catalog;
use crate::engine::encounter::{Config, Encounter, EndForm, EndReason, Input, InputError, Turn};
use crate::engine::load::load_case;
use crate::engine::score::{check_judge, JudgeError, JudgeRun, Override, GROSS_OVERDOSE_ITEM};
use crate::eval::job::JobRecord;
use crate::llm::roles::{LlmExchange, VoicedLine};

use super::library::{Library, LibraryCase, Origin};

/// An encounter as stored in the browser (IndexedDB): enough to replay it, plus a summary for
/// the history page. Plain data: [`Session::saved`] writes it, [`Session::resume`] reads it.
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
    /// An evaluation run's job: its tag (run, job, player), provenance, outcome, usage and
    /// judges' verdicts; the encounter itself is this record (`export` is none here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobRecord>,
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

/// A running (or finished) encounter and what the app keeps with it. The inputs, the
/// configuration, the simulated time and the end live in the encounter only; the saved form
/// is built from them ([`Session::saved`]), so the two cannot disagree. Everything else
/// changes through the typed mutators below, never by writing fields.
#[derive(Debug, Clone)]
pub struct Session {
    encounter: Encounter,
    id: String,
    /// The case as it was when the encounter started (the history lists these).
    case_title: String,
    case_version: String,
    case_json: Option<String>,
    started_ms: f64,
    /// When the last input was taken.
    updated_ms: f64,
    judge: Option<JudgeRun>,
    overrides: Vec<Override>,
    exchanges: Vec<LlmExchange>,
    voiced: BTreeMap<u32, String>,
    patient_voice: String,
    seen_results: BTreeSet<u32>,
    job: Option<JobRecord>,
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
        let meta = &case.case.meta;
        Session {
            id,
            case_title: meta.title.clone(),
            case_version: meta.version.clone(),
            case_json: (case.origin == Origin::Imported).then(|| case.json.to_string()),
            started_ms: now_ms,
            updated_ms: now_ms,
            judge: None,
            overrides: Vec::new(),
            exchanges: Vec::new(),
            voiced: BTreeMap::new(),
            patient_voice: scripted(),
            seen_results: BTreeSet::new(),
            job: None,
            encounter: Encounter::new(case.case.clone(), catalog, config),
        }
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
        let encounter = Encounter::replay(case, catalog, saved.config, &saved.inputs).map_err(
            |(index, e)| ResumeError::Replay {
                index,
                error: e.to_string(),
            },
        )?;
        // The case id, configuration, inputs, simulated time and end are the encounter's now.
        Ok(Session {
            encounter,
            id: saved.id,
            case_title: saved.case_title,
            case_version: saved.case_version,
            case_json: saved.case_json,
            started_ms: saved.started_ms,
            updated_ms: saved.updated_ms,
            judge: saved.judge,
            overrides: saved.overrides,
            exchanges: saved.exchanges,
            voiced: saved.voiced,
            patient_voice: saved.patient_voice,
            seen_results: saved.seen_results,
            job: saved.job,
        })
    }

    /// The stored form as of now (its caller stores it).
    pub fn saved(&self) -> SavedEncounter {
        let record = self.encounter.record();
        SavedEncounter {
            id: self.id.clone(),
            case_id: record.case_id.clone(),
            case_title: self.case_title.clone(),
            case_version: self.case_version.clone(),
            case_json: self.case_json.clone(),
            config: record.config.clone(),
            inputs: record.inputs.clone(),
            started_ms: self.started_ms,
            updated_ms: self.updated_ms,
            sim_time_s: record.state.now_s,
            ended: record.state.ended.as_ref().map(|e| e.reason),
            judge: self.judge.clone(),
            overrides: self.overrides.clone(),
            exchanges: self.exchanges.clone(),
            voiced: self.voiced.clone(),
            patient_voice: self.patient_voice.clone(),
            seen_results: self.seen_results.clone(),
            job: self.job.clone(),
        }
    }

    /// The evaluation job this encounter was, if it was one.
    pub fn job(&self) -> Option<&JobRecord> {
        self.job.as_ref()
    }

    pub fn encounter(&self) -> &Encounter {
        &self.encounter
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Who plays the clinician, the turn limit and the seed, fixed at the start.
    pub fn config(&self) -> &Config {
        &self.encounter.record().config
    }

    /// When the encounter started, in wall-clock milliseconds since the Unix epoch.
    pub fn started_ms(&self) -> f64 {
        self.started_ms
    }

    pub fn is_ended(&self) -> bool {
        self.encounter.is_ended()
    }

    /// The judge run that scored the rubric's judge items, once one succeeded.
    pub fn judge(&self) -> Option<&JudgeRun> {
        self.judge.as_ref()
    }

    /// Educator overrides, in the order made (the last per item wins).
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Every LLM call made for this encounter.
    pub fn exchanges(&self) -> &[LlmExchange] {
        &self.exchanges
    }

    /// Patient-side lines a model voiced, by the log entry they replace.
    pub fn voiced(&self) -> &BTreeMap<u32, String> {
        &self.voiced
    }

    /// Who voiced the patient: "scripted", or the model's description.
    pub fn patient_voice(&self) -> &str {
        &self.patient_voice
    }

    /// Returned results the trainee has seen (by order seq).
    pub fn seen_results(&self) -> &BTreeSet<u32> {
        &self.seen_results
    }

    /// Applies one input; on success the session records when (its caller then stores the
    /// saved form) and the number of new log entries is returned. A refused input changes
    /// nothing.
    pub fn apply(&mut self, input: Input, now_ms: f64) -> Result<usize, InputError> {
        let n = self.encounter.apply(input)?.len();
        self.updated_ms = now_ms;
        Ok(n)
    }

    /// Keeps model calls with the encounter (whatever their outcome).
    pub fn add_exchanges(&mut self, exchanges: impl IntoIterator<Item = LlmExchange>) {
        self.exchanges.extend(exchanges);
    }

    /// Keeps the lines a patient model voiced in place of the scripted ones, and who voiced
    /// them (`by`, the model's description); nothing changes when no line was voiced.
    pub fn voice(&mut self, lines: &[VoicedLine], by: String) {
        for line in lines {
            self.voiced.insert(line.seq, line.text.clone());
        }
        if !lines.is_empty() {
            self.patient_voice = by;
        }
    }

    /// Keeps a judge run that answers every judge item of the case exactly once; a run that
    /// does not is refused as a whole and the previous one (if any) stays.
    pub fn record_judge(&mut self, run: JudgeRun) -> Result<(), JudgeError> {
        check_judge(self.encounter.case(), &run)?;
        self.judge = Some(run);
        Ok(())
    }

    /// Records an educator's override (or, with `met: None`, clears it), with the educator's
    /// name. Returns false (and changes nothing) for an id that is not an item of the
    /// scorecard, or without a name: an override is always someone's.
    pub fn add_override(
        &mut self,
        item: &str,
        met: Option<bool>,
        by: &str,
        note: &str,
        at: &str,
    ) -> bool {
        let known = self.encounter.case().rubric.iter().any(|i| i.id == item)
            || item == GROSS_OVERDOSE_ITEM;
        if !known || by.trim().is_empty() {
            return false;
        }
        self.overrides.push(Override {
            item: item.to_string(),
            met,
            by: by.trim().to_string(),
            note: note.trim().to_string(),
            at: at.to_string(),
        });
        true
    }

    /// Marks returned results as seen (by order seq); returns whether any was new.
    pub fn mark_seen(&mut self, seqs: impl IntoIterator<Item = u32>) -> bool {
        let before = self.seen_results.len();
        self.seen_results.extend(seqs);
        self.seen_results.len() != before
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

/// The longest wait the clock bar offers, in minutes: the engine's.
pub use crate::engine::encounter::MAX_WAIT_MIN;

/// "Wait N minutes" as typed in the clock bar: a whole number from 1 to [`MAX_WAIT_MIN`], or
/// the message to show.
pub fn wait(minutes: &str) -> Result<Input, String> {
    match minutes.trim().parse::<u32>() {
        Ok(m) if (1..=MAX_WAIT_MIN).contains(&m) => Ok(Input::Wait { minutes: m }),
        _ => Err(format!("Wait between 1 and {MAX_WAIT_MIN} minutes.")),
    }
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

/// A new encounter id from the wall clock and a random number (both from the browser).
pub fn new_id(now_ms: f64, random: f64) -> String {
    let r = (random.clamp(0.0, 1.0) * 1_000_000.0) as u64;
    format!("enc-{}-{r:06}", now_ms.max(0.0) as u64)
}
