//! View models built from the engine's state and log: the conversation, the results inbox,
//! the vitals monitor with its trend lines, the clock, and the debrief's action log. Plain
//! data; the components only lay them out.

use crate::engine::alarms::{self, Level, Vital};
use crate::engine::case::{Arrival, Case, MonitorSign, Vitals, PATIENT};
use crate::engine::catalog::Catalog;
use crate::engine::encounter::{
    ActionStatus, Encounter, EndReason, Ended, Entry, EntryKind, State,
};
use crate::engine::eval::seconds;

pub use super::labels::{clock_label, end_reason_label};

/// The clock bar: elapsed time, the case's time limit and what is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockView {
    pub elapsed: String,
    pub limit: String,
    pub remaining_min: u32,
    /// The neutral stage name ([`stage_label`]), never the case's phase label.
    pub phase_label: String,
    pub status: String,
    pub turn: u32,
    /// What is under way: "2 results pending · 1 held for IV access · 1 running"; empty
    /// when nothing is.
    pub in_progress: String,
}

/// The neutral name the trainee sees for the `n`th stage entered (1-based): "Stage 2". The
/// case's own phase labels ("Hypotension after nitrate") would give the script away; they stay
/// in the debrief.
pub fn stage_label(n: usize) -> String {
    format!("Stage {}", n.max(1))
}

impl ClockView {
    /// The time limit and what is left of it: "of 60:00 · 45 min left".
    pub fn limit_line(&self) -> String {
        format!("of {} · {} min left", self.limit, self.remaining_min)
    }
}

pub fn clock_view(case: &Case, state: &State) -> ClockView {
    let limit_s = seconds(case.end.time_limit_min);
    ClockView {
        elapsed: clock_label(state.now_s),
        limit: clock_label(limit_s),
        remaining_min: limit_s.saturating_sub(state.now_s).div_ceil(60),
        phase_label: stage_label(state.phases_visited.len()),
        status: state.status.clone(),
        turn: state.turn,
        in_progress: in_progress(state),
    }
}

/// What is under way now, for the clock line.
fn in_progress(state: &State) -> String {
    let live = |a: &&crate::engine::encounter::ActionRecord| {
        a.cancelled_s.is_none() && a.status != ActionStatus::Unsupported
    };
    let pending = state
        .actions
        .iter()
        .filter(live)
        .filter(|a| !a.awaiting_access && a.status == ActionStatus::Pending && a.result.is_none())
        .count();
    let held = state
        .actions
        .iter()
        .filter(live)
        .filter(|a| a.awaiting_access)
        .count();
    let running = state
        .actions
        .iter()
        .filter(live)
        .filter(|a| a.interpretation.rate && a.stopped_s.is_none() && a.done_at().is_some())
        .count();
    let mut parts = Vec::new();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if pending > 0 {
        parts.push(format!("{pending} result{} pending", plural(pending)));
    }
    if held > 0 {
        parts.push(format!("{held} held for IV access"));
    }
    if running > 0 {
        parts.push(format!("{running} infusion{} running", plural(running)));
    }
    parts.join(" · ")
}

/// Who or what a conversation row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// The trainee (or model) playing the clinician.
    Clinician,
    Patient,
    /// Family and other patient-side actors.
    Actor,
    /// Event notices and changes of the patient's state.
    Notice,
    /// Waits, stage changes, the end: quiet bookkeeping.
    System,
}

impl RowKind {
    /// A CSS class name.
    pub fn class(self) -> &'static str {
        match self {
            RowKind::Clinician => "row-clinician",
            RowKind::Patient => "row-patient",
            RowKind::Actor => "row-actor",
            RowKind::Notice => "row-notice",
            RowKind::System => "row-system",
        }
    }
}

/// One line of the conversation pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRow {
    /// The log entry's sequence number (stable key; debrief evidence can point at it).
    pub seq: u32,
    pub time: String,
    pub kind: RowKind,
    pub speaker: String,
    pub text: String,
}

/// "Mr Hollis" for the patient, "Anna Hollis (daughter)" for an actor.
pub fn speaker_name(case: &Case, speaker: &str) -> String {
    if speaker == PATIENT {
        return case.patient.name.clone();
    }
    match case.actors.iter().find(|a| a.id == speaker) {
        Some(a) => format!("{} ({})", a.name, a.role),
        None => speaker.to_string(),
    }
}

/// The conversation: speech, notices and changes of state, in order. Orders and results are
/// in the inbox, not here (the transcript stays readable).
pub fn transcript_rows(case: &Case, entries: &[Entry]) -> Vec<TranscriptRow> {
    entries
        .iter()
        .filter_map(|e| transcript_row(case, e))
        .collect()
}

fn transcript_row(case: &Case, e: &Entry) -> Option<TranscriptRow> {
    let (kind, speaker, text) = match &e.kind {
        EntryKind::ClinicianSaid { text } => (RowKind::Clinician, "You".to_string(), text.clone()),
        EntryKind::ActorSaid { speaker, text, .. } => {
            let kind = if speaker == PATIENT {
                RowKind::Patient
            } else {
                RowKind::Actor
            };
            (kind, speaker_name(case, speaker), text.clone())
        }
        EntryKind::Notice { text, .. } => (RowKind::Notice, "Notice".into(), text.clone()),
        EntryKind::PhaseChanged { label, status, .. } => (
            RowKind::Notice,
            "Patient's state".into(),
            if status.is_empty() {
                label.clone()
            } else {
                format!("{label}: {status}")
            },
        ),
        EntryKind::ActorArrived { actor } => (
            RowKind::Notice,
            "Arrival".into(),
            format!("{} has arrived.", speaker_name(case, actor)),
        ),
        EntryKind::ActorLeft { actor } => (
            RowKind::Notice,
            "Departure".into(),
            format!("{} has left.", speaker_name(case, actor)),
        ),
        EntryKind::Waited { minutes } => (
            RowKind::System,
            "Clock".into(),
            format!(
                "You waited {minutes} minute{}.",
                if *minutes == 1 { "" } else { "s" }
            ),
        ),
        EntryKind::StageDone { .. } => (
            RowKind::System,
            "Stage".into(),
            "You marked this stage as done.".into(),
        ),
        EntryKind::Ended { reason, detail } => (
            RowKind::System,
            "End".into(),
            format!("Encounter ended: {}.", end_summary(*reason, detail)),
        ),
        EntryKind::Cancelled { name, stopped, .. } => (
            RowKind::System,
            "Orders".into(),
            format!(
                "{}: {name}.",
                if *stopped { "Stopped" } else { "Cancelled" }
            ),
        ),
        EntryKind::EndRequested { detail, .. } => (
            RowKind::System,
            "End".into(),
            format!("The encounter is closing ({detail}): the end form is due."),
        ),
        EntryKind::Started { .. }
        | EntryKind::Ordered { .. }
        | EntryKind::Result { .. }
        | EntryKind::Vitals { .. } => return None,
    };
    Some(TranscriptRow {
        seq: e.seq,
        time: clock_label(e.time_s),
        kind,
        speaker,
        text,
    })
}

/// The most recent notice-like rows (events, state changes) among `entries`: what a banner
/// announces after a send.
pub fn latest_notices(case: &Case, entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| match &e.kind {
            // The state change without the phase's authored label.
            EntryKind::PhaseChanged { status, .. } => (!status.is_empty()).then(|| status.clone()),
            _ => transcript_row(case, e)
                .filter(|r| r.kind == RowKind::Notice)
                .map(|r| r.text),
        })
        .collect()
}

/// The conversation as the encounter screen shows it to the trainee (the debrief keeps
/// [`transcript_rows`]):
/// - a change of stage reads "Stage 2" with the patient's new state, never the case's phase
///   label (which would give the script away);
/// - bookkeeping and state lines are not repeated: between two things said, each distinct
///   system or state line shows once ("Done with this stage" pressed four times on the last
///   stage asks for the end form once).
pub fn encounter_rows(case: &Case, entries: &[Entry]) -> Vec<TranscriptRow> {
    let mut rows: Vec<TranscriptRow> = Vec::new();
    let mut stage = 1;
    let mut since_speech: Vec<(String, String)> = Vec::new();
    for e in entries {
        let row = match &e.kind {
            EntryKind::PhaseChanged { status, .. } => {
                stage += 1;
                Some(TranscriptRow {
                    seq: e.seq,
                    time: clock_label(e.time_s),
                    kind: RowKind::Notice,
                    speaker: stage_label(stage),
                    text: if status.is_empty() {
                        "The patient's state has changed.".to_string()
                    } else {
                        status.clone()
                    },
                })
            }
            _ => transcript_row(case, e),
        };
        let Some(row) = row else { continue };
        if matches!(e.kind, EntryKind::PhaseChanged { .. }) {
            // A new stage: what was said about the last one may be said again.
            since_speech.clear();
        }
        match row.kind {
            RowKind::Clinician | RowKind::Patient | RowKind::Actor => since_speech.clear(),
            RowKind::Notice | RowKind::System => {
                // The stage name differs on each change: compare what it says.
                let key = (
                    if row.speaker.starts_with("Stage ") {
                        "Stage".to_string()
                    } else {
                        row.speaker.clone()
                    },
                    row.text.clone(),
                );
                if since_speech.contains(&key) {
                    continue;
                }
                since_speech.push(key);
            }
        }
        rows.push(row);
    }
    rows
}

/// Why the encounter ended, in one phrase: the reason, plus the engine's detail where it says
/// more (the time limit, the event that ended it).
pub fn end_summary(reason: EndReason, detail: &str) -> String {
    match reason {
        EndReason::TimeLimit | EndReason::TurnLimit if !detail.is_empty() => detail.to_string(),
        EndReason::Terminal if !detail.is_empty() => {
            format!("{}: {detail}", end_reason_label(reason))
        }
        _ => end_reason_label(reason).to_string(),
    }
}

/// The encounter screen's banner once the encounter has ended: "The encounter has ended at
/// 14:00: the time limit was reached."
pub fn ended_banner(ended: &Ended) -> String {
    format!("The encounter has ended {}.", ended_at(ended))
}

/// The debrief's outcome line: "Ended at 14:00: the time limit was reached."
pub fn ended_outcome(ended: &Ended) -> String {
    format!("Ended {}.", ended_at(ended))
}

/// "at 14:00: the time limit was reached": when, and why in one phrase.
fn ended_at(ended: &Ended) -> String {
    format!(
        "at {}: {}",
        clock_label(ended.time_s),
        end_summary(ended.reason, &ended.detail)
    )
}

/// The end form is due (the encounter is closing): why, in a sentence for the banner, and the
/// disposition order that closed it, if one did (the end form opens with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub why: String,
    /// The disposition order's catalog name; empty when no disposition closed it.
    pub disposition: String,
}

pub fn closing(enc: &Encounter) -> Option<Closing> {
    let state = enc.state();
    enc.end_requested().map(|r| Closing {
        why: format!(
            "The encounter is closing ({}): give your diagnosis and plan.",
            r.detail
        ),
        disposition: r
            .disposition
            .and_then(|seq| state.actions.get(seq as usize))
            .and_then(|a| a.interpretation.order.as_ref())
            .map(|o| o.name.clone())
            .unwrap_or_default(),
    })
}

/// One vital sign on the monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct VitalSign {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// The current value as shown ("82/46" for blood pressure); None: not measured.
    pub value: Option<String>,
    /// (seconds, value) at every change, oldest first.
    pub series: Vec<(u32, f64)>,
    /// SVG polyline points for the trend in a [`TREND_W`] × [`TREND_H`] box.
    pub points: String,
    /// The current value against the normal and critical ranges for the patient's age
    /// ([`alarms::RANGES`]); for blood pressure the worse of systolic and diastolic. Normal
    /// when not measured or not in the table (pain).
    pub level: Level,
}

impl VitalSign {
    /// The tile's visible alarm label ("low", "CRITICAL high"); empty when in range.
    pub fn alarm_label(&self) -> &'static str {
        self.level.label()
    }

    /// The tile's CSS classes for its level (colour goes with the label, never alone).
    pub fn level_class(&self) -> &'static str {
        match self.level {
            Level::Normal => "level-normal",
            Level::Low => "level-abnormal level-low",
            Level::High => "level-abnormal level-high",
            Level::CriticalLow => "level-critical level-critical-low",
            Level::CriticalHigh => "level-critical level-critical-high",
        }
    }
}

pub const TREND_W: f64 = 120.0;
pub const TREND_H: f64 = 32.0;

type Getter = fn(&Vitals) -> Option<f64>;

/// (key, label, unit, trend value, the vitals whose alarm levels the tile shows)
type Sign = (
    &'static str,
    &'static str,
    &'static str,
    Getter,
    &'static [Vital],
);

const SIGNS: [Sign; 7] = [
    (
        "hr",
        "Heart rate",
        "/min",
        |v| v.hr.map(f64::from),
        &[Vital::Hr],
    ),
    (
        "bp",
        "Blood pressure",
        "mmHg",
        |v| v.sbp.map(f64::from),
        &[Vital::Sbp, Vital::Dbp],
    ),
    (
        "rr",
        "Resp. rate",
        "/min",
        |v| v.rr.map(f64::from),
        &[Vital::Rr],
    ),
    (
        "spo2",
        "SpO₂",
        "%",
        |v| v.spo2.map(f64::from),
        &[Vital::Spo2],
    ),
    ("temp", "Temperature", "°C", |v| v.temp_c, &[Vital::TempC]),
    ("gcs", "GCS", "", |v| v.gcs.map(f64::from), &[Vital::Gcs]),
    ("pain", "Pain", "/10", |v| v.pain.map(f64::from), &[]),
];

/// The case field naming each tile's sign.
fn monitor_sign(key: &str) -> Option<MonitorSign> {
    Some(match key {
        "hr" => MonitorSign::Hr,
        "bp" => MonitorSign::Bp,
        "rr" => MonitorSign::Rr,
        "spo2" => MonitorSign::Spo2,
        "temp" => MonitorSign::TempC,
        "gcs" => MonitorSign::Gcs,
        "pain" => MonitorSign::Pain,
        _ => return None,
    })
}

/// The tiles the setting's monitor has (`arrival.monitor`; all when the case does not say).
pub fn monitored(signs: Vec<VitalSign>, arrival: &Arrival) -> Vec<VitalSign> {
    signs
        .into_iter()
        .filter(|v| monitor_sign(v.key).is_none_or(|s| arrival.monitors(s)))
        .collect()
}

/// The most severe level among `vitals` in `current` (the first on a tie).
fn tile_level(vitals: &[Vital], current: &Vitals, age_years: u32) -> Level {
    vitals
        .iter()
        .filter_map(|&v| alarms::level_of(v, current, age_years))
        .fold(Level::Normal, |worst, l| {
            if l.severity() > worst.severity() {
                l
            } else {
                worst
            }
        })
}

/// Every vital sign set so far, with `at` the time of each: from the start and every change.
pub fn vitals_history(entries: &[Entry]) -> Vec<(u32, Vitals)> {
    entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Started { vitals, .. } | EntryKind::Vitals { vitals } => {
                Some((e.time_s, vitals.clone()))
            }
            _ => None,
        })
        .collect()
}

fn current_value(key: &str, v: &Vitals) -> Option<String> {
    match key {
        "hr" => v.hr.map(|x| x.to_string()),
        "bp" => v.sbp.map(|s| match v.dbp {
            Some(d) => format!("{s}/{d}"),
            None => s.to_string(),
        }),
        "rr" => v.rr.map(|x| x.to_string()),
        "spo2" => v.spo2.map(|x| x.to_string()),
        "temp" => v.temp_c.map(|x| format!("{x:.1}")),
        "gcs" => v.gcs.map(|x| x.to_string()),
        "pain" => v.pain.map(|x| x.to_string()),
        _ => None,
    }
}

/// The monitor: every vital sign the case gives, its current value, its level for a patient of
/// `age_years` and its trend up to `now_s`.
pub fn vitals_view(
    current: &Vitals,
    entries: &[Entry],
    now_s: u32,
    age_years: u32,
) -> Vec<VitalSign> {
    let history = vitals_history(entries);
    SIGNS
        .iter()
        .filter_map(|(key, label, unit, get, tabled)| {
            let mut series: Vec<(u32, f64)> = Vec::new();
            for (t, v) in &history {
                if let Some(x) = get(v) {
                    match series.last() {
                        Some(&(_, last)) if last == x => {}
                        _ => series.push((*t, x)),
                    }
                }
            }
            let value = current_value(key, current);
            if value.is_none() && series.is_empty() {
                return None;
            }
            let points = trend_points(&series, now_s, TREND_W, TREND_H);
            Some(VitalSign {
                key,
                label,
                unit,
                value,
                series,
                points,
                level: tile_level(tabled, current, age_years),
            })
        })
        .collect()
}

/// A step line through the series (a value holds until the next change) from minute 0 to
/// `now_s`, scaled into a `w` × `h` box with a small margin; a constant series is a flat line
/// in the middle. Empty when there is nothing to draw.
pub fn trend_points(series: &[(u32, f64)], now_s: u32, w: f64, h: f64) -> String {
    let Some(&(_, first)) = series.first() else {
        return String::new();
    };
    let end_s = series
        .iter()
        .map(|(t, _)| *t)
        .max()
        .unwrap_or(0)
        .max(now_s)
        .max(60);
    let (lo, hi) = series
        .iter()
        .fold((first, first), |(lo, hi), &(_, x)| (lo.min(x), hi.max(x)));
    let pad = 2.0;
    let x_of = |t: u32| pad + (w - 2.0 * pad) * f64::from(t) / f64::from(end_s);
    let y_of = |v: f64| {
        if hi > lo {
            pad + (h - 2.0 * pad) * (hi - v) / (hi - lo)
        } else {
            h / 2.0
        }
    };
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let mut prev: Option<f64> = None;
    for &(t, v) in series {
        let x = x_of(t);
        if let Some(p) = prev {
            pts.push((x, y_of(p)));
        }
        pts.push((x, y_of(v)));
        prev = Some(v);
    }
    if let Some(p) = prev {
        pts.push((x_of(end_s), y_of(p)));
    }
    pts.iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One row of the debrief's action log.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionLogRow {
    pub seq: u32,
    pub time: String,
    pub typed: String,
    /// Catalog name and category, or "not understood".
    pub understood_as: String,
    pub confidence: Option<f64>,
    pub dose_route: Option<String>,
    pub status: &'static str,
    pub result_time: Option<String>,
    pub result: Option<String>,
}

pub fn action_log(state: &State) -> Vec<ActionLogRow> {
    state
        .actions
        .iter()
        .map(|a| {
            let i = &a.interpretation;
            ActionLogRow {
                seq: a.seq,
                time: clock_label(a.time_s),
                typed: i.raw.clone(),
                understood_as: match &i.order {
                    Some(o) => format!("{} ({})", o.name, o.category.label()),
                    None => "not understood".into(),
                },
                confidence: i.order.as_ref().map(|o| o.confidence),
                dose_route: i.placed_form(),
                status: match a.status {
                    ActionStatus::Executed => "executed",
                    ActionStatus::Pending if a.result.is_some() => "resulted",
                    ActionStatus::Pending => "pending",
                    ActionStatus::Unsupported => "unsupported",
                },
                result_time: a.result.as_ref().and(a.result_due_s).map(clock_label),
                result: a.result.clone(),
            }
        })
        .collect()
}

/// The names of the catalog's disposition orders, for the end form.
pub fn disposition_options(catalog: &Catalog) -> Vec<String> {
    catalog
        .orders()
        .iter()
        .filter(|o| o.category == crate::engine::catalog::Category::Disposition)
        .map(|o| o.name.clone())
        .collect()
}

/// The transcript with the lines a model voiced in place of the scripted ones (by log seq).
pub fn voiced_rows(
    mut rows: Vec<TranscriptRow>,
    voiced: &std::collections::BTreeMap<u32, String>,
) -> Vec<TranscriptRow> {
    for row in &mut rows {
        if let Some(text) = voiced.get(&row.seq) {
            row.text = text.clone();
        }
    }
    rows
}

/// A session's transcript as the pages show it: a model's voiced lines in place of the
/// scripted ones, and the clinician's lines labelled "You" for a human trainee or with the
/// model's name when a model played.
pub fn session_rows(s: &super::session::Session) -> Vec<TranscriptRow> {
    let enc = s.encounter();
    labelled_rows(s, transcript_rows(enc.case(), &enc.record().log))
}

/// [`session_rows`] for the encounter screen: [`encounter_rows`] (neutral stages, no repeats).
pub fn live_session_rows(s: &super::session::Session) -> Vec<TranscriptRow> {
    let enc = s.encounter();
    labelled_rows(s, encounter_rows(enc.case(), &enc.record().log))
}

fn labelled_rows(s: &super::session::Session, rows: Vec<TranscriptRow>) -> Vec<TranscriptRow> {
    let mut rows = voiced_rows(rows, s.voiced());
    if let crate::engine::encounter::Clinician::Model { model, .. } = &s.config().clinician {
        let label = format!("Clinician ({model})");
        for row in rows.iter_mut().filter(|r| r.kind == RowKind::Clinician) {
            row.speaker = label.clone();
        }
    }
    rows
}
