//! `/debrief/:id`: how the encounter ended, the end form, the scores (slot), the transcript and
//! the action log.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::app::session::{date_label, who_label, Session};
use crate::app::view::{action_log, clock_label, end_summary, transcript_rows};

use super::encounter::load_session;
use super::widgets::{ActionLog, Transcript};

#[component]
pub fn DebriefPage() -> impl IntoView {
    let params = use_params_map();
    let loaded = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        load_session(id)
    });
    view! {
        <Suspense fallback=|| {
            view! {
                <section class="page">
                    <h1 id="page-title">"Debrief"</h1>
                    <p class="loading" role="status">"Loading the debrief…"</p>
                </section>
            }
        }>
            {move || {
                loaded
                    .get()
                    .map(|r| match r {
                        Ok(session) => view! { <Debrief session=session /> }.into_any(),
                        Err(e) => {
                            view! {
                                <section class="page">
                                    <h1 id="page-title">"Debrief"</h1>
                                    <p class="error" role="alert">{e}</p>
                                    <p>"Go to the " <a href="/history">"history"</a> "."</p>
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Debrief(session: Session) -> impl IntoView {
    let enc = &session.encounter;
    let case = enc.case();
    let state = enc.state();
    let saved = &session.saved;
    let id = saved.id.clone();
    let ended = state.ended.clone();
    let form = state.final_form.clone();
    let transcript = transcript_rows(case, &enc.record().log);
    let actions = action_log(state);
    let summary = format!(
        "{} · played by {} · {} · simulated time {}",
        case.patient.name,
        who_label(&saved.config),
        date_label(saved.started_ms),
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
            <ScoreSlot />
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

/// Where the scores go (not wired yet: the scoring work does it). From the `Session` that
/// [`Debrief`] already has: `engine::score::score(case, state, None, &[])` gives the scorecard,
/// `engine::debrief::debrief(case, record, &scorecard)` the data, and `ui::scores` has the
/// components (`ScoreSummary`, `CompetencyChart`, `Checklist`, `TimelineAndFacts`). Evidence
/// links can target the transcript rows here: each is `<li id="entry-{log seq}">`.
#[component]
fn ScoreSlot() -> impl IntoView {
    view! {
        <section class="panel scores" id="scores" aria-labelledby="scores-title">
            <h2 id="scores-title">"Scores"</h2>
            <p class="muted">"Rule-based scoring is not wired into this version yet."</p>
        </section>
    }
}
