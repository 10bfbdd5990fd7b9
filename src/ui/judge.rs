//! The debrief's judge panel: scores the rubric items without rules with the configured judge
//! model. Until a judge is configured it says which items are not scored and why.

use leptos::prelude::*;

use crate::app::session::Session;

#[component]
pub fn JudgePanel(session: RwSignal<Session>) -> impl IntoView {
    let judge_items = move || {
        session.with(|s| {
            s.encounter
                .case()
                .rubric
                .iter()
                .filter(|i| i.rule.is_none())
                .count()
        })
    };
    let judged = move || session.with(|s| s.saved.judge.as_ref().map(|j| j.model.clone()));
    view! {
        <div class="judge-panel" data-testid="judge-panel">
            {move || match judged() {
                Some(model) => format!("Judge items scored by {model}."),
                None => format!(
                    "{} item(s) need a judge and are not scored: they are left out of both scores. Configure a judge model in Settings to score them.",
                    judge_items()
                ),
            }}
        </div>
    }
}
