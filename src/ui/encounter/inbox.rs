//! The results inbox: pending, returned (new ones marked until seen), not understood and
//! cancelled orders, each with its status line, flag and Cancel / Stop control.

use leptos::prelude::*;

use crate::app::inbox::{unseen_results, InboxRow, InboxStatus, InboxView};
use crate::app::session;

use super::ctl::EncounterCtl;

#[component]
fn InboxItem(ctl: EncounterCtl, row: InboxRow) -> impl IntoView {
    let status = row.status_line();
    let base = format!("inbox-row {}", row.status.key());
    let seq_new = row.seq;
    let returned = row.status == InboxStatus::Returned;
    let is_new = move || returned && ctl.seen.with(|s| !s.contains(&seq_new));
    let class = move || format!("{base}{}", if is_new() { " new" } else { "" });
    let flag = row.flag;
    let flag_label = row.flag_line();
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
                                let _ = ctl.apply(session::cancel(seq));
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
pub(super) fn Inbox(ctl: EncounterCtl) -> impl IntoView {
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
