//! Small pages: Not found (Settings is `settings.rs`).

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Page not found"</h1>
            <p>"There is no page at this address. Go back to the " <A href="/">"case library"</A> "."</p>
        </section>
    }
}
