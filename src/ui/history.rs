//! `/history`: every saved encounter (case, date, who played, status, scores), reopened from here,
//! deleted with confirmation.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::results::score_label;
use crate::app::session::{history_rows, HistoryRow};
use crate::store;

use super::app_data;
use super::widgets::{local_date, ConfirmDelete};

#[component]
pub fn History() -> impl IntoView {
    let data = app_data();
    let listed = LocalResource::new(move || {
        let data = data.clone();
        async move {
            store::list_encounters().await.map(|(saved, bad)| {
                let mut rows = history_rows(&saved);
                data.library.with_untracked(|lib| {
                    for row in &mut rows {
                        if let Some(s) = saved.iter().find(|s| s.id == row.id) {
                            row.scores = score_label(s, lib, data.catalog.clone());
                            row.date = local_date(s.started_ms);
                        }
                    }
                });
                (rows, bad)
            })
        }
    });
    let delete_error = RwSignal::new(None::<String>);
    let delete = Callback::new(move |id: String| {
        spawn_local(async move {
            match store::delete_encounter(&id).await {
                Ok(()) => {
                    delete_error.set(None);
                    listed.refetch();
                }
                Err(e) => delete_error.set(Some(e)),
            }
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
                            Ok((rows, bad)) => {
                                view! { <HistoryTable rows=rows bad=bad delete=delete /> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn HistoryTable(
    rows: Vec<HistoryRow>,
    bad: Vec<String>,
    delete: Callback<String>,
) -> impl IntoView {
    let problems = (!bad.is_empty()).then(|| {
        view! {
            <div class="notice-box" role="alert">
                <p>{format!("{} stored encounter(s) cannot be read:", bad.len())}</p>
                <ul>{bad.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}</ul>
            </div>
        }
    });
    if rows.is_empty() {
        return view! {
            {problems}
            <p class="empty-state">
                "No encounters yet. Start one from the " <a href="/">"case library"</a> "."
            </p>
        }
        .into_any();
    }
    view! {
        {problems}
        <div class="table-scroll">
            <table class="history">
                <thead>
                    <tr>
                        <th scope="col">"Case"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Played by"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Sim. time"</th>
                        <th scope="col">"Scores"</th>
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
                            let what = format!("the encounter “{}” of {}", r.case_title, r.date);
                            view! {
                                <tr data-encounter-id=r.id.clone()>
                                    <td>{r.case_title.clone()}</td>
                                    <td>{r.date}</td>
                                    <td>{r.who}</td>
                                    <td>{r.status}</td>
                                    <td>{r.sim_time}</td>
                                    <td class="history-scores">{r.scores}</td>
                                    <td>
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
                                                on_confirm=Callback::new(move |()| delete.run(id.clone()))
                                            />
                                        </div>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
