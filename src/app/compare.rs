//! The Compare page's logic: this browser's encounters as a comparison's rows (the trainee's
//! as "You", a model's outside a run by its model, each evaluation job as its run's player,
//! priced by the run's plan), merged with imported files' rows, and the files the page offers
//! for download. The figures themselves are `eval::report`'s, as in `bedside-cli report`.

use std::sync::Arc;

use super::evaluate::StoredRun;
use super::labels::iso_utc;
use super::library::Library;
use super::results::{export_of, ExportFile};
use super::session::{SavedEncounter, Session};
use crate::engine::catalog::Catalog;
use crate::eval::compare::{long_csv, Row};
use crate::eval::html::report_html;
use crate::eval::report::Report;
use crate::eval::sources::{number_repeats, player_of, Cases};

/// The player of this browser's own trainee encounters when no name was given.
pub const YOU: &str = "You";

/// The longest name a trainee may give.
pub const NAME_MAX: usize = 60;

/// A trainee's chosen name: trimmed, none when blank; refused when too long or holding
/// control characters (the message says why).
pub fn player_name(input: &str) -> Result<Option<String>, String> {
    let name = input.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("a name of at most {NAME_MAX} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a name without line breaks or control characters".into());
    }
    Ok(Some(name.to_string()))
}

/// Where a row came from, for the page's source switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This browser's history, outside any run.
    History,
    /// This browser's evaluation runs.
    Runs,
    /// Imported files.
    Imported,
}

/// The rows of this browser's finished encounters, and the ones that could not be rebuilt
/// (named). Unfinished encounters are not scores. `you`: the trainee's chosen name.
pub fn rows_of_history(
    saved: &[SavedEncounter],
    runs: &[StoredRun],
    library: &Library,
    catalog: &Arc<Catalog>,
    you: Option<&str>,
) -> (Vec<(Source, Row)>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let find = |id: &str| library.get(id).map(|c| c.case.clone());
    let cases = Cases {
        find: &find,
        catalog: Some(catalog),
    };
    for s in saved.iter().filter(|s| s.ended.is_some()) {
        let title = s.case_title.clone();
        let session = match Session::resume(s.clone(), library, catalog.clone()) {
            Ok(session) => session,
            Err(e) => {
                problems.push(format!("{title} ({}): {e}", s.id));
                continue;
            }
        };
        let e = export_of(&session, &iso_utc(s.updated_ms));
        let (source, row) = match session.job() {
            Some(job) => {
                // In the browser a job's tag names its stored run by id.
                let run = runs.iter().find(|r| r.id == job.tag.run);
                let price = run
                    .and_then(|r| r.plan.players.iter().find(|p| p.label == job.tag.player))
                    .and_then(|p| p.price.as_ref());
                let mut row = Row::from_job_export(job, &e, price);
                if let Some(r) = run {
                    row.run = Some(r.plan.name.clone());
                }
                (Source::Runs, row)
            }
            None => (
                Source::History,
                Row::from_export(&player_of(&e, you.unwrap_or(YOU)), 0, &e),
            ),
        };
        rows.push((source, cases.enrich(row, &e)));
    }
    (rows, problems)
}

/// The rows of the sources switched on; outside runs, repeats are numbered afresh over what
/// is combined (a trainee's encounters of one case are repeats in time order).
pub fn combine(sources: &[(Source, Row)], on: impl Fn(Source) -> bool) -> Vec<Row> {
    let mut rows: Vec<Row> = sources
        .iter()
        .filter(|(s, _)| on(*s))
        .map(|(_, r)| {
            let mut r = r.clone();
            if r.run.is_none() {
                r.repeat = 0;
            }
            r
        })
        .collect();
    number_repeats(&mut rows);
    rows
}

/// The comparison's three downloads: the long CSV, the report's JSON, the HTML report.
pub fn downloads(rows: &[Row], report: &Report, stamp: &str) -> [ExportFile; 3] {
    [
        ExportFile {
            name: format!("bedside-comparison-{stamp}.csv"),
            mime: "text/csv",
            contents: long_csv(rows),
        },
        ExportFile {
            name: format!("bedside-comparison-{stamp}.json"),
            mime: "application/json",
            contents: report.to_json(),
        },
        ExportFile {
            name: format!("bedside-comparison-{stamp}.html"),
            mime: "text/html",
            contents: report_html(report, "Bedside comparison"),
        },
    ]
}
