//! The encounter screen's controller: the open [`Session`] and the view models derived from
//! it, as signals. Every input goes through [`EncounterCtl::apply`], which updates the view
//! models and saves the encounter. Used by the screen ([`super::encounter`]) and the model
//! panels ([`super::model_play`]), which do not import each other's side.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::session::{self, Session};
use crate::app::settings::usage_line;
use crate::app::view::{
    clock_view, end_summary, inbox_view, latest_notices, live_session_rows, monitored,
    unseen_results, vitals_view, ClockView, InboxView, TranscriptRow, VitalSign,
};
use crate::engine::case::Case;
use crate::engine::encounter::{Input, Record};
use crate::llm::error::LlmError;
use crate::llm::roles::{LlmExchange, VoicedLine};
use crate::store;

/// Where saving stands.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum SaveState {
    Saved,
    Saving,
    Failed(String),
}

/// The open encounter and the view models derived from it. Copy: pass it to child components.
#[derive(Clone, Copy)]
pub struct EncounterCtl {
    pub(super) session: StoredValue<Session>,
    pub(super) transcript: RwSignal<Vec<TranscriptRow>>,
    pub(super) inbox: RwSignal<InboxView>,
    pub(super) vitals: RwSignal<Vec<VitalSign>>,
    pub(super) clock: RwSignal<ClockView>,
    pub(super) ended: RwSignal<Option<String>>,
    /// The end form is due: (why, the disposition that closed it).
    pub(super) closing: RwSignal<Option<(String, String)>>,
    /// Event notices produced by the last input (announced in a banner).
    pub(super) notices: RwSignal<Vec<String>>,
    pub(super) error: RwSignal<Option<String>>,
    pub(super) pending_saves: RwSignal<u32>,
    pub(super) save_error: RwSignal<Option<String>>,
    /// Patient text streaming in from the patient model, by the log entry it voices.
    pub(super) live: RwSignal<BTreeMap<u32, String>>,
    pub(super) voicing: RwSignal<bool>,
    pub(super) voice_error: RwSignal<Option<String>>,
    pub(super) patient_voice: RwSignal<String>,
    /// The model calls so far, summed (empty when none).
    pub(super) usage: RwSignal<String>,
    /// Returned results the trainee has seen (their order seq): the others are marked new.
    pub(super) seen: RwSignal<BTreeSet<u32>>,
}

impl EncounterCtl {
    pub(super) fn new(session: Session) -> EncounterCtl {
        let ctl = EncounterCtl {
            session: StoredValue::new(session),
            transcript: RwSignal::new(Vec::new()),
            inbox: RwSignal::new(InboxView::default()),
            vitals: RwSignal::new(Vec::new()),
            clock: RwSignal::new(ClockView {
                elapsed: String::new(),
                limit: String::new(),
                remaining_min: 0,
                phase_label: String::new(),
                status: String::new(),
                turn: 0,
                in_progress: String::new(),
            }),
            ended: RwSignal::new(None),
            closing: RwSignal::new(None),
            notices: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            pending_saves: RwSignal::new(0),
            save_error: RwSignal::new(None),
            live: RwSignal::new(BTreeMap::new()),
            voicing: RwSignal::new(false),
            voice_error: RwSignal::new(None),
            patient_voice: RwSignal::new(String::new()),
            usage: RwSignal::new(String::new()),
            seen: RwSignal::new(BTreeSet::new()),
        };
        ctl.seen
            .set(ctl.session.with_value(|s| s.saved.seen_results.clone()));
        ctl.refresh();
        ctl
    }

    pub(super) fn refresh(&self) {
        self.session.with_value(|s| {
            let enc = &s.encounter;
            let (case, state, log) = (enc.case(), enc.state(), &enc.record().log);
            self.transcript.set(live_session_rows(s));
            self.patient_voice.set(s.saved.patient_voice.clone());
            self.usage.set(if s.saved.exchanges.is_empty() {
                String::new()
            } else {
                usage_line(&s.saved.exchanges)
            });
            self.inbox.set(inbox_view(enc));
            self.closing.set(enc.end_requested().map(|r| {
                let disposition = r
                    .disposition
                    .and_then(|seq| state.actions.get(seq as usize))
                    .and_then(|a| a.interpretation.order.as_ref())
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                (
                    format!(
                        "The encounter is closing ({}): give your diagnosis and plan.",
                        r.detail
                    ),
                    disposition,
                )
            }));
            self.vitals.set(monitored(
                vitals_view(&state.vitals, log, state.now_s, case.patient.age),
                &case.arrival,
            ));
            self.clock.set(clock_view(case, state));
            self.ended.set(state.ended.as_ref().map(|e| {
                format!(
                    "The encounter has ended at {}: {}.",
                    crate::app::view::clock_label(e.time_s),
                    end_summary(e.reason, &e.detail)
                )
            }));
        });
    }

    /// Marks every returned result as seen (the trainee opened or read the results panel).
    pub(super) fn mark_results_seen(&self) {
        let unseen = self.seen.with_untracked(|seen| {
            self.inbox
                .with_untracked(|inbox| unseen_results(inbox, seen))
        });
        if !unseen.is_empty() {
            self.seen.update(|s| s.extend(unseen.iter().copied()));
            // Kept with the encounter, so a reload shows the same marks.
            let saved = self.session.try_update_value(|s| {
                s.saved.seen_results.extend(unseen);
                s.saved.clone()
            });
            if let Some(saved) = saved {
                self.save(saved);
            }
        }
    }

    pub(super) fn save_state(&self) -> SaveState {
        match (self.save_error.get(), self.pending_saves.get()) {
            (Some(e), _) => SaveState::Failed(e),
            (None, 0) => SaveState::Saved,
            (None, _) => SaveState::Saving,
        }
    }

    pub(super) fn id(&self) -> String {
        self.session
            .try_with_value(|s| s.saved.id.clone())
            .unwrap_or_default()
    }

    pub(super) fn is_ended(&self) -> bool {
        self.ended.with(Option::is_some)
    }

    /// Whether the encounter has ended, read without tracking (false once the page is gone).
    pub(super) fn ended_now(&self) -> bool {
        self.session
            .try_with_value(|s| s.is_ended())
            .unwrap_or(false)
    }

    /// What a model call needs: the case, the record and the voiced lines so far (None once
    /// the page is gone).
    pub(super) fn voice_snapshot(&self) -> Option<(Case, Record, BTreeMap<u32, String>)> {
        self.session.try_with_value(|s| {
            (
                s.encounter.case().clone(),
                s.encounter.record().clone(),
                s.saved.voiced.clone(),
            )
        })
    }

    /// Keeps model calls with the encounter (saved with the next input or [`Self::save_now`]).
    pub(super) fn add_exchanges(&self, exchanges: Vec<LlmExchange>) {
        self.session
            .try_update_value(|s| s.saved.exchanges.extend(exchanges));
    }

    pub(super) fn apply_input(&self, input: Input) -> bool {
        self.apply(input)
    }

    pub(super) fn error_text(&self) -> Option<String> {
        self.error.try_get_untracked().flatten()
    }

    /// Saves the encounter as it is now.
    pub(super) fn save_now(&self) {
        if let Some(saved) = self.session.try_with_value(|s| s.saved.clone()) {
            self.refresh();
            self.save(saved);
        }
    }

    /// Stores what the patient model voiced (and its calls), or shows its error while the
    /// scripted line stays.
    pub(super) fn finish_voice(
        &self,
        result: Result<Vec<VoicedLine>, LlmError>,
        exchanges: Vec<LlmExchange>,
        label: String,
    ) {
        let error = result
            .as_ref()
            .err()
            .map(|e| format!("The patient model failed, so the scripted line is shown: {e}"));
        let saved = self.session.try_update_value(|s| {
            s.saved.exchanges.extend(exchanges);
            if let Ok(lines) = &result {
                for line in lines {
                    s.saved.voiced.insert(line.seq, line.text.clone());
                }
                if !lines.is_empty() {
                    s.saved.patient_voice = label;
                }
            }
            s.saved.clone()
        });
        let Some(saved) = saved else {
            return;
        };
        self.live.try_set(BTreeMap::new());
        self.voicing.try_set(false);
        if error.is_some() {
            self.voice_error.try_set(error);
        }
        self.refresh();
        self.save(saved);
    }

    /// Applies one input, refreshes the views and saves. Returns whether it was accepted.
    pub(super) fn apply(&self, input: Input) -> bool {
        let now = js_sys::Date::now();
        let outcome = self.session.try_update_value(|s| {
            let before = s.encounter.record().log.len();
            s.apply(input, now).map(|_| {
                let notices =
                    latest_notices(s.encounter.case(), &s.encounter.record().log[before..]);
                (notices, s.saved.clone())
            })
        });
        match outcome {
            Some(Ok((notices, saved))) => {
                self.error.set(None);
                self.notices.set(notices);
                self.refresh();
                if saved.ended.is_some() {
                    store::set_current_encounter(None);
                }
                self.save(saved);
                true
            }
            Some(Err(e)) => {
                self.error.set(Some(format!("Not done: {e}.")));
                false
            }
            None => false,
        }
    }

    pub(super) fn save(&self, saved: session::SavedEncounter) {
        let ctl = *self;
        ctl.pending_saves.update(|n| *n += 1);
        spawn_local(async move {
            let result = store::save_encounter(&saved).await;
            // The page may be gone by now (the end form navigates away): try_ quietly skips.
            ctl.pending_saves.try_update(|n| *n = n.saturating_sub(1));
            ctl.save_error.try_set(result.err().map(String::from));
        });
    }
}
