//! Small labels shared by the view models ([`super::view`]), the history ([`super::history`])
//! and the pages, kept here so none of them imports another for a word.

use crate::engine::encounter::{Clinician, Config, EndReason};

/// Simulated time as "m:ss" from the start of the encounter (minutes keep counting past 60).
pub fn clock_label(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Why the encounter ended, in words for the trainee.
pub fn end_reason_label(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Clinician => "you ended the encounter",
        EndReason::Disposition => "a disposition was ordered",
        EndReason::Stage => "the last stage was finished",
        EndReason::TimeLimit => "the time limit was reached",
        EndReason::TurnLimit => "the turn limit was reached",
        EndReason::Terminal => "the patient's condition ended it",
    }
}

/// Who played the clinician, for the history and the debrief.
pub fn who_label(config: &Config) -> String {
    match &config.clinician {
        Clinician::Human => "Human".into(),
        Clinician::Model { provider, model } => format!("Model: {model} ({provider})"),
    }
}

/// "2026-11-24 20:15 UTC" from epoch milliseconds.
pub fn date_label(ms: f64) -> String {
    match utc_parts(ms) {
        Some([y, mo, d, h, mi, _]) => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC"),
        None => "unknown date".into(),
    }
}

/// "2026-11-24T20:15:07Z" (RFC 3339, UTC) from epoch milliseconds.
pub fn iso_utc(ms: f64) -> String {
    match utc_parts(ms) {
        Some([y, mo, d, h, mi, s]) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        None => "unknown date".into(),
    }
}

/// "20261124_201507" (UTC), MedSP1000's run-folder stamp, from epoch milliseconds.
pub fn folder_stamp(ms: f64) -> String {
    match utc_parts(ms) {
        Some([y, mo, d, h, mi, s]) => format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}"),
        None => "00000000_000000".into(),
    }
}

/// Year, month, day, hour, minute, second (UTC) of epoch milliseconds.
fn utc_parts(ms: f64) -> Option<[i64; 6]> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    let secs = (ms / 1000.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Some([
        y,
        i64::from(m),
        i64::from(d),
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
    ])
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
