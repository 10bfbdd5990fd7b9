//! The end form: final diagnosis, differential, plan and disposition; Escape or "Keep going"
//! closes it unless the encounter is closing.

use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::app::session::EndFormDraft;
use crate::app::view::disposition_options;
use crate::engine::catalog::Catalog;

use super::ctl::EncounterCtl;
use crate::ui::widgets::focus_by_id;

#[component]
pub(super) fn EndFormView(
    ctl: EncounterCtl,
    show: RwSignal<bool>,
    catalog: Arc<Catalog>,
    id: String,
    /// Prefilled: a disposition picked in the order panel, or the one that closed the encounter.
    disposition: RwSignal<String>,
) -> impl IntoView {
    let diagnosis = RwSignal::new(String::new());
    let differential = RwSignal::new(String::new());
    let plan = RwSignal::new(String::new());
    if let Some(c) = ctl
        .closing
        .get_untracked()
        .filter(|c| !c.disposition.is_empty())
    {
        disposition.set(c.disposition);
    }
    let form_error = RwSignal::new(None::<String>);
    let options = disposition_options(&catalog);
    let first: NodeRef<html::Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let navigate = use_navigate();
    view! {
        <form
            class="panel end-form"
            id="end-form"
            aria-labelledby="end-title"
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" && ctl.closing.with_untracked(Option::is_none) {
                    ev.prevent_default();
                    show.set(false);
                    disposition.set(String::new());
                    focus_by_id("open-end-form");
                }
            }
            on:submit=move |ev| {
                ev.prevent_default();
                let draft = EndFormDraft {
                    diagnosis: diagnosis.get_untracked(),
                    differential: differential.get_untracked(),
                    plan: plan.get_untracked(),
                    disposition: disposition.get_untracked(),
                };
                match draft.to_input() {
                    Err(e) => form_error.set(Some(e)),
                    Ok(input) => {
                        if ctl.apply(input).is_ok() {
                            show.set(false);
                            navigate(&format!("/debrief/{id}"), NavigateOptions::default());
                        }
                    }
                }
            }
        >
            <h2 id="end-title">"End the encounter"</h2>
            <label class="field">
                <span>"Final diagnosis (required)"</span>
                <input id="end-diagnosis" type="text" node_ref=first bind:value=diagnosis />
            </label>
            <label class="field">
                <span>"Differential diagnoses (one per line)"</span>
                <textarea id="end-differential" rows="3" bind:value=differential></textarea>
            </label>
            <label class="field">
                <span>"Plan"</span>
                <textarea id="end-plan" rows="3" bind:value=plan></textarea>
            </label>
            <label class="field">
                <span>"Disposition"</span>
                <select id="end-disposition" bind:value=disposition>
                    <option value="">"No disposition order"</option>
                    {options
                        .into_iter()
                        .map(|o| view! { <option value=o.clone()>{o.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            {move || form_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="submit" class="button primary" id="end-submit">
                    "End encounter and see the debrief"
                </button>
                <Show when=move || ctl.closing.with(Option::is_none)>
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| {
                            show.set(false);
                            disposition.set(String::new());
                            focus_by_id("open-end-form");
                        }
                    >
                        "Keep going"
                    </button>
                    <span class="muted small">"(Esc)"</span>
                </Show>
            </div>
        </form>
    }
}
