//! The model roles in the UI: the settings context ([`Models`]: loaded from the settings store,
//! keys not remembered kept in memory for the tab), the client for a role, the model clinician
//! playing an encounter turn by turn (Start / Pause / Resume / Stop), and the LLM patient voice
//! streamed into the conversation.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::app::settings::model_label;
use crate::llm::client::Client;
use crate::llm::roles::{clinician_turn, patient_reply};
use crate::llm::settings::{ProviderSettings, Settings};
use crate::llm::transport::Cancel;
use crate::store;

use super::encounter_ctl::EncounterCtl;

/// The HTTP transport of this target (fetch in the browser).
#[cfg(target_arch = "wasm32")]
pub type Http = crate::llm::transport::BrowserTransport;
#[cfg(not(target_arch = "wasm32"))]
pub type Http = crate::llm::transport::NativeTransport;

/// A client for one role's settings (retry jitter seeded from the browser).
pub fn client_for(settings: ProviderSettings) -> Client<Http> {
    let seed = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    Client::new(Http::new(), settings, seed)
}

/// The model settings in force, provided as context by the app shell. The signal holds keys
/// for this tab (memory); the settings store holds them only where "remember" is ticked.
#[derive(Clone, Copy)]
pub struct Models {
    pub settings: RwSignal<Settings>,
    pub load_error: RwSignal<Option<String>>,
}

impl Models {
    pub fn load() -> Models {
        let (settings, error) = match store::settings::load() {
            Ok(s) => (s, None),
            Err(e) => (Settings::default(), Some(e.to_string())),
        };
        Models {
            settings: RwSignal::new(settings),
            load_error: RwSignal::new(error),
        }
    }
}

pub fn models() -> Models {
    expect_context::<Models>()
}

/// Voices the patient-side lines of the latest clinician turn with the patient model,
/// streaming the text into the conversation; stores the voiced lines and exchanges. On an
/// error the scripted line stays and the error is shown.
pub async fn voice_patient(ctl: EncounterCtl, settings: ProviderSettings, cancel: &Cancel) {
    let Some((case, record, voiced)) = ctl.voice_snapshot() else {
        return;
    };
    let label = model_label(&settings);
    let client = client_for(settings);
    ctl.voicing.try_set(true);
    let mut on_text = move |seq: u32, piece: &str| {
        ctl.live
            .try_update(|l| l.entry(seq).or_default().push_str(piece));
    };
    let (result, exchanges) =
        patient_reply(&client, &case, &record, &voiced, cancel, &mut on_text).await;
    ctl.finish_voice(result, exchanges, label);
}

/// Where the model's run stands.
#[derive(Clone, Debug, PartialEq)]
enum PlayState {
    Idle,
    Running,
    Pausing,
    Paused,
    Stopped,
    Failed,
    Done,
}

/// The model clinician's controls and progress, shown on a model encounter.
#[component]
pub fn ModelPlayPanel(ctl: EncounterCtl) -> impl IntoView {
    let m = models();
    let state = RwSignal::new(PlayState::Idle);
    let pause = StoredValue::new(false);
    let cancel = StoredValue::new_local(None::<Cancel>);
    let errors = RwSignal::new(Vec::<String>::new());
    let turns = RwSignal::new(Vec::<String>::new());
    let navigate = use_navigate();
    let query = use_query_map();
    let autostart = query.with_untracked(|q| q.get("play").is_some());
    on_cleanup(move || {
        if let Some(c) = cancel.try_get_value().flatten() {
            c.cancel();
        }
    });
    let start = move || {
        if matches!(
            state.get_untracked(),
            PlayState::Running | PlayState::Pausing
        ) {
            return;
        }
        let Some(clinician) = m.settings.with_untracked(|s| s.clinician.clone()) else {
            errors.update(|e| {
                e.push(
                    "No clinician model is configured: choose one in Settings, then resume.".into(),
                )
            });
            state.set(PlayState::Failed);
            return;
        };
        let patient = m.settings.with_untracked(|s| s.patient.clone());
        let c = Cancel::new();
        cancel.set_value(Some(c.clone()));
        pause.set_value(false);
        state.set(PlayState::Running);
        let navigate = navigate.clone();
        spawn_local(async move {
            let client = client_for(clinician);
            loop {
                if ctl.ended_now() {
                    state.try_set(PlayState::Done);
                    let id = ctl.id();
                    navigate(&format!("/debrief/{id}"), NavigateOptions::default());
                    return;
                }
                if c.is_cancelled() {
                    state.try_set(PlayState::Stopped);
                    return;
                }
                if pause.try_get_value().unwrap_or(true) {
                    state.try_set(PlayState::Paused);
                    return;
                }
                let Some((case, record, _)) = ctl.voice_snapshot() else {
                    return;
                };
                let t = clinician_turn(&client, &case, &record, &c).await;
                let n = turns.try_with_untracked(Vec::len).unwrap_or(0) + 1;
                let fallback = format!("{:?}", t.fallback).to_lowercase();
                ctl.add_exchanges(t.exchanges);
                match t.input {
                    Ok(input) => {
                        turns.try_update(|v| v.push(format!("Turn {n}: reply used ({fallback})")));
                        if !ctl.apply_input(input) {
                            ctl.save_now();
                            let why = ctl
                                .error_text()
                                .unwrap_or_else(|| "the engine refused the turn".into());
                            errors.try_update(|e| e.push(format!("Turn {n}: {why}")));
                            state.try_set(PlayState::Failed);
                            return;
                        }
                    }
                    Err(e) => {
                        ctl.save_now();
                        if c.is_cancelled() {
                            state.try_set(PlayState::Stopped);
                        } else {
                            errors.try_update(|v| v.push(format!("Turn {n}: {e}")));
                            state.try_set(PlayState::Failed);
                        }
                        return;
                    }
                }
                if let Some(p) = patient.clone() {
                    voice_patient(ctl, p, &c).await;
                }
            }
        });
    };
    if autostart && !ctl.ended_now() {
        start();
    }
    let status = move || match state.get() {
        PlayState::Idle => "The model has not started.".to_string(),
        PlayState::Running => "The model is playing…".to_string(),
        PlayState::Pausing => "Pausing after this turn…".to_string(),
        PlayState::Paused => "Paused.".to_string(),
        PlayState::Stopped => "Stopped.".to_string(),
        PlayState::Failed => "Stopped by an error (below).".to_string(),
        PlayState::Done => "The encounter has ended.".to_string(),
    };
    let running = move || matches!(state.get(), PlayState::Running | PlayState::Pausing);
    view! {
        <section class="panel model-play-panel" aria-labelledby="model-play-title">
            <h2 id="model-play-title">"Model clinician"</h2>
            <p class="model-play-status" id="model-play-status" data-state=move || format!("{:?}", state.get()).to_lowercase() role="status">
                {status}
            </p>
            <div class="form-actions">
                <button
                    type="button"
                    class="button primary"
                    id="model-resume"
                    disabled=move || running() || ctl.is_ended()
                    on:click=move |_| start()
                >
                    {move || if state.get() == PlayState::Idle { "Start" } else { "Resume" }}
                </button>
                <button
                    type="button"
                    class="button"
                    id="model-pause"
                    disabled=move || state.get() != PlayState::Running
                    on:click=move |_| {
                        pause.set_value(true);
                        state.set(PlayState::Pausing);
                    }
                >
                    "Pause"
                </button>
                <button
                    type="button"
                    class="button danger-outline"
                    id="model-stop"
                    disabled=move || !running()
                    on:click=move |_| {
                        if let Some(c) = cancel.get_value() {
                            c.cancel();
                        }
                    }
                >
                    "Stop"
                </button>
            </div>
            <ol class="model-turns" id="model-turns">
                {move || turns.get().into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
            </ol>
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|e| view! { <p class="error model-error" role="alert">{e}</p> })
                    .collect_view()
            }}
        </section>
    }
}
