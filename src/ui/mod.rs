//! The Leptos app: the shell (header, navigation, routes) and one module per page.
//!
//! Components stay thin: domain logic belongs in `crate::engine` where native tests cover it.

mod pages;
pub mod scores;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The pages of the app, in navigation order: (route, label).
pub const NAV: [(&str, &str); 4] = [
    ("/", "Case library"),
    ("/encounter", "Encounter"),
    ("/history", "History"),
    ("/settings", "Settings"),
];

/// The root component: header with navigation, and the routed page.
#[component]
pub fn App() -> impl IntoView {
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
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::CaseLibrary />
                    <Route path=path!("/encounter") view=pages::Encounter />
                    <Route path=path!("/history") view=pages::History />
                    <Route path=path!("/settings") view=pages::Settings />
                </Routes>
            </main>
            <footer class="app-footer">
                <p>
                    "Bedside runs entirely in your browser. Cases, encounters and scores stay on this computer."
                </p>
            </footer>
        </Router>
    }
}
