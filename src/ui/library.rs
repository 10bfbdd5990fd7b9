//! The case library page: case cards with search and filters, Start, and importing case files
//! (file picker or drag and drop) with every validation error shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::app::history::{open_encounter_for, open_encounter_summary};
use crate::app::library::{parse_difficulty, CaseCard, Filter};
use crate::app::session::{new_id, Session};
use crate::app::settings::{can_model_play, model_config};
use crate::engine::encounter::Config;
use crate::engine::validate::{Diagnostic, Diagnostics};
use crate::store;

use super::context::{app_data, models};
use super::widgets::{local_date, ConfirmDelete, DiagnosticsList};

/// An unfinished encounter of the case being started: offered to resume instead of a new one.
#[derive(Clone, Debug, PartialEq)]
struct ResumeOffer {
    case_id: String,
    encounter_id: String,
    summary: String,
}

#[component]
pub fn CaseLibrary() -> impl IntoView {
    let data = app_data();
    let query = RwSignal::new(String::new());
    let specialty = RwSignal::new(String::new());
    let difficulty = RwSignal::new(String::new());
    let library = data.library;
    let cards = Memo::new(move |_| {
        let filter = Filter {
            query: query.get(),
            specialty: Some(specialty.get()).filter(|s| !s.is_empty()),
            difficulty: parse_difficulty(&difficulty.get()),
        };
        library.with(|l| l.cards(&filter))
    });
    let total = Memo::new(move |_| library.with(|l| l.cases().len()));
    let specialties = Memo::new(move |_| library.with(|l| l.specialties()));
    let start_error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(None::<String>);

    let navigate = use_navigate();
    let catalog = data.catalog.clone();
    let models = models();
    let offer = RwSignal::new(None::<ResumeOffer>);
    // (case id, whether the configured clinician model plays it): a new encounter, at once.
    let start_new = Callback::new(move |(case_id, by_model): (String, bool)| {
        let Some(case) = library.with_untracked(|l| l.get(&case_id).cloned()) else {
            start_error.set(Some(format!(
                "The case `{case_id}` is no longer in the library."
            )));
            return;
        };
        let config = if by_model {
            match models.settings.with_untracked(|s| s.clinician.clone()) {
                Some(c) => model_config(&c),
                None => {
                    start_error.set(Some(
                        "No clinician model is configured: choose one in Settings.".into(),
                    ));
                    return;
                }
            }
        } else {
            Config::human()
        };
        let now = js_sys::Date::now();
        let session = Session::start(
            &case,
            catalog.clone(),
            config,
            new_id(now, js_sys::Math::random()),
            now,
        );
        let navigate = navigate.clone();
        starting.set(Some(case_id));
        start_error.set(None);
        spawn_local(async move {
            let id = session.id().to_string();
            match store::save_encounter(&session.saved()).await {
                Ok(()) => {
                    store::set_current_encounter(Some(&id));
                    let play = if by_model { "?play=1" } else { "" };
                    navigate(
                        &format!("/encounter/{id}{play}"),
                        NavigateOptions::default(),
                    );
                }
                Err(e) => {
                    starting.set(None);
                    start_error.set(Some(format!("The encounter could not be started: {e}")));
                }
            }
        });
    });
    // Start: a trainee with an unfinished encounter of this case is asked Resume or New.
    let start = Callback::new(move |(case_id, by_model): (String, bool)| {
        offer.set(None);
        if by_model {
            start_new.run((case_id, by_model));
            return;
        }
        spawn_local(async move {
            let open = store::list_encounters().await.ok().and_then(|(saved, _)| {
                open_encounter_for(&saved, &case_id).map(|s| ResumeOffer {
                    case_id: case_id.clone(),
                    encounter_id: s.id.clone(),
                    summary: open_encounter_summary(s, &local_date(s.started_ms)),
                })
            });
            match open {
                Some(o) => offer.set(Some(o)),
                None => start_new.run((case_id, false)),
            }
        });
    });

    view! {
        <section class="page library" aria-labelledby="page-title">
            <h1 id="page-title">"Case library"</h1>
            <p class="lead">
                "Pick a patient case and practise it: take a history, examine, order tests, treat and explain. "
                "Built-in cases run offline with a scripted patient and rule-based scoring."
            </p>
            <LoadProblems />
            <div class="filters" role="search" aria-label="Find a case">
                <label class="field">
                    <span>"Search"</span>
                    <input
                        type="search"
                        id="case-search"
                        placeholder="Title, specialty, setting"
                        bind:value=query
                    />
                </label>
                <label class="field">
                    <span>"Specialty"</span>
                    <select id="filter-specialty" bind:value=specialty>
                        <option value="">"Any specialty"</option>
                        <For each=move || specialties.get() key=|s| s.clone() let:s>
                            <option value=s.clone()>{s.clone()}</option>
                        </For>
                    </select>
                </label>
                <label class="field">
                    <span>"Difficulty"</span>
                    <select id="filter-difficulty" bind:value=difficulty>
                        <option value="">"Any difficulty"</option>
                        <option value="introductory">"Introductory"</option>
                        <option value="intermediate">"Intermediate"</option>
                        <option value="advanced">"Advanced"</option>
                    </select>
                </label>
            </div>
            <p class="result-count" role="status">
                {move || format!("{} of {} cases", cards.with(Vec::len), total.get())}
            </p>
            {move || {
                start_error
                    .get()
                    .map(|e| view! { <p class="error" role="alert">{e}</p> })
            }}
            <Show when=move || !models.settings.with(can_model_play)>
                <p class="muted small model-play-why" id="model-play-why">
                    "“Let the model play” is off until a clinician model is set in "
                    <a href="/settings">"Settings"</a> "."
                </p>
            </Show>
            <Show
                when=move || !cards.with(Vec::is_empty)
                fallback=|| {
                    view! {
                        <p class="empty-state">"No case matches. Clear the search or the filters."</p>
                    }
                }
            >
                <ul class="case-grid" aria-label="Cases">
                    <For each=move || cards.get() key=|c| (c.id.clone(), c.file_name.clone()) let:card>
                        <CaseCardView
                            card=card
                            start=start
                            start_new=start_new
                            starting=starting
                            offer=offer
                        />
                    </For>
                </ul>
            </Show>
            <ImportPanel />
        </section>
    }
}

/// Built-in cases that failed to load (a bug) and stored imports that no longer validate.
#[component]
fn LoadProblems() -> impl IntoView {
    let data = app_data();
    let problems = data.load_problems;
    let storage_error = data.storage_error;
    view! {
        {move || {
            storage_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })
        }}
        <Show when=move || !problems.with(Vec::is_empty)>
            <div class="notice-box" role="alert">
                <p>"Some cases could not be loaded:"</p>
                {move || {
                    problems
                        .get()
                        .into_iter()
                        .map(|d| view! { <DiagnosticsList diagnostics=d /> })
                        .collect_view()
                }}
            </div>
        </Show>
    }
}

#[component]
fn CaseCardView(
    card: CaseCard,
    start: Callback<(String, bool)>,
    start_new: Callback<(String, bool)>,
    starting: RwSignal<Option<String>>,
    offer: RwSignal<Option<ResumeOffer>>,
) -> impl IntoView {
    let id_offer = card.id.clone();
    let my_offer = Memo::new(move |_| offer.get().filter(|o| o.case_id == id_offer));
    let data = app_data();
    let models = models();
    let can_play = move || models.settings.with(can_model_play);
    let id = card.id.clone();
    let id_model = card.id.clone();
    let id_busy = card.id.clone();
    let busy = move || starting.get().as_deref() == Some(id_busy.as_str());
    let title_id = format!("case-{}", card.id);
    let delete = card.imported.then(|| {
        let id = card.id.clone();
        let library = data.library;
        let on_confirm = Callback::new(move |()| {
            library.update(|l| {
                l.remove_imported(&id);
            });
            let stored = library.with_untracked(|l| l.stored_imports());
            if let Err(e) = store::save_imported(&stored) {
                data.storage_error.set(Some(e.to_string()));
            }
        });
        view! { <ConfirmDelete what=card.title.clone() on_confirm=on_confirm /> }
    });
    view! {
        <li class="case-card" data-case-id=card.id.clone()>
            <h2 id=title_id.clone() class="case-title">{card.title.clone()}</h2>
            {card.imported.then(|| view! { <span class="badge">"Imported"</span> })}
            <dl class="case-facts">
                <div>
                    <dt>"Specialty"</dt>
                    <dd>{card.specialty.clone()}</dd>
                </div>
                <div>
                    <dt>"Setting"</dt>
                    <dd>{card.setting.clone()}</dd>
                </div>
                <div>
                    <dt>"Difficulty"</dt>
                    <dd class=format!("difficulty difficulty-{}", card.difficulty.to_lowercase())>
                        {card.difficulty}
                    </dd>
                </div>
                <div>
                    <dt>"Time"</dt>
                    <dd>{format!("about {} min", card.minutes)}</dd>
                </div>
            </dl>
            <div class="card-actions">
                <button
                    type="button"
                    class="button primary"
                    aria-describedby=title_id
                    disabled=move || starting.get().is_some()
                    on:click=move |_| start.run((id.clone(), false))
                >
                    {move || if busy() { "Starting…" } else { "Start" }}
                </button>
                <button
                    type="button"
                    class="button model-play"
                    data-testid="model-play"
                    title=move || {
                        if can_play() {
                            "The configured clinician model plays this case while you watch"
                        } else {
                            "Configure a clinician model in Settings first"
                        }
                    }
                    aria-describedby=move || (!can_play()).then_some("model-play-why")
                    disabled=move || starting.get().is_some() || !can_play()
                    on:click=move |_| start.run((id_model.clone(), true))
                >
                    "Let the model play"
                </button>
                {delete}
            </div>
            {move || my_offer.get().map(|o| view! { <ResumeOrNew offer=o start_new=start_new close=offer /> })}
        </li>
    }
}

/// "You have an unfinished encounter of this case": Resume it, or start a new one. Escape
/// (or Cancel) closes the question.
#[component]
fn ResumeOrNew(
    offer: ResumeOffer,
    start_new: Callback<(String, bool)>,
    close: RwSignal<Option<ResumeOffer>>,
) -> impl IntoView {
    let resume: NodeRef<leptos::html::A> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = resume.get() {
            let _ = el.focus();
        }
    });
    let case_id = offer.case_id.clone();
    view! {
        <div
            class="resume-offer"
            role="alertdialog"
            aria-labelledby="resume-offer-title"
            aria-describedby="resume-offer-detail"
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" {
                    close.set(None);
                }
            }
        >
            <p id="resume-offer-title"><strong>"You have an unfinished encounter of this case."</strong></p>
            <p id="resume-offer-detail" class="muted small">{offer.summary.clone()}</p>
            <div class="form-actions">
                <a
                    class="button primary"
                    id="resume-open"
                    node_ref=resume
                    href=format!("/encounter/{}", offer.encounter_id)
                >
                    "Resume it"
                </a>
                <button
                    type="button"
                    class="button"
                    id="resume-new"
                    on:click=move |_| {
                        close.set(None);
                        start_new.run((case_id.clone(), false));
                    }
                >
                    "Start a new one"
                </button>
                <button type="button" class="button" on:click=move |_| close.set(None)>
                    "Cancel"
                </button>
            </div>
        </div>
    }
}

/// What happened to one imported file.
#[derive(Clone)]
enum Outcome {
    Imported { title: String, replaced: bool },
    Rejected(Diagnostics),
}

#[component]
fn ImportPanel() -> impl IntoView {
    let data = app_data();
    let outcomes = RwSignal::new(Vec::<(usize, Outcome)>::new());
    let busy = RwSignal::new(false);
    let dragging = RwSignal::new(false);

    let catalog = data.catalog.clone();
    let handle = Callback::new(move |files: Option<web_sys::FileList>| {
        let Some(files) = files else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        if files.is_empty() {
            return;
        }
        busy.set(true);
        outcomes.set(Vec::new());
        let catalog = catalog.clone();
        let library = data.library;
        let storage_error = data.storage_error;
        spawn_local(async move {
            let mut results = Vec::new();
            for (n, file) in files.into_iter().enumerate() {
                let name = file.name();
                let text = JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string());
                let outcome = match text {
                    None => {
                        let mut d = Diagnostics::new(name.clone());
                        d.push(Diagnostic::new(
                            "$",
                            "the file could not be read as text",
                            "choose a JSON case file",
                        ));
                        Outcome::Rejected(d)
                    }
                    Some(text) => match library.try_update(|l| l.import(&name, &text, &catalog)) {
                        Some(Ok(replaced)) => {
                            let title = library.with_untracked(|l| {
                                l.cases()
                                    .iter()
                                    .rev()
                                    .find(|c| c.file_name == name)
                                    .map(|c| c.case.meta.title.clone())
                                    .unwrap_or_default()
                            });
                            Outcome::Imported { title, replaced }
                        }
                        Some(Err(d)) => Outcome::Rejected(d),
                        None => continue,
                    },
                };
                results.push((n, outcome));
            }
            let stored = library.with_untracked(|l| l.stored_imports());
            if let Err(e) = store::save_imported(&stored) {
                storage_error.set(Some(e.to_string()));
            }
            outcomes.set(results);
            busy.set(false);
        });
    });

    view! {
        <section class="import" aria-labelledby="import-title">
            <h2 id="import-title">"Import a case file"</h2>
            <p class="muted">
                "Case files are JSON (see the " <a href="/case-authoring.txt">"case authoring guide"</a>
                "). They are checked in full and kept in this browser."
            </p>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    handle.run(ev.data_transfer().and_then(|dt| dt.files()));
                }
            >
                <p>"Drop case files here, or"</p>
                <label class="button file-button">
                    "Choose files…"
                    <input
                        type="file"
                        id="case-file"
                        class="visually-hidden"
                        accept=".json,application/json"
                        multiple
                        on:change=move |ev| {
                            let input = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                            if let Some(input) = input {
                                handle.run(input.files());
                                input.set_value("");
                            }
                        }
                    />
                </label>
            </div>
            <Show when=move || busy.get()>
                <p class="loading" role="status">"Checking…"</p>
            </Show>
            <div class="import-results" role="status" aria-live="polite">
                {move || {
                    outcomes
                        .get()
                        .into_iter()
                        .map(|(_, o)| match o {
                            Outcome::Imported { title, replaced } => {
                                view! {
                                    <p class="ok">
                                        {if replaced { "Replaced: " } else { "Imported: " }}
                                        <strong>{title}</strong>
                                    </p>
                                }
                                    .into_any()
                            }
                            Outcome::Rejected(d) => {
                                view! {
                                    <div class="import-error">
                                        <p class="error">"This file was not imported:"</p>
                                        <DiagnosticsList diagnostics=d />
                                    </div>
                                }
                                    .into_any()
                            }
                        })
                        .collect_view()
                }}
            </div>
        </section>
    }
}
