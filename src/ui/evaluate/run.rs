//! `/evaluate/:run`: one run. Opening it reads what is done from the saved encounters (the
//! truth: a finished job is one) and what failed from the stored run, so a reload, a closed
//! tab or a crash loses at most the jobs in flight and no finished job runs again. Workers
//! (at most the plan's concurrency per endpoint) take jobs from the [`Runner`] and play each
//! through `eval::job::play_job`; a finished job is saved at once as an encounter.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::app::evaluate::{
    encounter_id, missing_keys, run_encounters, saved_from_job, secrets_for, summary_of, StoredRun,
};
use crate::app::results::percent;
use crate::engine::case::Case;
use crate::eval::job::{play_job, JobSpec, JobSummary};
use crate::eval::plan::Job;
use crate::eval::run::{tallies, JobStatus, Progress, Runner};
use crate::llm::transport::Cancel;
use crate::store;

use super::super::context::{app_data, models, AppData, Http, Models};

/// Where the run stands, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Running,
    Pausing,
    Paused,
    Stopping,
    Done,
}

/// A run opened on the page.
#[derive(Clone, Copy)]
struct RunCtl {
    run: StoredValue<StoredRun>,
    cases: StoredValue<Vec<Arc<Case>>>,
    runner: StoredValue<Runner>,
    cancel: StoredValue<Cancel, LocalStorage>,
    /// What the page draws, refreshed after every change.
    progress: RwSignal<Progress>,
    jobs: RwSignal<Vec<(Job, JobStatus)>>,
    summaries: RwSignal<Vec<JobSummary>>,
    state: RwSignal<State>,
    workers: RwSignal<usize>,
    error: RwSignal<Option<String>>,
    models: Models,
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

impl RunCtl {
    fn refresh(&self) {
        let Some((progress, jobs)) = self.runner.try_with_value(|r| {
            let jobs = r
                .jobs()
                .iter()
                .map(|j| (j.clone(), r.status(j.index).clone()))
                .collect::<Vec<_>>();
            (r.progress(now()), jobs)
        }) else {
            // The page is gone.
            return;
        };
        self.progress.try_set(progress);
        self.jobs.try_set(jobs);
    }

    /// Starts as many workers as the plan allows (per endpoint) for the jobs pending.
    fn start(self, data: AppData) {
        if matches!(
            self.state.get_untracked(),
            State::Running | State::Pausing | State::Stopping
        ) {
            return;
        }
        let settings = self.models.settings.get_untracked();
        let missing = self.run.with_value(|r| missing_keys(&r.plan, &settings));
        if !missing.is_empty() {
            self.error.set(Some(missing.join("\n")));
            return;
        }
        self.error.set(None);
        self.cancel.set_value(Cancel::new());
        let n = self.runner.with_value(Runner::workers);
        if n == 0 {
            self.state.set(State::Done);
            return;
        }
        self.state.set(State::Running);
        self.workers.set(n);
        for _ in 0..n {
            let data = data.clone();
            let settings = settings.clone();
            spawn_local(async move {
                self.work(data, settings).await;
                self.workers.try_update(|w| *w = w.saturating_sub(1));
                if self.workers.try_get_untracked() == Some(0) {
                    let over = self.runner.try_with_value(Runner::is_over).unwrap_or(false);
                    let Some(state) = self.state.try_get_untracked() else {
                        return;
                    };
                    self.state.try_set(match state {
                        State::Pausing => State::Paused,
                        State::Stopping => State::Idle,
                        _ if over => State::Done,
                        _ => State::Idle,
                    });
                    self.refresh();
                }
            });
        }
    }

    /// One worker: takes jobs until none is left for it, the run pauses or it is stopped.
    /// Every access tolerates the page being gone (the run was left: its cleanup cancels).
    async fn work(self, data: AppData, settings: crate::llm::settings::Settings) {
        loop {
            if self.state.try_get_untracked() != Some(State::Running) {
                return;
            }
            let Some(job) = self
                .runner
                .try_update_value(|r| r.start_next(now()))
                .flatten()
            else {
                return;
            };
            self.refresh();
            let Some((plan, run_id)) = self.run.try_with_value(|r| (r.plan.clone(), r.id.clone()))
            else {
                return;
            };
            let Some(case) = self.cases.try_with_value(|c| c[job.case].clone()) else {
                return;
            };
            let Some(cancel) = self.cancel.try_get_value() else {
                return;
            };
            let mut spec = JobSpec::new(&plan, &job, &case, &|e| secrets_for(e, &settings));
            spec.tag.run = run_id.clone();
            let record = play_job(
                &spec,
                case,
                data.catalog.clone(),
                Http::new,
                &now,
                &cancel,
                &mut (),
            )
            .await;
            let Some(record) = record else {
                // Stopped before it ended: still to do.
                self.runner.try_update_value(|r| r.requeue(&job));
                self.refresh();
                continue;
            };
            let saved = data
                .library
                .try_with_untracked(|l| saved_from_job(&record, l))
                .flatten();
            let stored = match saved {
                Some(saved) => store::save_encounter(&saved)
                    .await
                    .map_err(|e| format!("the finished job could not be saved: {e}")),
                None => Err(match &record.outcome {
                    crate::eval::job::JobOutcome::Failed { error } => error.clone(),
                    _ => "finished without a score".to_string(),
                }),
            };
            match stored {
                Ok(()) => {
                    self.runner.try_update_value(|r| r.finish(&job));
                    self.summaries.try_update(|s| s.push(record.summary()));
                    let _ = store::runs::update(&run_id, |r| {
                        r.failures.remove(&job.id);
                    });
                }
                Err(error) => {
                    self.runner
                        .try_update_value(|r| r.fail(&job, error.clone()));
                    let _ = store::runs::update(&run_id, |r| {
                        r.failures.insert(job.id.clone(), error);
                    });
                }
            }
            self.refresh();
        }
    }
}

/// Opens the run: the stored run, its cases, and its saved encounters → the runner.
async fn open_run(id: String, data: AppData, models: Models) -> Result<RunCtl, String> {
    let runs = store::runs::load().map_err(|e| e.to_string())?;
    let run = runs
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| format!("There is no run `{id}` in this browser."))?;
    let cases: Vec<Arc<Case>> = data.library.with_untracked(|l| {
        run.case_ids
            .iter()
            .map(|c| {
                l.get(c)
                    .map(|lc| lc.case.clone())
                    .ok_or_else(|| format!("the case `{c}` is no longer in the library"))
            })
            .collect::<Result<_, _>>()
    })?;
    let (saved, _) = store::list_encounters().await.map_err(|e| e.to_string())?;
    let mine = run_encounters(&run.id, &saved);
    let mut summaries = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for s in mine {
        if let Ok(summary) = data
            .library
            .with_untracked(|l| summary_of(s, l, data.catalog.clone()))
        {
            done.insert(summary.tag.job.clone());
            summaries.push(summary);
        }
    }
    let jobs = run.plan.jobs(&run.case_ids);
    let mut runner = Runner::new(
        &run.plan,
        jobs.clone(),
        &|j| done.contains(&j.id),
        run.plan.concurrency(),
        now(),
    );
    for j in &jobs {
        if let (false, Some(e)) = (done.contains(&j.id), run.failures.get(&j.id)) {
            runner.fail(j, e.clone());
        }
    }
    let ctl = RunCtl {
        run: StoredValue::new(run),
        cases: StoredValue::new(cases),
        runner: StoredValue::new(runner),
        cancel: StoredValue::new_local(Cancel::new()),
        progress: RwSignal::new(Progress {
            total: 0,
            done: 0,
            running: 0,
            failed: 0,
            pending: 0,
            elapsed_ms: 0,
            eta_ms: None,
        }),
        jobs: RwSignal::new(Vec::new()),
        summaries: RwSignal::new(summaries),
        state: RwSignal::new(State::Idle),
        workers: RwSignal::new(0),
        error: RwSignal::new(None),
        models,
    };
    ctl.refresh();
    Ok(ctl)
}

#[component]
pub fn RunPage() -> impl IntoView {
    let data = app_data();
    let params = use_params_map();
    let query = use_query_map();
    let autostart = query.with_untracked(|q| q.get("start").is_some());
    let m = models();
    let resource_data = data.clone();
    let opened = LocalResource::new(move || {
        let id = params.read().get("run").unwrap_or_default();
        open_run(id, resource_data.clone(), m)
    });
    view! {
        <section class="page evaluate" aria-labelledby="page-title">
            <Suspense fallback=|| view! { <p class="loading" role="status">"Opening the run…"</p> }>
                {move || {
                    let data = data.clone();
                    opened
                        .get()
                        .map(|r| match r {
                            Err(e) => {
                                view! {
                                    <h1 id="page-title">"Evaluation run"</h1>
                                    <p class="error" role="alert">{e}</p>
                                    <p>"Go to " <a href="/evaluate">"Evaluate"</a> "."</p>
                                }
                                    .into_any()
                            }
                            Ok(ctl) => {
                                if autostart && ctl.progress.get_untracked().pending > 0 {
                                    ctl.start(data.clone());
                                }
                                view! { <RunView ctl=ctl data=data /> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn RunView(ctl: RunCtl, data: AppData) -> impl IntoView {
    on_cleanup(move || {
        if let Some(c) = ctl.cancel.try_get_value() {
            c.cancel();
        }
    });
    let (name, run_id) = ctl.run.with_value(|r| (r.plan.name.clone(), r.id.clone()));
    let plan_json = ctl.run.with_value(|r| r.plan.to_json());
    let busy = move || {
        matches!(
            ctl.state.get(),
            State::Running | State::Pausing | State::Stopping
        )
    };
    let status = move || match ctl.state.get() {
        State::Idle => "Not running.",
        State::Running => "Running…",
        State::Pausing => "Pausing: the jobs in flight finish, no new one starts…",
        State::Paused => "Paused.",
        State::Stopping => "Stopping…",
        State::Done => "Every job has run.",
    };
    let start_data = data.clone();
    let retry_data = data.clone();
    view! {
        <h1 id="page-title">{name}</h1>
        <p class="muted">
            <a href="/evaluate">"All runs"</a>
            " · "
            <a
                href=format!("data:application/json;charset=utf-8,{}", js_sys::encode_uri_component(&plan_json))
                download=format!("{run_id}.plan.json")
                id="run-plan-download"
            >
                "Download the plan (for bedside-cli run)"
            </a>
        </p>
        <section class="panel" aria-labelledby="progress-title">
            <h2 id="progress-title">"Progress"</h2>
            <progress
                id="run-progress"
                max=move || ctl.progress.get().total.to_string()
                value=move || ctl.progress.get().done.to_string()
            ></progress>
            <p id="run-progress-line" role="status" data-state=move || format!("{:?}", ctl.state.get()).to_lowercase()>
                {move || format!("{} · {}", ctl.progress.get().line(), status())}
            </p>
            {move || ctl.error.get().map(|e| view! { <p class="error" role="alert" id="run-error">{e}</p> })}
            <div class="form-actions">
                <button
                    type="button"
                    class="button primary"
                    id="run-resume"
                    disabled=move || busy() || ctl.progress.get().pending == 0
                    on:click=move |_| ctl.start(start_data.clone())
                >
                    {move || if ctl.progress.get().done + ctl.progress.get().failed == 0 { "Start" } else { "Resume" }}
                </button>
                <button
                    type="button"
                    class="button"
                    id="run-pause"
                    disabled=move || ctl.state.get() != State::Running
                    on:click=move |_| ctl.state.set(State::Pausing)
                >
                    "Pause"
                </button>
                <button
                    type="button"
                    class="button danger-outline"
                    id="run-cancel"
                    disabled=move || !busy()
                    on:click=move |_| {
                        ctl.state.set(State::Stopping);
                        ctl.cancel.with_value(|c| c.cancel());
                    }
                >
                    "Cancel jobs in flight"
                </button>
                <button
                    type="button"
                    class="button"
                    id="run-retry"
                    disabled=move || busy() || ctl.progress.get().failed == 0
                    on:click=move |_| {
                        ctl.runner.update_value(|r| {
                            r.retry_failed();
                        });
                        let id = ctl.run.with_value(|r| r.id.clone());
                        let _ = store::runs::update(&id, |r| r.failures.clear());
                        ctl.refresh();
                        ctl.start(retry_data.clone());
                    }
                >
                    "Retry failed jobs"
                </button>
            </div>
        </section>
        <Tallies ctl=ctl />
        <JobList ctl=ctl />
    }
}

#[component]
fn Tallies(ctl: RunCtl) -> impl IntoView {
    let ms = |v: Option<u64>| v.map_or("—".to_string(), |v| format!("{v} ms"));
    view! {
        <section class="panel" aria-labelledby="tallies-title">
            <h2 id="tallies-title">"Players"</h2>
            <div class="table-scroll">
                <table class="tallies" id="run-tallies">
                    <thead>
                        <tr>
                            <th scope="col">"Player"</th>
                            <th scope="col">"Done"</th>
                            <th scope="col">"Failed"</th>
                            <th scope="col">"Completion (items met / scored)"</th>
                            <th scope="col">"Calls"</th>
                            <th scope="col">"Tokens in"</th>
                            <th scope="col">"Tokens out"</th>
                            <th scope="col">"Latency median"</th>
                            <th scope="col">"Latency p95"</th>
                            <th scope="col">"Cost"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            let rows = ctl.run.with_value(|r| tallies(&r.plan, &ctl.summaries.get()));
                            rows.into_iter()
                                .map(|(label, t)| {
                                    let failed = ctl.jobs.with(|jobs| {
                                        let players = ctl.run.with_value(|r| r.plan.players.clone());
                                        jobs.iter()
                                            .filter(|(j, s)| players[j.player].label == label && matches!(s, JobStatus::Failed { .. }))
                                            .count()
                                    });
                                    view! {
                                        <tr data-player=label.clone()>
                                            <th scope="row">{label.clone()}</th>
                                            <td>{t.done}</td>
                                            <td>{failed}</td>
                                            <td>{format!("{} ({}/{})", percent(t.completion()), t.items_met, t.items_scored)}</td>
                                            <td>{t.calls}</td>
                                            <td>{t.input_tokens}</td>
                                            <td>{t.output_tokens}</td>
                                            <td>{ms(t.latency_median_ms())}</td>
                                            <td>{ms(t.latency_p95_ms())}</td>
                                            <td>{t.cost.map_or("—".to_string(), |c| format!("{c:.4}"))}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
            <p class="muted small">
                "Failed jobs are not scored and add nothing to a completion ratio. Tokens, calls and latency are the player's own calls."
            </p>
        </section>
    }
}

#[component]
fn JobList(ctl: RunCtl) -> impl IntoView {
    let run_id = ctl.run.with_value(|r| r.id.clone());
    view! {
        <section class="panel" aria-labelledby="jobs-title">
            <h2 id="jobs-title">"Jobs"</h2>
            <ul class="job-list" id="run-jobs">
                {move || {
                    let scores: BTreeMap<String, (u32, u32)> = ctl.summaries.with(|s| {
                        s.iter()
                            .filter_map(|x| {
                                x.scores
                                    .as_ref()
                                    .map(|sc| (x.tag.job.clone(), (sc.overall.expected_met, sc.overall.expected_scored)))
                            })
                            .collect()
                    });
                    let judge_errors: BTreeMap<String, Vec<String>> = ctl.summaries.with(|s| {
                        s.iter()
                            .filter(|x| !x.judge_errors.is_empty())
                            .map(|x| (x.tag.job.clone(), x.judge_errors.clone()))
                            .collect()
                    });
                    let run_id = run_id.clone();
                    ctl.jobs
                        .get()
                        .into_iter()
                        .map(|(job, status)| {
                            let (state, detail) = match &status {
                                JobStatus::Pending => ("to do", None),
                                JobStatus::Running { .. } => ("running", None),
                                JobStatus::Done => ("done", None),
                                JobStatus::Failed { error } => ("failed", Some(error.clone())),
                            };
                            let link = (status == JobStatus::Done)
                                .then(|| format!("/debrief/{}", encounter_id(&run_id, &job.id)));
                            let score = scores
                                .get(&job.id)
                                .map(|(m, s)| format!(" · {m}/{s} items"));
                            let judged = judge_errors.get(&job.id).map(|errors| {
                                view! {
                                    <p class="muted small job-judge-error">
                                        {format!("The judge items are not scored: {}", errors.join("; "))}
                                    </p>
                                }
                            });
                            view! {
                                <li class="job-row" data-job=job.id.clone() data-status=state>
                                    {match link {
                                        Some(href) => view! { <a href=href>{job.id.clone()}</a> }.into_any(),
                                        None => view! { <span>{job.id.clone()}</span> }.into_any(),
                                    }}
                                    <span class="job-status">{format!(" · {state}")}</span>
                                    {score}
                                    {detail.map(|e| view! { <p class="error job-error">{e}</p> })}
                                    {judged}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
