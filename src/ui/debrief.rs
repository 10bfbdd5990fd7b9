//! `/debrief/:id`: how the encounter ended, the end form, the scores (with overrides, the judge
//! and exports), the transcript and the action log.

use leptos::prelude::*;

use crate::app::session::{who_label, Session};
use crate::app::view::{action_log, clock_label, end_summary, session_rows};

use super::encounter::SessionRoute;
use super::judge::JudgePanel;
use super::scores::{Checklist, CompetencyChart, ScoreSummary, TimelineAndFacts};
use super::widgets::{local_date, ActionLog, Transcript};
use crate::app::results::{add_override, debrief_of, export_file, ExportFile, ExportKind};
use crate::store;
use leptos::task::spawn_local;

/// `/debrief/:id`
#[component]
pub fn DebriefPage() -> impl IntoView {
    view! {
        <SessionRoute
            title="Debrief"
            loading="Loading the debrief…"
            library_link=false
            render=|session| view! { <Debrief session=session /> }.into_any()
        />
    }
}

#[component]
fn Debrief(session: Session) -> impl IntoView {
    let session_signal = RwSignal::new(session.clone());
    let enc = &session.encounter;
    let case = enc.case();
    let state = enc.state();
    let saved = &session.saved;
    let id = saved.id.clone();
    let ended = state.ended.clone();
    let form = state.final_form.clone();
    // What the clinician heard: a model's voiced lines in place of the scripted ones.
    let transcript = session_rows(&session);
    let shown: Vec<u32> = transcript.iter().map(|r| r.seq).collect();
    let actions = action_log(state);
    let summary = format!(
        "{} · played by {} · {} · simulated time {}",
        case.patient.name,
        who_label(&saved.config),
        local_date(saved.started_ms),
        clock_label(state.now_s),
    );
    view! {
        <section class="page debrief" aria-labelledby="page-title">
            <h1 id="page-title">{format!("Debrief: {}", case.meta.title)}</h1>
            <p class="muted">{summary}</p>
            <section class="panel" aria-labelledby="outcome-title">
                <h2 id="outcome-title">"Outcome"</h2>
                {match ended {
                    Some(e) => {
                        view! {
                            <p class="end-reason" id="end-reason">
                                {format!(
                                    "Ended at {}: {}.",
                                    clock_label(e.time_s),
                                    end_summary(e.reason, &e.detail),
                                )}
                            </p>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <p class="end-reason" id="end-reason">
                                "This encounter is still in progress. "
                                <a href=format!("/encounter/{id}")>"Resume it"</a>
                                "."
                            </p>
                        }
                            .into_any()
                    }
                }}
                <FinalForm form=form />
            </section>
            <ScoresPanel session=session_signal shown=shown />
            <section class="panel" aria-labelledby="transcript-title">
                <h2 id="transcript-title">"Transcript"</h2>
                <Transcript rows=transcript />
            </section>
            <section class="panel" aria-labelledby="actions-title">
                <h2 id="actions-title">"Action log"</h2>
                <ActionLog rows=actions />
            </section>
        </section>
    }
}

#[component]
fn FinalForm(form: Option<crate::engine::encounter::EndForm>) -> impl IntoView {
    let Some(form) = form else {
        return view! { <p class="muted">"No end form was submitted."</p> }.into_any();
    };
    let differential = if form.differential.is_empty() {
        "—".to_string()
    } else {
        form.differential.join("; ")
    };
    view! {
        <dl class="final-form" id="final-form">
            <dt>"Final diagnosis"</dt>
            <dd>{form.diagnosis}</dd>
            <dt>"Differential"</dt>
            <dd>{differential}</dd>
            <dt>"Plan"</dt>
            <dd class="prewrap">{if form.plan.is_empty() { "—".to_string() } else { form.plan }}</dd>
            <dt>"Disposition"</dt>
            <dd>{form.disposition.unwrap_or_else(|| "—".into())}</dd>
        </dl>
    }
    .into_any()
}

/// The scores: overall tiles, per-competency chart, the checklist (with educator overrides),
/// expected timings and key facts, the judge panel, and the exports. Overrides and judge runs
/// are saved with the encounter.
#[component]
fn ScoresPanel(
    session: RwSignal<Session>,
    /// Log seqs of the transcript rows this page shows (evidence links land on them).
    shown: Vec<u32>,
) -> impl IntoView {
    let data = Memo::new(move |_| session.with(debrief_of));
    let editor = RwSignal::new(String::from("educator"));
    let status = RwSignal::new(String::new());
    let on_override = Callback::new(move |(item, met): (String, Option<bool>)| {
        let at = String::from(js_sys::Date::new_0().to_iso_string());
        let by = editor.get_untracked();
        session.update(|s| {
            add_override(s, &item, met, &by, "", &at);
        });
        let saved = session.with_untracked(|s| s.saved.clone());
        spawn_local(async move {
            match store::save_encounter(&saved).await {
                Ok(()) => status.set(format!("Override saved for {item}.")),
                Err(e) => status.set(format!("The override could not be saved: {e}")),
            }
        });
    });
    let exports = ExportKind::ALL
        .into_iter()
        .map(|kind| {
            view! {
                <button
                    type="button"
                    data-testid=format!("export-{}", kind.slug())
                    on:click=move |_| {
                        let at = String::from(js_sys::Date::new_0().to_iso_string());
                        let file = session.with_untracked(|s| export_file(s, kind, &at));
                        match download(&file) {
                            Ok(()) => status.set(format!("Downloaded {}.", file.name)),
                            Err(e) => status.set(format!("The download failed: {e}")),
                        }
                    }
                >
                    {kind.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="panel scores" id="scores" aria-labelledby="scores-title">
            <h2 id="scores-title">"Scores"</h2>
            {move || {
                let d = data.get();
                view! {
                    <ScoreSummary debrief=d.clone() />
                    <CompetencyChart debrief=d.clone() />
                    <TimelineAndFacts debrief=d.clone() shown=shown.clone() />
                    <h3>"Rubric"</h3>
                    <Checklist debrief=d shown=shown.clone() on_override=on_override />
                }
            }}
            <p class="override-as">
                <label>
                    "Overrides are recorded as made by "
                    <input
                        type="text"
                        size="16"
                        prop:value=move || editor.get()
                        on:input=move |ev| editor.set(event_target_value(&ev))
                    />
                </label>
            </p>
            <JudgePanel session=session />
            <h3>"Export"</h3>
            <div class="export-buttons">{exports}</div>
            <p class="muted" role="status" data-testid="scores-status">{move || status.get()}</p>
        </section>
    }
}

/// Offers a file for download (a Blob URL on a temporary link).
fn download(file: &ExportFile) -> Result<(), String> {
    use leptos::wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&file.contents.clone().into());
    let options = leptos::web_sys::BlobPropertyBag::new();
    options.set_type(file.mime);
    let blob = leptos::web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| format!("{e:?}"))?;
    let url =
        leptos::web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let a: leptos::web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    a.set_href(&url);
    a.set_download(&file.name);
    a.click();
    let _ = leptos::web_sys::Url::revoke_object_url(&url);
    Ok(())
}
