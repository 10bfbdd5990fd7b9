//! Where a comparison's rows come from: encounter exports (a trainee's downloads, an
//! educator's collected cohort), job records (`bedside.job`, from a CLI result folder or a
//! download), and whatever the browser has (its history and its runs, which it turns into
//! exports itself). Plain Rust: the browser's import and `bedside-cli report` read files with
//! the same code.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::compare::Row;
use super::job::{JobRecord, JOB_FORMAT};
use super::plan::Plan;
use crate::engine::case::Case;
use crate::engine::catalog::Catalog;
use crate::engine::encounter::Clinician;
use crate::engine::export::{EncounterExport, FORMAT};

/// The player of a trainee's encounter whose export names nobody.
pub const UNNAMED_TRAINEE: &str = "Unnamed trainee";

/// The player an export belongs to outside a run: the trainee's chosen name (else
/// `trainee`), or "Model: provider / model".
pub fn player_of(e: &EncounterExport, trainee: &str) -> String {
    match &e.record.config.clinician {
        Clinician::Human => e
            .roles
            .player
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(trainee)
            .to_string(),
        // A static play is its own player, paired with the model's dynamic plays in reports.
        Clinician::Model { .. } if e.record.config.vignette => {
            format!("Model: {} (static)", e.roles.clinician)
        }
        Clinician::Model { .. } => format!("Model: {}", e.roles.clinician),
    }
}

/// Cases to enrich rows with (specialty, diagnosis, key actions): found by id, used only when
/// the version is the one played.
pub struct Cases<'a> {
    pub find: &'a dyn Fn(&str) -> Option<Arc<Case>>,
    pub catalog: Option<&'a Catalog>,
}

impl Cases<'_> {
    /// `row` with what its case knows, when the case is at hand in the same version.
    pub fn enrich(&self, row: Row, e: &EncounterExport) -> Row {
        match (self.find)(&e.case.id) {
            Some(case) if case.meta.version == e.case.version => {
                row.with_case(&case, self.catalog, &e.record.state)
            }
            _ => row,
        }
    }
}

/// Rows read from files (name, text): each an encounter export or a job record. A failed
/// job's record is skipped (it is never a score); what cannot be read is named in the
/// problems, and the other files still count. Repeats of rows from exports are numbered by
/// date per (player, case). `plan` gives job records their players' prices.
pub fn rows_from_files(
    files: &[(String, String)],
    cases: &Cases,
    plan: Option<&Plan>,
) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in files {
        match read_file(text, cases, plan) {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => {}
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    number_repeats(&mut rows);
    (rows, problems)
}

fn read_file(text: &str, cases: &Cases, plan: Option<&Plan>) -> Result<Option<Row>, String> {
    let format = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| format!("not valid JSON: {e}"))?
        .get("format")
        .and_then(|f| f.as_str().map(str::to_string));
    match format.as_deref() {
        Some(JOB_FORMAT) => {
            let record = JobRecord::from_json(text)?;
            Ok(row_of_job(&record, cases, plan))
        }
        Some(FORMAT) => {
            let e = EncounterExport::from_json(text)?;
            let row = Row::from_export(&player_of(&e, UNNAMED_TRAINEE), 0, &e);
            Ok(Some(cases.enrich(row, &e)))
        }
        Some(other) => Err(format!(
            "format `{other}` is neither an encounter export (`{FORMAT}`) nor a job record (`{JOB_FORMAT}`)"
        )),
        None => Err(format!(
            "no `format` field: not an encounter export (`{FORMAT}`) or a job record (`{JOB_FORMAT}`)"
        )),
    }
}

/// A finished job's row, with its case and its player's price; none for a failed job.
pub fn row_of_job(record: &JobRecord, cases: &Cases, plan: Option<&Plan>) -> Option<Row> {
    let price = plan
        .and_then(|p| p.players.iter().find(|e| e.label == record.tag.player))
        .and_then(|e| e.price.as_ref());
    let row = Row::from_job(record, price)?;
    let e = record.export.as_ref()?;
    Some(cases.enrich(row, e))
}

/// Numbers the rows without a repeat (0) per (player, case) in date order, after the
/// highest repeat already there.
pub fn number_repeats(rows: &mut [Row]) {
    let mut order: Vec<usize> = (0..rows.len()).filter(|i| rows[*i].repeat == 0).collect();
    order.sort_by(|a, b| rows[*a].date.cmp(&rows[*b].date).then(a.cmp(b)));
    let mut next: BTreeMap<(String, String), u32> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.repeat > 0) {
        let n = next.entry((r.player.clone(), r.case.clone())).or_default();
        *n = (*n).max(r.repeat);
    }
    for i in order {
        let n = next
            .entry((rows[i].player.clone(), rows[i].case.clone()))
            .or_default();
        *n += 1;
        rows[i].repeat = *n;
    }
}
