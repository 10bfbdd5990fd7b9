//! `/evaluate`: evaluation runs in the browser. The form builds a plan from the providers in
//! Settings (keys stay there); the list shows this browser's runs; `/evaluate/:run` shows one
//! run and drives it ([`run`]).

mod run;

pub use run::RunPage;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::app::evaluate::{
    plan_from_file, plan_from_form, run_id, PlanForm, PlayerForm, StoredRun,
};
use crate::engine::validate::Diagnostic;
use crate::eval::estimate::estimate;
use crate::eval::plan::Plan;
use crate::llm::settings::Role;
use crate::store;

use super::context::{app_data, jitter_seed, models};

#[component]
pub fn EvaluatePage() -> impl IntoView {
    let runs = RwSignal::new(Vec::<StoredRun>::new());
    let load_error = RwSignal::new(None::<String>);
    match store::runs::load() {
        Ok(r) => runs.set(r),
        Err(e) => load_error.set(Some(e.to_string())),
    }
    view! {
        <section class="page evaluate" aria-labelledby="page-title">
            <h1 id="page-title">"Evaluate"</h1>
            <p class="lead">
                "Let models play the same cases, several times each, and compare them. Each finished job is saved as an encounter (it shows in the history and opens in the debrief); a failed job is shown with its error and never counts as a score."
            </p>
            {move || load_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <RunList runs=runs />
            <NewRunForm runs=runs />
            <LoadPlan runs=runs />
        </section>
    }
}

#[component]
fn RunList(runs: RwSignal<Vec<StoredRun>>) -> impl IntoView {
    let delete_error = RwSignal::new(None::<String>);
    view! {
        <section class="panel" aria-labelledby="runs-title">
            <h2 id="runs-title">"Runs in this browser"</h2>
            {move || delete_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || {
                let list = runs.get();
                if list.is_empty() {
                    return view! { <p class="muted" id="runs-empty">"No runs yet."</p> }.into_any();
                }
                view! {
                    <ul class="run-list" id="run-list">
                        {list
                            .into_iter()
                            .rev()
                            .map(|r| {
                                let id = r.id.clone();
                                let href = format!("/evaluate/{}", r.id);
                                let jobs = r.plan.players.len() * r.case_ids.len()
                                    * r.plan.repeats as usize;
                                view! {
                                    <li class="run-row">
                                        <a href=href>{r.plan.name.clone()}</a>
                                        <span class="muted">
                                            {format!(" · {jobs} jobs · {}", super::widgets::local_date(r.created_ms))}
                                        </span>
                                        <button
                                            type="button"
                                            class="button small danger-outline"
                                            on:click=move |_| {
                                                let mut kept = runs.get_untracked();
                                                kept.retain(|x| x.id != id);
                                                match store::runs::save(&kept) {
                                                    Ok(()) => runs.set(kept),
                                                    Err(e) => delete_error.set(Some(e.to_string())),
                                                }
                                            }
                                        >
                                            "Forget run"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <p class="muted small">
                        "Forgetting a run keeps its encounters in the history."
                    </p>
                }
                    .into_any()
            }}
        </section>
    }
}

/// Keeps a new run of `plan` with the others; returns its id.
fn start_run(plan: Plan, runs: RwSignal<Vec<StoredRun>>) -> Result<String, String> {
    let now = js_sys::Date::now();
    let run = StoredRun {
        id: run_id(now, jitter_seed()),
        case_ids: plan.cases.iter().map(|c| c.trim().to_string()).collect(),
        plan,
        created_ms: now,
        failures: Default::default(),
    };
    let mut all = runs.get_untracked();
    all.push(run.clone());
    store::runs::save(&all).map_err(|e| e.to_string())?;
    runs.set(all);
    Ok(run.id)
}

/// A plan file (the CLI's format, e.g. one downloaded from a run or with a judge panel) starts
/// a run; keys come from Settings by address.
#[component]
fn LoadPlan(runs: RwSignal<Vec<StoredRun>>) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let data = app_data();
    let errors = RwSignal::new(Vec::<Diagnostic>::new());
    let navigate = use_navigate();
    let load = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        let library = data.library;
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let name = file.name();
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
            let Some(text) = text else {
                errors.set(vec![Diagnostic::new(
                    name,
                    "the file could not be read as text",
                    "choose a plan's JSON file",
                )]);
                return;
            };
            let plan = library.with_untracked(|l| plan_from_file(&name, &text, l));
            match plan.map(|p| start_run(p, runs)) {
                Ok(Ok(id)) => {
                    errors.set(Vec::new());
                    navigate(&format!("/evaluate/{id}"), NavigateOptions::default());
                }
                Ok(Err(e)) => errors.set(vec![Diagnostic::new("run", e, "")]),
                Err(d) => errors.set(d),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="load-plan-title">
            <h2 id="load-plan-title">"Run a plan file"</h2>
            <p class="muted">
                "A plan in the command line's format (a judge panel, many players). Its cases must be in the library; keys come from Settings, by address."
            </p>
            <label class="field">
                <span>"Plan file (JSON)"</span>
                <input type="file" id="run-plan-file" accept=".json,application/json" on:change=load />
            </label>
            <ErrorList id="run-plan-errors" errors=Signal::derive(move || errors.get()) />
        </section>
    }
}

/// A list of errors, each "path: message — hint"; nothing when there are none.
#[component]
fn ErrorList(id: &'static str, errors: Signal<Vec<Diagnostic>>) -> impl IntoView {
    move || {
        let e = errors.get();
        (!e.is_empty()).then(|| {
            view! {
                <ul class="error-list" id=id role="alert">
                    {e.into_iter().map(|d| view! { <li>{d.to_string()}</li> }).collect_view()}
                </ul>
            }
        })
    }
}

/// One form field's error, if any, by path.
fn error_at(errors: &[Diagnostic], path: &str) -> Option<String> {
    errors
        .iter()
        .find(|d| d.path == path)
        .map(|d| format!("{} — {}", d.message, d.hint))
}

#[component]
fn NewRunForm(runs: RwSignal<Vec<StoredRun>>) -> impl IntoView {
    let data = app_data();
    let m = models();
    let form = RwSignal::new(PlanForm::new(&m.settings.get_untracked()));
    // Once Start was pressed, the form's errors follow every change (a fixed field's error
    // goes at once, the others stay); a storage failure is kept beside them.
    let attempted = RwSignal::new(false);
    let save_error = RwSignal::new(None::<Diagnostic>);
    let errors = Memo::new(move |_| {
        let mut e = if attempted.get() {
            plan_from_form(&form.get(), &m.settings.get())
                .err()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        e.extend(save_error.get());
        e
    });
    let navigate = use_navigate();
    let cases: Vec<(String, String)> = data.library.with_untracked(|l| {
        l.cases()
            .iter()
            .map(|c| (c.id().to_string(), c.case.meta.title.clone()))
            .collect()
    });
    // The estimate of the plan as it stands; the job count alone while the form has errors.
    let estimate_data = data.clone();
    let estimate_line = move || {
        let f = form.get();
        let settings = m.settings.get();
        match plan_from_form(&f, &settings) {
            Ok(plan) => {
                let cases: Vec<_> = estimate_data.library.with(|l| {
                    plan.cases
                        .iter()
                        .filter_map(|id| l.get(id).map(|c| c.case.clone()))
                        .collect()
                });
                estimate(&plan, &cases, &estimate_data.catalog).line()
            }
            Err(_) => {
                let repeats = f.repeats.trim().parse::<usize>().unwrap_or(0);
                format!("{} jobs", f.players.len() * f.cases.len() * repeats)
            }
        }
    };
    let start = move |_| {
        attempted.set(true);
        save_error.set(None);
        let settings = m.settings.get_untracked();
        if let Ok(plan) = plan_from_form(&form.get_untracked(), &settings) {
            match start_run(plan, runs) {
                Ok(id) => navigate(
                    &format!("/evaluate/{id}?start=1"),
                    NavigateOptions::default(),
                ),
                Err(e) => save_error.set(Some(Diagnostic::new("run", e, ""))),
            }
        }
    };
    let field_error = move |path: &'static str| {
        move || {
            errors
                .with(|e| error_at(e, path))
                .map(|m| view! { <span class="field-error">{m}</span> })
        }
    };
    view! {
        <section class="panel" aria-labelledby="new-run-title">
            <h2 id="new-run-title">"New run"</h2>
            <p class="muted">
                "Players call the providers set up in Settings, with their keys. The same plan runs from the command line: " <code>"bedside-cli run PLAN --out DIR"</code> "."
            </p>
            <label class="field">
                <span>"Name"</span>
                <input
                    id="run-name"
                    type="text"
                    prop:value=move || form.with(|f| f.name.clone())
                    on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))
                />
                {field_error("name")}
            </label>
            <fieldset class="field case-picks">
                <legend>"Cases"</legend>
                {cases
                    .into_iter()
                    .map(|(id, title)| {
                        let checked_id = id.clone();
                        let input_id = format!("run-case-{id}");
                        view! {
                            <label class="checkbox">
                                <input
                                    type="checkbox"
                                    id=input_id
                                    prop:checked=move || form.with(|f| f.cases.contains(&checked_id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let id = id.clone();
                                        form.update(|f| {
                                            if on {
                                                f.cases.insert(id);
                                            } else {
                                                f.cases.remove(&id);
                                            }
                                        });
                                    }
                                />
                                {title}
                            </label>
                        }
                    })
                    .collect_view()}
                {field_error("cases")}
            </fieldset>
            <div class="field-row">
                <NumberField form=form id="run-repeats" label="Repeats" get=|f| f.repeats.clone() set=|f, v| f.repeats = v />
                <NumberField form=form id="run-turn-limit" label="Turn limit (blank: 12)" get=|f| f.turn_limit.clone() set=|f, v| f.turn_limit = v />
                <NumberField form=form id="run-concurrency" label="Jobs at once per endpoint" get=|f| f.concurrency.clone() set=|f, v| f.concurrency = v />
            </div>
            {field_error("repeats")}
            {field_error("turn_limit")}
            {field_error("concurrency")}
            <h3>"Players"</h3>
            {field_error("players")}
            <PlayerRows form=form errors=errors />
            <button
                type="button"
                class="button"
                id="run-add-player"
                on:click=move |_| {
                    let settings = m.settings.get_untracked();
                    form.update(|f| {
                        let n = f.players.len() + 1;
                        f.players.push(PlayerForm::new(Role::Clinician, &settings, n));
                    })
                }
            >
                "Add a player"
            </button>
            <CheckField form=form id="run-judge" label="Score the judge items with the judge in Settings" get=|f| f.judge set=|f, v| f.judge = v />
            {field_error("judge")}
            <CheckField form=form id="run-patient" label="Voice the patient with the patient model in Settings" get=|f| f.patient set=|f, v| f.patient = v />
            {field_error("patient")}
            <p class="run-estimate" id="run-estimate" role="status">
                {estimate_line}
            </p>
            <ErrorList id="run-errors" errors=Signal::derive(move || errors.get()) />
            <div class="form-actions">
                <button type="button" class="button primary" id="run-start" on:click=start>
                    "Start run"
                </button>
            </div>
        </section>
    }
}

#[component]
fn NumberField(
    form: RwSignal<PlanForm>,
    id: &'static str,
    label: &'static str,
    get: fn(&PlanForm) -> String,
    set: fn(&mut PlanForm, String),
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                id=id
                type="text"
                inputmode="decimal"
                prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
            />
        </label>
    }
}

#[component]
fn CheckField(
    form: RwSignal<PlanForm>,
    id: &'static str,
    label: &'static str,
    get: fn(&PlanForm) -> bool,
    set: fn(&mut PlanForm, bool),
) -> impl IntoView {
    view! {
        <label class="checkbox">
            <input
                type="checkbox"
                id=id
                prop:checked=move || form.with(get)
                on:change=move |ev| form.update(|f| set(f, event_target_checked(&ev)))
            />
            {label}
        </label>
    }
}

#[component]
fn PlayerRows(form: RwSignal<PlanForm>, errors: Memo<Vec<Diagnostic>>) -> impl IntoView {
    let providers: Vec<Role> = vec![Role::Clinician, Role::Patient, Role::Judge];
    move || {
        let n = form.with(|f| f.players.len());
        (0..n)
            .map(|i| {
                let providers = providers.clone();
                let err = move |f: &'static str| {
                    move || {
                        errors
                            .with(|e| error_at(e, &format!("players[{i}].{f}")))
                            .map(|m| view! { <span class="field-error">{m}</span> })
                    }
                };
                let text = move |id: String,
                                 label: &'static str,
                                 get: fn(&PlayerForm) -> String,
                                 set: fn(&mut PlayerForm, String)| {
                    view! {
                        <label class="field">
                            <span>{label}</span>
                            <input
                                id=id
                                type="text"
                                prop:value=move || form.with(|f| f.players.get(i).map(get).unwrap_or_default())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    form.update(|f| {
                                        if let Some(p) = f.players.get_mut(i) {
                                            set(p, v)
                                        }
                                    })
                                }
                            />
                        </label>
                    }
                };
                view! {
                    <fieldset class="panel player-row" id=format!("player-{i}")>
                        <legend>{format!("Player {}", i + 1)}</legend>
                        <div class="field-row">
                            {text(format!("player-{i}-label"), "Label", |p| p.label.clone(), |p, v| p.label = v)}
                            <label class="field">
                                <span>"Provider (from Settings)"</span>
                                <select
                                    id=format!("player-{i}-provider")
                                    on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        let role = Role::ALL.into_iter().find(|r| r.label() == v);
                                        form.update(|f| {
                                            if let (Some(p), Some(r)) = (f.players.get_mut(i), role) {
                                                p.provider = r;
                                            }
                                        })
                                    }
                                >
                                    {providers
                                        .iter()
                                        .map(|r| {
                                            let r = *r;
                                            view! {
                                                <option
                                                    value=r.label()
                                                    selected=move || form.with(|f| f.players.get(i).is_some_and(|p| p.provider == r))
                                                >
                                                    {format!("the {} provider", r.label())}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            {text(format!("player-{i}-model"), "Model (blank: the provider's)", |p| p.model.clone(), |p, v| p.model = v)}
                        </div>
                        {err("label")}
                        {err("provider")}
                        {err("model")}
                        {err("base_url")}
                        <div class="field-row">
                            {text(format!("player-{i}-temperature"), "Temperature", |p| p.temperature.clone(), |p, v| p.temperature = v)}
                            {text(format!("player-{i}-best_of"), "Candidates per turn (1: single; N: best-of-N)", |p| p.best_of.clone(), |p, v| p.best_of = v)}
                            {text(format!("player-{i}-best_of_temperature"), "Candidates' temperature", |p| p.best_of_temperature.clone(), |p, v| p.best_of_temperature = v)}
                        </div>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                id=format!("player-{i}-static")
                                prop:checked=move || form.with(|f| f.players.get(i).is_some_and(|p| p.static_play))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    form.update(|f| {
                                        if let Some(p) = f.players.get_mut(i) {
                                            p.static_play = on;
                                        }
                                    })
                                }
                            />
                            "Static: the whole case at once as a written vignette, one call (scored on the items that apply without a conversation)"
                        </label>
                        {err("temperature")}
                        {err("best_of")}
                        {err("strategy")}
                        <div class="field-row">
                            {text(format!("player-{i}-price_in"), "Price per million tokens in", |p| p.price_in.clone(), |p, v| p.price_in = v)}
                            {text(format!("player-{i}-price_out"), "Price per million tokens out", |p| p.price_out.clone(), |p, v| p.price_out = v)}
                        </div>
                        {err("price_in")}
                        {err("price_out")}
                        <button
                            type="button"
                            class="button small danger-outline"
                            on:click=move |_| {
                                form.update(|f| {
                                    if i < f.players.len() {
                                        f.players.remove(i);
                                    }
                                })
                            }
                        >
                            "Remove this player"
                        </button>
                    </fieldset>
                }
            })
            .collect_view()
    }
}
