//! The model settings in localStorage (`bedside.llm-settings.v1`): every role's endpoint and
//! sampling settings, with a key only where the user ticked "remember" (the store format of
//! `llm::settings`). Keys not remembered stay in the app's memory for the tab.

use super::{js_err, StoreError, NO_LOCAL_STORAGE};
use crate::app::settings::{parse_stored, stored_text};
use crate::llm::settings::Settings;

const SETTINGS_KEY: &str = "bedside.llm-settings.v1";

/// The saved settings; none saved means the offline default.
pub fn load() -> Result<Settings, StoreError> {
    let Some(ls) = super::local_storage() else {
        return Ok(Settings::default());
    };
    match ls.get_item(SETTINGS_KEY) {
        Ok(Some(text)) => parse_stored(&text).map_err(StoreError::Unreadable),
        Ok(None) => Ok(Settings::default()),
        Err(e) => Err(js_err(
            "the saved model settings cannot be read from this browser",
            e,
        )),
    }
}

/// Replaces the saved settings (a key is written only for roles with "remember" ticked).
pub fn save(settings: &Settings) -> Result<(), StoreError> {
    let ls = super::local_storage().ok_or(NO_LOCAL_STORAGE)?;
    ls.set_item(SETTINGS_KEY, &stored_text(settings))
        .map_err(|e| js_err("the model settings could not be saved (storage full?)", e))
}
