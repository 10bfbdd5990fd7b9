//! The encounter: a deterministic state machine over simulated time.
//!
//! Inputs (clinician turns, waits, the end form) go in through [`Encounter::apply`]; the log
//! of what happened comes out, and [`Record`] (inputs, log, state) is plain serde data.
//! Replaying a record's inputs on the same case reproduces the same record exactly.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::action::interpret;
use super::alarms;
pub use super::case::MAX_TIME_LIMIT_MIN;
use super::case::{Case, Effect, Phase, ResultOverride, Vitals, PATIENT};
use super::catalog::{Catalog, Category};
use super::eval::{self, seconds};
use super::pharmacy::{check_dose, gives_access, needs_access, DoseCheck, DoseLevel};
use super::rule::Rule;
use super::sp::{self, Presence, ScriptIndex, SpokenLine};
use super::utterance::UtteranceKind;

pub use super::state::{
    ActionRecord, ActionStatus, Elicitation, EndForm, EndReason, EndRequest, Ended, PhaseVisit,
    State, Utterance,
};

/// Who plays the clinician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Clinician {
    /// A person in the UI (or a scripted test file).
    Human,
    /// An LLM; `model` names it for the record (never an API key).
    Model { provider: String, model: String },
}

/// Settings fixed when the encounter starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub clinician: Clinician,
    /// Clinician turns after which the encounter ends (MedSP1000 uses 12 for models).
    /// Humans are bounded by the case's simulated time limit instead.
    pub turn_limit: Option<u32>,
    /// Seed for any choice among equivalent options (e.g. non-answer wording).
    pub seed: u64,
    /// A static play: the case was given at once as a written vignette and the clinician's
    /// actions were all taken at time zero; the items that need the dialogue or the clock are
    /// not applicable ([`crate::engine::rule::Rule::applies_to_static`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vignette: bool,
}

/// MedSP1000's default turn limit for model clinicians.
pub const DEFAULT_MODEL_TURN_LIMIT: u32 = 12;

impl Config {
    pub fn human() -> Config {
        Config {
            clinician: Clinician::Human,
            turn_limit: None,
            seed: 0,
            vignette: false,
        }
    }

    pub fn model(provider: &str, model: &str) -> Config {
        Config {
            clinician: Clinician::Model {
                provider: provider.into(),
                model: model.into(),
            },
            turn_limit: Some(DEFAULT_MODEL_TURN_LIMIT),
            seed: 0,
            vignette: false,
        }
    }
}

/// The longest single wait, in minutes: four hours, one input for the UI's wait box, a play
/// file's `{"wait": N}` and the engine alike. Four hours is the emergency department's own
/// bound on a stay (the UK four-hour standard) and far longer than any shipped case's time
/// limit (90 minutes at most), so a longer wait could only run into the time limit, which
/// closes the encounter anyway. Bounding it also bounds the clock's arithmetic: a wait in
/// seconds (14,400 at most) added to a clock that stops at the time limit (at most
/// [`MAX_TIME_LIMIT_MIN`]) stays far below `u32::MAX`, whatever a saved record claims.
pub const MAX_WAIT_MIN: u32 = 240;

/// One clinician turn: speech, actions, and "done with this stage" (MedSP1000's `eos`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    #[serde(default)]
    pub speak: String,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub eos: bool,
}

/// An input to the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Turn(Turn),
    Wait {
        minutes: u32,
    },
    End(EndForm),
    /// Cancel a pending order, or stop a running infusion, fluid or oxygen (by action seq).
    Cancel {
        action: u32,
    },
    /// While the end form is due: close without one (a model whose end form could not be
    /// used). The encounter ends with no final diagnosis.
    Close,
}

impl Input {
    /// Parses one line of a play file: `{"speak", "actions", "eos"}`, `{"wait": N}` or
    /// `{"end": {...}}`.
    pub fn from_play_line(line: &str) -> Result<Input, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let obj = value.as_object().ok_or("expected a JSON object")?;
        if let Some(w) = obj.get("wait") {
            let minutes = w
                .as_u64()
                .filter(|m| *m <= u64::from(MAX_WAIT_MIN))
                .ok_or_else(|| {
                    format!("`wait` must be a whole number of minutes (at most {MAX_WAIT_MIN})")
                })?;
            return Ok(Input::Wait {
                minutes: minutes as u32,
            });
        }
        if let Some(end) = obj.get("end") {
            let form: EndForm =
                serde_json::from_value(end.clone()).map_err(|e| format!("bad `end` form: {e}"))?;
            return Ok(Input::End(form));
        }
        let turn: Turn = serde_json::from_value(value)
            .map_err(|e| format!("bad turn (expected speak, actions, eos): {e}"))?;
        Ok(Input::Turn(turn))
    }
}

/// One entry of the encounter log (the trajectory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u32,
    pub turn: u32,
    pub time_s: u32,
    #[serde(flatten)]
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    Started {
        phase: String,
        label: String,
        status: String,
        vitals: Vitals,
    },
    ClinicianSaid {
        text: String,
    },
    ActorSaid {
        speaker: String,
        text: String,
        facts: Vec<String>,
        /// What kind of utterance the line answers (the scripted patient's reading).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<UtteranceKind>,
        /// The case's reaction (by id) this line gives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reaction: Option<String>,
    },
    Ordered {
        action: u32,
        raw: String,
        order_id: Option<String>,
        name: Option<String>,
        confidence: f64,
        status: ActionStatus,
        /// The form as recorded ("300 mg PO (default route)"), when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form: Option<String>,
    },
    /// A pending order cancelled, or a running one stopped.
    Cancelled {
        action: u32,
        name: String,
        stopped: bool,
    },
    /// The end form is due (a disposition, the last stage, the turn or time limit).
    EndRequested {
        reason: EndReason,
        detail: String,
    },
    Result {
        action: u32,
        order_id: String,
        name: String,
        text: String,
    },
    Notice {
        event: Option<String>,
        text: String,
    },
    PhaseChanged {
        from: String,
        to: String,
        label: String,
        status: String,
    },
    Vitals {
        vitals: Vitals,
    },
    ActorArrived {
        actor: String,
    },
    ActorLeft {
        actor: String,
    },
    Waited {
        minutes: u32,
    },
    StageDone {
        phase: String,
    },
    Ended {
        reason: EndReason,
        detail: String,
    },
}

/// The serializable record of an encounter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub case_id: String,
    pub case_version: String,
    pub config: Config,
    pub inputs: Vec<Input>,
    pub log: Vec<Entry>,
    pub state: State,
}

/// Why an input was refused. The encounter is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The encounter has already ended.
    Ended,
    /// A wait of zero minutes.
    ZeroWait,
    /// A wait longer than [`MAX_WAIT_MIN`] (a play file or a saved record may claim one).
    WaitTooLong { minutes: u32 },
    /// The end form has no diagnosis.
    EmptyDiagnosis,
    /// The encounter is closing: only the end form is taken.
    EndFormDue,
    /// Nothing to cancel or stop: why.
    CannotCancel(String),
    /// Closing without an end form is only for an encounter whose end form is due.
    NotClosing,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Ended => write!(f, "the encounter has ended"),
            InputError::ZeroWait => write!(f, "cannot wait: wait at least one minute"),
            InputError::WaitTooLong { minutes } => write!(
                f,
                "cannot wait {minutes} minutes: at most {MAX_WAIT_MIN} minutes at a time"
            ),
            InputError::EmptyDiagnosis => write!(f, "the end form needs a final diagnosis"),
            InputError::EndFormDue => write!(
                f,
                "the encounter is closing: submit the end form (diagnosis and plan)"
            ),
            InputError::CannotCancel(why) => write!(f, "cannot cancel: {why}"),
            InputError::NotClosing => {
                write!(f, "the encounter is not closing: end it with the end form")
            }
        }
    }
}

impl std::error::Error for InputError {}

/// A running encounter: the case, the catalog and the record.
#[derive(Debug, Clone)]
pub struct Encounter {
    case: Arc<Case>,
    catalog: Arc<Catalog>,
    /// Derived from the case and never changed: shared, so cloning an encounter is cheap.
    script: Arc<ScriptIndex>,
    record: Record,
    /// per case event: fired yet (mirrors `record.state.fired_events`, for a cheap check)
    fired: Vec<bool>,
    /// per case event: the parts of its rule that read the clock (derived from the case)
    clock_reads: Arc<Vec<Vec<ClockRead>>>,
    /// After the last full `settle`: what rules could see then, and the moment time alone
    /// could next change one. While both still hold, settling again would find nothing.
    settled: Option<(Seen, Option<u32>)>,
}

/// Everything rules read apart from the clock, as counts: the state only ever grows (actions,
/// facts, utterances and phases are appended, the end form set once), so equal counts mean
/// no rule can have changed its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    actions: usize,
    elicited: usize,
    utterances: usize,
    phases: usize,
    final_form: bool,
    /// Orders started after access, cancelled or stopped, and results released: these change
    /// what rules see without adding an action.
    action_changes: usize,
}

impl Seen {
    fn of(state: &State) -> Seen {
        Seen {
            actions: state.actions.len(),
            elicited: state.elicited.len(),
            utterances: state.utterances.len(),
            phases: state.phases_visited.len(),
            final_form: state.final_form.is_some(),
            action_changes: state
                .actions
                .iter()
                .map(|a| {
                    usize::from(a.started_s.is_some())
                        + usize::from(a.cancelled_s.is_some())
                        + usize::from(a.stopped_s.is_some())
                        + usize::from(a.result.is_some())
                })
                .sum(),
        }
    }
}

/// What the patient's side has said so far, as the scripted patient needs it to answer in
/// turn: how often each reaction was given, each speaker's last line, and whether the hint
/// that examinations are orders was shown.
struct SaidSoFar {
    reaction_uses: BTreeMap<String, u32>,
    last_lines: BTreeMap<String, String>,
    hint_given: bool,
}

impl SaidSoFar {
    fn of(log: &[Entry]) -> SaidSoFar {
        let mut so_far = SaidSoFar {
            reaction_uses: BTreeMap::new(),
            last_lines: BTreeMap::new(),
            hint_given: false,
        };
        for e in log {
            match &e.kind {
                EntryKind::ActorSaid {
                    speaker,
                    text,
                    reaction,
                    ..
                } => {
                    if let Some(r) = reaction {
                        *so_far.reaction_uses.entry(r.clone()).or_default() += 1;
                    }
                    so_far.last_lines.insert(speaker.clone(), text.clone());
                }
                EntryKind::Notice { event: None, text } if text == sp::EXAM_HINT => {
                    so_far.hint_given = true
                }
                _ => {}
            }
        }
        so_far
    }
}

/// Seconds a clinician utterance takes: 15 s plus 0.4 s a word.
fn speech_cost_s(text: &str) -> u32 {
    later(15, answer_cost_s(text))
}

/// Seconds an answer takes: 0.4 s a word.
fn answer_cost_s(text: &str) -> u32 {
    word_count(text).saturating_mul(2) / 5
}

/// A moment `secs` after `t` on the simulated clock. Every sum on the clock goes through here
/// (with [`seconds`] for minutes): it saturates instead of overflowing. With a loaded case
/// nothing comes near `u32::MAX` (the clock stops at the time limit, at most
/// [`MAX_TIME_LIMIT_MIN`] minutes, and a wait is at most [`MAX_WAIT_MIN`]); a case built in
/// code without validation, or a tampered record, must still never panic or wrap around to
/// an earlier time. A saturated moment is one the clock never reaches.
fn later(t: u32, secs: u32) -> u32 {
    t.saturating_add(secs)
}

/// Whitespace-separated words, as `split_whitespace().count()` counts them (a byte loop for
/// ASCII text, which is nearly all of it).
fn word_count(text: &str) -> u32 {
    if !text.is_ascii() {
        return text.split_whitespace().count() as u32;
    }
    let mut words = 0;
    let mut in_word = false;
    for &b in text.as_bytes() {
        // char::is_whitespace on ASCII: tab, line feed, vertical tab, form feed, CR, space
        let space = matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
        if !space && !in_word {
            words += 1;
        }
        in_word = !space;
    }
    words
}

impl Encounter {
    /// Starts an encounter at minute 0 in the case's first phase.
    pub fn new(case: Arc<Case>, catalog: Arc<Catalog>, config: Config) -> Encounter {
        let first = first_phase(&case);
        let vignette = config.vignette;
        let record = Record {
            case_id: case.meta.id.clone(),
            case_version: case.meta.version.clone(),
            config,
            inputs: Vec::new(),
            log: Vec::new(),
            state: State {
                vignette,
                ..initial_state(&case, &first)
            },
        };
        let script = Arc::new(ScriptIndex::new(&case));
        let fired = vec![false; case.events.len()];
        let clock_reads = Arc::new(
            case.events
                .iter()
                .map(|e| clock_reads_of(&e.when))
                .collect(),
        );
        let mut enc = Encounter {
            case,
            catalog,
            script,
            record,
            fired,
            clock_reads,
            settled: None,
        };
        enc.open(first);
        enc.monitor_alarm(None);
        enc.settle();
        enc
    }

    /// The opening of the log: the first phase, the patient's opening line, and the arrival
    /// lines of the actors present from the start.
    fn open(&mut self, first: Phase) {
        self.log(EntryKind::Started {
            phase: first.id,
            label: first.label,
            status: first.status,
            vitals: first.vitals,
        });
        let opening = self.case.patient.opening_line.clone();
        self.log(actor_said(PATIENT.into(), opening));
        let arrivals: Vec<(String, String)> = self
            .case
            .actors
            .iter()
            .filter(|a| a.present_at_start)
            .filter_map(|a| Some((a.id.clone(), a.arrival_line.clone()?)))
            .collect();
        for (id, text) in arrivals {
            self.log(actor_said(id, text));
        }
    }

    /// Rebuilds an encounter by replaying inputs.
    pub fn replay(
        case: Arc<Case>,
        catalog: Arc<Catalog>,
        config: Config,
        inputs: &[Input],
    ) -> Result<Encounter, (usize, InputError)> {
        let mut enc = Encounter::new(case, catalog, config);
        for (i, input) in inputs.iter().enumerate() {
            enc.apply(input.clone()).map_err(|e| (i, e))?;
        }
        Ok(enc)
    }

    pub fn case(&self) -> &Case {
        &self.case
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The shared case and catalog, to start another encounter on them (the expert pathway).
    pub fn shared(&self) -> (Arc<Case>, Arc<Catalog>) {
        (self.case.clone(), self.catalog.clone())
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    pub fn state(&self) -> &State {
        &self.record.state
    }

    /// Whether the patient can answer now: the current phase's `patient_can_answer`, else the
    /// patient's own `can_answer`.
    pub fn patient_can_answer(&self) -> bool {
        self.case
            .phases
            .iter()
            .find(|p| p.id == self.record.state.phase)
            .and_then(|p| p.patient_can_answer)
            .unwrap_or(self.case.patient.can_answer)
    }

    pub fn is_ended(&self) -> bool {
        self.record.state.ended.is_some()
    }

    /// The end form is due: a disposition, the last stage, the turn or time limit closed the
    /// encounter, and only [`Input::End`] is taken.
    pub fn end_requested(&self) -> Option<&EndRequest> {
        self.record.state.end_requested.as_ref()
    }

    /// Whether [`Self::apply`] would take this kind of input now: nothing once ended, only
    /// the end form while it is due. (Play files skip the turns a closing encounter refuses.)
    pub fn takes(&self, input: &Input) -> bool {
        !self.is_ended()
            && (self.end_requested().is_none() || matches!(input, Input::End(_) | Input::Close))
    }

    /// Ended, or waiting for the end form: the clock stands still.
    fn closed(&self) -> bool {
        self.record.state.ended.is_some() || self.record.state.end_requested.is_some()
    }

    /// Whether IV or IO access is in place.
    pub fn has_access(&self) -> bool {
        self.case.arrival.iv_access
            || self
                .record
                .state
                .actions
                .iter()
                .any(|a| a.done_at().is_some() && a.order_id().is_some_and(gives_access))
    }

    /// Applies one input; returns the log entries it produced. A refused input changes nothing.
    pub fn apply(&mut self, input: Input) -> Result<&[Entry], InputError> {
        if self.is_ended() {
            return Err(InputError::Ended);
        }
        match &input {
            Input::End(_) | Input::Close => {}
            _ if self.end_requested().is_some() => return Err(InputError::EndFormDue),
            _ => {}
        }
        if matches!(input, Input::Close) && self.end_requested().is_none() {
            return Err(InputError::NotClosing);
        }
        match &input {
            Input::Wait { minutes: 0 } => return Err(InputError::ZeroWait),
            &Input::Wait { minutes } if minutes > MAX_WAIT_MIN => {
                return Err(InputError::WaitTooLong { minutes })
            }
            Input::End(form) if form.diagnosis.trim().is_empty() => {
                return Err(InputError::EmptyDiagnosis)
            }
            Input::Cancel { action } => {
                self.cancellable(*action)
                    .map_err(InputError::CannotCancel)?;
            }
            _ => {}
        }
        let start = self.record.log.len();
        self.record.inputs.push(input.clone());
        match input {
            Input::Turn(turn) => self.turn(turn),
            Input::Wait { minutes } => {
                self.log(EntryKind::Waited { minutes });
                let target = later(self.record.state.now_s, seconds(minutes));
                self.advance_to(target);
            }
            Input::End(form) => self.end_form(form),
            Input::Cancel { action } => {
                self.cancel(action as usize);
                self.settle();
            }
            Input::Close => {
                if let Some(r) = self.record.state.end_requested.take() {
                    self.end(r.reason, format!("{}; no end form was given", r.detail));
                }
            }
        }
        Ok(&self.record.log[start..])
    }

    /// Whether an action can be cancelled (pending, or held for access) or stopped (a running
    /// infusion, fluid or oxygen); why not otherwise.
    pub fn cancellable(&self, action: u32) -> Result<(), String> {
        let a = self
            .record
            .state
            .actions
            .get(action as usize)
            .ok_or_else(|| format!("there is no order number {action}"))?;
        let name = a.interpretation.summary();
        if a.status == ActionStatus::Unsupported {
            return Err(format!("\"{}\" was not placed", a.interpretation.raw));
        }
        if a.cancelled_s.is_some() {
            return Err(format!("{name} is already cancelled"));
        }
        if a.stopped_s.is_some() {
            return Err(format!("{name} is already stopped"));
        }
        if a.awaiting_access || (a.status == ActionStatus::Pending && a.result.is_none()) {
            return Ok(());
        }
        if self.runs(a) {
            return Ok(());
        }
        Err(format!("{name} has already been done"))
    }

    /// Whether an executed order keeps running until stopped: an infusion (a rate, or an
    /// infusion order), a fluid, oxygen.
    fn runs(&self, a: &ActionRecord) -> bool {
        let Some(order) = a.order_id().and_then(|id| self.catalog.get(id)) else {
            return false;
        };
        a.interpretation.rate
            || matches!(order.category, Category::Fluid | Category::Airway)
            || self.catalog.is_infusion(&order.id)
    }

    /// Cancels (pending) or stops (running) an action that [`Self::cancellable`] accepted.
    fn cancel(&mut self, index: usize) {
        let now = self.record.state.now_s;
        let a = &self.record.state.actions[index];
        let stopped = a.done_at().is_some() && a.status == ActionStatus::Executed;
        let name = a.interpretation.summary();
        let a = &mut self.record.state.actions[index];
        if stopped {
            a.stopped_s = Some(now);
        } else {
            a.cancelled_s = Some(now);
            a.awaiting_access = false;
            a.result_due_s = None;
        }
        self.log(EntryKind::Cancelled {
            action: index as u32,
            name,
            stopped,
        });
    }

    fn turn(&mut self, turn: Turn) {
        self.record.state.turn += 1;
        let speak = turn.speak.trim().to_string();
        if !speak.is_empty() {
            self.say(&speak);
        }
        let mut disposition = None;
        for raw in turn
            .actions
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
        {
            if self.closed() {
                break;
            }
            if let Some(target) = cancel_target(raw) {
                self.cancel_by_text(raw, target);
                continue;
            }
            let seq = self.record.state.actions.len() as u32;
            if self.act(raw) == Some(Category::Disposition) && disposition.is_none() {
                disposition = Some(seq);
            }
        }
        if !self.closed() && turn.eos {
            self.stage_done();
        }
        if let (false, Some(seq)) = (self.closed(), disposition) {
            if self.case.end.on_disposition {
                self.request_end(
                    EndReason::Disposition,
                    "a disposition was ordered".into(),
                    Some(seq),
                );
            }
        }
        if let Some(limit) = self.record.config.turn_limit {
            if !self.closed() && self.record.state.turn >= limit {
                let detail = if self.record.config.vignette {
                    "the static answer's actions were carried out".to_string()
                } else {
                    format!("the turn limit of {limit} was reached")
                };
                self.request_end(EndReason::TurnLimit, detail, None);
            }
        }
    }

    /// "cancel the CT head", "stop the heparin infusion" in a turn's actions (how a model
    /// cancels): the latest matching order that can be cancelled or stopped; a notice when
    /// there is none.
    fn cancel_by_text(&mut self, raw: &str, target: &str) {
        let wanted = interpret(target, &self.catalog);
        let id = wanted.order.as_ref().map(|o| o.id.clone());
        let found = self
            .record
            .state
            .actions
            .iter()
            .rev()
            .filter(|a| id.is_some() && a.order_id() == id.as_deref())
            .map(|a| a.seq)
            .find(|&seq| self.cancellable(seq).is_ok());
        match found {
            Some(seq) => {
                self.cancel(seq as usize);
                self.settle();
            }
            None => {
                let what = wanted
                    .order
                    .as_ref()
                    .map_or_else(|| format!("\"{target}\""), |o| o.name.clone());
                self.log(EntryKind::Notice {
                    event: None,
                    text: format!(
                        "\"{raw}\": there is no pending or running {what} to cancel or stop."
                    ),
                });
            }
        }
    }

    fn say(&mut self, text: &str) {
        let st = &mut self.record.state;
        st.utterances.push(Utterance {
            turn: st.turn,
            time_s: st.now_s,
            text: text.to_string(),
        });
        self.log(EntryKind::ClinicianSaid {
            text: text.to_string(),
        });
        let said_at = self.record.log.len();
        let target = later(self.record.state.now_s, speech_cost_s(text));
        self.advance_to(target);
        if self.closed() {
            return;
        }
        // An event already made someone on the patient's side react to these words.
        let scripted_reaction = self.record.log[said_at..]
            .iter()
            .any(|e| matches!(e.kind, EntryKind::ActorSaid { .. }));
        let so_far = SaidSoFar::of(&self.record.log);
        let presence = Presence {
            patient_can_answer: self.patient_can_answer(),
            actors_present: &self.record.state.actors_present,
        };
        let variant = self
            .record
            .config
            .seed
            .wrapping_add(u64::from(self.record.state.turn));
        let holds = |rule: &Rule| eval::holds(rule, &self.case, &self.record.state);
        let ctx = sp::Context {
            phase: &self.record.state.phase,
            holds: &holds,
            reaction_uses: &so_far.reaction_uses,
            last_lines: &so_far.last_lines,
            scripted_reaction,
        };
        let reply = sp::respond(&self.case, &self.script, text, &presence, &ctx, variant);
        let cost = self.answer(reply.lines, text);
        if reply.exam_request && !so_far.hint_given {
            self.log(EntryKind::Notice {
                event: None,
                text: sp::EXAM_HINT.to_string(),
            });
        }
        self.settle();
        let target = later(self.record.state.now_s, cost);
        self.advance_to(target);
    }

    /// Logs the answer's lines and what they disclosed (each fact once, first time it was
    /// told); returns the seconds they take.
    fn answer(&mut self, lines: Vec<SpokenLine>, question: &str) -> u32 {
        let mut cost = 0;
        for line in lines {
            for fact in &line.facts {
                let st = &mut self.record.state;
                st.elicited
                    .entry(fact.clone())
                    .or_insert_with(|| Elicitation {
                        turn: st.turn,
                        time_s: st.now_s,
                        speaker: line.speaker.clone(),
                        question: question.to_string(),
                    });
            }
            cost = later(cost, answer_cost_s(&line.text));
            self.log(EntryKind::ActorSaid {
                speaker: line.speaker,
                text: line.text,
                facts: line.facts,
                kind: line.kind,
                reaction: line.reaction,
            });
        }
        cost
    }

    /// Carries out one free-text order; returns its category when understood. In a static
    /// play every order is placed at time zero: the clock does not move.
    fn act(&mut self, raw: &str) -> Option<Category> {
        let take_time = !self.record.config.vignette;
        self.place(raw, take_time)
    }

    /// Places an order; with `take_time`, the clock then advances by its time cost (an end
    /// form's disposition takes none: the clinician has finished).
    fn place(&mut self, raw: &str, take_time: bool) -> Option<Category> {
        let interpretation = interpret(raw, &self.catalog);
        let st = &self.record.state;
        let seq = st.actions.len() as u32;
        let (now, turn) = (st.now_s, st.turn);
        // (category, time cost, turnaround) of the matched order
        let order = interpretation
            .order
            .as_ref()
            .and_then(|m| self.catalog.get(&m.id))
            .map(|o| (o.category, o.time_cost_min, o.turnaround_min));
        let hold =
            order.is_some() && needs_access(&interpretation, &self.catalog) && !self.has_access();
        let (status, due) = match order {
            None => (ActionStatus::Unsupported, None),
            Some(_) if hold => (ActionStatus::Pending, None),
            Some((_, _, 0)) => (ActionStatus::Executed, Some(now)),
            Some((_, _, turnaround)) => {
                (ActionStatus::Pending, Some(later(now, seconds(turnaround))))
            }
        };
        let dose_check =
            order.and_then(|_| check_dose(&interpretation, &self.catalog, &self.case.patient));
        let m = interpretation.order.clone();
        let form = interpretation.placed_form();
        let summary = interpretation.summary();
        self.record.state.actions.push(ActionRecord {
            seq,
            turn,
            time_s: now,
            interpretation,
            status,
            result_due_s: due,
            result: None,
            dose_check: dose_check.clone(),
            awaiting_access: hold,
            started_s: None,
            cancelled_s: None,
            stopped_s: None,
        });
        self.log(EntryKind::Ordered {
            action: seq,
            raw: raw.to_string(),
            order_id: m.as_ref().map(|m| m.id.clone()),
            name: m.as_ref().map(|m| m.name.clone()),
            confidence: m.as_ref().map_or(0.0, |m| m.confidence),
            status,
            form,
        });
        let (category, time_cost_min, _) = order?;
        if let Some(check) = &dose_check {
            self.log(pharmacist_notice(check));
        }
        if hold {
            self.log(EntryKind::Notice {
                event: None,
                text: format!(
                    "Nurse: there is no IV access yet — I'll hold the {summary} until a line is in."
                ),
            });
        }
        if status == ActionStatus::Executed {
            self.release(seq as usize);
        }
        self.settle();
        if take_time {
            let target = later(self.record.state.now_s, seconds(time_cost_min));
            self.advance_to(target);
        }
        Some(category)
    }

    /// The result text for an order placed in `phase`, shown now: the first variant whose
    /// phase (if any) is `phase` and whose `when` (if any) holds on the state at this moment,
    /// else the catalog's default; vital-sign placeholders (`{hr}`...) read the monitor now.
    pub(super) fn result_text(&self, order_id: &str, phase: &str) -> String {
        let state = &self.record.state;
        let chosen = match self.case.results.get(order_id) {
            Some(ResultOverride::Text(t)) => Some(t.as_str()),
            Some(ResultOverride::Variants(vs)) => vs
                .iter()
                .find(|v| {
                    v.phase.as_deref().is_none_or(|p| p == phase)
                        && v.when
                            .as_ref()
                            .is_none_or(|w| eval::holds(w, &self.case, state))
                })
                .map(|v| v.text.as_str()),
            None => None,
        };
        let text = chosen
            .or_else(|| {
                self.catalog
                    .get(order_id)
                    .map(|o| o.default_result.as_str())
            })
            .unwrap_or_default();
        state.vitals.fill(text)
    }

    fn release(&mut self, index: usize) {
        let a = &self.record.state.actions[index];
        let Some(order_id) = a.order_id().map(str::to_string) else {
            return;
        };
        let name = a
            .interpretation
            .order
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default();
        // The phase when the order was carried out picks the variant.
        let phase_at_order = self.phase_at(a.started_s.unwrap_or(a.time_s));
        let text = self.result_text(&order_id, &phase_at_order);
        self.record.state.actions[index].result = Some(text.clone());
        let access = gives_access(&order_id);
        self.log(EntryKind::Result {
            action: index as u32,
            order_id,
            name,
            text,
        });
        if access {
            self.start_held();
        }
    }

    /// Access is in: the nurse gives what was held for it, now.
    fn start_held(&mut self) {
        let now = self.record.state.now_s;
        let held: Vec<usize> = self
            .record
            .state
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.awaiting_access)
            .map(|(i, _)| i)
            .collect();
        for i in held {
            let turnaround = self.record.state.actions[i]
                .order_id()
                .and_then(|id| self.catalog.get(id))
                .map_or(0, |o| o.turnaround_min);
            let a = &mut self.record.state.actions[i];
            a.awaiting_access = false;
            a.started_s = Some(now);
            a.result_due_s = Some(later(now, seconds(turnaround)));
            let summary = a.interpretation.summary();
            self.log(EntryKind::Notice {
                event: None,
                text: format!("Nurse: the line is in — giving the {summary} now."),
            });
            if turnaround == 0 {
                self.record.state.actions[i].status = ActionStatus::Executed;
                self.release(i);
            }
        }
    }

    fn phase_at(&self, time_s: u32) -> String {
        self.record
            .state
            .phases_visited
            .iter()
            .rev()
            .find(|v| v.time_s <= time_s)
            .map(|v| v.phase.clone())
            .unwrap_or_else(|| self.record.state.phase.clone())
    }

    fn stage_done(&mut self) {
        let phase = self.record.state.phase.clone();
        self.log(EntryKind::StageDone {
            phase: phase.clone(),
        });
        let next = self
            .case
            .phases
            .iter()
            .find(|p| p.id == phase)
            .and_then(|p| p.next.clone());
        match next {
            Some(next) => {
                self.enter_phase(&next);
                self.settle();
            }
            None => self.request_end(
                EndReason::Stage,
                "the clinician finished the last stage".into(),
                None,
            ),
        }
    }

    /// Closes the encounter and asks for the end form; the clock stops.
    fn request_end(&mut self, reason: EndReason, detail: String, disposition: Option<u32>) {
        let now = self.record.state.now_s;
        self.record.state.end_requested = Some(EndRequest {
            reason,
            time_s: now,
            detail: detail.clone(),
            disposition,
        });
        self.log(EntryKind::EndRequested { reason, detail });
    }

    fn end_form(&mut self, form: EndForm) {
        let request = self.record.state.end_requested.take();
        let placed = request
            .as_ref()
            .and_then(|r| r.disposition)
            .and_then(|seq| self.record.state.actions.get(seq as usize))
            .and_then(|a| a.order_id().map(str::to_string));
        if let Some(d) = form
            .disposition
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            // The disposition that closed the encounter is not placed twice.
            let same =
                placed.is_some() && interpret(d, &self.catalog).order.map(|o| o.id) == placed;
            if !same {
                let d = d.to_string();
                self.place(&d, false);
            }
        }
        self.record.state.final_form = Some(form);
        if !self.is_ended() {
            // Keep why it closed (a disposition, the turn limit...), else the clinician ended it.
            let (reason, detail) = match request {
                Some(r) => (r.reason, r.detail),
                None => (
                    EndReason::Clinician,
                    "the clinician ended the encounter".into(),
                ),
            };
            self.end(reason, detail);
        }
    }

    /// Advances the clock to `target`, releasing results and firing events at the same
    /// moments as stepping through every whole minute and every result due time would.
    ///
    /// The first step is always to the next whole minute (or due time, or `target`): what
    /// changed just before (an utterance, an order) is settled there. After that the state is
    /// settled, and only the passage of time can make another event fire, so the clock jumps
    /// to the first whole minute at or after the next moment time alone can change a rule
    /// (`minute`, `elapsed_min`) or reach the time limit.
    fn advance_to(&mut self, target: u32) {
        let mut first = true;
        while !self.closed() && self.record.state.now_s < target {
            let now = self.record.state.now_s;
            let next_due = self
                .record
                .state
                .actions
                .iter()
                .filter(|a| {
                    a.result.is_none()
                        && a.status == ActionStatus::Pending
                        && a.cancelled_s.is_none()
                })
                .filter_map(|a| a.result_due_s)
                .filter(|&d| d > now)
                .min()
                .unwrap_or(u32::MAX);
            let next_minute = later(now - now % 60, 60);
            let next_stop = if first {
                next_minute
            } else {
                // Settled at `now` by the previous step; its record of the next change holds.
                let change = match self.settled {
                    Some((seen, change)) if seen == Seen::of(&self.record.state) => change,
                    _ => self.next_time_change(now),
                };
                change
                    .map_or(u32::MAX, |t| t.div_ceil(60).saturating_mul(60))
                    .max(next_minute)
            };
            first = false;
            let step = target.min(next_due).min(next_stop);
            self.record.state.now_s = step;
            let due: Vec<usize> = self
                .record
                .state
                .actions
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    a.status == ActionStatus::Pending
                        && a.result.is_none()
                        && a.cancelled_s.is_none()
                        && a.result_due_s.is_some_and(|d| d <= step)
                })
                .map(|(i, _)| i)
                .collect();
            for i in due {
                self.release(i);
            }
            self.settle();
        }
    }

    /// The earliest moment after `now` at which time alone can change whether an unfired
    /// event holds, or the time limit is reached.
    fn next_time_change(&self, now: u32) -> Option<u32> {
        let mut next = Some(seconds(self.case.end.time_limit_min)).filter(|&t| t > now);
        let mut consider = |t: u32| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for (reads, fired) in self.clock_reads.iter().zip(&self.fired) {
            if *fired {
                continue;
            }
            for read in reads {
                match read {
                    ClockRead::Minute(m) => consider(seconds(*m)),
                    ClockRead::Accrues(orders) => {
                        // A rate still running adds to a total every minute.
                        if self.record.state.actions.iter().any(|a| {
                            a.interpretation.rate
                                && a.stopped_s.is_none()
                                && a.done_at().is_some()
                                && a.order_id()
                                    .is_some_and(|id| orders.iter().any(|o| o == id))
                        }) {
                            consider(later(now, 60));
                        }
                    }
                    ClockRead::Elapsed { order, minutes } => {
                        for a in &self.record.state.actions {
                            if a.order_id() == Some(order.as_str()) {
                                if let Some(t) = a.done_at() {
                                    consider(later(t, seconds(*minutes)));
                                }
                            }
                        }
                    }
                }
            }
        }
        next
    }

    /// Fires every event whose rule now holds (repeatedly, since effects can enable others),
    /// then checks the time limit.
    fn settle(&mut self) {
        if let Some((seen, change)) = self.settled {
            let now = self.record.state.now_s;
            if !self.closed()
                && seen == Seen::of(&self.record.state)
                && change.is_none_or(|t| now < t)
            {
                return;
            }
        }
        self.settle_all();
        self.settled = (!self.closed()).then(|| {
            let now = self.record.state.now_s;
            (Seen::of(&self.record.state), self.next_time_change(now))
        });
    }

    fn settle_all(&mut self) {
        loop {
            if self.closed() {
                return;
            }
            let next = self
                .case
                .events
                .iter()
                .zip(&self.fired)
                .position(|(e, fired)| {
                    !fired && eval::holds(&e.when, &self.case, &self.record.state)
                });
            let Some(index) = next else { break };
            self.fired[index] = true;
            let event = self.case.events[index].clone();
            self.record.state.fired_events.push(event.id.clone());
            for effect in &event.then {
                if self.closed() {
                    break;
                }
                self.apply_effect(&event.id, effect);
            }
        }
        let limit = seconds(self.case.end.time_limit_min);
        if !self.closed() && self.record.state.now_s >= limit {
            self.request_end(
                EndReason::TimeLimit,
                format!(
                    "the case's time limit of {} minutes was reached",
                    self.case.end.time_limit_min
                ),
                None,
            );
        }
    }

    fn apply_effect(&mut self, event: &str, effect: &Effect) {
        match effect {
            Effect::Notice(text) => self.log(EntryKind::Notice {
                event: Some(event.to_string()),
                text: text.clone(),
            }),
            Effect::Phase(id) => self.enter_phase(id),
            Effect::Vitals(v) => {
                let before = self.record.state.vitals.clone();
                let vitals = before.overlay(v);
                self.record.state.vitals = vitals.clone();
                self.log(EntryKind::Vitals { vitals });
                self.monitor_alarm(Some(&before));
            }
            Effect::Say { speaker, text } => {
                let present =
                    speaker == PATIENT || self.record.state.actors_present.contains(speaker);
                if present {
                    self.log(actor_said(speaker.clone(), text.clone()));
                }
            }
            Effect::Arrive(actor) => {
                if self.record.state.actors_present.insert(actor.clone()) {
                    self.log(EntryKind::ActorArrived {
                        actor: actor.clone(),
                    });
                    if let Some(line) = self
                        .case
                        .actors
                        .iter()
                        .find(|a| &a.id == actor)
                        .and_then(|a| a.arrival_line.clone())
                    {
                        self.log(actor_said(actor.clone(), line));
                    }
                }
            }
            Effect::Leave(actor) => {
                if self.record.state.actors_present.remove(actor) {
                    self.log(EntryKind::ActorLeft {
                        actor: actor.clone(),
                    });
                }
            }
            Effect::End(reason) => self.end(EndReason::Terminal, reason.clone()),
        }
    }

    fn enter_phase(&mut self, id: &str) {
        let Some(phase) = self.case.phases.iter().find(|p| p.id == id).cloned() else {
            return;
        };
        let st = &mut self.record.state;
        if st.phase == phase.id {
            return;
        }
        let from = std::mem::replace(&mut st.phase, phase.id.clone());
        st.phases_visited.push(PhaseVisit {
            phase: phase.id.clone(),
            turn: st.turn,
            time_s: st.now_s,
        });
        let before = std::mem::replace(&mut st.vitals, phase.vitals.clone());
        st.status = phase.status.clone();
        self.log(EntryKind::PhaseChanged {
            from,
            to: phase.id.clone(),
            label: phase.label.clone(),
            status: phase.status.clone(),
        });
        self.log(EntryKind::Vitals {
            vitals: phase.vitals.clone(),
        });
        if let Some(text) = phase.on_enter {
            self.log(EntryKind::Notice { event: None, text });
        }
        self.monitor_alarm(Some(&before));
    }

    /// Logs the monitor's alarm notice when the vitals, just changed from `before` (None: at
    /// the start), have entered a critical range for the patient's age (see [`alarms`]).
    fn monitor_alarm(&mut self, before: Option<&Vitals>) {
        let age = self.case.patient.age;
        if let Some(text) = alarms::alarm_text(before, &self.record.state.vitals, age) {
            self.log(EntryKind::Notice { event: None, text });
        }
    }

    fn end(&mut self, reason: EndReason, detail: String) {
        let now = self.record.state.now_s;
        self.record.state.ended = Some(Ended {
            reason,
            time_s: now,
            detail: detail.clone(),
        });
        self.log(EntryKind::Ended { reason, detail });
    }

    fn log(&mut self, kind: EntryKind) {
        let st = &self.record.state;
        let entry = Entry {
            seq: self.record.log.len() as u32,
            turn: st.turn,
            time_s: st.now_s,
            kind,
        };
        self.record.log.push(entry);
    }
}

/// The case's first phase (a validated case has one; an unvalidated one still must not
/// panic: it gets a bare "Encounter" phase).
fn first_phase(case: &Case) -> Phase {
    case.phases.first().cloned().unwrap_or_else(|| Phase {
        id: "encounter".into(),
        label: "Encounter".into(),
        vitals: Vitals::default(),
        status: String::new(),
        on_enter: None,
        next: None,
        patient_can_answer: None,
    })
}

/// The state at minute 0: in the first phase, with its vitals and status, and the actors
/// present from the start.
fn initial_state(case: &Case, first: &Phase) -> State {
    State {
        now_s: 0,
        turn: 0,
        phase: first.id.clone(),
        phases_visited: vec![PhaseVisit {
            phase: first.id.clone(),
            turn: 0,
            time_s: 0,
        }],
        vitals: first.vitals.clone(),
        status: first.status.clone(),
        actors_present: case
            .actors
            .iter()
            .filter(|a| a.present_at_start)
            .map(|a| a.id.clone())
            .collect(),
        elicited: BTreeMap::new(),
        utterances: Vec::new(),
        actions: Vec::new(),
        fired_events: Vec::new(),
        final_form: None,
        end_requested: None,
        ended: None,
        vignette: false,
    }
}

/// The pharmacist's word on a dose outside its usual range (the order is given as placed).
fn pharmacist_notice(check: &DoseCheck) -> EntryKind {
    let what = match check.level {
        DoseLevel::BelowUsual => "Pharmacist: a low dose",
        DoseLevel::AboveUsual => "Pharmacist: a high dose",
        DoseLevel::GrossOverdose => "Pharmacist: a dangerous dose",
    };
    EntryKind::Notice {
        event: None,
        text: format!(
            "{what}, given as ordered — {} ({}).",
            check.message, check.source
        ),
    }
}

/// A scripted line (an opening, an arrival, an event's words): no facts, no reaction.
fn actor_said(speaker: String, text: String) -> EntryKind {
    EntryKind::ActorSaid {
        speaker,
        text,
        facts: vec![],
        kind: None,
        reaction: None,
    }
}

/// The order named after a cancel or stop verb: "cancel the CT head" → "the CT head".
fn cancel_target(raw: &str) -> Option<&str> {
    let lower = raw.trim_start().to_ascii_lowercase();
    ["cancel ", "stop ", "discontinue ", "d/c "]
        .iter()
        .find(|v| lower.starts_with(*v))
        .map(|v| raw.trim_start()[v.len()..].trim())
        .filter(|t| !t.is_empty())
}

/// A part of a rule that reads the clock: these are the only ones whose value can change
/// with the passage of time alone.
#[derive(Debug, Clone, PartialEq)]
enum ClockRead {
    /// `{"minute": m}`: changes at minute m.
    Minute(u32),
    /// `{"done": {"order": ..., "elapsed_min": m}}`: changes m minutes after each such order.
    Elapsed { order: String, minutes: u32 },
    /// `{"total": ...}`: changes while a rate of these orders runs.
    Accrues(Vec<String>),
}

/// The parts of a rule that read the clock.
fn clock_reads_of(rule: &Rule) -> Vec<ClockRead> {
    let mut reads = Vec::new();
    collect_clock_reads(rule, &mut reads);
    reads
}

fn collect_clock_reads(rule: &Rule, out: &mut Vec<ClockRead>) {
    match rule {
        Rule::Minute(m) => out.push(ClockRead::Minute(*m)),
        Rule::Done(d) => {
            if let Some(minutes) = d.elapsed_min {
                out.push(ClockRead::Elapsed {
                    order: d.order.clone(),
                    minutes,
                });
            }
        }
        Rule::All(rules) | Rule::Any(rules) => {
            for r in rules {
                collect_clock_reads(r, out);
            }
        }
        Rule::Not(inner) => collect_clock_reads(inner, out),
        Rule::Total(t) => {
            out.push(ClockRead::Accrues(t.orders.clone()));
            if let Some(m) = t.by_minute {
                out.push(ClockRead::Minute(m));
            }
        }
        Rule::ResultBefore(_)
        | Rule::Before(_)
        | Rule::Elicited(_)
        | Rule::Said(_)
        | Rule::Never(_)
        | Rule::Diagnosis(_)
        | Rule::Phase(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_count_agrees_with_split_whitespace() {
        for text in [
            "",
            "   ",
            "one",
            " two  words ",
            "tab\tand\nnewline\x0bvt\x0cff\r\nend",
            "non-ASCII café\u{a0}nbsp and\u{2003}em space",
        ] {
            assert_eq!(
                word_count(text),
                text.split_whitespace().count() as u32,
                "{text:?}"
            );
        }
    }
}
