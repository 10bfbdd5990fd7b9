//! The history page's rows, built whole from the saved encounters: in progress and finished,
//! newest first, with scores for finished encounters only; the open encounter to offer when a
//! case is started again; the selection for a bulk delete.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::engine::catalog::Catalog;
use crate::engine::encounter::Clinician;

use super::labels::{clock_label, end_reason_label, who_label};
use super::library::Library;
use super::results::{override_label, percent, scorecard};
use super::session::{SavedEncounter, Session};

/// One row of the history page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: String,
    pub case_title: String,
    /// When it started, in the caller's date format.
    pub date: String,
    pub who: String,
    pub status: String,
    pub ended: bool,
    pub sim_time: String,
    /// A finished encounter's scores ([`score_label`]); none while it is in progress.
    pub scores: Option<String>,
}

/// The history in two lists, newest first: encounters still in progress, and finished ones.
/// Scores belong to the finished ones only (an unfinished encounter has no score yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySections {
    pub in_progress: Vec<HistoryRow>,
    pub finished: Vec<HistoryRow>,
}

/// The two lists. A finished encounter is replayed against `library` and `catalog` for its
/// scores; `date` writes when each started (the browser's locale in the app).
pub fn history_sections(
    saved: &[SavedEncounter],
    library: &Library,
    catalog: &Arc<Catalog>,
    date: fn(f64) -> String,
) -> HistorySections {
    let (finished, in_progress) = history_rows(saved, library, catalog, date)
        .into_iter()
        .partition(|r| r.ended);
    HistorySections {
        in_progress,
        finished,
    }
}

/// Every saved encounter as a row, newest first.
pub fn history_rows(
    saved: &[SavedEncounter],
    library: &Library,
    catalog: &Arc<Catalog>,
    date: fn(f64) -> String,
) -> Vec<HistoryRow> {
    let mut rows: Vec<&SavedEncounter> = saved.iter().collect();
    rows.sort_by(|a, b| b.started_ms.total_cmp(&a.started_ms));
    rows.into_iter()
        .map(|s| HistoryRow {
            id: s.id.clone(),
            case_title: s.case_title.clone(),
            date: date(s.started_ms),
            who: match &s.job {
                // An evaluation job says which player and repeat it was.
                Some(j) => format!(
                    "{} · evaluation player {}, repeat {}",
                    who_label(&s.config),
                    j.tag.player,
                    j.tag.repeat
                ),
                None => who_label(&s.config),
            },
            status: match s.ended {
                Some(r) => format!("Ended: {}", end_reason_label(r)),
                None => "In progress".into(),
            },
            ended: s.ended.is_some(),
            sim_time: clock_label(s.sim_time_s),
            scores: s
                .ended
                .is_some()
                .then(|| score_label(s, library, catalog.clone())),
        })
        .collect()
}

/// The history's score column for a saved encounter: completion (items met of scored) and
/// points, from a replay of its inputs; the reason when it cannot be replayed.
pub fn score_label(saved: &SavedEncounter, library: &Library, catalog: Arc<Catalog>) -> String {
    match Session::resume(saved.clone(), library, catalog) {
        Ok(session) => {
            let card = scorecard(&session);
            let o = card.scores().overall;
            let mut label = format!(
                "{} ({}/{} items) · points {}",
                percent(o.completion_ratio),
                o.expected_met,
                o.expected_scored,
                percent(o.points_ratio)
            );
            if let Some(mark) = override_label(&card) {
                label.push_str(" · ");
                label.push_str(&mark);
            }
            label
        }
        Err(e) => format!("cannot be scored: {e}"),
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
        clock_label(s.sim_time_s),
        if n == 1 { "" } else { "s" }
    )
}

/// The ids chosen for deletion that are still listed (a row deleted elsewhere drops out).
pub fn selected_ids(selected: &BTreeSet<String>, rows: &HistorySections) -> Vec<String> {
    rows.in_progress
        .iter()
        .chain(&rows.finished)
        .filter(|r| selected.contains(&r.id))
        .map(|r| r.id.clone())
        .collect()
}
