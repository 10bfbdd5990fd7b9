//! Small components shared by pages: validation errors in full, the transcript, the action
//! log, and an inline "are you sure?" delete button. All text is rendered as text.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::results::ExportFile;
use crate::app::view::{ActionLogRow, TranscriptRow};
use crate::engine::validate::Diagnostics;

/// Every error of one file: the file, then for each its JSON path, message and hint.
#[component]
pub fn DiagnosticsList(diagnostics: Diagnostics) -> impl IntoView {
    let n = diagnostics.items.len();
    let heading = format!(
        "{}: {n} error{}",
        diagnostics.source,
        if n == 1 { "" } else { "s" }
    );
    let label = heading.clone();
    view! {
        <div class="diagnostics" role="group" aria-label=label>
            <p class="diagnostics-heading">{heading}</p>
            <ol class="diagnostics-list">
                {diagnostics
                    .items
                    .into_iter()
                    .map(|d| {
                        view! {
                            <li class="diagnostic">
                                <code class="diagnostic-path">{d.path}</code>
                                <span class="diagnostic-message">{d.message}</span>
                                <span class="diagnostic-hint">{d.hint}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </div>
    }
}

/// One conversation row.
#[component]
pub fn TranscriptLine(row: TranscriptRow) -> impl IntoView {
    let class = format!("transcript-row {}", row.kind.class());
    view! {
        <li class=class id=format!("entry-{}", row.seq) data-seq=row.seq tabindex="-1">
            <span class="row-meta">
                <span class="row-speaker">{row.speaker}</span>
                <time class="row-time">{row.time}</time>
            </span>
            <span class="row-text">{row.text}</span>
        </li>
    }
}

/// A static transcript (the debrief's).
#[component]
pub fn Transcript(rows: Vec<TranscriptRow>) -> impl IntoView {
    view! {
        <ol class="transcript">
            {rows.into_iter().map(|row| view! { <TranscriptLine row=row /> }).collect_view()}
        </ol>
    }
}

/// The debrief's table of every action, as typed and as understood.
#[component]
pub fn ActionLog(rows: Vec<ActionLogRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty-state">"No orders were placed."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="action-log">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Typed"</th>
                        <th scope="col">"Understood as"</th>
                        <th scope="col">"Dose / route"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Result"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let understood = match r.confidence {
                                Some(c) => format!("{} · {:.0}%", r.understood_as, c * 100.0),
                                None => r.understood_as,
                            };
                            let result = match (r.result_time, r.result) {
                                (Some(t), Some(text)) => format!("{t} — {text}"),
                                (None, Some(text)) => text,
                                _ => String::new(),
                            };
                            view! {
                                <tr class=format!("status-{}", r.status)>
                                    <td>{r.time}</td>
                                    <td>{r.typed}</td>
                                    <td>{understood}</td>
                                    <td>{r.dose_route.unwrap_or_default()}</td>
                                    <td>{r.status}</td>
                                    <td class="result-text">{result}</td>
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

/// A delete button that asks for confirmation inline (keyboard-friendly, no browser dialog).
/// `what` names the thing in the button labels.
#[component]
pub fn ConfirmDelete(what: String, on_confirm: Callback<()>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let what2 = what.clone();
    // Keyboard users land on "Cancel" when asked (the Delete button they were on is gone).
    let cancel: NodeRef<leptos::html::Button> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    view! {
        <Show
            when=move || asking.get()
            fallback=move || {
                let what = what.clone();
                view! {
                    <button
                        type="button"
                        class="button danger-outline"
                        aria-label=format!("Delete {what}")
                        on:click=move |_| asking.set(true)
                    >
                        "Delete"
                    </button>
                }
            }
        >
            <span
                class="confirm"
                role="group"
                aria-label=format!("Confirm deleting {what2}")
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        asking.set(false);
                    }
                }
            >
                <span>"Delete for good?"</span>
                <button
                    type="button"
                    class="button danger"
                    on:click=move |_| {
                        asking.set(false);
                        on_confirm.run(());
                    }
                >
                    "Yes, delete"
                </button>
                <button
                    type="button"
                    class="button"
                    node_ref=cancel
                    on:click=move |_| asking.set(false)
                >
                    "Cancel"
                </button>
            </span>
        </Show>
    }
}

/// A wall-clock time in the user's own time zone and locale ("24 Nov 2026, 21:58"), from epoch
/// milliseconds; the UTC form of `app::session::date_label` where the browser cannot format it.
pub fn local_date(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return crate::app::labels::date_label(ms);
    }
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    let date = js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(ms));
    // The browser's own locale: an empty list of locales.
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options);
    let text = format
        .format()
        .call1(&leptos::wasm_bindgen::JsValue::NULL, &date)
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if text.is_empty() || text == "Invalid Date" {
        crate::app::labels::date_label(ms)
    } else {
        text
    }
}

/// Moves the keyboard focus to the element with this id, after the view has updated.
pub fn focus_by_id(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// Offers a file for download (a Blob URL on a temporary link).
pub fn download(file: &ExportFile) -> Result<(), String> {
    let parts = js_sys::Array::of1(&file.contents.clone().into());
    let options = leptos::web_sys::BlobPropertyBag::new();
    options.set_type(file.mime);
    let blob = leptos::web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| format!("{e:?}"))?;
    let url =
        leptos::web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let a: leptos::web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    a.set_href(&url);
    a.set_download(&file.name);
    a.click();
    let _ = leptos::web_sys::Url::revoke_object_url(&url);
    Ok(())
}
