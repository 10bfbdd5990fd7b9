//! The results inbox as the encounter screen shows it: every order in four groups (pending,
//! returned, not understood, cancelled), each row with its status line, its flag from the
//! vital signs a result quotes, and what the trainee can do to it; the returned results not
//! yet seen.

use std::collections::BTreeSet;

use crate::engine::alarms::{self, Level};
use crate::engine::encounter::{ActionRecord, ActionStatus, Encounter};

use super::labels::clock_label;

/// Where an order stands in the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    /// Waiting for its result.
    Pending,
    /// Result back (or carried out at once).
    Returned,
    /// Not understood or not available.
    Unsupported,
    /// Cancelled before it was carried out: no result will come.
    Cancelled,
}

impl InboxStatus {
    /// The row's style: "pending", "returned", "unsupported", "cancelled".
    pub fn key(self) -> &'static str {
        match self {
            InboxStatus::Pending => "pending",
            InboxStatus::Returned => "returned",
            InboxStatus::Unsupported => "unsupported",
            InboxStatus::Cancelled => "cancelled",
        }
    }
}

/// One row of the results inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub seq: u32,
    /// The catalog name, or what was typed when not understood.
    pub name: String,
    /// What was typed.
    pub raw: String,
    /// The form as recorded: "0.5 mg IM", "300 mg PO (default route)".
    pub dose_route: Option<String>,
    pub status: InboxStatus,
    /// Held for IV access, cancelled, stopped, or the pharmacist's flag.
    pub note: Option<String>,
    /// What the trainee can do to it now: cancel (pending) or stop (running).
    pub control: Option<OrderControl>,
    pub ordered_at: String,
    /// Pending: when the result is expected; returned: when it came back; cancelled: when.
    pub time: Option<String>,
    /// Pending: minutes until it is expected.
    pub due_in_min: Option<u32>,
    pub result: Option<String>,
    /// The worst alarm level among the vital signs the result quotes ("BP 82/46"), read from
    /// the same table as the monitor ([`alarms::level`]); Normal when it quotes none.
    pub flag: Level,
}

impl InboxRow {
    /// Where the order stands, in words: "expected at 12:00 (in 5 min)", "back at 12:00",
    /// "cancelled at 12:00", or why it was not placed.
    pub fn status_line(&self) -> String {
        let time = self.time.as_deref().unwrap_or_default();
        match self.status {
            InboxStatus::Pending => match (&self.time, self.due_in_min) {
                (Some(t), Some(m)) => format!("expected at {t} (in {m} min)"),
                _ => "pending".to_string(),
            },
            InboxStatus::Returned => format!("back at {time}"),
            InboxStatus::Unsupported => "not understood or not available: rephrase it".to_string(),
            InboxStatus::Cancelled => format!("cancelled at {time}"),
        }
    }

    /// The result's flag, "Abnormal: CRITICAL high"; none for a result in the normal range or
    /// quoting no vital sign.
    pub fn flag_line(&self) -> Option<String> {
        match self.flag.label() {
            "" => None,
            l => Some(format!("Abnormal: {l}")),
        }
    }
}

/// The worst level, on the monitor's alarm table for a patient of `age_years`, of the vital
/// signs a result text quotes with a label ("BP 82/46 mmHg", "SpO2 88%"). Normal when it
/// quotes none: other values (a troponin, a lactate) are not in that table and are not judged.
pub fn result_level(text: &str, age_years: u32) -> Level {
    crate::engine::lint::quoted_signs(text)
        .into_iter()
        .map(|(v, x)| alarms::level(v, x, age_years))
        .fold(Level::Normal, |worst, l| {
            if l.severity() > worst.severity() {
                l
            } else {
                worst
            }
        })
}

/// The returned results not yet seen: every returned row whose seq is not in `seen`.
pub fn unseen_results(view: &InboxView, seen: &BTreeSet<u32>) -> Vec<u32> {
    view.returned
        .iter()
        .map(|r| r.seq)
        .filter(|s| !seen.contains(s))
        .collect()
}

/// A button on an inbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderControl {
    Cancel,
    Stop,
}

impl OrderControl {
    pub fn label(self) -> &'static str {
        match self {
            OrderControl::Cancel => "Cancel",
            OrderControl::Stop => "Stop",
        }
    }
}

/// The inbox in three groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxView {
    /// Soonest first.
    pub pending: Vec<InboxRow>,
    /// Most recently returned first.
    pub returned: Vec<InboxRow>,
    pub unsupported: Vec<InboxRow>,
    /// Cancelled before they were carried out, in order placed.
    pub cancelled: Vec<InboxRow>,
}

pub fn inbox_view(enc: &Encounter) -> InboxView {
    let state = enc.state();
    let mut view = InboxView::default();
    let mut returned: Vec<(u32, InboxRow)> = Vec::new();
    for a in &state.actions {
        let interp = &a.interpretation;
        let status = match (a.status, &a.result) {
            (ActionStatus::Unsupported, _) => InboxStatus::Unsupported,
            _ if a.cancelled_s.is_some() => InboxStatus::Cancelled,
            (_, Some(_)) => InboxStatus::Returned,
            (_, None) => InboxStatus::Pending,
        };
        let row = InboxRow {
            seq: a.seq,
            name: interp
                .order
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_else(|| interp.raw.clone()),
            raw: interp.raw.clone(),
            dose_route: interp.placed_form(),
            status,
            note: action_note(a),
            control: enc.cancellable(a.seq).ok().map(|()| {
                if a.status == ActionStatus::Executed {
                    OrderControl::Stop
                } else {
                    OrderControl::Cancel
                }
            }),
            ordered_at: clock_label(a.time_s),
            time: match status {
                InboxStatus::Unsupported => None,
                InboxStatus::Cancelled => a.cancelled_s.map(clock_label),
                _ => a.result_due_s.map(clock_label),
            },
            due_in_min: match status {
                InboxStatus::Pending => a
                    .result_due_s
                    .map(|d| d.saturating_sub(state.now_s).div_ceil(60)),
                _ => None,
            },
            flag: a
                .result
                .as_deref()
                .map_or(Level::Normal, |r| result_level(r, enc.case().patient.age)),
            result: a.result.clone(),
        };
        match status {
            InboxStatus::Pending => view.pending.push(row),
            InboxStatus::Returned => returned.push((a.result_due_s.unwrap_or(a.time_s), row)),
            InboxStatus::Unsupported => view.unsupported.push(row),
            InboxStatus::Cancelled => view.cancelled.push(row),
        }
    }
    view.pending.sort_by_key(|r| (r.due_in_min, r.seq));
    returned.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.seq.cmp(&a.1.seq)));
    view.returned = returned.into_iter().map(|(_, r)| r).collect();
    view
}

/// What happened to an order besides its result: held, stopped, queried (a cancellation is
/// its status).
fn action_note(a: &ActionRecord) -> Option<String> {
    let mut notes = Vec::new();
    if a.awaiting_access {
        notes.push("held by the nurse: no IV access yet".to_string());
    }
    if let Some(t) = a.started_s {
        notes.push(format!("given at {} once the line was in", clock_label(t)));
    }
    if let Some(t) = a.stopped_s {
        notes.push(format!("stopped at {}", clock_label(t)));
    }
    if let Some(c) = &a.dose_check {
        notes.push(format!("pharmacist: {}", c.message));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}
