//! The trainee's chosen name in localStorage (`bedside.trainee.v1`): the player their own
//! encounters are in comparisons, carried in the exports they download (see `app::compare`).

use super::{js_err, StoreError, NO_LOCAL_STORAGE};

const TRAINEE_KEY: &str = "bedside.trainee.v1";

/// The name in force, if one was given in this browser.
pub fn load() -> Option<String> {
    let name = super::local_storage()?
        .get_item(TRAINEE_KEY)
        .ok()
        .flatten()?;
    crate::app::compare::player_name(&name).ok().flatten()
}

/// Saves the name, or (with none) forgets it.
pub fn save(name: Option<&str>) -> Result<(), StoreError> {
    let ls = super::local_storage().ok_or(NO_LOCAL_STORAGE)?;
    match name {
        Some(n) => ls
            .set_item(TRAINEE_KEY, n)
            .map_err(|e| js_err("your name could not be saved", e)),
        None => ls
            .remove_item(TRAINEE_KEY)
            .map_err(|e| js_err("your name could not be forgotten", e)),
    }
}
