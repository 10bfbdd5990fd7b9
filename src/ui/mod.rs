//! The Leptos app: the shell (header, navigation, routes) and one module per page; what the
//! pages share (contexts, the saved-encounter route, widgets) has its own module, so pages
//! never import each other.
//!
//! Components stay thin: clinical logic is in `crate::engine`, the app's own logic (library
//! filters, view models, sessions) in `crate::app`, browser storage in `crate::store`.

mod compare;
mod context;
mod debrief;
mod encounter;
mod evaluate;
mod history;
mod judge;
mod library;
mod model_play;
mod pages;
mod route;
pub mod scores;
mod settings;
mod widgets;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::engine::catalog::Catalog;
use crate::engine::CATALOG_JSON;

/// The pages of the app, in navigation order: (route, label).
pub const NAV: [(&str, &str); 6] = [
    ("/", "Case library"),
    ("/encounter", "Encounter"),
    ("/history", "History"),
    ("/evaluate", "Evaluate"),
    ("/compare", "Compare"),
    ("/settings", "Settings"),
];

/// The root component: header with navigation, and the routed page.
#[component]
pub fn App() -> impl IntoView {
    let catalog = Catalog::from_json("assets/catalog.json (built in)", CATALOG_JSON);
    let catalog_error = catalog.as_ref().err().map(|d| d.to_string());
    if let Ok(c) = catalog {
        provide_context(context::AppData::load(c));
    }
    provide_context(context::Models::load());
    register_service_worker();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="app-header">
                <A href="/" attr:class="brand">
                    <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
                        <rect width="32" height="32" rx="6" fill="#ffffff"></rect>
                        <path
                            d="M7 17h5l2-5 4 10 2-5h5"
                            fill="none"
                            stroke="#0f5e73"
                            stroke-width="2.4"
                            stroke-linecap="round"
                            stroke-linejoin="round"
                        ></path>
                    </svg>
                    <span class="brand-name">"Bedside"</span>
                </A>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        {NAV
                            .into_iter()
                            .map(|(href, label)| view! { <li><A href=href>{label}</A></li> })
                            .collect_view()}
                    </ul>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                {match catalog_error {
                    Some(e) => {
                        view! {
                            <section class="page">
                                <h1>"Bedside cannot start"</h1>
                                <p class="error" role="alert">
                                    "The built-in order catalog failed to load:"
                                </p>
                                <pre class="diagnostics-text">{e}</pre>
                            </section>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <Routes fallback=pages::NotFound>
                                <Route path=path!("/") view=library::CaseLibrary />
                                <Route path=path!("/encounter") view=encounter::EncounterLanding />
                                <Route path=path!("/encounter/:id") view=encounter::EncounterPage />
                                <Route path=path!("/debrief/:id") view=debrief::DebriefPage />
                                <Route path=path!("/history") view=history::History />
                                <Route path=path!("/evaluate") view=evaluate::EvaluatePage />
                                <Route path=path!("/evaluate/:run") view=evaluate::RunPage />
                                <Route path=path!("/compare") view=compare::ComparePage />
                                <Route path=path!("/settings") view=settings::SettingsPage />
                            </Routes>
                        }
                            .into_any()
                    }
                }}
            </main>
            <footer class="app-footer">
                <p>
                    "Bedside runs entirely in your browser. Cases, encounters and scores stay on this computer."
                </p>
            </footer>
        </Router>
    }
}

/// Registers `/sw.js` (assets/sw.js, filled in at build time), which keeps the app working
/// offline after the first visit and updates itself with each release. Release builds only:
/// under `trunk serve` a cache would hide the changes being made. Browsers without service
/// workers (or a page not served over http(s)/localhost) simply run online.
fn register_service_worker() {
    if cfg!(debug_assertions) {
        return;
    }
    use wasm_bindgen::JsCast;
    let get = |target: &wasm_bindgen::JsValue, key: &str| {
        js_sys::Reflect::get(target, &key.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let Some(container) = web_sys::window()
        .and_then(|w| get(&w, "navigator"))
        .and_then(|n| get(&n, "serviceWorker"))
    else {
        return;
    };
    let Some(register) =
        get(&container, "register").and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    if let Ok(promise) = register.call1(&container, &"/sw.js".into()) {
        if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
            // A refusal (an unsupported context) is not an error for the app: it runs online.
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
    }
}
