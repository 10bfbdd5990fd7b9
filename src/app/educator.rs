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
