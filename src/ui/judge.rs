//! The debrief's judge panel: scores the rubric items without rules with the configured judge
//! model, on demand (`llm::roles::score_with_judge`: the verdicts as the engine's `JudgeRun`,
//! checked, every judge item exactly once, before they are saved with the encounter); an
//! unusable reply or a run with missing items is shown as an error, never turned into "not
//! met".

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::educator::{judge_offer, JudgeOffer, JUDGE_LOCKED_NOTE};
use crate::app::session::Session;
use crate::llm::roles::score_with_judge;
use crate::llm::transport::Cancel;
use crate::store;

use super::context::{client_for, models};

#[derive(Clone, Debug, PartialEq)]
enum JudgeState {
    Idle,
    Running,
    Done(String),
    Failed(String),
}

#[component]
pub fn JudgePanel(
    session: RwSignal<Session>,
    /// The educator's name in educator mode; none: the trainee's view.
    educator: RwSignal<Option<String>>,
) -> impl IntoView {
    let m = models();
    let state = RwSignal::new(JudgeState::Idle);
    let cancel = StoredValue::new_local(None::<Cancel>);
    on_cleanup(move || {
        if let Some(c) = cancel.try_get_value().flatten() {
            c.cancel();
        }
    });
    let judge_items = move || {
        session.with(|s| {
            s.encounter()
                .case()
                .rubric
                .iter()
                .filter(|i| i.rule.is_none())
                .count()
        })
    };
    let judged = move || session.with(|s| s.judge().map(|j| j.model.clone()));
    let configured = move || m.settings.with(|s| s.judge.is_some());
    let offer = move || {
        judge_offer(
            configured(),
            judge_items(),
            judged().is_some(),
            educator.with(Option::is_some),
        )
    };
    let can_run = move || matches!(offer(), JudgeOffer::Score | JudgeOffer::ScoreAgain);
    let run = move |_| {
        let Some(settings) = m.settings.with_untracked(|s| s.judge.clone()) else {
            return;
        };
        let c = Cancel::new();
        cancel.set_value(Some(c.clone()));
        state.set(JudgeState::Running);
        // The case is shared, not copied.
        let (case, record, voiced) = session.with_untracked(|s| {
            let enc = s.encounter();
            (enc.shared().0, enc.record().clone(), s.voiced().clone())
        });
        spawn_local(async move {
            let client = client_for(settings);
            let (outcome, exchanges) = score_with_judge(&client, &case, &record, &voiced, &c).await;
            let updated = session.try_update(|s| {
                s.add_exchanges(exchanges);
                let message = outcome.map_err(|e| e.to_string()).and_then(|run| {
                    let done = format!(
                        "Scored {} judge item(s) with {}.",
                        run.verdicts.len(),
                        run.model
                    );
                    s.record_judge(run).map(|()| done).map_err(|e| {
                        format!(
                            "The judge's reply was refused as a whole, so the items stay unscored: {e}"
                        )
                    })
                });
                (message, s.saved())
            });
            let Some((message, saved)) = updated else {
                return;
            };
            let save = store::save_encounter(&saved).await;
            state.try_set(match (message, save) {
                (Ok(m), Ok(())) => JudgeState::Done(m),
                (Ok(m), Err(e)) => {
                    JudgeState::Failed(format!("{m} But it could not be saved: {e}"))
                }
                (Err(e), _) => JudgeState::Failed(e),
            });
        });
    };
    view! {
        <div class="judge-panel" data-testid="judge-panel">
            <p>
                {move || match judged() {
                    Some(model) => format!("Judge items scored by {model}."),
                    None if configured() => format!(
                        "{} item(s) need a judge and are not scored yet: they are left out of both scores until the judge scores them.",
                        judge_items()
                    ),
                    None => format!(
                        "{} item(s) need a judge and are not scored: they are left out of both scores. Configure a judge model in Settings to score them.",
                        judge_items()
                    ),
                }}
            </p>
            <Show when=can_run>
                <button
                    type="button"
                    class="button"
                    data-testid="judge-run"
                    disabled=move || state.get() == JudgeState::Running
                    on:click=run
                >
                    {move || match (state.get(), offer()) {
                        (JudgeState::Running, _) => "Scoring…",
                        (_, JudgeOffer::ScoreAgain) => "Score again with judge",
                        _ => "Score with judge",
                    }}
                </button>
            </Show>
            <Show when=move || offer() == JudgeOffer::Locked>
                <p class="muted" data-testid="judge-locked">{JUDGE_LOCKED_NOTE}</p>
            </Show>
            {move || match state.get() {
                JudgeState::Idle => None,
                JudgeState::Running => Some(view! { <p class="loading" role="status">"The judge is reading the encounter…"</p> }.into_any()),
                JudgeState::Done(m) => Some(view! { <p class="ok" role="status" data-testid="judge-status">{m}</p> }.into_any()),
                JudgeState::Failed(e) => Some(view! { <p class="error" role="alert" data-testid="judge-error">{e}</p> }.into_any()),
            }}
        </div>
    }
}
