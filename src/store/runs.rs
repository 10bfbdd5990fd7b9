//! Evaluation runs in localStorage (`bedside.eval-runs.v1`): each run's plan, case ids and the
//! errors of jobs that failed (a few kilobytes a run). Finished jobs are saved encounters in
//! IndexedDB, tagged with their run; a plan never holds a key.

use super::{js_err, StoreError, NO_LOCAL_STORAGE};
use crate::app::evaluate::StoredRun;

const RUNS_KEY: &str = "bedside.eval-runs.v1";

/// The stored runs, oldest first; none stored: empty.
pub fn load() -> Result<Vec<StoredRun>, StoreError> {
    let Some(ls) = super::local_storage() else {
        return Ok(Vec::new());
    };
    match ls.get_item(RUNS_KEY) {
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
            StoreError::Unreadable(format!("the stored evaluation runs cannot be read: {e}"))
        }),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(js_err("the evaluation runs cannot be read", e)),
    }
}

/// Replaces the stored runs.
pub fn save(runs: &[StoredRun]) -> Result<(), StoreError> {
    let ls = super::local_storage().ok_or(NO_LOCAL_STORAGE)?;
    let text = serde_json::to_string(runs).map_err(|e| StoreError::Unwritable(e.to_string()))?;
    ls.set_item(RUNS_KEY, &text)
        .map_err(|e| js_err("the evaluation run could not be saved (storage full?)", e))
}

/// Updates run `id` in place (read, change, write), so two pages' changes do not undo each
/// other's other runs. `false` when there is no such run.
pub fn update(id: &str, change: impl FnOnce(&mut StoredRun)) -> Result<bool, StoreError> {
    let mut runs = load()?;
    let Some(run) = runs.iter_mut().find(|r| r.id == id) else {
        return Ok(false);
    };
    change(run);
    save(&runs)?;
    Ok(true)
}
