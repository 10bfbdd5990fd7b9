//! The trajectory's state as plain serde data: what the engine knows at a point in time
//! ([`State`]), the actions taken ([`ActionRecord`]), what was said and elicited, and how the
//! encounter ends. The encounter ([`super::encounter`]) writes it; rules ([`super::eval`]) read
//! it. Re-exported from `encounter`, where most callers name it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::action::Interpretation;
use super::case::Vitals;
use super::pharmacy::DoseCheck;

/// The end-of-encounter form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndForm {
    pub diagnosis: String,
    #[serde(default)]
    pub differential: Vec<String>,
    #[serde(default)]
    pub plan: String,
    /// A disposition order in free text ("admit to ICU"); interpreted like any order.
    #[serde(default)]
    pub disposition: Option<String>,
}

/// MedSP1000's closed set of action statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Carried out; any result is available now.
    Executed,
    /// Ordered; the result comes back later.
    Pending,
    /// Not understood or not available.
    Unsupported,
}

/// One action the clinician took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Position in the action list.
    pub seq: u32,
    pub turn: u32,
    pub time_s: u32,
    pub interpretation: Interpretation,
    pub status: ActionStatus,
    /// When the result is (or was) due.
    pub result_due_s: Option<u32>,
    /// The result, once released.
    pub result: Option<String>,
    /// The pharmacist's flag: a dose outside its usual range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose_check: Option<DoseCheck>,
    /// An IV/IO drug or fluid held by the nurse until there is access.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_access: bool,
    /// When a held order was carried out, once access was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_s: Option<u32>,
    /// Cancelled before it was carried out (it never counts as done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_s: Option<u32>,
    /// A running infusion, fluid or oxygen stopped (it was given until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_s: Option<u32>,
}

impl ActionRecord {
    pub fn order_id(&self) -> Option<&str> {
        self.interpretation.order.as_ref().map(|o| o.id.as_str())
    }

    /// When the order was carried out: its order time, or when a held order was started;
    /// none for an order not understood, still held, or cancelled. Rules read this.
    pub fn done_at(&self) -> Option<u32> {
        if self.status == ActionStatus::Unsupported
            || self.awaiting_access
            || self.cancelled_s.is_some()
        {
            return None;
        }
        Some(self.started_s.unwrap_or(self.time_s))
    }

    /// When the result was back (released): its due time, once released; none while pending,
    /// for a cancelled order or one not understood.
    pub fn resulted_at(&self) -> Option<u32> {
        self.result.as_ref().and(self.result_due_s)
    }

    /// "Aspirin (aspirin 325 mg PO)": catalog name and what was typed.
    pub fn label(&self) -> String {
        match &self.interpretation.order {
            Some(o) => format!("{} (\"{}\")", o.name, self.interpretation.raw),
            None => format!("\"{}\"", self.interpretation.raw),
        }
    }
}

/// When and how a fact was elicited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elicitation {
    pub turn: u32,
    pub time_s: u32,
    pub speaker: String,
    /// The clinician's utterance that elicited it.
    pub question: String,
}

/// Something the clinician said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    pub turn: u32,
    pub time_s: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseVisit {
    pub phase: String,
    pub turn: u32,
    pub time_s: u32,
}

/// The encounter is closing: the end form (diagnosis, plan) is due, and nothing else is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRequest {
    pub reason: EndReason,
    pub time_s: u32,
    pub detail: String,
    /// The disposition order that closed it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<u32>,
}

/// Why the encounter ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The clinician submitted the end form.
    Clinician,
    /// A disposition was ordered.
    Disposition,
    /// "Done" on the last stage.
    Stage,
    TimeLimit,
    TurnLimit,
    /// An event ended it (e.g. cardiac arrest).
    Terminal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub reason: EndReason,
    pub time_s: u32,
    pub detail: String,
}

/// Everything the engine knows at a point in time. Plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub now_s: u32,
    /// Clinician turns so far.
    pub turn: u32,
    pub phase: String,
    pub phases_visited: Vec<PhaseVisit>,
    pub vitals: Vitals,
    pub status: String,
    pub actors_present: BTreeSet<String>,
    pub elicited: BTreeMap<String, Elicitation>,
    pub utterances: Vec<Utterance>,
    pub actions: Vec<ActionRecord>,
    pub fired_events: Vec<String>,
    pub final_form: Option<EndForm>,
    /// Set when a disposition, the last stage, the turn limit or the time limit closes the
    /// encounter: only the end form is taken then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_requested: Option<EndRequest>,
    pub ended: Option<Ended>,
    /// A static play ([`crate::engine::encounter::Config::vignette`]): scoring marks the
    /// items that need the dialogue or the clock not applicable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vignette: bool,
}
