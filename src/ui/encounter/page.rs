//! The encounter page: reopens the open encounter (`/encounter`) or loads one by id
//! (`/encounter/:id`), and lays out the screen's parts around one [`EncounterCtl`].

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::app::session::Session;
use crate::app::settings::roles_line;
use crate::engine::encounter::Clinician;
use crate::store;

use super::clock::ClockBar;
use super::conversation::{Conversation, SpeakBox};
use super::ctl::{EncounterCtl, SaveState};
use super::end_form::EndFormView;
use super::inbox::Inbox;
use super::orders::OrderPanel;
use super::phone::{Mode, ModeSwitch, VitalsStrip};
use super::vitals::VitalsMonitor;
use crate::ui::context::{app_data, models};
use crate::ui::model_play::ModelPlayPanel;
use crate::ui::route::SessionRoute;

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

#[component]
fn EncounterScreen(session: Session) -> impl IntoView {
    let data = app_data();
    if !session.is_ended() {
        store::set_current_encounter(Some(session.id()));
    }
    let by_model = matches!(session.config().clinician, Clinician::Model { .. });
    let config = session.config().clone();
    let case = session.encounter().case();
    let patient = format!(
        "{}, {} years, {}",
        case.patient.name, case.patient.age, case.patient.sex
    );
    let door_note = case.door_note.clone();
    let title = case.meta.title.clone();
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
                ctl.closing
                    .get()
                    .map(|c| view! { <p class="closing-banner" role="status">{c.why}</p> })
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
