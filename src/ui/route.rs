//! A page of one saved encounter (`/encounter/:id`, `/debrief/:id`): the route's id → the
//! stored encounter, replayed into a [`Session`].

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::app::session::Session;
use crate::store;

use super::context::app_data;

/// Loads a saved encounter and replays it.
async fn load_session(id: String) -> Result<Session, String> {
    let data = app_data();
    let saved = store::load_encounter(&id)
        .await?
        .ok_or_else(|| format!("There is no saved encounter `{id}` in this browser."))?;
    data.library
        .with_untracked(|l| Session::resume(saved, l, data.catalog.clone()))
        .map_err(|e| format!("This encounter cannot be reopened: {e}"))
}

/// Loads the encounter of the route's id, shows a loading state, then `render`s it, or says
/// why it cannot be reopened.
#[component]
pub fn SessionRoute(
    title: &'static str,
    loading: &'static str,
    /// Whether the error also points to the case library (besides the history).
    library_link: bool,
    render: fn(Session) -> AnyView,
) -> impl IntoView {
    let params = use_params_map();
    let loaded = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        load_session(id)
    });
    view! {
        <Suspense fallback=move || {
            view! {
                <section class="page">
                    <h1 id="page-title">{title}</h1>
                    <p class="loading" role="status">{loading}</p>
                </section>
            }
        }>
            {move || {
                loaded
                    .get()
                    .map(|r| match r {
                        Ok(session) => render(session),
                        Err(e) => {
                            view! {
                                <section class="page">
                                    <h1 id="page-title">{title}</h1>
                                    <p class="error" role="alert">{e}</p>
                                    <p>
                                        "Go to the " <a href="/history">"history"</a>
                                        {library_link
                                            .then(|| {
                                                view! {
                                                    " or the "
                                                    <a href="/">"case library"</a>
                                                }
                                            })} "."
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}
