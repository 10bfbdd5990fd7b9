//! Scores and exports of a saved encounter, as the debrief page needs them: the scorecard
//! (rules, the stored judge run, the educator's overrides), the debrief data, and the export
//! files (our JSON, CSV per encounter and per item, the MedSP1000 shape) with their names.
//!
//! Keys cannot leak through here: nothing in a `SavedEncounter` holds one (the LLM layer's
//! exchanges record endpoint and model only), and a test checks the files for a planted key.

use serde_json::json;

use crate::engine::debrief::{debrief, Debrief};
use crate::engine::export::{
    encounter_csv_header, encounter_csv_row, frozen_result, items_csv_header, items_csv_rows,
    EncounterExport, Roles,
};
use crate::engine::score::{score, Override, Scorecard};

use super::session::Session;

/// The scorecard of a session as saved: rule items, the judge run if one succeeded, and the
/// overrides in force.
pub fn scorecard(session: &Session) -> Scorecard {
    let enc = &session.encounter;
    score(
        enc.case(),
        enc.state(),
        session.saved.judge.as_ref(),
        &session.saved.overrides,
    )
}

/// The debrief data of a session, worded for people: order ids in explanations become the
/// catalog's names, other ids become words ("`cath_lab_activation` was never ordered" →
/// "“Cath lab activation (primary PCI)” was never ordered").
pub fn debrief_of(session: &Session) -> Debrief {
    let card = scorecard(session);
    let mut d = debrief(session.encounter.case(), session.encounter.record(), &card);
    let catalog = session.encounter.catalog();
    for item in &mut d.scorecard.items {
        item.why = humanize(&item.why, catalog);
    }
    for e in &mut d.expectations {
        if let Some(o) = catalog.get(&e.what) {
            e.what = o.name.clone();
        }
    }
    d
}

/// Replaces each `` `id` `` with the order's name in quotes, or the id's words. An unpaired
/// backtick is kept as it is.
pub fn humanize(text: &str, catalog: &crate::engine::catalog::Catalog) -> String {
    let segments: Vec<&str> = text.split('`').collect();
    let last = segments.len() - 1;
    let mut out = String::with_capacity(text.len());
    for (i, seg) in segments.iter().enumerate() {
        let quoted = i % 2 == 1 && (i < last || segments.len() % 2 == 1);
        if !quoted {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(seg);
        } else {
            match catalog.get(seg) {
                Some(o) => {
                    out.push('“');
                    out.push_str(&o.name);
                    out.push('”');
                }
                None => out.push_str(&seg.replace('_', " ")),
            }
        }
    }
    out
}

/// Records an educator's override (or, with `met: None`, clears it) on the saved encounter.
/// Returns false (and changes nothing) for an id that is not an item of the case's rubric.
pub fn add_override(
    session: &mut Session,
    item: &str,
    met: Option<bool>,
    by: &str,
    note: &str,
    at: &str,
) -> bool {
    if !session.encounter.case().rubric.iter().any(|i| i.id == item) {
        return false;
    }
    session.saved.overrides.push(Override {
        item: item.to_string(),
        met,
        by: by.trim().to_string(),
        note: note.trim().to_string(),
        at: at.to_string(),
    });
    true
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
    let enc = &session.encounter;
    let saved = &session.saved;
    let card = scorecard(session);
    let judge = saved.judge.as_ref().map(|j| j.model.as_str());
    let mut e = EncounterExport::new(
        &saved.id,
        exported_at,
        enc.case(),
        Roles::from_record(enc.record(), &saved.patient_voice, judge),
        enc.record(),
        &card,
    );
    if !saved.exchanges.is_empty() || !saved.voiced.is_empty() {
        e.app = Some(json!({
            "llm_exchanges": saved.exchanges,
            "protocol_faults": crate::llm::roles::fault_counts(&saved.exchanges),
            "voiced_lines": saved.voiced,
        }));
    }
    e
}

/// One export file of a session.
pub fn export_file(session: &Session, kind: ExportKind, exported_at: &str) -> ExportFile {
    let e = export_of(session, exported_at);
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

/// The history's score column for a saved encounter: completion (items met of scored) and
/// points, from a replay of its inputs; the reason when it cannot be replayed.
pub fn score_label(
    saved: &super::session::SavedEncounter,
    library: &super::library::Library,
    catalog: std::sync::Arc<crate::engine::catalog::Catalog>,
) -> String {
    match Session::resume(saved.clone(), library, catalog) {
        Ok(session) => {
            let o = scorecard(&session).scores().overall;
            format!(
                "{} ({}/{} items) · points {}",
                percent(o.completion_ratio),
                o.expected_met,
                o.expected_scored,
                percent(o.points_ratio)
            )
        }
        Err(e) => format!("cannot be scored: {e}"),
    }
}
