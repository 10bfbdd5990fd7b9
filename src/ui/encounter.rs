//! The encounter screen: door note, conversation and speak box, order panel, results inbox,
//! vitals monitor, clock with wait, "done with this stage", and the end form. Every input goes
//! through [`EncounterCtl::apply`], which updates the view models and saves the encounter.

use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use wasm_bindgen::JsCast;

use crate::app::orders::{
    move_highlight, order_for_enter, review, suggestions, OrderReview, SUGGESTIONS,
};
use crate::app::session::{self, EndFormDraft, Session};
use crate::app::settings::roles_line;
use crate::app::view::{
    disposition_options, unseen_results, InboxRow, InboxStatus, InboxView, TranscriptRow, TREND_H,
    TREND_W,
};
use crate::engine::catalog::Catalog;
use crate::engine::encounter::{Clinician, Input, MAX_WAIT_MIN};
use crate::llm::transport::Cancel;
use crate::store;

use super::app_data;
use super::encounter_ctl::{EncounterCtl, SaveState};
use super::model_play::{models, voice_patient, ModelPlayPanel};

/// `/encounter`: reopens the encounter in progress, if any.
#[component]
pub fn EncounterLanding() -> impl IntoView {
    let current = store::current_encounter();
    if let Some(id) = current.clone() {
        let navigate = use_navigate();
        Effect::new(move |_| {
            navigate(
                &format!("/encounter/{id}"),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            )
        });
    }
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">"Encounter"</h1>
            {match current {
                Some(_) => view! { <p class="loading">"Reopening your encounter…"</p> }.into_any(),
                None => {
                    view! {
                        <p class="empty-state">
                            "No encounter is open. Choose a case in the " <a href="/">"case library"</a>
                            ", or reopen one from the " <a href="/history">"history"</a> "."
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Loads a saved encounter and replays it.
pub async fn load_session(id: String) -> Result<Session, String> {
    let data = app_data();
    let saved = store::load_encounter(&id)
        .await?
        .ok_or_else(|| format!("There is no saved encounter `{id}` in this browser."))?;
    data.library
        .with_untracked(|l| Session::resume(saved, l, data.catalog.clone()))
        .map_err(|e| format!("This encounter cannot be reopened: {e}"))
}

/// `/encounter/:id`
#[component]
pub fn EncounterPage() -> impl IntoView {
    view! {
        <SessionRoute
            title="Encounter"
            loading="Loading the encounter…"
            library_link=true
            render=|session| view! { <EncounterScreen session=session /> }.into_any()
        />
    }
}

/// A page of one saved encounter (`/encounter/:id`, `/debrief/:id`): loads it by the route's
/// id, shows a loading state, then `render`s it, or says why it cannot be reopened.
#[component]
pub fn SessionRoute(
    title: &'static str,
    loading: &'static str,
    /// Whether the error also points to the case library (besides the history).
    library_link: bool,
    render: fn(Session) -> AnyView,
) -> impl IntoView {
    let params = use_params_map();
    let loaded = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        load_session(id)
    });
    view! {
        <Suspense fallback=move || {
            view! {
                <section class="page">
                    <h1 id="page-title">{title}</h1>
                    <p class="loading" role="status">{loading}</p>
                </section>
            }
        }>
            {move || {
                loaded
                    .get()
                    .map(|r| match r {
                        Ok(session) => render(session),
                        Err(e) => {
                            view! {
                                <section class="page">
                                    <h1 id="page-title">{title}</h1>
                                    <p class="error" role="alert">{e}</p>
                                    <p>
                                        "Go to the " <a href="/history">"history"</a>
                                        {library_link
                                            .then(|| {
                                                view! {
                                                    " or the "
                                                    <a href="/">"case library"</a>
                                                }
                                            })} "."
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn EncounterScreen(session: Session) -> impl IntoView {
    let data = app_data();
    let case = session.encounter.case().clone();
    if !session.is_ended() {
        store::set_current_encounter(Some(&session.saved.id));
    }
    let by_model = matches!(session.saved.config.clinician, Clinician::Model { .. });
    let config = session.saved.config.clone();
    let ctl = EncounterCtl::new(session);
    let m = models();
    let roles = move || {
        let voice = ctl.patient_voice.get();
        m.settings.with(|s| roles_line(&config, &voice, s))
    };
    let show_end_form = RwSignal::new(false);
    // On a phone one of talking and ordering shows at a time (both on a wide screen).
    let mode = RwSignal::new(Mode::Talk);
    // A disposition picked in the order panel: the end form opens with it.
    let end_disposition = RwSignal::new(String::new());
    let patient = format!(
        "{}, {} years, {}",
        case.patient.name, case.patient.age, case.patient.sex
    );
    let door_note = case.door_note.clone();
    let title = case.meta.title.clone();
    let id = ctl.id();
    let catalog_for_end = data.catalog.clone();
    let catalog_for_orders = data.catalog.clone();
    view! {
        <section class="page encounter" aria-labelledby="page-title">
            <div class="encounter-head">
                <div>
                    <h1 id="page-title">{title}</h1>
                    <p class="muted">{patient}</p>
                </div>
                <SaveIndicator ctl=ctl />
            </div>
            <p class="roles-line" id="roles-line">{roles}</p>
            <p class="roles-line" id="usage-line">{move || ctl.usage.get()}</p>
            {by_model.then(|| view! { <ModelPlayPanel ctl=ctl /> })}
            <div class="encounter-sticky">
                <ClockBar ctl=ctl show_end_form=show_end_form />
                <VitalsStrip ctl=ctl />
                {(!by_model).then(|| view! { <ModeSwitch mode=mode /> })}
            </div>
            <p class="patient-status" id="patient-status">
                {move || ctl.clock.with(|c| c.status.clone())}
            </p>
            {move || {
                ctl.ended
                    .get()
                    .map(|text| {
                        let id = ctl.id();
                        view! {
                            <div class="ended-banner" role="status">
                                <p>{text}</p>
                                <a class="button primary" href=format!("/debrief/{id}")>
                                    "Read the debrief"
                                </a>
                            </div>
                        }
                    })
            }}
            {move || {
                ctl.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })
            }}
            <NoticeBanner ctl=ctl />
            <details class="door-note" open>
                <summary>"Door note"</summary>
                <p class="door-note-text">{door_note}</p>
            </details>
            {move || {
                ctl.closing.get().map(|(why, _)| view! { <p class="closing-banner" role="status">{why}</p> })
            }}
            <Show when=move || {
                // A model gives its own end form; a trainee gets the form.
                (show_end_form.get() || (!by_model && ctl.closing.with(Option::is_some)))
                    && !ctl.is_ended()
            }>
                <EndFormView
                    ctl=ctl
                    show=show_end_form
                    catalog=catalog_for_end.clone()
                    id=id.clone()
                    disposition=end_disposition
                />
            </Show>
            <div class=move || format!("encounter-grid mode-{}", mode.get().key())>
                <div class="col-main">
                    <Conversation ctl=ctl />
                    {(!by_model).then(|| view! { <SpeakBox ctl=ctl /> })}
                </div>
                <div class="col-side">
                    <VitalsMonitor ctl=ctl />
                    <div class="col-orders">
                    {(!by_model)
                        .then(|| {
                            view! {
                                <OrderPanel
                                    ctl=ctl
                                    catalog=catalog_for_orders
                                    show_end_form=show_end_form
                                    end_disposition=end_disposition
                                />
                            }
                        })}
                    <Inbox ctl=ctl />
                    </div>
                </div>
            </div>
        </section>
    }
}

#[component]
fn SaveIndicator(ctl: EncounterCtl) -> impl IntoView {
    view! {
        <p
            class="save-state"
            data-save-state=move || match ctl.save_state() {
                SaveState::Saved => "saved",
                SaveState::Saving => "saving",
                SaveState::Failed(_) => "failed",
            }
            role="status"
        >
            {move || match ctl.save_state() {
                SaveState::Saved => "Saved in this browser".to_string(),
                SaveState::Saving => "Saving…".to_string(),
                SaveState::Failed(e) => format!("Not saved: {e}"),
            }}
        </p>
    }
}

#[component]
fn NoticeBanner(ctl: EncounterCtl) -> impl IntoView {
    view! {
        <div class="notice-banner" role="status" aria-live="polite">
            {move || {
                ctl.notices
                    .get()
                    .into_iter()
                    .map(|n| view! { <p class="notice-item">{n}</p> })
                    .collect_view()
            }}
        </div>
    }
}

#[component]
fn ClockBar(ctl: EncounterCtl, show_end_form: RwSignal<bool>) -> impl IntoView {
    let minutes = RwSignal::new("5".to_string());
    let wait = move || {
        let m: u32 = minutes.get_untracked().trim().parse().unwrap_or(0);
        if m == 0 || m > MAX_WAIT_MIN {
            ctl.error
                .set(Some(format!("Wait between 1 and {MAX_WAIT_MIN} minutes.")));
            return;
        }
        ctl.apply(Input::Wait { minutes: m });
    };
    view! {
        <div class="clock-bar">
            <div class="clock" aria-label="Simulated time">
                <span class="clock-label">"Time"</span>
                <span class="clock-value" id="clock">
                    {move || ctl.clock.with(|c| c.elapsed.clone())}
                </span>
                <span class="clock-limit">
                    {move || ctl.clock.with(|c| format!("of {} · {} min left", c.limit, c.remaining_min))}
                </span>
                <span class="clock-progress" id="in-progress">
                    {move || ctl.clock.with(|c| c.in_progress.clone())}
                </span>
            </div>
            <div class="phase">
                <span class="clock-label">"Stage"</span>
                <span class="phase-label" id="phase">
                    {move || ctl.clock.with(|c| c.phase_label.clone())}
                </span>
            </div>
            <form
                class="wait-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    wait();
                }
            >
                <label for="wait-minutes">"Wait"</label>
                <input
                    id="wait-minutes"
                    type="number"
                    min="1"
                    max=MAX_WAIT_MIN.to_string()
                    inputmode="numeric"
                    bind:value=minutes
                    disabled=move || ctl.is_ended()
                />
                <span>"min"</span>
                <button type="submit" class="button" disabled=move || ctl.is_ended()>
                    "Wait"
                </button>
            </form>
            <div class="stage-actions">
                <button
                    type="button"
                    class="button"
                    id="stage-done"
                    disabled=move || ctl.is_ended() || ctl.closing.with(Option::is_some)
                    aria-describedby=move || ctl.closing.with(Option::is_some).then_some("stage-done-why")
                    on:click=move |_| {
                        ctl.apply(session::stage_done());
                    }
                >
                    "Done with this stage"
                </button>
                <Show when=move || ctl.closing.with(Option::is_some) && !ctl.is_ended()>
                    <span class="stage-why" id="stage-done-why">"The end form is due: no stage is left."</span>
                </Show>
                <button
                    type="button"
                    class="button primary"
                    id="open-end-form"
                    aria-expanded=move || show_end_form.get().to_string()
                    aria-controls="end-form"
                    disabled=move || ctl.is_ended()
                    on:click=move |_| show_end_form.update(|s| *s = !*s)
                >
                    "End encounter…"
                </button>
            </div>
        </div>
    }
}

#[component]
fn Conversation(ctl: EncounterCtl) -> impl IntoView {
    let list: NodeRef<html::Ol> = NodeRef::new();
    // Keep the newest line in view (syncs the DOM's scroll position, writes no signal).
    Effect::new(move |_| {
        ctl.transcript.track();
        if let Some(el) = list.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    view! {
        <section class="panel conversation" aria-labelledby="conversation-title">
            <h2 id="conversation-title">"Conversation"</h2>
            <ol class="transcript live" node_ref=list aria-live="polite" aria-relevant="additions">
                <For each=move || ctl.transcript.get() key=|r| (r.seq, r.text.clone()) let:row>
                    <LiveLine ctl=ctl row=row />
                </For>
            </ol>
            {move || {
                ctl.voice_error
                    .get()
                    .map(|e| view! { <p class="error voice-error" role="alert">{e}</p> })
            }}
        </section>
    }
}

/// One conversation row; a line the patient model is voicing shows its text as it streams in
/// (as text, never HTML).
#[component]
fn LiveLine(ctl: EncounterCtl, row: TranscriptRow) -> impl IntoView {
    let seq = row.seq;
    let class = move || {
        let live = ctl.live.with(|l| l.contains_key(&seq));
        format!(
            "transcript-row {}{}",
            row.kind.class(),
            if live { " streaming" } else { "" }
        )
    };
    let scripted = row.text.clone();
    let text = move || {
        ctl.live
            .with(|l| l.get(&seq).cloned())
            .unwrap_or_else(|| scripted.clone())
    };
    view! {
        <li class=class id=format!("entry-{seq}") data-seq=seq>
            <span class="row-meta">
                <span class="row-speaker">{row.speaker}</span>
                <time class="row-time">{row.time}</time>
            </span>
            <span class="row-text">{text}</span>
        </li>
    }
}

#[component]
fn SpeakBox(ctl: EncounterCtl) -> impl IntoView {
    let text = RwSignal::new(String::new());
    // After Start (or reopening), the message box has the focus: the trainee can type at once.
    let input: NodeRef<html::Textarea> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            if !ctl.ended_now() {
                let _ = el.focus();
            }
        }
    });
    // The patient model's reply in flight: cancelled when the trainee leaves the page.
    let voicing = StoredValue::new_local(None::<Cancel>);
    on_cleanup(move || {
        if let Some(c) = voicing.try_get_value().flatten() {
            c.cancel();
        }
    });
    let send = move || {
        if let Some(input) = session::speak(&text.get_untracked()) {
            if ctl.apply(input) {
                text.set(String::new());
                if let Some(p) = models().settings.with_untracked(|s| s.patient.clone()) {
                    ctl.voice_error.set(None);
                    let cancel = Cancel::new();
                    voicing.set_value(Some(cancel.clone()));
                    spawn_local(async move { voice_patient(ctl, p, &cancel).await });
                }
            }
        }
    };
    view! {
        <form
            class="speak"
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <label for="speak-input">"Say to the patient (and anyone present)"</label>
            <div class="speak-row">
                <textarea
                    id="speak-input"
                    node_ref=input
                    rows="2"
                    placeholder="Type and press Enter to send (Shift+Enter: new line)"
                    bind:value=text
                    disabled=move || ctl.is_ended()
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <button type="submit" class="button primary" disabled=move || ctl.is_ended()>
                    "Send"
                </button>
            </div>
        </form>
    }
}

#[component]
fn OrderPanel(
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
            if ctl.apply(input) {
                placed.set(Some(text));
                query.set(String::new());
                highlight.set(None);
                query_box.set(None);
            }
        }
    };
    let place = move |text: String| {
        let verdict = ctl.session.try_with_value(|s| review(&text, &s.encounter));
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

#[component]
fn InboxItem(ctl: EncounterCtl, row: InboxRow) -> impl IntoView {
    let status = match row.status {
        InboxStatus::Pending => match (row.time.clone(), row.due_in_min) {
            (Some(t), Some(m)) => format!("expected at {t} (in {m} min)"),
            _ => "pending".to_string(),
        },
        InboxStatus::Returned => format!("back at {}", row.time.clone().unwrap_or_default()),
        InboxStatus::Unsupported => "not understood or not available: rephrase it".to_string(),
        InboxStatus::Cancelled => format!("cancelled at {}", row.time.clone().unwrap_or_default()),
    };
    let base = match row.status {
        InboxStatus::Pending => "inbox-row pending",
        InboxStatus::Returned => "inbox-row returned",
        InboxStatus::Unsupported => "inbox-row unsupported",
        InboxStatus::Cancelled => "inbox-row cancelled",
    };
    let seq_new = row.seq;
    let returned = row.status == InboxStatus::Returned;
    let is_new = move || returned && ctl.seen.with(|s| !s.contains(&seq_new));
    let class = move || format!("{base}{}", if is_new() { " new" } else { "" });
    let flag = row.flag;
    let flag_label = match flag.label() {
        "" => None,
        l => Some(format!("Abnormal: {l}")),
    };
    view! {
        <li class=class data-seq=row.seq>
            <div class="inbox-head">
                <Show when=is_new>
                    <span class="badge badge-new">"New"</span>
                </Show>
                <span class="inbox-name">{row.name}</span>
                {flag_label
                    .map(|l| {
                        view! {
                            <span class=format!(
                                "badge badge-flag {}",
                                if flag.is_critical() { "flag-critical" } else { "flag-abnormal" },
                            )>{l}</span>
                        }
                    })}
                {row.dose_route.map(|d| view! { <span class="inbox-dose">{d}</span> })}
                <span class="inbox-ordered">{format!("ordered {}", row.ordered_at)}</span>
            </div>
            <div class="inbox-status">{status}</div>
            {row.note.map(|n| view! { <p class="inbox-note">{n}</p> })}
            {row.result.map(|r| view! { <p class="inbox-result">{r}</p> })}
            {row
                .control
                .map(|c| {
                    let seq = row.seq;
                    view! {
                        <button
                            type="button"
                            class="button small inbox-control"
                            on:click=move |_| {
                                ctl.apply(session::cancel(seq));
                            }
                        >
                            {c.label()}
                        </button>
                    }
                })}
        </li>
    }
}

#[component]
fn Inbox(ctl: EncounterCtl) -> impl IntoView {
    let group =
        move |title: &'static str, id: &'static str, pick: fn(&InboxView) -> Vec<InboxRow>| {
            view! {
                <Show when=move || ctl.inbox.with(|v| !pick(v).is_empty())>
                    <h3 class="inbox-group">{title}</h3>
                    <ul class="inbox-list" id=id>
                        {move || {
                            ctl.inbox
                                .with(pick)
                                .into_iter()
                                .map(|row| view! { <InboxItem ctl=ctl row=row /> })
                                .collect_view()
                        }}
                    </ul>
                </Show>
            }
        };
    view! {
        <section
            class="panel inbox"
            aria-labelledby="inbox-title"
            on:click=move |_| ctl.mark_results_seen()
            on:focusin=move |_| ctl.mark_results_seen()
        >
            <h2 id="inbox-title">
                "Results"
                {move || {
                    let n = ctl
                        .seen
                        .with(|seen| ctl.inbox.with(|inbox| unseen_results(inbox, seen).len()));
                    (n > 0).then(|| view! { <span class="badge badge-new" id="results-new">{format!("{n} new")}</span> })
                }}
            </h2>
            <Show when=move || {
                ctl.inbox
                    .with(|v| {
                        v.pending.is_empty() && v.returned.is_empty() && v.unsupported.is_empty()
                            && v.cancelled.is_empty()
                    })
            }>
                <p class="muted">"Nothing ordered yet."</p>
            </Show>
            {group("Pending", "inbox-pending", |v| v.pending.clone())}
            {group("Returned", "inbox-returned", |v| v.returned.clone())}
            {group("Not understood", "inbox-unsupported", |v| v.unsupported.clone())}
            {group("Cancelled", "inbox-cancelled", |v| v.cancelled.clone())}
        </section>
    }
}

#[component]
fn VitalsMonitor(ctl: EncounterCtl) -> impl IntoView {
    let view_box = format!("0 0 {TREND_W} {TREND_H}");
    view! {
        <section class="panel vitals" aria-labelledby="vitals-title">
            <h2 id="vitals-title">"Monitor"</h2>
            <ul class="vitals-grid">
                {move || {
                    let view_box = view_box.clone();
                    ctl.vitals
                        .get()
                        .into_iter()
                        .map(|v| {
                            let label = format!("{} trend", v.label);
                            let alarm = v.alarm_label();
                            let class = format!("vital vital-{} {}", v.key, v.level_class());
                            view! {
                                <li class=class data-vital=v.key>
                                    <span class="vital-label">{v.label}</span>
                                    <span class="vital-value">
                                        {v.value.unwrap_or_else(|| "—".into())}
                                        <span class="vital-unit">{v.unit}</span>
                                    </span>
                                    {(!alarm.is_empty())
                                        .then(|| view! { <span class="vital-alarm">{alarm}</span> })}
                                    <svg
                                        class="trend"
                                        viewBox=view_box.clone()
                                        preserveAspectRatio="none"
                                        role="img"
                                        aria-label=label
                                    >
                                        <polyline points=v.points fill="none"></polyline>
                                    </svg>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

#[component]
fn EndFormView(
    ctl: EncounterCtl,
    show: RwSignal<bool>,
    catalog: Arc<Catalog>,
    id: String,
    /// Prefilled: a disposition picked in the order panel, or the one that closed the encounter.
    disposition: RwSignal<String>,
) -> impl IntoView {
    let diagnosis = RwSignal::new(String::new());
    let differential = RwSignal::new(String::new());
    let plan = RwSignal::new(String::new());
    if let Some((_, d)) = ctl.closing.get_untracked().filter(|(_, d)| !d.is_empty()) {
        disposition.set(d);
    }
    let form_error = RwSignal::new(None::<String>);
    let options = disposition_options(&catalog);
    let first: NodeRef<html::Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let navigate = use_navigate();
    view! {
        <form
            class="panel end-form"
            id="end-form"
            aria-labelledby="end-title"
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" && ctl.closing.with_untracked(Option::is_none) {
                    ev.prevent_default();
                    show.set(false);
                    disposition.set(String::new());
                    focus_by_id("open-end-form");
                }
            }
            on:submit=move |ev| {
                ev.prevent_default();
                let draft = EndFormDraft {
                    diagnosis: diagnosis.get_untracked(),
                    differential: differential.get_untracked(),
                    plan: plan.get_untracked(),
                    disposition: disposition.get_untracked(),
                };
                match draft.to_input() {
                    Err(e) => form_error.set(Some(e)),
                    Ok(input) => {
                        if ctl.apply(input) {
                            show.set(false);
                            navigate(&format!("/debrief/{id}"), NavigateOptions::default());
                        }
                    }
                }
            }
        >
            <h2 id="end-title">"End the encounter"</h2>
            <label class="field">
                <span>"Final diagnosis (required)"</span>
                <input id="end-diagnosis" type="text" node_ref=first bind:value=diagnosis />
            </label>
            <label class="field">
                <span>"Differential diagnoses (one per line)"</span>
                <textarea id="end-differential" rows="3" bind:value=differential></textarea>
            </label>
            <label class="field">
                <span>"Plan"</span>
                <textarea id="end-plan" rows="3" bind:value=plan></textarea>
            </label>
            <label class="field">
                <span>"Disposition"</span>
                <select id="end-disposition" bind:value=disposition>
                    <option value="">"No disposition order"</option>
                    {options
                        .into_iter()
                        .map(|o| view! { <option value=o.clone()>{o.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            {move || form_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="submit" class="button primary" id="end-submit">
                    "End encounter and see the debrief"
                </button>
                <Show when=move || ctl.closing.with(Option::is_none)>
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| {
                            show.set(false);
                            disposition.set(String::new());
                            focus_by_id("open-end-form");
                        }
                    >
                        "Keep going"
                    </button>
                    <span class="muted small">"(Esc)"</span>
                </Show>
            </div>
        </form>
    }
}

/// Which half of the encounter a phone shows: the conversation, or orders and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Talk,
    Order,
}

impl Mode {
    fn key(self) -> &'static str {
        match self {
            Mode::Talk => "talk",
            Mode::Order => "order",
        }
    }
}

/// One control that switches between talking and ordering on a narrow screen (hidden on a
/// wide one, where both show side by side). The switch moves the focus to the box it opens.
#[component]
fn ModeSwitch(mode: RwSignal<Mode>) -> impl IntoView {
    let pick = move |m: Mode| {
        mode.set(m);
        focus_by_id(match m {
            Mode::Talk => "speak-input",
            Mode::Order => "order-input",
        });
    };
    view! {
        <div class="mode-switch" role="group" aria-label="Show">
            <button
                type="button"
                class="button"
                id="mode-talk"
                aria-pressed=move || (mode.get() == Mode::Talk).to_string()
                on:click=move |_| pick(Mode::Talk)
            >
                "Talk"
            </button>
            <button
                type="button"
                class="button"
                id="mode-order"
                aria-pressed=move || (mode.get() == Mode::Order).to_string()
                on:click=move |_| pick(Mode::Order)
            >
                "Orders & results"
            </button>
        </div>
    }
}

/// The vital signs in one line, for the sticky bar on a narrow screen (the monitor's tiles
/// show them on a wide one). Same values and alarm labels as the tiles.
#[component]
fn VitalsStrip(ctl: EncounterCtl) -> impl IntoView {
    view! {
        <ul class="vitals-strip" aria-label="Vital signs">
            {move || {
                ctl.vitals
                    .get()
                    .into_iter()
                    .map(|v| {
                        let alarm = v.alarm_label();
                        let class = format!("strip-vital {}", v.level_class());
                        view! {
                            <li class=class data-strip-vital=v.key>
                                <span class="strip-label">{v.label}</span>
                                " "
                                <span class="strip-value">{v.value.unwrap_or_else(|| "—".into())}</span>
                                {(!alarm.is_empty()).then(|| view! { <span class="strip-alarm">{format!(" {alarm}")}</span> })}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// Moves the keyboard focus to the element with this id, after the view has updated.
fn focus_by_id(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}
