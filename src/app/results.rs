//! Scores and exports of a saved encounter, as the debrief page needs them: the scorecard
//! (rules, the stored judge run, the educator's overrides), the debrief data, and the export
//! files (our JSON, CSV per encounter and per item, the MedSP1000 shape) with their names.
//!
//! Keys cannot leak through here: nothing in a `Session` holds one (the LLM layer's
//! exchanges record endpoint and model only), and a test checks the files for a planted key.

use crate::engine::case::Competency;
use crate::engine::debrief::{debrief_named, pathway_rows, Debrief};
use crate::engine::encounter::{Config, Encounter, Input};
use crate::engine::export::{
    encounter_csv_header, encounter_csv_row, frozen_result, items_csv_header, items_csv_rows,
    EncounterExport, Roles,
};
use crate::engine::score::{score_named, Scorecard, Tally};

use super::session::Session;

/// The scorecard of a session as saved: rule items, the judge run if one succeeded, and the
/// overrides in force. Explanations name orders as the catalog does.
pub fn scorecard(session: &Session) -> Scorecard {
    let enc = session.encounter();
    score_named(
        enc.case(),
        Some(enc.catalog()),
        enc.state(),
        session.judge(),
        session.overrides(),
    )
}

/// The debrief data of a session. The engine words every explanation (catalog names, clock
/// times, the question a missed fact needed) and points each piece of evidence at its log
/// entry; nothing is rewritten here.
pub fn debrief_of(session: &Session) -> Debrief {
    let card = scorecard(session);
    let enc = session.encounter();
    let mut d = debrief_named(enc.case(), Some(enc.catalog()), enc.record(), &card);
    if let Some(expert) = expert_encounter(enc) {
        d.pathway = pathway_rows(expert.state(), enc.state());
    }
    d
}

/// The case's expert pathway played through the engine (deterministic, so the same every
/// time); none when the case has no pathway or a step is refused.
pub fn expert_encounter(trainee: &Encounter) -> Option<Encounter> {
    let (case, catalog) = trainee.shared();
    if case.pathway.is_empty() {
        return None;
    }
    let mut enc = Encounter::new(case.clone(), catalog, Config::human());
    for step in &case.pathway {
        if enc.is_ended() {
            break;
        }
        let input = Input::from_play_line(&serde_json::to_string(step).ok()?).ok()?;
        if enc.takes(&input) {
            enc.apply(input).ok()?;
        }
    }
    Some(enc)
}

/// What the two scores count, in one line each way, and (when they differ) why.
pub fn scores_explained(t: &Tally) -> (String, Option<String>) {
    let what = "Completion counts the expected items met, one each; points weigh them by \
                importance and subtract harms done."
        .to_string();
    let (Some(c), Some(p)) = (t.completion_ratio, t.points_ratio) else {
        return (what, None);
    };
    if (c - p).abs() < 0.005 {
        return (what, None);
    }
    let harm_points: f64 = -t.harm_points;
    let mut why = Vec::new();
    if t.harms_done > 0 {
        why.push(format!(
            "{} harm(s) done cost {} point(s)",
            t.harms_done,
            crate::engine::units::fmt_num(harm_points)
        ));
    }
    let weighted = t.points - t.harm_points;
    if (weighted / t.points_possible.max(f64::EPSILON) - c).abs() >= 0.005 {
        why.push(format!(
            "the items met carry {} of {} points by weight",
            crate::engine::units::fmt_num(weighted),
            crate::engine::units::fmt_num(t.points_possible)
        ));
    }
    let line = format!(
        "Completion {} but points {}: {}.",
        percent(Some(c)),
        percent(Some(p)),
        why.join(", and ")
    );
    (what, Some(line))
}

/// The six competencies with their names, for the debrief's legend.
pub fn competency_legend() -> Vec<(&'static str, &'static str)> {
    Competency::ALL
        .iter()
        .map(|c| (c.code(), c.label()))
        .collect()
}

/// "Overridden by Dr Lee (2 items)" when an educator's override is in force; none otherwise.
pub fn override_label(card: &Scorecard) -> Option<String> {
    let by: Vec<&str> = card
        .items
        .iter()
        .filter_map(|i| i.overridden.as_ref())
        .map(|o| o.by.as_str())
        .collect();
    if by.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = by.clone();
    names.sort_unstable();
    names.dedup();
    let names: Vec<&str> = names
        .into_iter()
        .map(|n| {
            if n.trim().is_empty() {
                "an educator"
            } else {
                n
            }
        })
        .collect();
    Some(format!(
        "Overridden by {} ({} item{})",
        names.join(", "),
        by.len(),
        if by.len() == 1 { "" } else { "s" }
    ))
}

/// "83%", or "—" when nothing was scored.
pub fn percent(r: Option<f64>) -> String {
    r.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub name: String,
    pub mime: &'static str,
    pub contents: String,
}

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Our full record: inputs, trajectory, scores, evidence, LLM calls.
    Json,
    /// One CSV row for the encounter.
    EncounterCsv,
    /// One CSV row per rubric item.
    ItemsCsv,
    /// MedSP1000's `final_evaluation_frozen_rubric.json` shape.
    MedSp,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Json,
        ExportKind::EncounterCsv,
        ExportKind::ItemsCsv,
        ExportKind::MedSp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Json => "Full record (JSON)",
            ExportKind::EncounterCsv => "Encounter row (CSV)",
            ExportKind::ItemsCsv => "Rubric items (CSV)",
            ExportKind::MedSp => "MedSP1000 shape (JSON)",
        }
    }

    /// A stable id for tests and styling.
    pub fn slug(self) -> &'static str {
        match self {
            ExportKind::Json => "json",
            ExportKind::EncounterCsv => "encounter-csv",
            ExportKind::ItemsCsv => "items-csv",
            ExportKind::MedSp => "medsp",
        }
    }
}

/// The export of a session, as our JSON format's struct.
pub fn export_of(session: &Session, exported_at: &str) -> EncounterExport {
    let enc = session.encounter();
    let card = scorecard(session);
    let judge = session.judge().map(|j| j.model.as_str());
    let mut e = EncounterExport::new(
        session.id(),
        exported_at,
        enc.case(),
        Roles::from_record(enc.record(), session.patient_voice(), judge),
        enc.record(),
        &card,
    );
    let (exchanges, voiced) = (session.exchanges(), session.voiced());
    if !exchanges.is_empty() || !voiced.is_empty() {
        e.app = Some(crate::llm::roles::export_record(exchanges, voiced));
    }
    e
}

/// One export file of a session; a trainee's export carries their chosen name (`player`).
pub fn export_file(
    session: &Session,
    kind: ExportKind,
    exported_at: &str,
    player: Option<&str>,
) -> ExportFile {
    let mut e = export_of(session, exported_at);
    if matches!(
        session.config().clinician,
        crate::engine::encounter::Clinician::Human
    ) {
        e.roles.player = player.map(str::to_string);
    }
    let stem = format!("bedside-{}-{}", e.case.id, e.encounter_id);
    match kind {
        ExportKind::Json => ExportFile {
            name: format!("{stem}.json"),
            mime: "application/json",
            contents: e.to_json(),
        },
        ExportKind::EncounterCsv => ExportFile {
            name: format!("{stem}-encounter.csv"),
            mime: "text/csv",
            contents: encounter_csv_header() + &encounter_csv_row(&e),
        },
        ExportKind::ItemsCsv => ExportFile {
            name: format!("{stem}-items.csv"),
            mime: "text/csv",
            contents: items_csv_header() + &items_csv_rows(&e),
        },
        ExportKind::MedSp => ExportFile {
            name: format!("{stem}-final_evaluation_frozen_rubric.json"),
            mime: "application/json",
            contents: serde_json::to_string_pretty(&frozen_result(&e)).unwrap_or_default(),
        },
    }
}
