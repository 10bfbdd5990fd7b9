//! Small labels shared by the view models ([`super::view`]) and the saved encounter's history
//! rows ([`super::session`]), kept here so neither imports the other.

use crate::engine::encounter::EndReason;

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
