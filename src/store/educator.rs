//! The educator's name in localStorage (`bedside.educator.v1`): present while educator mode
//! is on (see `app::educator`).

use super::StoreError;

const EDUCATOR_KEY: &str = "bedside.educator.v1";

/// The educator in force, if educator mode is on in this browser.
pub fn load() -> Option<String> {
    let name = super::local_text(EDUCATOR_KEY)?;
    crate::app::educator::educator_name(&name).ok()
}

/// Enters educator mode as `name`, or (with none) leaves it.
pub fn save(name: Option<&str>) -> Result<(), StoreError> {
    super::set_local_text(
        EDUCATOR_KEY,
        name,
        "the educator's name could not be saved",
        "educator mode could not be left",
    )
}
