//! Small pages: Settings (LLM providers come with the LLM work) and Not found.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Settings"</h1>
            <p class="lead">
                "By default Bedside works offline: a scripted patient, no clinician model, and rule-based scoring."
            </p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Page not found"</h1>
            <p>"There is no page at this address. Go back to the " <A href="/">"case library"</A> "."</p>
        </section>
    }
}
