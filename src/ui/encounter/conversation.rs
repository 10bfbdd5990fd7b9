//! The conversation (a model's voiced lines streaming in as text) and the speak box.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::session;
use crate::app::view::TranscriptRow;
use crate::llm::transport::Cancel;

use super::ctl::EncounterCtl;
use crate::ui::context::models;
use crate::ui::model_play::voice_patient;

#[component]
pub(super) fn Conversation(ctl: EncounterCtl) -> impl IntoView {
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
pub(super) fn SpeakBox(ctl: EncounterCtl) -> impl IntoView {
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
            if ctl.apply(input).is_ok() {
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
