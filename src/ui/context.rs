//! What every page shares, provided as context by the app shell ([`super::App`]): the order
//! catalog and the case library ([`AppData`]), the model settings in force ([`Models`]), and
//! the client for a role ([`client_for`]). Pages read these here and never import each other.

use std::sync::Arc;

use leptos::prelude::*;

use crate::app::library::Library;
use crate::engine::catalog::Catalog;
use crate::engine::validate::Diagnostics;
use crate::llm::client::Client;
use crate::llm::settings::{ProviderSettings, Settings};
use crate::store;

/// The order catalog and the case library (built-in plus imported cases).
#[derive(Clone)]
pub struct AppData {
    pub catalog: Arc<Catalog>,
    pub library: RwSignal<Library>,
    /// Problems met while loading the library: built-in cases that fail validation (a bug) and
    /// stored imports that no longer validate.
    pub load_problems: RwSignal<Vec<Diagnostics>>,
    /// An error reading stored imports.
    pub storage_error: RwSignal<Option<String>>,
}

impl AppData {
    pub fn load(catalog: Catalog) -> AppData {
        let catalog = Arc::new(catalog);
        let (mut library, mut problems) = Library::builtin(&catalog);
        let mut storage_error = None;
        match store::load_imported() {
            Ok(stored) => problems.extend(library.restore_imports(&stored, &catalog)),
            Err(e) => storage_error = Some(e.to_string()),
        }
        AppData {
            catalog,
            library: RwSignal::new(library),
            load_problems: RwSignal::new(problems),
            storage_error: RwSignal::new(storage_error),
        }
    }
}

pub fn app_data() -> AppData {
    expect_context::<AppData>()
}

/// The model settings in force. The signal holds keys for this tab (memory); the settings
/// store holds them only where "remember" is ticked.
#[derive(Clone, Copy)]
pub struct Models {
    pub settings: RwSignal<Settings>,
    pub load_error: RwSignal<Option<String>>,
}

impl Models {
    pub fn load() -> Models {
        let (settings, error) = match store::settings::load() {
            Ok(s) => (s, None),
            Err(e) => (Settings::default(), Some(e.to_string())),
        };
        Models {
            settings: RwSignal::new(settings),
            load_error: RwSignal::new(error),
        }
    }
}

pub fn models() -> Models {
    expect_context::<Models>()
}

/// The HTTP transport of this target (fetch in the browser).
#[cfg(target_arch = "wasm32")]
pub type Http = crate::llm::transport::BrowserTransport;
#[cfg(not(target_arch = "wasm32"))]
pub type Http = crate::llm::transport::NativeTransport;

/// A retry-jitter seed from the browser.
pub fn jitter_seed() -> u64 {
    (js_sys::Math::random() * 4_294_967_296.0) as u64
}

/// A client for one role's settings (retry jitter seeded from the browser).
pub fn client_for(settings: ProviderSettings) -> Client<Http> {
    Client::new(Http::new(), settings, jitter_seed())
}
