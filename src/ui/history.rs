//! `/history`: every saved encounter, in two lists: in progress (no score yet) and finished
//! (with scores). Reopen one from here; delete one with confirmation, or select several and
//! delete them together.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::history::{history_sections, selected_ids, HistoryRow, HistorySections};
use crate::store;

use super::context::app_data;
use super::widgets::{local_date, ConfirmDelete};

#[component]
pub fn History() -> impl IntoView {
    let data = app_data();
    let listed = LocalResource::new(move || {
        let data = data.clone();
        async move {
            store::list_encounters().await.map(|(saved, bad)| {
                let sections = data
                    .library
                    .with_untracked(|lib| history_sections(&saved, lib, &data.catalog, local_date));
                let bad: Vec<String> = bad.iter().map(ToString::to_string).collect();
                (sections, bad)
            })
        }
    });
    let delete_error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let delete = Callback::new(move |ids: Vec<String>| {
        spawn_local(async move {
            let mut error = None;
            for id in &ids {
                if let Err(e) = store::delete_encounter(id).await {
                    error = Some(e.to_string());
                    break;
                }
            }
            selected.update(|s| s.retain(|id| !ids.contains(id)));
            delete_error.set(error);
            listed.refetch();
        });
    });
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"History"</h1>
            <p class="lead">"Every encounter played in this browser. Reopen one to continue it or read its debrief."</p>
            {move || delete_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || {
                    listed
                        .get()
                        .map(|r| match r {
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        {format!("The history cannot be read: {e}")}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok((sections, bad)) => {
                                view! {
                                    <HistoryLists
                                        sections=sections
                                        bad=bad
                                        delete=delete
                                        selected=selected
                                    />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn HistoryLists(
    sections: HistorySections,
    bad: Vec<String>,
    delete: Callback<Vec<String>>,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let problems = (!bad.is_empty()).then(|| {
        view! {
            <div class="notice-box" role="alert">
                <p>{format!("{} stored encounter(s) cannot be read:", bad.len())}</p>
                <ul>{bad.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}</ul>
            </div>
        }
    });
    if sections.in_progress.is_empty() && sections.finished.is_empty() {
        return view! {
            {problems}
            <p class="empty-state">
                "No encounters yet. Start one from the " <a href="/">"case library"</a> "."
            </p>
        }
        .into_any();
    }
    let listed = StoredValue::new(sections.clone());
    let chosen = move || selected.with(|s| listed.with_value(|rows| selected_ids(s, rows)));
    let asking = RwSignal::new(false);
    view! {
        {problems}
        <div class="history-toolbar" role="group" aria-label="Selected encounters">
            <span class="muted" role="status">
                {move || match chosen().len() {
                    0 => "Select encounters to delete several at once.".to_string(),
                    1 => "1 encounter selected.".to_string(),
                    n => format!("{n} encounters selected."),
                }}
            </span>
            <Show
                when=move || asking.get()
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="button danger-outline"
                            id="delete-selected"
                            disabled=move || chosen().is_empty()
                            on:click=move |_| asking.set(true)
                        >
                            "Delete selected"
                        </button>
                    }
                }
            >
                <span
                    class="confirm"
                    role="group"
                    aria-label="Confirm deleting the selected encounters"
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            asking.set(false);
                        }
                    }
                >
                    <span>{move || format!("Delete {} for good?", chosen().len())}</span>
                    <button
                        type="button"
                        class="button danger"
                        id="delete-selected-confirm"
                        on:click=move |_| {
                            asking.set(false);
                            delete.run(chosen());
                        }
                    >
                        "Yes, delete"
                    </button>
                    <button type="button" class="button" on:click=move |_| asking.set(false)>
                        "Cancel"
                    </button>
                </span>
            </Show>
        </div>
        <HistorySection
            title="In progress"
            id="history-in-progress"
            rows=sections.in_progress
            empty="No encounter in progress."
            scores=false
            delete=delete
            selected=selected
        />
        <HistorySection
            title="Finished"
            id="history-finished"
            rows=sections.finished
            empty="No finished encounter yet."
            scores=true
            delete=delete
            selected=selected
        />
    }
    .into_any()
}

#[component]
fn HistorySection(
    title: &'static str,
    id: &'static str,
    rows: Vec<HistoryRow>,
    empty: &'static str,
    /// Whether the list has a Scores column (finished encounters only).
    scores: bool,
    delete: Callback<Vec<String>>,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    if rows.is_empty() {
        return view! {
            <section class="history-section" aria-labelledby=labelled_by>
                <h2 id=heading>{title}</h2>
                <p class="muted">{empty}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="history-section" aria-labelledby=labelled_by>
            <h2 id=heading>{format!("{title} ({})", rows.len())}</h2>
            <table class="history" id=id>
                <thead>
                    <tr>
                        <th scope="col">
                            <span class="visually-hidden">"Select"</span>
                        </th>
                        <th scope="col">"Case"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Played by"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Sim. time"</th>
                        {scores.then(|| view! { <th scope="col">"Scores"</th> })}
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let (href, open_label) = if r.ended {
                                (format!("/debrief/{}", r.id), "Debrief")
                            } else {
                                (format!("/encounter/{}", r.id), "Resume")
                            };
                            let id = r.id.clone();
                            let id_check = r.id.clone();
                            let id_checked = r.id.clone();
                            let what = format!("the encounter “{}” of {}", r.case_title, r.date);
                            let check_label = format!("Select {what}");
                            view! {
                                <tr data-encounter-id=r.id.clone()>
                                    <td class="history-select">
                                        <input
                                            type="checkbox"
                                            class="history-check"
                                            aria-label=check_label
                                            prop:checked=move || selected.with(|s| s.contains(&id_checked))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| {
                                                    if on {
                                                        s.insert(id_check.clone());
                                                    } else {
                                                        s.remove(&id_check);
                                                    }
                                                });
                                            }
                                        />
                                    </td>
                                    <td class="history-case" data-label="Case">{r.case_title.clone()}</td>
                                    <td data-label="Started">{r.date}</td>
                                    <td data-label="Played by">{r.who}</td>
                                    <td data-label="Status">{r.status}</td>
                                    <td data-label="Sim. time">{r.sim_time}</td>
                                    {scores
                                        .then(|| {
                                            view! {
                                                <td class="history-scores" data-label="Scores">
                                                    {r.scores.clone().unwrap_or_default()}
                                                </td>
                                            }
                                        })}
                                    <td class="history-actions">
                                        <div class="row-actions">
                                            <a
                                                class="button"
                                                href=href
                                                aria-label=format!("{open_label}: {}", r.case_title)
                                            >
                                                {open_label}
                                            </a>
                                            <ConfirmDelete
                                                what=what
                                                on_confirm=Callback::new(move |()| delete.run(vec![id.clone()]))
                                            />
                                        </div>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
