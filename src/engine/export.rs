//! Results export: our full encounter record as JSON, CSV rows (one per encounter, one per
//! item) for notebooks, and MedSP1000's `final_evaluation_frozen_rubric.json` shape.
//!
//! Nothing here can carry an API key: the types hold role descriptions (provider kind, model,
//! parameters) that the caller builds, and the engine's record never sees a key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::{Case, Competency};
use super::encounter::{Clinician, Record};
use super::eval::clock;
use super::score::{Mark, Outcome, Scorecard, Scores};

/// The export format's name and version, first in every JSON export.
pub const FORMAT: &str = "bedside.encounter";
pub const FORMAT_VERSION: u32 = 1;

/// Who played each role: "human", "scripted", or a model description such as
/// "openai-compatible / gpt-4o-mini (temperature 0.2)". Never a key or a key-bearing URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roles {
    pub clinician: String,
    pub patient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    /// The trainee's chosen name, for comparisons of a cohort (none: not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
}

impl Roles {
    /// Roles as the record knows them (clinician from its config), with the patient voice and
    /// judge described by the caller.
    pub fn from_record(record: &Record, patient: &str, judge: Option<&str>) -> Roles {
        Roles {
            clinician: match &record.config.clinician {
                Clinician::Human => "human".to_string(),
                Clinician::Model { provider, model } => format!("{provider} / {model}"),
            },
            patient: patient.to_string(),
            judge: judge.map(str::to_string),
            player: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRef {
    pub id: String,
    pub version: String,
    pub title: String,
}

/// Our full encounter export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncounterExport {
    pub format: String,
    pub format_version: u32,
    /// The encounter's id in the app's history (or a batch runner's).
    pub encounter_id: String,
    /// When exported, as the caller formats it.
    pub exported_at: String,
    pub case: CaseRef,
    pub roles: Roles,
    /// Inputs, trajectory and final state: replaying `record.inputs` reproduces the rest.
    pub record: Record,
    pub scorecard: Scorecard,
    pub scores: Scores,
    /// What the app recorded beyond the engine (the LLM calls with their prompts and raw
    /// replies, lines a model voiced), as the app serialized it. Never a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<Value>,
}

impl EncounterExport {
    pub fn new(
        encounter_id: &str,
        exported_at: &str,
        case: &Case,
        roles: Roles,
        record: &Record,
        scorecard: &Scorecard,
    ) -> EncounterExport {
        EncounterExport {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            encounter_id: encounter_id.to_string(),
            exported_at: exported_at.to_string(),
            case: CaseRef {
                id: case.meta.id.clone(),
                version: case.meta.version.clone(),
                title: case.meta.title.clone(),
            },
            roles,
            record: record.clone(),
            scorecard: scorecard.clone(),
            scores: scorecard.scores(),
            app: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads an export back, refusing other formats and newer versions.
    pub fn from_json(text: &str) -> Result<EncounterExport, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        match v.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err(format!("format `{other}` is not `{FORMAT}`")),
            None => return Err(format!("no `format` field; expected `{FORMAT}`")),
        }
        match v.get("format_version").and_then(Value::as_u64) {
            Some(n) if n <= FORMAT_VERSION as u64 => {}
            Some(n) => {
                return Err(format!(
                    "format_version {n} is newer than this app reads ({FORMAT_VERSION})"
                ))
            }
            None => return Err("no `format_version` field".into()),
        }
        let mut track = serde_path_to_error::Track::new();
        EncounterExport::deserialize(serde_path_to_error::Deserializer::new(v, &mut track))
            .map_err(|e| format!("{}: {e}", track.path()))
    }
}

/// One CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn ratio(r: Option<f64>) -> String {
    r.map(|x| format!("{x:.4}")).unwrap_or_default()
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The per-encounter CSV header.
pub fn encounter_csv_header() -> String {
    let mut h: Vec<String> = [
        "encounter_id",
        "exported_at",
        "case_id",
        "case_version",
        "clinician",
        "patient",
        "judge",
        "end_reason",
        "minutes",
        "turns",
        "diagnosis",
        "items",
        "not_scored",
        "expected_met",
        "expected_scored",
        "completion_ratio",
        "harms_done",
        "points",
        "points_possible",
        "points_ratio",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in Competency::ALL {
        h.push(format!("{}_completion_ratio", c.code()));
        h.push(format!("{}_points_ratio", c.code()));
    }
    h.push("critical_failures".into());
    csv_line(&h)
}

/// One CSV row for an encounter (matching [`encounter_csv_header`]).
pub fn encounter_csv_row(e: &EncounterExport) -> String {
    let s = &e.record.state;
    let o = &e.scores.overall;
    let mut row = vec![
        e.encounter_id.clone(),
        e.exported_at.clone(),
        e.case.id.clone(),
        e.case.version.clone(),
        e.roles.clinician.clone(),
        e.roles.patient.clone(),
        e.roles.judge.clone().unwrap_or_default(),
        s.ended
            .as_ref()
            .map(|x| snake(&x.reason))
            .unwrap_or_else(|| "in_progress".into()),
        format!("{:.2}", s.now_s as f64 / 60.0),
        s.turn.to_string(),
        s.final_form
            .as_ref()
            .map(|f| f.diagnosis.clone())
            .unwrap_or_default(),
        o.items.to_string(),
        o.not_scored.to_string(),
        o.expected_met.to_string(),
        o.expected_scored.to_string(),
        ratio(o.completion_ratio),
        o.harms_done.to_string(),
        num(o.points),
        num(o.points_possible),
        ratio(o.points_ratio),
    ];
    for c in &e.scores.by_competency {
        row.push(ratio(c.tally.completion_ratio));
        row.push(ratio(c.tally.points_ratio));
    }
    row.push(e.scores.critical_failures.join(" "));
    csv_line(&row)
}

/// The per-item CSV header.
pub fn items_csv_header() -> String {
    csv_line(
        &[
            "encounter_id",
            "case_id",
            "item_id",
            "competency",
            "weight",
            "critical",
            "mark",
            "scored_by",
            "overridden",
            "first_evidence_time",
            "why",
            "text",
        ]
        .map(String::from),
    )
}

/// One CSV row per rubric item of an encounter.
pub fn items_csv_rows(e: &EncounterExport) -> String {
    let mut out = String::new();
    for i in &e.scorecard.items {
        out.push_str(&csv_line(&[
            e.encounter_id.clone(),
            e.case.id.clone(),
            i.id.clone(),
            i.competency.code().to_string(),
            num(i.weight),
            i.critical.to_string(),
            snake(&i.mark()),
            snake(&i.scored_by),
            i.overridden.is_some().to_string(),
            i.evidence
                .first()
                .map(|ev| clock(ev.time_s))
                .unwrap_or_default(),
            i.why.clone(),
            i.text.clone(),
        ]));
    }
    out
}

/// The snake_case name serde gives a unit enum variant.
fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// MedSP1000's `_score_summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub completed_items: u32,
    pub total_items: u32,
    pub false_items: u32,
    pub completion_ratio: f64,
}

/// MedSP1000's `final_evaluation_frozen_rubric.json`: per competency, item text → met; a
/// reasoning list; `_score_summary`; `_`-prefixed audit fields.
///
/// Only scored expected (positive-weight) items go in, so `completion_ratio` equals our
/// completion ratio. Harm items (which MedSP1000 rubrics do not have) and not-scored items are
/// listed in the audit fields `_harm_items` and `_not_scored_items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenResult {
    pub reasoning: Vec<String>,
    #[serde(rename = "PC")]
    pub pc: BTreeMap<String, bool>,
    #[serde(rename = "MK")]
    pub mk: BTreeMap<String, bool>,
    #[serde(rename = "SBP")]
    pub sbp: BTreeMap<String, bool>,
    #[serde(rename = "ICS")]
    pub ics: BTreeMap<String, bool>,
    #[serde(rename = "PBLI")]
    pub pbli: BTreeMap<String, bool>,
    #[serde(rename = "PROF")]
    pub prof: BTreeMap<String, bool>,
    #[serde(rename = "_score_summary")]
    pub score_summary: ScoreSummary,
    /// `_judge_model`, `_case_id`, `_harm_items`, ... (all keys start with `_`).
    #[serde(flatten)]
    pub audit: BTreeMap<String, Value>,
}

impl FrozenResult {
    pub fn competency(&self, c: Competency) -> &BTreeMap<String, bool> {
        match c {
            Competency::PC => &self.pc,
            Competency::MK => &self.mk,
            Competency::SBP => &self.sbp,
            Competency::ICS => &self.ics,
            Competency::PBLI => &self.pbli,
            Competency::PROF => &self.prof,
        }
    }

    fn competency_mut(&mut self, c: Competency) -> &mut BTreeMap<String, bool> {
        match c {
            Competency::PC => &mut self.pc,
            Competency::MK => &mut self.mk,
            Competency::SBP => &mut self.sbp,
            Competency::ICS => &mut self.ics,
            Competency::PBLI => &mut self.pbli,
            Competency::PROF => &mut self.prof,
        }
    }

    /// The summary recomputed from the item maps (what `_score_summary` must equal).
    pub fn summary_from_items(&self) -> ScoreSummary {
        let (mut done, mut total) = (0u32, 0u32);
        for c in Competency::ALL {
            for met in self.competency(c).values() {
                total += 1;
                done += u32::from(*met);
            }
        }
        ScoreSummary {
            completed_items: done,
            total_items: total,
            false_items: total - done,
            completion_ratio: if total == 0 {
                0.0
            } else {
                done as f64 / total as f64
            },
        }
    }
}

/// The MedSP1000-shaped result of an encounter export.
pub fn frozen_result(e: &EncounterExport) -> FrozenResult {
    let mut r = FrozenResult {
        reasoning: Vec::new(),
        pc: BTreeMap::new(),
        mk: BTreeMap::new(),
        sbp: BTreeMap::new(),
        ics: BTreeMap::new(),
        pbli: BTreeMap::new(),
        prof: BTreeMap::new(),
        score_summary: ScoreSummary {
            completed_items: 0,
            total_items: 0,
            false_items: 0,
            completion_ratio: 0.0,
        },
        audit: BTreeMap::new(),
    };
    let mut harms = Vec::new();
    let mut not_scored = Vec::new();
    for i in &e.scorecard.items {
        match i.mark() {
            Mark::NotScored | Mark::NotApplicable => not_scored.push(Value::String(i.id.clone())),
            Mark::Harm | Mark::Avoided => harms.push(serde_json::json!({
                "id": i.id, "text": i.text, "weight": i.weight,
                "happened": i.outcome == Outcome::Met,
            })),
            Mark::Met | Mark::Missed => {
                let map = r.competency_mut(i.competency);
                // Item texts are the keys; keep duplicates apart.
                let mut key = i.text.clone();
                let mut n = 2;
                while map.contains_key(&key) {
                    key = format!("{} ({n})", i.text);
                    n += 1;
                }
                map.insert(key, i.outcome == Outcome::Met);
                r.reasoning.push(format!(
                    "[{}] {}: {} — {}",
                    i.competency.code(),
                    i.id,
                    if i.outcome == Outcome::Met {
                        "true"
                    } else {
                        "false"
                    },
                    i.why
                ));
            }
        }
    }
    r.score_summary = r.summary_from_items();
    let audit = [
        ("_source", Value::String("bedside".into())),
        ("_case_id", Value::String(e.case.id.clone())),
        ("_case_version", Value::String(e.case.version.clone())),
        ("_encounter_id", Value::String(e.encounter_id.clone())),
        ("_clinician", Value::String(e.roles.clinician.clone())),
        (
            "_judge_model",
            e.scorecard
                .judge
                .as_ref()
                .map(|j| Value::String(j.model.clone()))
                .unwrap_or(Value::Null),
        ),
        ("_timestamp", Value::String(e.exported_at.clone())),
        ("_harm_items", Value::Array(harms)),
        ("_not_scored_items", Value::Array(not_scored)),
    ];
    r.audit = audit.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    r
}
