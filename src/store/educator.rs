//! The educator's name in localStorage (`bedside.educator.v1`): present while educator mode
//! is on (see `app::educator`).

use super::{js_err, StoreError, NO_LOCAL_STORAGE};

const EDUCATOR_KEY: &str = "bedside.educator.v1";

/// The educator in force, if educator mode is on in this browser.
pub fn load() -> Option<String> {
    let name = super::local_storage()?
        .get_item(EDUCATOR_KEY)
        .ok()
        .flatten()?;
    crate::app::educator::educator_name(&name).ok()
}

/// Enters educator mode as `name`, or (with none) leaves it.
pub fn save(name: Option<&str>) -> Result<(), StoreError> {
    let ls = super::local_storage().ok_or(NO_LOCAL_STORAGE)?;
    match name {
        Some(n) => ls
            .set_item(EDUCATOR_KEY, n)
            .map_err(|e| js_err("the educator's name could not be saved", e)),
        None => ls
            .remove_item(EDUCATOR_KEY)
            .map_err(|e| js_err("educator mode could not be left", e)),
    }
}
