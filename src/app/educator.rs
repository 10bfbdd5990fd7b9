//! Educator mode: who may change a score. There are no accounts: an educator enters a name,
//! the browser keeps it (`store::educator`), and every override records it. Without a name
//! the debrief shows scores and overrides but offers no control that changes them.

/// The longest name kept.
pub const MAX_NAME_CHARS: usize = 60;

/// The name as entered, trimmed; an error to show for a blank or overlong one.
pub fn educator_name(input: &str) -> Result<String, String> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("Enter your name: every override is recorded with it.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "Use at most {MAX_NAME_CHARS} characters for the name."
        ));
    }
    Ok(name)
}

/// The line under the rubric in educator mode; never blank.
pub fn educator_footer(name: &str) -> String {
    let name = name.trim();
    let name = if name.is_empty() {
        "an unnamed educator"
    } else {
        name
    };
    format!("Educator mode: overrides are recorded as made by {name}.")
}

/// What a trainee reads where the override controls would be.
pub const TRAINEE_NOTE: &str = "Scores can be changed only in educator mode, entered with \
                                the educator's name, which is recorded with each change.";

/// What the debrief's judge panel offers: scoring the judge items for the first time is open
/// to everyone (nothing is changed, the items were unscored); scoring them again replaces the
/// verdicts, so it changes a score and is offered only in educator mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgeOffer {
    /// No judge configured, or no item needs one: no control.
    Nothing,
    /// "Score with judge".
    Score,
    /// "Score again with judge" (educator mode).
    ScoreAgain,
    /// Already judged and not in educator mode: the reason, in visible text.
    Locked,
}

/// The judge panel's offer for the encounter as it is.
pub fn judge_offer(
    configured: bool,
    judge_items: usize,
    judged: bool,
    educator: bool,
) -> JudgeOffer {
    match (configured && judge_items != 0, judged, educator) {
        (false, _, _) => JudgeOffer::Nothing,
        (true, false, _) => JudgeOffer::Score,
        (true, true, true) => JudgeOffer::ScoreAgain,
        (true, true, false) => JudgeOffer::Locked,
    }
}

/// What a trainee reads instead of "Score again with judge".
pub const JUDGE_LOCKED_NOTE: &str = "Scoring again would replace the judge's verdicts, so it \
                                     is offered only in educator mode.";
