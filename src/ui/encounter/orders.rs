//! The order panel: search-as-you-type over the catalog, the form each suggestion places and
//! its time cost, free text, and the questions asked before placing (a queried dose, a
//! unit-less number); a disposition opens the end form instead.

use std::sync::Arc;

use leptos::prelude::*;

use crate::app::orders::{
    move_highlight, order_for_enter, review, suggestions, OrderReview, SUGGESTIONS,
};
use crate::app::session;
use crate::engine::catalog::Catalog;

use super::ctl::EncounterCtl;

#[component]
pub(super) fn OrderPanel(
    ctl: EncounterCtl,
    catalog: Arc<Catalog>,
    show_end_form: RwSignal<bool>,
    end_disposition: RwSignal<String>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let highlight = RwSignal::new(None::<usize>);
    let list = Memo::new(move |_| suggestions(&query.get(), &catalog, SUGGESTIONS));
    let placed = RwSignal::new(None::<String>);
    // The order waiting for the trainee's answer: (text, question, can be placed anyway).
    let query_box = RwSignal::new(None::<(String, String, bool)>);
    let commit = move |text: String| {
        if let Some(input) = session::order(&text) {
            if ctl.apply(input).is_ok() {
                placed.set(Some(text));
                query.set(String::new());
                highlight.set(None);
                query_box.set(None);
            }
        }
    };
    let place = move |text: String| {
        let verdict = ctl.session.try_with_value(|s| review(&text, s.encounter()));
        match verdict {
            Some(OrderReview::Place) => commit(text),
            Some(OrderReview::Disposition { name }) => {
                end_disposition.set(name);
                show_end_form.set(true);
                query.set(String::new());
                highlight.set(None);
            }
            Some(OrderReview::ConfirmDose { message }) => {
                query_box.set(Some((text, message, true)))
            }
            Some(OrderReview::AskUnit { message }) => query_box.set(Some((text, message, false))),
            None => {}
        }
    };
    let place_free = move || {
        let q = query.get_untracked();
        if !q.trim().is_empty() {
            place(q.trim().to_string());
        }
    };
    view! {
        <section class="panel orders" aria-labelledby="orders-title">
            <h2 id="orders-title">"Orders"</h2>
            <label for="order-input" class="muted">
                "Search exams, tests, drugs (with dose and route), procedures, consults"
            </label>
            <div class="combo">
                <input
                    id="order-input"
                    type="text"
                    role="combobox"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="e.g. cbc, asa 300 mg po, cxr"
                    aria-autocomplete="list"
                    aria-controls="order-suggestions"
                    aria-expanded=move || (!list.with(Vec::is_empty)).to_string()
                    aria-activedescendant=move || highlight.get().map(|i| format!("suggestion-{i}"))
                    disabled=move || ctl.is_ended()
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        let n = list.with_untracked(Vec::len);
                        highlight.set((n > 0).then_some(0));
                    }
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        let n = list.with_untracked(Vec::len);
                        match ev.key().as_str() {
                            "ArrowDown" => {
                                ev.prevent_default();
                                highlight.update(|h| *h = move_highlight(*h, n, 1));
                            }
                            "ArrowUp" => {
                                ev.prevent_default();
                                highlight.update(|h| *h = move_highlight(*h, n, -1));
                            }
                            "Escape" => {
                                query.set(String::new());
                                highlight.set(None);
                            }
                            "Enter" => {
                                ev.prevent_default();
                                let chosen = list
                                    .with_untracked(|l| {
                                        order_for_enter(&query.get_untracked(), l, highlight.get_untracked())
                                    });
                                if let Some(text) = chosen {
                                    place(text);
                                }
                            }
                            _ => {}
                        }
                    }
                />
                <ul
                    id="order-suggestions"
                    role="listbox"
                    aria-label="Matching orders"
                    class="suggestions"
                    class:open=move || !list.with(Vec::is_empty)
                >
                    {move || {
                        list.get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, s)| {
                                let text = s.order_text.clone();
                                view! {
                                    <li
                                        id=format!("suggestion-{i}")
                                        role="option"
                                        class="suggestion"
                                        aria-selected=move || (highlight.get() == Some(i)).to_string()
                                        on:mousedown=move |ev| ev.prevent_default()
                                        on:click=move |_| place(text.clone())
                                    >
                                        <span class="suggestion-name">{s.name.clone()}</span>
                                        {s.form.clone().map(|f| view! { <span class="suggestion-form">{f}</span> })}
                                        <span class="suggestion-detail">
                                            {format!("{} · {}", s.category, s.detail)}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
            <div class="order-actions">
                <button
                    type="button"
                    class="button"
                    id="order-free-text"
                    disabled=move || ctl.is_ended() || query.with(|q| q.trim().is_empty())
                    on:click=move |_| place_free()
                >
                    "Order exactly as typed"
                </button>
            </div>
            {move || {
                query_box
                    .get()
                    .map(|(text, message, can_place)| {
                        let text_for_place = text.clone();
                        let text_for_escape = text.clone();
                        view! {
                            <div
                                class="order-query"
                                role="alertdialog"
                                aria-labelledby="order-query-text"
                                on:keydown=move |ev: web_sys::KeyboardEvent| {
                                    if ev.key() == "Escape" {
                                        query_box.set(None);
                                        query.set(text_for_escape.clone());
                                    }
                                }
                            >
                                <p id="order-query-text">{message}</p>
                                <div class="form-actions">
                                    {can_place
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="button danger"
                                                    id="order-confirm"
                                                    on:click=move |_| commit(text_for_place.clone())
                                                >
                                                    "Place anyway"
                                                </button>
                                            }
                                        })}
                                    <button
                                        type="button"
                                        class="button"
                                        id="order-change"
                                        on:click=move |_| {
                                            query_box.set(None);
                                            query.set(text.clone());
                                        }
                                    >
                                        "Change the order"
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
            <p class="muted small">
                "Arrows choose, Enter places the order (each takes the simulated time shown). "
                "Results arrive in the inbox below; pending orders can be cancelled there."
            </p>
            <p class="muted small" role="status">
                {move || placed.get().map(|p| format!("Placed: {p}"))}
            </p>
        </section>
    }
}
