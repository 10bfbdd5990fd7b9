//! Page components. Each page will grow into its own module as features land.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn CaseLibrary() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Case library"</h1>
            <p class="lead">
                "Pick a patient case and practise it: take a history, examine, order tests, treat and explain. "
                "Built-in cases run offline with a scripted patient and rule-based scoring."
            </p>
            <p class="empty-state">"The built-in cases appear here once the case engine lands."</p>
        </section>
    }
}

#[component]
pub fn Encounter() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Encounter"</h1>
            <p class="empty-state">
                "No encounter is open. Choose a case in the " <A href="/">"case library"</A> "."
            </p>
        </section>
    }
}

#[component]
pub fn History() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"History"</h1>
            <p class="empty-state">"Past encounters and their debriefs will be listed here."</p>
        </section>
    }
}

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
