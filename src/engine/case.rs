//! The case file model (JSON, `schema` 1). The JSON Schema for editors is
//! `assets/case.schema.json`; `validate.rs` checks what a schema cannot (references, ids).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rule::Rule;
use super::validate::Diagnostic;

/// The case file format version this engine reads.
pub const CASE_SCHEMA_VERSION: u32 = 1;

/// A complete patient case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Always [`CASE_SCHEMA_VERSION`].
    pub schema: u32,
    /// Editors point this at the JSON Schema; ignored by the engine.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    pub meta: Meta,
    /// What the clinician sees before entering the room.
    pub door_note: String,
    pub patient: Patient,
    /// Other patient-side actors (family, partner, friend...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Actor>,
    /// The SP script: facts the clinician can elicit.
    pub facts: Vec<Fact>,
    /// How the patient side reacts to what the clinician tells them (news, a plan, a
    /// treatment, reassurance, empathy, a request to examine): the engine picks the reaction
    /// that applies, whoever voices it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Case-specific results, keyed by catalog order id. Every other order returns the
    /// catalog's normal default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub results: BTreeMap<String, ResultOverride>,
    /// Phases in order; the first is where the encounter starts.
    pub phases: Vec<Phase>,
    /// What is already in place when the encounter starts.
    #[serde(default, skip_serializing_if = "Arrival::is_default")]
    pub arrival: Arrival,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    pub end: EndConditions,
    pub diagnoses: Diagnoses,
    pub rubric: Vec<RubricItem>,
    /// The expert pathway: a model play of the case, step by step in the play-file form
    /// (`{"speak", "actions", "eos"}`, `{"wait": N}`, `{"end": {...}}`). The debrief replays
    /// it and sets its timeline beside the trainee's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pathway: Vec<PathwayStep>,
}

/// One step of the expert pathway, in the play-file form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum PathwayStep {
    /// `{"wait": 5}`: let simulated minutes pass.
    Wait { wait: u32 },
    /// `{"end": {"diagnosis": ..., "plan": ..., "disposition": ...}}`: the end form.
    End { end: PathwayEnd },
    /// `{"speak": "...", "actions": ["..."], "eos": false}`: one clinician turn.
    Turn {
        #[serde(default)]
        speak: String,
        #[serde(default)]
        actions: Vec<String>,
        #[serde(default)]
        eos: bool,
    },
}

/// The end form of a pathway (the encounter's `EndForm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayEnd {
    pub diagnosis: String,
    #[serde(default)]
    pub differential: Vec<String>,
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub disposition: Option<String>,
}

/// What is already in place when the encounter starts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// The patient arrives with IV access (a cannula from the ambulance crew): IV drugs and
    /// fluids need no access order first.
    #[serde(default)]
    pub iv_access: bool,
    /// The signs the setting shows on its monitor (or the observations a clinic nurse took),
    /// in any order. Absent: all of them, as in a resuscitation bay. The encounter screen
    /// shows only these tiles; the engine's vitals are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<Vec<MonitorSign>>,
}

/// A sign a bedside monitor (or an observations chart) can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitorSign {
    Hr,
    /// Blood pressure (systolic and diastolic).
    Bp,
    Rr,
    Spo2,
    TempC,
    Gcs,
    Pain,
}

impl MonitorSign {
    pub const ALL: [MonitorSign; 7] = [
        MonitorSign::Hr,
        MonitorSign::Bp,
        MonitorSign::Rr,
        MonitorSign::Spo2,
        MonitorSign::TempC,
        MonitorSign::Gcs,
        MonitorSign::Pain,
    ];
}

impl Arrival {
    fn is_default(&self) -> bool {
        self == &Arrival::default()
    }

    /// Whether the setting's monitor shows `sign` (all signs when the case does not say).
    pub fn monitors(&self, sign: MonitorSign) -> bool {
        self.monitor.as_ref().is_none_or(|m| m.contains(&sign))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Stable id: lowercase letters, digits and dashes.
    pub id: String,
    /// Semantic version of this case's content; recorded with every encounter.
    pub version: String,
    pub title: String,
    pub specialty: String,
    pub setting: String,
    pub difficulty: Difficulty,
    pub estimated_minutes: u32,
    pub learning_objectives: Vec<String>,
    pub authors: Vec<String>,
    pub license: String,
    /// The public guidelines the case follows.
    pub references: Vec<Reference>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Introductory,
    Intermediate,
    Advanced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    /// Issuing body or journal, e.g. "AHA/ASA" or "NICE".
    pub publisher: String,
    pub year: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    pub name: String,
    pub age: u32,
    /// Body weight, for doses per kilogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    /// Free text as the case states it, e.g. "female".
    pub sex: String,
    /// Who the patient is and how they talk; for an LLM voicing the patient.
    pub persona: String,
    /// Emotional state and manner, e.g. "anxious, short sentences".
    pub affect: String,
    /// Said when the encounter starts.
    pub opening_line: String,
    /// Whether the patient can answer questions at all (false: aphasic, unconscious...).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub can_answer: bool,
    /// In-character replies to questions the script does not cover; built-ins if empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_answers: Vec<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A patient-side actor other than the patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Id used by facts' `speakers` and by events; not "patient".
    pub id: String,
    pub name: String,
    /// Relation to the patient, e.g. "daughter".
    pub role: String,
    pub persona: String,
    /// Present when the encounter starts; otherwise arrives through an event.
    #[serde(default)]
    pub present_at_start: bool,
    /// Said when the actor arrives (or at the start, after the patient's opening line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_line: Option<String>,
    /// In-character replies to questions this actor cannot answer; built-ins if empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_answers: Vec<String>,
}

/// The categories of scripted facts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FactCategory {
    /// Chief complaint.
    Complaint,
    /// History of the present illness.
    Hpi,
    /// Past medical and surgical history.
    Pmh,
    Medications,
    Allergies,
    Social,
    Family,
    /// Review of systems (positives and pertinent negatives).
    Ros,
    /// Ideas, concerns, expectations; the patient's own perspective.
    Perspective,
    Other,
}

impl FactCategory {
    /// The heading a written history files it under ("History of the present illness").
    pub fn label(self) -> &'static str {
        match self {
            FactCategory::Complaint => "Presenting complaint",
            FactCategory::Hpi => "History of the present illness",
            FactCategory::Pmh => "Past history",
            FactCategory::Medications => "Medications",
            FactCategory::Allergies => "Allergies",
            FactCategory::Social => "Social history",
            FactCategory::Family => "Family history",
            FactCategory::Ros => "Review of systems",
            FactCategory::Perspective => "The patient's ideas, concerns and expectations",
            FactCategory::Other => "Other",
        }
    }
}

/// One thing the clinician can learn by asking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub category: FactCategory,
    /// Who can tell it: "patient" and/or actor ids. Defaults to the patient.
    #[serde(default = "patient_only")]
    pub speakers: Vec<String>,
    /// What is said when it is elicited, in the speaker's words.
    pub answer: String,
    /// Question phrasings that elicit it: content words matter, lay terms and medical terms are
    /// normalized to shared concepts, so a few distinct triggers cover most paraphrases.
    pub triggers: Vec<String>,
    /// A key fact: its elicitation matters for the debrief's "missed key facts".
    #[serde(default)]
    pub key: bool,
    /// A pertinent negative (the answer is a denial).
    #[serde(default)]
    pub negative: bool,
    /// The question the clinician should have asked, shown in the debrief when the fact was
    /// not elicited ("Have you taken sildenafil or tadalafil in the last 48 hours?"). Without
    /// it the debrief names the topic from the first triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<String>,
    /// Answers that depend on the state ("how is the pain now?" after morphine): the first
    /// variant whose `phase` (if any) is the current phase and whose `when` rule (if any) holds
    /// now is said instead of `answer`; none applies: `answer`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<FactVariant>,
}

/// One state-dependent answer of a fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactVariant {
    /// Applies only in this phase; none: any phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Applies only while this rule (the rule language of events) holds; none: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Rule>,
    /// Applies only when this speaker (one of the fact's `speakers`) tells it: a companion's
    /// own words for what the patient would say in the first person ("He lives with me");
    /// none: any speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    pub answer: String,
}

impl FactVariant {
    /// Whether this variant applies in `phase`, told by `speaker`, with `holds` evaluating a
    /// rule on the current state.
    pub fn applies(&self, phase: &str, speaker: &str, holds: &dyn Fn(&Rule) -> bool) -> bool {
        self.phase.as_deref().is_none_or(|p| p == phase)
            && self.speaker.as_deref().is_none_or(|s| s == speaker)
            && self.when.as_ref().is_none_or(holds)
    }
}

impl Fact {
    /// The answer `speaker` gives now: the first variant that applies, else `answer`. `holds`
    /// evaluates a rule on the current state.
    pub fn answer_now(&self, phase: &str, speaker: &str, holds: &dyn Fn(&Rule) -> bool) -> &str {
        self.variants
            .iter()
            .find(|v| v.applies(phase, speaker, holds))
            .map_or(self.answer.as_str(), |v| v.answer.as_str())
    }
}

/// What a reaction responds to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReactionKind {
    /// The clinician names the diagnosis.
    Diagnosis,
    /// Bad news: a serious diagnosis, that it has spread, the prognosis.
    BadNews,
    /// The plan: what happens next (admission, a procedure, a referral, tests).
    Plan,
    /// A treatment being given or proposed.
    Treatment,
    /// Reassurance ("you're in the right place").
    Reassurance,
    /// Empathy or an apology ("I'm sorry you're going through this").
    Empathy,
    /// A request to examine or to do something to the patient: consent or hesitation.
    Examination,
}

/// The patient side's scripted reaction to one kind of statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// Unique among the case's reactions.
    pub id: String,
    pub kind: ReactionKind,
    /// Applies only in this phase; none: any phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Applies only while this rule (the rule language of events) holds; none: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Rule>,
    /// Who reacts: "patient" (default) or an actor id; another present speaker reacts when
    /// this one cannot.
    #[serde(default = "patient_only")]
    pub speakers: Vec<String>,
    /// What is said, in the speaker's words.
    pub line: String,
    /// The questions the speaker then asks, one per reaction, in order: the first time the
    /// reaction is given the first, then the next; after the last, the line alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<String>,
}

impl Reaction {
    /// Applies in `phase` when `holds` says its rule holds.
    pub fn applies(&self, phase: &str, holds: &dyn Fn(&Rule) -> bool) -> bool {
        self.phase.as_deref().is_none_or(|p| p == phase) && self.when.as_ref().is_none_or(holds)
    }
}

fn patient_only() -> Vec<String> {
    vec![PATIENT.to_string()]
}

/// The speaker id of the patient.
pub const PATIENT: &str = "patient";

/// A case-specific result for one order: one text, or variants chosen by the phase at order
/// time and by the state when the result is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ResultOverride {
    Text(String),
    /// The first variant that applies is shown; none: the catalog's default result.
    Variants(Vec<ResultVariant>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultVariant {
    /// Applies when the order is placed (or, for an order held for IV access, carried out) in
    /// this phase; no phase: applies in any phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Applies only if this rule (the rule language of events) holds at the moment the result
    /// is shown: at once for an order without turnaround, else when the result comes back.
    /// No rule: no condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Rule>,
    pub text: String,
}

impl ResultVariant {
    /// Applies whatever the phase and the state (no `phase`, no `when`): later variants are
    /// never used.
    pub fn is_unconditional(&self) -> bool {
        self.phase.is_none() && self.when.is_none()
    }
}

/// Vital signs. All optional so that events can change a subset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vitals {
    /// Heart rate, beats/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hr: Option<u32>,
    /// Systolic / diastolic blood pressure, mmHg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbp: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbp: Option<u32>,
    /// Respiratory rate, breaths/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr: Option<u32>,
    /// Oxygen saturation, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spo2: Option<u32>,
    /// Temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
    /// Glasgow coma scale, 3–15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<u32>,
    /// Pain score, 0–10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pain: Option<u32>,
}

/// The vital signs a result text can quote as `{hr}`, `{sbp}`, ...: filled with the values on
/// the monitor at the moment the result is shown, so that it cannot contradict them.
pub const VITAL_PLACEHOLDERS: [&str; 8] =
    ["hr", "sbp", "dbp", "rr", "spo2", "temp_c", "gcs", "pain"];

/// Placeholders in `text` that are not vital signs: `{hr}` is one, `{weight}` is not.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    placeholders(text)
        .filter(|name| !VITAL_PLACEHOLDERS.contains(name))
        .map(str::to_string)
        .collect()
}

/// Every `{name}` in `text` (a name: letters, digits and underscores).
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let name = &rest[..rest.find('}')?];
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then_some(name)
    })
}

impl Vitals {
    /// `text` with every vital-sign placeholder (`{hr}`, `{sbp}`, `{temp_c}`...) replaced by
    /// this value; "—" for a value not set. Other braces are left as they are.
    pub fn fill(&self, text: &str) -> String {
        if !text.contains('{') {
            return text.to_string();
        }
        let int = |v: Option<u32>| v.map_or("—".to_string(), |v| v.to_string());
        let mut out = text.to_string();
        for name in VITAL_PLACEHOLDERS {
            let key = format!("{{{name}}}");
            if !out.contains(&key) {
                continue;
            }
            let value = match name {
                "hr" => int(self.hr),
                "sbp" => int(self.sbp),
                "dbp" => int(self.dbp),
                "rr" => int(self.rr),
                "spo2" => int(self.spo2),
                "temp_c" => self.temp_c.map_or("—".to_string(), |t| format!("{t:.1}")),
                "gcs" => int(self.gcs),
                _ => int(self.pain),
            };
            out = out.replace(&key, &value);
        }
        out
    }

    /// These vitals with every value `other` sets replaced.
    pub fn overlay(&self, other: &Vitals) -> Vitals {
        Vitals {
            hr: other.hr.or(self.hr),
            sbp: other.sbp.or(self.sbp),
            dbp: other.dbp.or(self.dbp),
            rr: other.rr.or(self.rr),
            spo2: other.spo2.or(self.spo2),
            temp_c: other.temp_c.or(self.temp_c),
            gcs: other.gcs.or(self.gcs),
            pain: other.pain.or(self.pain),
        }
    }
}

/// A stage or state of the encounter (MedSP1000's `progress_index` / `state_label`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: String,
    /// Short label shown to the clinician, e.g. "Initial assessment".
    pub label: String,
    pub vitals: Vitals,
    /// How the patient looks and behaves in this phase (environment feedback).
    pub status: String,
    /// Announced when the phase is entered (not for the first phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_enter: Option<String>,
    /// Where "done with this stage" leads; none: this is the last stage, and finishing it
    /// ends the encounter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Whether the patient can answer in this phase, overriding `patient.can_answer` (e.g. an
    /// unconscious patient who wakes after treatment). None: as `patient.can_answer` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_can_answer: Option<bool>,
}

/// Something that happens on time or on a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    /// Fires (once) as soon as this holds.
    pub when: Rule,
    pub then: Vec<Effect>,
}

/// What an event does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// A notice the clinician sees (nurse, monitor, change in the patient).
    Notice(String),
    /// Move to a phase.
    Phase(String),
    /// Change some vital signs without changing phase.
    Vitals(Vitals),
    /// A patient-side actor says something.
    Say { speaker: String, text: String },
    /// An actor arrives.
    Arrive(String),
    /// An actor leaves.
    Leave(String),
    /// The encounter ends (e.g. cardiac arrest); the text says why.
    End(String),
}

/// The longest time limit a case may set, in minutes: one day. A bedside encounter in
/// simulated time is shorter (the shipped cases run 40 to 90 minutes); the bound keeps the
/// encounter's clock, which stops at the time limit, far from the end of its `u32` seconds
/// whatever an imported or saved case file says (see `encounter::MAX_WAIT_MIN`).
pub const MAX_TIME_LIMIT_MIN: u32 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndConditions {
    /// Simulated minutes after which the encounter ends.
    pub time_limit_min: u32,
    /// Whether ordering a disposition ends the encounter (default true).
    #[serde(default = "yes")]
    pub on_disposition: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Diagnoses {
    /// Final diagnoses that count as correct; matched by words, not exact strings.
    pub accepted: Vec<String>,
    /// Reasonable differentials, for the debrief.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differential: Vec<String>,
}

/// The six ACGME competencies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Competency {
    /// Patient care.
    PC,
    /// Medical knowledge.
    MK,
    /// Systems-based practice.
    SBP,
    /// Interpersonal and communication skills.
    ICS,
    /// Practice-based learning and improvement.
    PBLI,
    /// Professionalism.
    PROF,
}

impl Competency {
    pub const ALL: [Competency; 6] = [
        Competency::PC,
        Competency::MK,
        Competency::SBP,
        Competency::ICS,
        Competency::PBLI,
        Competency::PROF,
    ];

    /// The abbreviation, as in JSON and MedSP1000 files: "PC", "MK", ...
    pub fn code(self) -> &'static str {
        match self {
            Competency::PC => "PC",
            Competency::MK => "MK",
            Competency::SBP => "SBP",
            Competency::ICS => "ICS",
            Competency::PBLI => "PBLI",
            Competency::PROF => "PROF",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Competency::PC => "Patient care",
            Competency::MK => "Medical knowledge",
            Competency::SBP => "Systems-based practice",
            Competency::ICS => "Interpersonal and communication skills",
            Competency::PBLI => "Practice-based learning and improvement",
            Competency::PROF => "Professionalism",
        }
    }
}

/// One rubric item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricItem {
    pub id: String,
    pub competency: Competency,
    /// What an educator would write, e.g. "Gives aspirin 162–325 mg within 10 minutes".
    pub text: String,
    /// Default 1; negative for harmful actions.
    #[serde(default = "one")]
    pub weight: f64,
    /// Missing it is a critical error.
    #[serde(default)]
    pub critical: bool,
    /// Scored by the engine; without a rule the judge scores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    /// Why it matters clinically, in a sentence or two; shown in the debrief.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// The public guideline it rests on, e.g. "ESC 2023 ACS guidelines, section 5.3".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// The JSON Schema of the case format, as shipped in `assets/case.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Case);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A `{name}` in a result text that is not a vital sign.
pub(crate) fn placeholder_error(path: String, name: &str) -> Diagnostic {
    Diagnostic::new(
        path,
        format!("unknown placeholder `{{{name}}}`"),
        format!(
            "a result can quote the vital signs on the monitor when it is shown: {}",
            VITAL_PLACEHOLDERS
                .iter()
                .map(|v| format!("{{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}
