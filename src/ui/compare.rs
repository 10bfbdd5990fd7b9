//! `/compare`: players side by side on the same cases — this browser's trainee encounters and
//! evaluation runs, and imported exports, job records or whole folders of them. Filters, the
//! figures with intervals, the plots, judges, misses linking to their debriefs, and the
//! downloads (CSV, JSON, the HTML report). The figures are `eval::report`'s; this file lays
//! them out.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::app::compare::{combine, downloads, rows_of_history, Source};
use crate::app::labels::folder_stamp;
use crate::eval::compare::Row;
use crate::eval::html::{count, figure, kappa, percent};
use crate::eval::plot::{self, Plot, Shape};
use crate::eval::report::{Filter, Report};
use crate::eval::sources::{rows_from_files, Cases};
use crate::store;

use super::context::app_data;
use super::widgets::download;

#[component]
pub fn ComparePage() -> impl IntoView {
    let data = app_data();
    let local = RwSignal::new(Vec::<(Source, Row)>::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let loading = RwSignal::new(true);
    {
        let data = data.clone();
        spawn_local(async move {
            let runs = store::runs::load().unwrap_or_default();
            let you = store::trainee::load();
            match store::list_encounters().await {
                Ok((saved, bad)) => {
                    let (rows, trouble) = data.library.with_untracked(|lib| {
                        rows_of_history(&saved, &runs, lib, &data.catalog, you.as_deref())
                    });
                    local.set(rows);
                    problems.update(|p| {
                        p.extend(bad.iter().map(ToString::to_string));
                        p.extend(trouble);
                    });
                }
                Err(e) => problems.update(|p| p.push(format!("The history cannot be read: {e}"))),
            }
            loading.set(false);
        });
    }
    let imported = RwSignal::new(Vec::<Row>::new());
    let use_history = RwSignal::new(true);
    let use_runs = RwSignal::new(true);
    let use_imported = RwSignal::new(true);
    let filter = RwSignal::new(Filter::default());

    let all_rows = Memo::new(move |_| {
        let mut sources = local.get();
        sources.extend(imported.get().into_iter().map(|r| (Source::Imported, r)));
        combine(&sources, |s| match s {
            Source::History => use_history.get(),
            Source::Runs => use_runs.get(),
            Source::Imported => use_imported.get(),
        })
    });
    let report = Memo::new(move |_| all_rows.with(|rows| Report::build(rows, &filter.get())));
    let local_ids = Memo::new(move |_| {
        local.with(|l| {
            l.iter()
                .map(|(_, r)| r.encounter.clone())
                .collect::<BTreeSet<_>>()
        })
    });

    let import = {
        let data = data.clone();
        Callback::new(move |files: Option<web_sys::FileList>| {
            let Some(files) = files else { return };
            let files: Vec<web_sys::File> =
                (0..files.length()).filter_map(|i| files.get(i)).collect();
            let data = data.clone();
            spawn_local(async move {
                let mut texts = Vec::new();
                let mut unread = Vec::new();
                for f in files {
                    let name = f.name();
                    if !name.to_lowercase().ends_with(".json") {
                        continue;
                    }
                    match JsFuture::from(f.text())
                        .await
                        .ok()
                        .and_then(|t| t.as_string())
                    {
                        Some(text) => texts.push((name, text)),
                        None => unread.push(format!("{name}: could not be read as text")),
                    }
                }
                let (rows, trouble) = data.library.with_untracked(|lib| {
                    let find = |id: &str| lib.get(id).map(|c| c.case.clone());
                    let cases = Cases {
                        find: &find,
                        catalog: Some(&data.catalog),
                    };
                    rows_from_files(&texts, &cases, None)
                });
                imported.update(|i| i.extend(rows));
                problems.update(|p| {
                    p.extend(unread);
                    p.extend(trouble);
                });
            });
        })
    };

    let download_status = RwSignal::new(None::<String>);
    let offer = move |k: usize| {
        let stamp = folder_stamp(js_sys::Date::now());
        let files = all_rows.with(|rows| {
            let kept: Vec<Row> = rows
                .iter()
                .filter(|r| filter.with(|f| f.keeps(r)))
                .cloned()
                .collect();
            report.with(|rep| downloads(&kept, rep, &stamp))
        });
        let file = &files[k];
        download_status.set(Some(match download(file) {
            Ok(()) => format!("Downloaded {}", file.name),
            Err(e) => format!("The download failed: {e}"),
        }));
    };

    view! {
        <section class="page compare" aria-labelledby="page-title">
            <h1 id="page-title">"Compare"</h1>
            <p class="lead">
                "Trainees and models on the same cases: completion with 95% intervals, per competency and case, what each missed, and the static-vs-dynamic gap."
            </p>
            <Sources
                use_history=use_history
                use_runs=use_runs
                use_imported=use_imported
                local=local
                imported=imported
                import=import
                loading=loading
            />
            {move || {
                let p = problems.get();
                (!p.is_empty())
                    .then(|| {
                        view! {
                            <details class="problems" open>
                                <summary>{format!("{} files or encounters could not be read", p.len())}</summary>
                                <ul>{p.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                            </details>
                        }
                    })
            }}
            <Filters rows=all_rows filter=filter />
            {move || {
                let r = report.get();
                if r.method.encounters == 0 {
                    return view! {
                        <p class="empty" data-testid="compare-empty">
                            "No finished encounter to compare yet: play a case, run an evaluation, or import exports above."
                        </p>
                    }
                        .into_any();
                }
                view! {
                    <div class="compare-results">
                        <p data-testid="compare-summary">
                            {format!(
                                "{} encounters · {} players · {} cases",
                                r.method.encounters,
                                r.players.len(),
                                r.method.cases.len(),
                            )}
                        </p>
                        <div class="export-buttons">
                            <button type="button" data-testid="compare-csv" on:click=move |_| offer(0)>"Download CSV"</button>
                            <button type="button" data-testid="compare-json" on:click=move |_| offer(1)>"Download JSON"</button>
                            <button type="button" data-testid="compare-html" on:click=move |_| offer(2)>"Download report (HTML)"</button>
                        </div>
                        <p class="muted" role="status">{move || download_status.get()}</p>
                        <PlayersTable report=r.clone() />
                        <h2>"Competencies"</h2>
                        <PlotView plot=plot::competency_bars(&r) />
                        <h2>"Per case"</h2>
                        {plot::case_scatter(&r).map(|p| view! { <PlotView plot=p /> })}
                        <CasesTable report=r.clone() />
                        <StaticGap report=r.clone() />
                        <Judges report=r.clone() />
                        <h2>"Item difficulty"</h2>
                        {plot::item_difficulty(&r, 15).map(|p| view! { <PlotView plot=p /> })}
                        <Failures report=r.clone() local=local_ids.get() />
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn Sources(
    use_history: RwSignal<bool>,
    use_runs: RwSignal<bool>,
    use_imported: RwSignal<bool>,
    local: RwSignal<Vec<(Source, Row)>>,
    imported: RwSignal<Vec<Row>>,
    import: Callback<Option<web_sys::FileList>>,
    loading: RwSignal<bool>,
) -> impl IntoView {
    let n = move |s: Source| local.with(|l| l.iter().filter(|(x, _)| *x == s).count());
    let dragging = RwSignal::new(false);
    // A folder picker: `webkitdirectory` (every browser has it; not in the typed attributes).
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    // The import takes the files at once; then the input is cleared (which empties its
    // live FileList), so choosing the same files again imports them again.
    let pick = move |ev: web_sys::Event| {
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            import.run(input.files());
            input.set_value("");
        }
    };
    let switch = move |label: String, signal: RwSignal<bool>, id: &'static str| {
        view! {
            <label class="checkbox">
                <input
                    type="checkbox"
                    id=id
                    prop:checked=move || signal.get()
                    on:change=move |ev| signal.set(event_target_checked(&ev))
                />
                {label}
            </label>
        }
    };
    view! {
        <fieldset class="compare-sources">
            <legend>"Sources"</legend>
            {move || {
                if loading.get() {
                    view! { <p class="loading" role="status">"Reading this browser's encounters…"</p> }.into_any()
                } else {
                    view! {
                        <div>
                            {switch(format!("This browser's encounters ({})", n(Source::History)), use_history, "source-history")}
                            {switch(format!("Evaluation runs ({})", n(Source::Runs)), use_runs, "source-runs")}
                            {switch(format!("Imported ({})", imported.with(Vec::len)), use_imported, "source-imported")}
                        </div>
                    }
                        .into_any()
                }
            }}
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
                    import.run(ev.data_transfer().and_then(|dt| dt.files()));
                }
            >
                <p>
                    "Drop encounter exports or job records (JSON) here — a cohort's downloads, or a run folder's jobs — or"
                </p>
                <label class="button file-button">
                    "Choose files…"
                    <input
                        type="file"
                        id="compare-files"
                        class="visually-hidden"
                        accept=".json,application/json"
                        multiple
                        on:change=pick
                    />
                </label>
                " "
                <label class="button file-button">
                    "Choose a folder…"
                    <input
                        type="file"
                        id="compare-folder"
                        class="visually-hidden"
                        node_ref=folder_input
                        multiple
                        on:change=pick
                    />
                </label>
                <Show when=move || imported.with(|i| !i.is_empty())>
                    <button type="button" class="link" on:click=move |_| imported.set(Vec::new())>
                        "Forget imported files"
                    </button>
                </Show>
            </div>
        </fieldset>
    }
}

/// Filters: players, cases, specialty, run, dates. An empty choice keeps everything.
#[component]
fn Filters(rows: Memo<Vec<Row>>, filter: RwSignal<Filter>) -> impl IntoView {
    let distinct = move |f: fn(&Row) -> Option<String>| {
        rows.with(|rows| {
            let mut seen: Vec<String> = Vec::new();
            for v in rows.iter().filter_map(f) {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            seen
        })
    };
    type Pick = fn(&mut Filter) -> &mut BTreeSet<String>;
    let group = move |legend: &'static str, values: Vec<String>, pick: Pick| {
        (values.len() > 1).then(|| {
            view! {
                <fieldset class="filter-group">
                    <legend>{legend}</legend>
                    {values
                        .into_iter()
                        .map(|v| {
                            let v2 = v.clone();
                            let v3 = v.clone();
                            view! {
                                <label class="checkbox">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || filter.with(|f| {
                                            let mut f = f.clone();
                                            pick(&mut f).contains(&v2)
                                        })
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            filter.update(|f| {
                                                let set = pick(f);
                                                if on {
                                                    set.insert(v3.clone());
                                                } else {
                                                    set.remove(&v3);
                                                }
                                            });
                                        }
                                    />
                                    {v}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
            }
        })
    };
    let date = move |label: &'static str, id: &'static str, from: bool| {
        view! {
            <label for=id>{label}</label>
            <input
                type="date"
                id=id
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let v = (!v.is_empty()).then_some(v);
                    filter.update(|f| if from { f.from = v } else { f.to = v });
                }
            />
        }
    };
    view! {
        <details class="compare-filters">
            <summary>
                {move || if filter.with(Filter::is_empty) { "Filter".to_string() } else { "Filter (on)".to_string() }}
            </summary>
            {move || group("Players", distinct(|r| Some(r.player.clone())), |f| &mut f.players)}
            {move || group("Cases", distinct(|r| Some(r.case.clone())), |f| &mut f.cases)}
            {move || group("Specialties", distinct(|r| r.specialty.clone()), |f| &mut f.specialties)}
            {move || group("Runs", distinct(|r| r.run.clone()), |f| &mut f.runs)}
            <div class="filter-dates">{date("From", "filter-from", true)} {date("To", "filter-to", false)}</div>
        </details>
    }
}

#[component]
fn PlayersTable(report: Report) -> impl IntoView {
    let rows = report
        .players
        .iter()
        .map(|p| {
            let flag = (!p.self_judged_by.is_empty()).then(|| {
                format!(
                    "Judged by its own model ({}): judges tend to prefer their own model's transcripts",
                    p.self_judged_by.join(", ")
                )
            });
            view! {
                <tr data-player=p.player.clone()>
                    <th scope="row">{p.player.clone()}</th>
                    <td>{p.strategy.clone().unwrap_or_else(|| p.kind.to_string())}</td>
                    <td>{p.encounters}</td>
                    <td data-testid="micro">{figure(&p.micro)}</td>
                    <td data-testid="macro">{figure(&p.macro_)}</td>
                    <td>{figure(&p.points)}</td>
                    <td>{p.pass_k.map_or("—".into(), |k| format!("pass^{} {}", k.k, percent(Some(k.value))))}</td>
                    <td>{count(p.diagnosis)}</td>
                    <td>
                        {format!("{} rule · {} judge · {} educator", p.by_rule, p.by_judge, p.by_educator)}
                        {flag.map(|f| view! { <span class="flag" role="note">{" ⚠ "}{f}</span> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="compare-players">
                <caption>"Completion (items met / items scored) with 95% bootstrap intervals"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Player"</th>
                        <th scope="col">"Strategy"</th>
                        <th scope="col">"Encounters"</th>
                        <th scope="col">"Micro"</th>
                        <th scope="col">"Macro"</th>
                        <th scope="col">"Points"</th>
                        <th scope="col">"pass^k"</th>
                        <th scope="col">"Diagnosis correct"</th>
                        <th scope="col">"Items rest on"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn CasesTable(report: Report) -> impl IntoView {
    let players: Vec<String> = report.players.iter().map(|p| p.player.clone()).collect();
    let head = players
        .iter()
        .map(|p| view! { <th scope="col">{p.clone()}</th> })
        .collect_view();
    let body = report
        .cases
        .iter()
        .map(|c| {
            let cells = players
                .iter()
                .map(|p| {
                    let cell = c.players.iter().find(|cell| &cell.player == p);
                    view! {
                        <td>
                            {cell.map_or("—".into(), |cell| {
                                format!("{} · dx {}", count(cell.items), count(cell.diagnosis))
                            })}
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{c.case.title.clone()}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="compare-cases">
                <caption>"Items met / scored per case (diagnosis correct)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Case"</th>
                        {head}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn StaticGap(report: Report) -> impl IntoView {
    if report.static_gap.is_empty() {
        return ().into_any();
    }
    let lines = report
        .static_gap
        .iter()
        .map(|g| {
            let cases = g
                .cases
                .iter()
                .map(|c| {
                    view! {
                        <tr data-case=c.case.clone()>
                            <td>{c.case.clone()}</td>
                            <td>{c.applicable}</td>
                            <td>{count(c.static_items)}</td>
                            <td>{count(c.dynamic_items)}</td>
                            <td>{gap_words(c.gap)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="compare-gap" data-testid="static-gap">
                    <caption>
                        {format!(
                            "{}: {} (static) against {} (dynamic) — overall {} vs {}, {}",
                            g.model,
                            g.static_player,
                            g.dynamic_player,
                            count(g.static_items),
                            count(g.dynamic_items),
                            gap_words(g.gap),
                        )}
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">"Case"</th>
                            <th scope="col">"Applicable items"</th>
                            <th scope="col">"Static"</th>
                            <th scope="col">"Dynamic"</th>
                            <th scope="col">"Gap"</th>
                        </tr>
                    </thead>
                    <tbody>{cases}</tbody>
                </table>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="gap-title">
            <h2 id="gap-title">"Static vignette against dynamic encounter"</h2>
            <p class="muted">
                "The same model given the whole case at once (one call: diagnosis and management) and in the encounter, on the items the static play could score. Items that need the dialogue are not applicable to it."
            </p>
            {plot::static_gap(&report.static_gap).map(|p| view! { <PlotView plot=p /> })}
            {lines}
        </section>
    }
        .into_any()
}

fn gap_words(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:+.0} points", v * 100.0))
}

#[component]
fn Judges(report: Report) -> impl IntoView {
    let j = report.judges;
    if j.judges.is_empty() {
        return ().into_any();
    }
    let judges = j
        .judges
        .iter()
        .map(|l| {
            view! {
                <tr>
                    <th scope="row">{l.label.clone()}</th>
                    <td>{l.encounters}</td>
                    <td>{count(l.items)}</td>
                    <td>
                        {if l.same_model_as.is_empty() {
                            "—".to_string()
                        } else {
                            format!("⚠ same model as {}", l.same_model_as.join(", "))
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let agreement = j
        .between
        .iter()
        .map(|(a, b, k)| (a.clone(), b.clone(), kappa(k)))
        .chain(
            j.with_educator
                .iter()
                .map(|(a, k)| (a.clone(), "educator overrides".to_string(), kappa(k))),
        )
        .map(|(a, b, k)| view! { <li>{format!("{a} and {b}: {k}")}</li> })
        .collect_view();
    view! {
        <section aria-labelledby="judges-title">
            <h2 id="judges-title">"Judges"</h2>
            <table class="compare-judges">
                <caption>"Each judge's verdicts on the judge items (rule items never need a judge)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Judge"</th>
                        <th scope="col">"Encounters"</th>
                        <th scope="col">"Items met / judged"</th>
                        <th scope="col">"Flag"</th>
                    </tr>
                </thead>
                <tbody>{judges}</tbody>
            </table>
            <ul class="agreement">{agreement}</ul>
        </section>
    }
        .into_any()
}

#[component]
fn Failures(report: Report, local: BTreeSet<String>) -> impl IntoView {
    let players: Vec<String> = report.players.iter().map(|p| p.player.clone()).collect();
    let lists = players
        .into_iter()
        .map(|p| {
            let mine: Vec<_> = report
                .failures
                .iter()
                .filter(|f| f.player == p)
                .cloned()
                .collect();
            let n = mine.len();
            let items = mine
                .into_iter()
                .map(|f| {
                    let link = local.contains(&f.encounter).then(|| {
                        view! { <a href=format!("/debrief/{}", f.encounter)>"debrief"</a> }
                    });
                    let missed = f
                        .missed
                        .iter()
                        .map(|(_, t)| view! { <li>{t.clone()}</li> })
                        .collect_view();
                    let harms = f
                        .harms
                        .iter()
                        .map(|(_, t)| view! { <li class="harm">{format!("Harm: {t}")}</li> })
                        .collect_view();
                    view! {
                        <li>
                            <strong>{format!("{} (repeat {})", f.case, f.repeat)}</strong>
                            " "
                            {link}
                            <ul>{harms}{missed}</ul>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <details class="failures">
                    <summary>{format!("{p}: {n} encounters with misses")}</summary>
                    <ul>{items}</ul>
                </details>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="failures-title">
            <h2 id="failures-title">"What each player missed"</h2>
            {lists}
        </section>
    }
}

/// A plot's shapes as SVG elements (the same shapes the report writes as text).
#[component]
fn PlotView(plot: Plot) -> impl IntoView {
    let shapes = plot
        .shapes
        .into_iter()
        .map(|s| match s {
            Shape::Rect {
                x,
                y,
                w,
                h,
                fill,
                title,
            } => view! {
                <rect x=x y=y width=w height=h fill=fill>
                    <title>{title}</title>
                </rect>
            }
            .into_any(),
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => view! { <line x1=x1 y1=y1 x2=x2 y2=y2 stroke=stroke></line> }.into_any(),
            Shape::Circle {
                cx,
                cy,
                r,
                fill,
                title,
            } => view! {
                <circle cx=cx cy=cy r=r fill=fill fill-opacity="0.8">
                    <title>{title}</title>
                </circle>
            }
            .into_any(),
            Shape::Text { x, y, text, anchor } => view! {
                <text x=x y=y text-anchor=anchor font-size="11">{text}</text>
            }
            .into_any(),
        })
        .collect_view();
    let legend = plot
        .legend
        .into_iter()
        .map(|(c, name)| {
            view! {
                <span class="key">
                    <svg width="10" height="10" aria-hidden="true">
                        <rect width="10" height="10" fill=c></rect>
                    </svg>
                    {name}
                </span>
            }
        })
        .collect_view();
    let label = plot.title.clone();
    let title = plot.title;
    view! {
        <figure class="plot">
            <svg
                viewBox=format!("0 0 {:.0} {:.0}", plot.width, plot.height)
                width=format!("{:.0}", plot.width)
                role="img"
                aria-label=label
            >
                <title>{title}</title>
                {shapes}
            </svg>
            <figcaption>{legend}</figcaption>
        </figure>
    }
}
