//! The model roles on the encounter screen: the model clinician playing an encounter
//! (Start / Pause / Resume / Stop) through the one driver (`llm::driver`), and the LLM patient
//! voice streamed into the conversation. The driver plays its own copy of the encounter;
//! [`PanelObserver`] applies each input it takes to the saved session (which saves it), keeps
//! each call, and streams the voice. Pause is the observer's flag, read by the driver between
//! turns; Stop is the `Cancel`. (The settings in force and the client for a role:
//! [`super::context`].)

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::app::settings::model_label;
use crate::engine::encounter::Encounter;
use crate::llm::driver::{
    voice_turn, Driver, Observer, PlayConfig, PlayError, PlayState, Players, TurnReport,
};
use crate::llm::error::LlmError;
use crate::llm::roles::{LlmExchange, VoicedLine};
use crate::llm::settings::ProviderSettings;
use crate::llm::transport::Cancel;

use super::context::{client_for, jitter_seed, models, Http};
use super::encounter::ctl::EncounterCtl;

/// What the driver does, shown and saved as it happens: each call kept with the encounter,
/// each input applied to the saved session (which saves it), the patient's voice streamed into
/// the conversation and stored.
struct PanelObserver {
    ctl: EncounterCtl,
    /// Who voices the patient (no key), stored with the voiced lines.
    voice_label: String,
    /// The run's turns as listed in the panel (none when voicing a trainee's turn).
    turns: Option<RwSignal<Vec<String>>>,
    pause: Option<StoredValue<bool>>,
}

impl Observer for PanelObserver {
    fn exchange(&mut self, exchange: &LlmExchange) {
        self.ctl.add_exchanges(vec![exchange.clone()]);
    }

    fn turn(&mut self, turn: &TurnReport, _encounter: &Encounter) -> Result<(), String> {
        if let Some(turns) = self.turns {
            let n = turns.try_with_untracked(Vec::len).unwrap_or(0) + 1;
            let fallback = format!("{:?}", turn.fallback).to_lowercase();
            turns.try_update(|v| v.push(format!("Turn {n}: reply used ({fallback})")));
        }
        self.ctl
            .apply(turn.input.clone())
            .map(|_| ())
            .map_err(|why| why.to_string())
    }

    fn voice_started(&mut self) {
        self.ctl.voicing.try_set(true);
    }

    fn voice_text(&mut self, seq: u32, piece: &str) {
        self.ctl
            .live
            .try_update(|l| l.entry(seq).or_default().push_str(piece));
    }

    fn voice_finished(&mut self, result: &Result<Vec<VoicedLine>, LlmError>) {
        // The calls were kept one by one (`exchange`).
        self.ctl
            .finish_voice(result.clone(), Vec::new(), self.voice_label.clone());
    }

    fn pause(&self) -> bool {
        self.pause
            .is_some_and(|p| p.try_get_value().unwrap_or(true))
    }
}

/// Voices the patient-side lines of the latest clinician turn with the patient model,
/// streaming the text into the conversation; stores the voiced lines and exchanges. On an
/// error the scripted line stays and the error is shown.
pub async fn voice_patient(ctl: EncounterCtl, settings: ProviderSettings, cancel: &Cancel) {
    let Some((case, record, mut voiced)) = ctl.voice_snapshot() else {
        return;
    };
    let mut observer = PanelObserver {
        ctl,
        voice_label: model_label(&settings),
        turns: None,
        pause: None,
    };
    let client = client_for(settings);
    voice_turn(&client, &case, &record, &mut voiced, cancel, &mut observer).await;
}

/// Where the model's run stands, as the panel shows it.
#[derive(Clone, Debug, PartialEq)]
enum PanelState {
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
    let state = RwSignal::new(PanelState::Idle);
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
            PanelState::Running | PanelState::Pausing
        ) {
            return;
        }
        let Some(clinician) = m.settings.with_untracked(|s| s.clinician.clone()) else {
            errors.update(|e| {
                e.push(
                    "No clinician model is configured: choose one in Settings, then resume.".into(),
                )
            });
            state.set(PanelState::Failed);
            return;
        };
        let patient = m.settings.with_untracked(|s| s.patient.clone());
        let c = Cancel::new();
        cancel.set_value(Some(c.clone()));
        pause.set_value(false);
        state.set(PanelState::Running);
        let navigate = navigate.clone();
        spawn_local(async move {
            // The driver plays a copy of the session's encounter; the observer applies each
            // input it takes to the session, so the two stay in step.
            let Some((encounter, voiced)) = ctl
                .session
                .try_with_value(|s| (s.encounter().clone(), s.voiced().clone()))
            else {
                return;
            };
            let mut observer = PanelObserver {
                ctl,
                voice_label: patient.as_ref().map(model_label).unwrap_or_default(),
                turns: Some(turns),
                pause: Some(pause),
            };
            let players = Players {
                clinician,
                patient,
                // The judge is the debrief's, on demand.
                judge: None,
            };
            let config = PlayConfig {
                jitter_seed: jitter_seed(),
                ..PlayConfig::default()
            };
            let driver = Driver::new(&players, &config, Http::new);
            let play = driver.play(encounter, voiced, &c, &mut observer).await;
            match play.state {
                PlayState::Finished { .. } => {
                    state.try_set(PanelState::Done);
                    let id = ctl.id();
                    navigate(&format!("/debrief/{id}"), NavigateOptions::default());
                }
                PlayState::Paused => {
                    state.try_set(PanelState::Paused);
                }
                PlayState::Stopped => {
                    ctl.save_now();
                    state.try_set(PanelState::Stopped);
                }
                PlayState::Failed(e) => {
                    ctl.save_now();
                    let n = turns.try_with_untracked(Vec::len).unwrap_or(0)
                        + usize::from(matches!(e, PlayError::Clinician(_)));
                    errors.try_update(|v| v.push(format!("Turn {n}: {e}")));
                    state.try_set(PanelState::Failed);
                }
            }
        });
    };
    if autostart && !ctl.ended_now() {
        start();
    }
    let status = move || match state.get() {
        PanelState::Idle => "The model has not started.".to_string(),
        PanelState::Running => "The model is playing…".to_string(),
        PanelState::Pausing => "Pausing after this turn…".to_string(),
        PanelState::Paused => "Paused.".to_string(),
        PanelState::Stopped => "Stopped.".to_string(),
        PanelState::Failed => "Stopped by an error (below).".to_string(),
        PanelState::Done => "The encounter has ended.".to_string(),
    };
    let running = move || matches!(state.get(), PanelState::Running | PanelState::Pausing);
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
                    {move || if state.get() == PanelState::Idle { "Start" } else { "Resume" }}
                </button>
                <button
                    type="button"
                    class="button"
                    id="model-pause"
                    disabled=move || state.get() != PanelState::Running
                    on:click=move |_| {
                        pause.set_value(true);
                        state.set(PanelState::Pausing);
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
