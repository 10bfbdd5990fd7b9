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
    if !ms.is_finite() || ms < 0.0 {
        return "unknown date".into();
    }
    let secs = (ms / 1000.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
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
