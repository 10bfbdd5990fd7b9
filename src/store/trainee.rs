//! The trainee's chosen name in localStorage (`bedside.trainee.v1`): the player their own
//! encounters are in comparisons, carried in the exports they download (see `app::compare`).

use super::StoreError;

const TRAINEE_KEY: &str = "bedside.trainee.v1";

/// The name in force, if one was given in this browser.
pub fn load() -> Option<String> {
    let name = super::local_text(TRAINEE_KEY)?;
    crate::app::compare::player_name(&name).ok().flatten()
}

/// Saves the name, or (with none) forgets it.
pub fn save(name: Option<&str>) -> Result<(), StoreError> {
    super::set_local_text(
        TRAINEE_KEY,
        name,
        "your name could not be saved",
        "your name could not be forgotten",
    )
}
