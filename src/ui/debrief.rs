//! `/debrief/:id`: how the encounter ended, the end form, the scores (with overrides, the judge
//! and exports), the transcript and the action log.

use leptos::prelude::*;

use leptos::task::spawn_local;

use crate::app::educator::{educator_footer, educator_name, TRAINEE_NOTE};
use crate::app::labels::{clock_label, who_label};
use crate::app::results::{debrief_of, export_file, ExportKind};
use crate::app::session::Session;
use crate::app::view::{action_log, ended_outcome, session_rows};
use crate::store;

use super::judge::JudgePanel;
use super::route::SessionRoute;
use super::scores::{Checklist, CompetencyChart, ExpertPathway, ScoreSummary, TimelineAndFacts};
use super::widgets::{download, local_date, ActionLog, Transcript};

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
    let enc = session.encounter();
    let case = enc.case();
    let state = enc.state();
    let id = session.id().to_string();
    let ended = state.ended.clone();
    let form = state.final_form.clone();
    // What the clinician heard: a model's voiced lines in place of the scripted ones.
    let transcript = session_rows(&session);
    let shown: Vec<u32> = transcript.iter().map(|r| r.seq).collect();
    let actions = action_log(state);
    let summary = format!(
        "{} · played by {} · {} · simulated time {}",
        case.patient.name,
        who_label(session.config()),
        local_date(session.started_ms()),
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
                            <p class="end-reason" id="end-reason">{ended_outcome(&e)}</p>
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
    // Educator mode: the name kept in this browser; none = the trainee's view.
    let educator = RwSignal::new(store::educator::load());
    let name_input = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let status = RwSignal::new(String::new());
    let on_override = Callback::new(move |(item, met): (String, Option<bool>)| {
        let Some(by) = educator.get_untracked() else {
            status.set("Enter educator mode to change a score.".into());
            return;
        };
        let at = String::from(js_sys::Date::new_0().to_iso_string());
        let mut recorded = false;
        session.update(|s| {
            recorded = s.add_override(&item, met, &by, "", &at);
        });
        if !recorded {
            status.set("The override was not recorded.".into());
            return;
        }
        let saved = session.with_untracked(Session::saved);
        spawn_local(async move {
            match store::save_encounter(&saved).await {
                Ok(()) => status.set(format!("Override by {by} saved.")),
                Err(e) => status.set(format!("The override could not be saved: {e}")),
            }
        });
    });
    let enter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match educator_name(&name_input.get_untracked()) {
            Ok(name) => match store::educator::save(Some(&name)) {
                Ok(()) => {
                    name_error.set(None);
                    educator.set(Some(name));
                }
                Err(e) => name_error.set(Some(e.to_string())),
            },
            Err(e) => name_error.set(Some(e)),
        }
    };
    let leave = move |_| {
        let _ = store::educator::save(None);
        educator.set(None);
    };
    let exports = ExportKind::ALL
        .into_iter()
        .map(|kind| {
            view! {
                <button
                    type="button"
                    data-testid=format!("export-{}", kind.slug())
                    on:click=move |_| {
                        let at = String::from(js_sys::Date::new_0().to_iso_string());
                        let you = store::trainee::load();
                        let file = session.with_untracked(|s| export_file(s, kind, &at, you.as_deref()));
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
                    <ExpertPathway debrief=d.clone() />
                    <h3>"Rubric"</h3>
                    {match educator.get() {
                        Some(_) => {
                            view! { <Checklist debrief=d shown=shown.clone() on_override=on_override /> }
                                .into_any()
                        }
                        None => view! { <Checklist debrief=d shown=shown.clone() /> }.into_any(),
                    }}
                }
            }}
            <div class="educator-mode" data-testid="educator-mode">
                {move || match educator.get() {
                    Some(name) => {
                        view! {
                            <p class="override-as" data-testid="educator-footer">
                                {educator_footer(&name)} " "
                                <button type="button" on:click=leave>"Leave educator mode"</button>
                            </p>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <form class="educator-enter" on:submit=enter>
                                <p class="muted">{TRAINEE_NOTE}</p>
                                <label>
                                    "Educator's name "
                                    <input
                                        type="text"
                                        size="20"
                                        data-testid="educator-name"
                                        autocomplete="name"
                                        prop:value=move || name_input.get()
                                        on:input=move |ev| name_input.set(event_target_value(&ev))
                                    />
                                </label>
                                " "
                                <button type="submit">"Enter educator mode"</button>
                                {move || {
                                    name_error
                                        .get()
                                        .map(|e| view! { <p class="error" role="alert">{e}</p> })
                                }}
                            </form>
                        }
                            .into_any()
                    }
                }}
            </div>
            // A static play's judge items are not applicable: nothing for a judge to score.
            {(!session.with_untracked(|s| s.encounter().state().vignette))
                .then(|| view! { <JudgePanel session=session educator=educator /> })}
            <h3>"Export"</h3>
            <div class="export-buttons">{exports}</div>
            <p class="muted" role="status" data-testid="scores-status">{move || status.get()}</p>
        </section>
    }
}
