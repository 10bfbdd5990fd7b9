//! The encounter screen's controller: the open [`Session`] and the view models derived from
//! it, as signals. Every input goes through [`EncounterCtl::apply`], which updates the view
//! models, saves the encounter and returns the outcome. Used by the screen's components and
//! the model panels ([`crate::ui::model_play`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::inbox::{inbox_view, unseen_results, InboxView};
use crate::app::session::{SavedEncounter, Session};
use crate::app::settings::usage_line;
use crate::app::view::{
    clock_view, closing, ended_banner, latest_notices, live_session_rows, monitored, vitals_view,
    ClockView, Closing, TranscriptRow, VitalSign,
};
use crate::engine::case::Case;
use crate::engine::encounter::{Input, InputError, Record};
use crate::llm::error::LlmError;
use crate::llm::roles::{LlmExchange, VoicedLine};
use crate::store;

/// Where saving stands.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::ui) enum SaveState {
    Saved,
    Saving,
    Failed(String),
}

/// Why [`EncounterCtl::apply`] did not apply an input.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::ui) enum NotApplied {
    /// The engine refused it; the encounter is unchanged.
    Refused(InputError),
    /// The page is gone (the input came from a task that outlived it).
    PageGone,
}

impl std::fmt::Display for NotApplied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotApplied::Refused(e) => write!(f, "Not done: {e}."),
            NotApplied::PageGone => write!(f, "the encounter's page was closed"),
        }
    }
}

/// The open encounter and the view models derived from it. Copy: pass it to child components.
#[derive(Clone, Copy)]
pub struct EncounterCtl {
    pub(in crate::ui) session: StoredValue<Session>,
    pub(in crate::ui) transcript: RwSignal<Vec<TranscriptRow>>,
    pub(in crate::ui) inbox: RwSignal<InboxView>,
    pub(in crate::ui) vitals: RwSignal<Vec<VitalSign>>,
    pub(in crate::ui) clock: RwSignal<ClockView>,
    /// The banner once the encounter has ended.
    pub(in crate::ui) ended: RwSignal<Option<String>>,
    /// The end form is due: why, and the disposition that closed it.
    pub(in crate::ui) closing: RwSignal<Option<Closing>>,
    /// Event notices produced by the last input (announced in a banner).
    pub(in crate::ui) notices: RwSignal<Vec<String>>,
    /// The page's error line: the last refused input, or a wait out of bounds.
    pub(in crate::ui) error: RwSignal<Option<String>>,
    pub(in crate::ui) pending_saves: RwSignal<u32>,
    pub(in crate::ui) save_error: RwSignal<Option<String>>,
    /// Patient text streaming in from the patient model, by the log entry it voices.
    pub(in crate::ui) live: RwSignal<BTreeMap<u32, String>>,
    pub(in crate::ui) voicing: RwSignal<bool>,
    pub(in crate::ui) voice_error: RwSignal<Option<String>>,
    pub(in crate::ui) patient_voice: RwSignal<String>,
    /// The model calls so far, summed (empty when none).
    pub(in crate::ui) usage: RwSignal<String>,
    /// Returned results the trainee has seen (their order seq): the others are marked new.
    pub(in crate::ui) seen: RwSignal<BTreeSet<u32>>,
}

impl EncounterCtl {
    pub(in crate::ui) fn new(session: Session) -> EncounterCtl {
        let ctl = EncounterCtl {
            seen: RwSignal::new(session.seen_results().clone()),
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
        };
        ctl.refresh();
        ctl
    }

    pub(in crate::ui) fn refresh(&self) {
        self.session.with_value(|s| {
            let enc = s.encounter();
            let (case, state, log) = (enc.case(), enc.state(), &enc.record().log);
            self.transcript.set(live_session_rows(s));
            self.patient_voice.set(s.patient_voice().to_string());
            self.usage.set(if s.exchanges().is_empty() {
                String::new()
            } else {
                usage_line(s.exchanges())
            });
            self.inbox.set(inbox_view(enc));
            self.closing.set(closing(enc));
            self.vitals.set(monitored(
                vitals_view(&state.vitals, log, state.now_s, case.patient.age),
                &case.arrival,
            ));
            self.clock.set(clock_view(case, state));
            self.ended.set(state.ended.as_ref().map(ended_banner));
        });
    }

    /// Marks every returned result as seen (the trainee opened or read the results panel).
    pub(in crate::ui) fn mark_results_seen(&self) {
        let unseen = self.seen.with_untracked(|seen| {
            self.inbox
                .with_untracked(|inbox| unseen_results(inbox, seen))
        });
        if !unseen.is_empty() {
            self.seen.update(|s| s.extend(unseen.iter().copied()));
            // Kept with the encounter, so a reload shows the same marks.
            let saved = self.session.try_update_value(|s| {
                s.mark_seen(unseen);
                s.saved()
            });
            if let Some(saved) = saved {
                self.save(saved);
            }
        }
    }

    pub(in crate::ui) fn save_state(&self) -> SaveState {
        match (self.save_error.get(), self.pending_saves.get()) {
            (Some(e), _) => SaveState::Failed(e),
            (None, 0) => SaveState::Saved,
            (None, _) => SaveState::Saving,
        }
    }

    pub(in crate::ui) fn id(&self) -> String {
        self.session
            .try_with_value(|s| s.id().to_string())
            .unwrap_or_default()
    }

    pub(in crate::ui) fn is_ended(&self) -> bool {
        self.ended.with(Option::is_some)
    }

    /// Whether the encounter has ended, read without tracking (false once the page is gone).
    pub(in crate::ui) fn ended_now(&self) -> bool {
        self.session
            .try_with_value(|s| s.is_ended())
            .unwrap_or(false)
    }

    /// What a model call needs: the case (shared, not copied), the record and the voiced
    /// lines so far (None once the page is gone).
    pub(in crate::ui) fn voice_snapshot(
        &self,
    ) -> Option<(Arc<Case>, Record, BTreeMap<u32, String>)> {
        self.session.try_with_value(|s| {
            let enc = s.encounter();
            (enc.shared().0, enc.record().clone(), s.voiced().clone())
        })
    }

    /// Keeps model calls with the encounter (saved with the next input or [`Self::save_now`]).
    pub(in crate::ui) fn add_exchanges(&self, exchanges: Vec<LlmExchange>) {
        self.session
            .try_update_value(|s| s.add_exchanges(exchanges));
    }

    /// Shows a message in the page's error line (an input the page itself refuses).
    pub(in crate::ui) fn show_error(&self, message: String) {
        self.error.set(Some(message));
    }

    /// Saves the encounter as it is now.
    pub(in crate::ui) fn save_now(&self) {
        if let Some(saved) = self.session.try_with_value(Session::saved) {
            self.refresh();
            self.save(saved);
        }
    }

    /// Stores what the patient model voiced (and its calls), or shows its error while the
    /// scripted line stays.
    pub(in crate::ui) fn finish_voice(
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
            s.add_exchanges(exchanges);
            if let Ok(lines) = &result {
                s.voice(lines, label);
            }
            s.saved()
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

    /// Applies one input, refreshes the views and saves; returns the notices it produced (also
    /// shown in the banner). A refusal is shown in the page's error line and returned.
    pub(in crate::ui) fn apply(&self, input: Input) -> Result<Vec<String>, NotApplied> {
        let now = js_sys::Date::now();
        let outcome = self.session.try_update_value(|s| {
            let before = s.encounter().record().log.len();
            s.apply(input, now).map(|_| {
                let enc = s.encounter();
                let notices = latest_notices(enc.case(), &enc.record().log[before..]);
                (notices, s.saved())
            })
        });
        match outcome {
            Some(Ok((notices, saved))) => {
                self.error.set(None);
                self.notices.set(notices.clone());
                self.refresh();
                if saved.ended.is_some() {
                    store::set_current_encounter(None);
                }
                self.save(saved);
                Ok(notices)
            }
            Some(Err(e)) => {
                let refused = NotApplied::Refused(e);
                self.error.set(Some(refused.to_string()));
                Err(refused)
            }
            None => Err(NotApplied::PageGone),
        }
    }

    fn save(&self, saved: SavedEncounter) {
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
