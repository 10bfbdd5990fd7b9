//! Browser storage. Encounters ([`SavedEncounter`]) live in IndexedDB (database `bedside`,
//! store `encounters`, one record `{id, json}` each, written after every input); imported case
//! files, the id of the open encounter, the model settings ([`settings`]) and evaluation runs
//! ([`runs`]) live in localStorage.
//!
//! Only meaningful in the browser: on a native target every call reports that storage is
//! unavailable. Errors are a [`StoreError`], whose wording is for the page to show.

pub mod educator;
pub mod runs;
pub mod settings;
pub mod trainee;

use std::cell::RefCell;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransactionMode};

use crate::app::library::StoredCase;
use crate::app::session::SavedEncounter;

const DB_NAME: &str = "bedside";
const DB_VERSION: u32 = 1;
const ENCOUNTERS: &str = "encounters";
const IMPORTED_KEY: &str = "bedside.imported-cases.v1";
const CURRENT_KEY: &str = "bedside.current-encounter";

thread_local! {
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

/// Why the browser's storage could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// This browser offers no such storage here (no window; IndexedDB or localStorage off, as
    /// in some private modes): what is missing.
    Unavailable(&'static str),
    /// The browser refused an operation: what was being done, and the browser's message.
    Refused { doing: &'static str, detail: String },
    /// What is stored cannot be read back (changed by hand, or by another version): which
    /// record and why, in a sentence.
    Unreadable(String),
    /// What was to be stored could not be written as JSON.
    Unwritable(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(what) => f.write_str(what),
            StoreError::Refused { doing, detail } => write!(f, "{doing}: {detail}"),
            StoreError::Unreadable(why) => f.write_str(why),
            StoreError::Unwritable(why) => write!(f, "cannot save: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Pages show storage errors as text.
impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.to_string()
    }
}

/// The browser refused `doing`: its error's message.
fn js_err(doing: &'static str, e: JsValue) -> StoreError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .or_else(|| {
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "unknown error".into());
    StoreError::Refused { doing, detail }
}

/// Resolves with the request's result on success, rejects with its error.
fn request_future(req: &IdbRequest) -> JsFuture {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok_req = req.clone();
        let on_ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let value = ok_req.result().unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &value);
        });
        let err_req = req.clone();
        let on_err = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_req
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("request failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        req.set_onsuccess(Some(on_ok.unchecked_ref()));
        req.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Resolves when the transaction commits.
fn transaction_future(tx: &web_sys::IdbTransaction) -> JsFuture {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let reject2 = reject.clone();
        let on_err = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("the write failed"));
        });
        let on_abort = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = reject2.call1(&JsValue::NULL, &JsValue::from_str("the write was aborted"));
        });
        tx.set_oncomplete(Some(on_ok.unchecked_ref()));
        tx.set_onerror(Some(on_err.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Opens the database once and keeps it (later writes then start in call order).
pub async fn open() -> Result<IdbDatabase, StoreError> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let window = web_sys::window().ok_or(StoreError::Unavailable("no browser window"))?;
    let factory = window
        .indexed_db()
        .map_err(|e| js_err("IndexedDB is not available", e))?
        .ok_or(StoreError::Unavailable(
            "IndexedDB is not available in this browser (private mode?)",
        ))?;
    let req = factory
        .open_with_u32(DB_NAME, DB_VERSION)
        .map_err(|e| js_err("cannot open the database", e))?;
    let upgrade_req = req.clone();
    let on_upgrade = Closure::once_into_js(move |_e: web_sys::Event| {
        if let Ok(db) = upgrade_req
            .result()
            .and_then(|r| r.dyn_into::<IdbDatabase>())
        {
            if !db.object_store_names().contains(ENCOUNTERS) {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&JsValue::from_str("id"));
                let _ = db.create_object_store_with_optional_parameters(ENCOUNTERS, &params);
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let value = request_future(&req)
        .await
        .map_err(|e| js_err("cannot open the database", e))?;
    let db: IdbDatabase = value
        .dyn_into()
        .map_err(|_| StoreError::Unavailable("the database did not open"))?;
    if let Some(existing) = DB.with(|d| d.borrow().clone()) {
        return Ok(existing);
    }
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

fn store(
    db: &IdbDatabase,
    mode: IdbTransactionMode,
) -> Result<(web_sys::IdbTransaction, web_sys::IdbObjectStore), StoreError> {
    let tx = db
        .transaction_with_str_and_mode(ENCOUNTERS, mode)
        .map_err(|e| js_err("cannot start a transaction", e))?;
    let s = tx
        .object_store(ENCOUNTERS)
        .map_err(|e| js_err("cannot open the encounter store", e))?;
    Ok((tx, s))
}

/// Writes an encounter (insert or replace) and waits until it is committed.
pub async fn save_encounter(saved: &SavedEncounter) -> Result<(), StoreError> {
    let json = serde_json::to_string(saved).map_err(|e| StoreError::Unwritable(e.to_string()))?;
    let db = open().await?;
    let record = Object::new();
    Reflect::set(&record, &"id".into(), &JsValue::from_str(&saved.id))
        .map_err(|e| js_err("cannot save", e))?;
    Reflect::set(&record, &"json".into(), &JsValue::from_str(&json))
        .map_err(|e| js_err("cannot save", e))?;
    let (tx, s) = store(&db, IdbTransactionMode::Readwrite)?;
    let done = transaction_future(&tx);
    s.put(&record)
        .map_err(|e| js_err("cannot save the encounter", e))?;
    done.await
        .map(|_| ())
        .map_err(|e| js_err("cannot save the encounter", e))
}

fn parse_record(value: &JsValue) -> Result<SavedEncounter, StoreError> {
    let json = Reflect::get(value, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or_else(|| StoreError::Unreadable("a stored encounter has no data".into()))?;
    serde_json::from_str(&json)
        .map_err(|e| StoreError::Unreadable(format!("a stored encounter cannot be read: {e}")))
}

/// One encounter by id; None if there is none.
pub async fn load_encounter(id: &str) -> Result<Option<SavedEncounter>, StoreError> {
    let db = open().await?;
    let (_tx, s) = store(&db, IdbTransactionMode::Readonly)?;
    let req = s
        .get(&JsValue::from_str(id))
        .map_err(|e| js_err("cannot read the encounter", e))?;
    let value = request_future(&req)
        .await
        .map_err(|e| js_err("cannot read the encounter", e))?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    parse_record(&value).map(Some)
}

/// Every stored encounter; unreadable records are reported as errors next to the rest.
pub async fn list_encounters() -> Result<(Vec<SavedEncounter>, Vec<StoreError>), StoreError> {
    let db = open().await?;
    let (_tx, s) = store(&db, IdbTransactionMode::Readonly)?;
    let req = s
        .get_all()
        .map_err(|e| js_err("cannot list encounters", e))?;
    let value = request_future(&req)
        .await
        .map_err(|e| js_err("cannot list encounters", e))?;
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for v in Array::from(&value).iter() {
        match parse_record(&v) {
            Ok(s) => ok.push(s),
            Err(e) => bad.push(e),
        }
    }
    Ok((ok, bad))
}

pub async fn delete_encounter(id: &str) -> Result<(), StoreError> {
    let db = open().await?;
    let (tx, s) = store(&db, IdbTransactionMode::Readwrite)?;
    let done = transaction_future(&tx);
    s.delete(&JsValue::from_str(id))
        .map_err(|e| js_err("cannot delete the encounter", e))?;
    done.await
        .map(|_| ())
        .map_err(|e| js_err("cannot delete the encounter", e))?;
    if current_encounter().as_deref() == Some(id) {
        set_current_encounter(None);
    }
    Ok(())
}

const NO_LOCAL_STORAGE: StoreError = StoreError::Unavailable("localStorage is not available");

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The imported case files kept in localStorage.
pub fn load_imported() -> Result<Vec<StoredCase>, StoreError> {
    let Some(ls) = local_storage() else {
        return Ok(Vec::new());
    };
    match ls.get_item(IMPORTED_KEY) {
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
            StoreError::Unreadable(format!("the stored imported cases cannot be read: {e}"))
        }),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(js_err("cannot read imported cases", e)),
    }
}

pub fn save_imported(cases: &[StoredCase]) -> Result<(), StoreError> {
    let ls = local_storage().ok_or(NO_LOCAL_STORAGE)?;
    let text = serde_json::to_string(cases).map_err(|e| StoreError::Unwritable(e.to_string()))?;
    ls.set_item(IMPORTED_KEY, &text)
        .map_err(|e| js_err("cannot keep the imported cases (storage full?)", e))
}

/// A short text kept in localStorage under `key`, if any (none when storage is unavailable).
fn local_text(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Keeps `value` under `key` in localStorage, or (with none) removes it; `saving` and
/// `removing` say what failed, in the user's words.
fn set_local_text(
    key: &str,
    value: Option<&str>,
    saving: &'static str,
    removing: &'static str,
) -> Result<(), StoreError> {
    let ls = local_storage().ok_or(NO_LOCAL_STORAGE)?;
    match value {
        Some(v) => ls.set_item(key, v).map_err(|e| js_err(saving, e)),
        None => ls.remove_item(key).map_err(|e| js_err(removing, e)),
    }
}

/// The encounter the Encounter page reopens.
pub fn current_encounter() -> Option<String> {
    local_text(CURRENT_KEY)
}

pub fn set_current_encounter(id: Option<&str>) {
    if let Some(ls) = local_storage() {
        let _ = match id {
            Some(id) => ls.set_item(CURRENT_KEY, id),
            None => ls.remove_item(CURRENT_KEY),
        };
    }
}
