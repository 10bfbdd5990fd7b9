//! The one driver of a model-clinician encounter, for the app, the CLI and the tests: the model
//! plays the clinician turn by turn until the encounter ends, the patient side is voiced by a
//! model if one is set, and the judge scores the judge items at the end if one is set. Plain
//! Rust over the [`Transport`] trait: no UI, no browser.
//!
//! The driver owns the [`Encounter`] it plays (it is handed one, new or resumed, and gives it
//! back in [`Play`]) and tells an [`Observer`] what happens as it happens: each model call,
//! each turn with the input the engine took (the browser applies the same input to its saved
//! session, which saves it), and the patient's voice as it streams. Pausing is the observer's
//! answer to [`Observer::pause`], asked between turns: the run returns [`PlayState::Paused`]
//! with the encounter as it stands, and playing that encounter again resumes it. Stopping is
//! the [`Cancel`]: a call in flight is aborted and the run returns [`PlayState::Stopped`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::best_of;
use super::client::{Client, RetryPolicy};
use super::error::{ErrorKind, LlmError};
use super::protocol::Fallback;
use super::roles::{self, JudgeFailure, LlmExchange, VoicedLine};
use super::settings::ProviderSettings;
use super::static_play;
use super::transport::{Cancel, Transport};
use crate::engine::case::Case;
use crate::engine::encounter::{Config, Encounter, EndReason, Input, Record};
use crate::engine::score::JudgeRun;

/// Turns one run may take at most without the encounter ending: a guard for an encounter
/// whose config has no turn limit (the engine's limit ends the others long before).
pub const MAX_TURNS: usize = 200;

/// [`Strategy::Static`]'s label, which reports pair with the dynamic players of its model.
pub const STATIC_LABEL: &str = "static";

/// Who plays: each model role's provider settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Players {
    pub clinician: ProviderSettings,
    /// The patient side's voice; `None`: the engine's scripted lines are what the clinician
    /// hears (the engine decides what is elicited either way).
    pub patient: Option<ProviderSettings>,
    /// Scores the rubric items without a rule once the encounter has ended; `None`: rules
    /// only.
    pub judge: Option<ProviderSettings>,
}

/// How a model clinician produces each turn. The end form (while the encounter is closing) is
/// always one call, as in [`Strategy::Single`] (with its one re-ask): the strategy is for the
/// ordinary turns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// One call per turn.
    #[default]
    Single,
    /// MedSP1000's best-of-N: `n` candidate turns sampled at `temperature`, then one selector
    /// call picks one ([`super::best_of`]): `n + 1` calls per turn whenever the server answers.
    BestOf { n: u32, temperature: f64 },
    /// The whole case at once as a written vignette and one call for the diagnosis and the
    /// management as actions ([`super::static_play`]): a one-turn encounter, scored on the
    /// items that apply without a conversation.
    Static,
}

impl Strategy {
    /// Best-of's bounds on `n`.
    pub const BEST_OF_N: std::ops::RangeInclusive<u32> = 2..=16;

    /// "single", "best-of-4 (temperature 1.0)".
    pub fn label(&self) -> String {
        match self {
            Strategy::Single => "single".into(),
            Strategy::BestOf { n, temperature } => {
                format!("best-of-{n} (temperature {temperature:?})")
            }
            Strategy::Static => STATIC_LABEL.into(),
        }
    }

    /// The calls an ordinary turn costs when the server answers and nothing is re-asked (for
    /// estimates): 1, or n + 1. A static play is one call in all.
    pub fn calls_per_turn(&self) -> u32 {
        match self {
            Strategy::Single | Strategy::Static => 1,
            Strategy::BestOf { n, .. } => n + 1,
        }
    }

    /// `n` from 2 to 16, `temperature` from 0 to 2; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let Strategy::BestOf { n, temperature } = self else {
            return Ok(());
        };
        let mut problems = Vec::new();
        let (lo, hi) = (Self::BEST_OF_N.start(), Self::BEST_OF_N.end());
        if !Self::BEST_OF_N.contains(n) {
            problems.push(format!("n must be between {lo} and {hi} (got {n})"));
        }
        if !temperature.is_finite() || !(0.0..=2.0).contains(temperature) {
            problems.push(format!(
                "temperature must be between 0 and 2 (got {temperature})"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// How a run is set up. The sampling overrides apply to every role's settings; `None` keeps
/// what each role's settings say.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlayConfig {
    /// The encounter's turn limit ([`PlayConfig::encounter_config`]); `None`: MedSP1000's 12.
    pub turn_limit: Option<u32>,
    /// Sent to providers that take one (OpenAI-compatible servers).
    pub seed: Option<u64>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub timeout_s: Option<u32>,
    /// Call the judge on the partial record even when the clinician's run failed (by default
    /// it is not: its verdicts would score an encounter nobody finished, and a failing
    /// endpoint would cost a second timeout).
    pub judge_after_failure: bool,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Seeds the retry jitter.
    pub jitter_seed: u64,
    /// How the clinician produces each ordinary turn.
    pub strategy: Strategy,
}

impl PlayConfig {
    /// `settings` with this run's overrides.
    pub fn settings(&self, settings: &ProviderSettings) -> ProviderSettings {
        let mut s = settings.clone();
        if let Some(seed) = self.seed {
            s.seed = Some(seed);
        }
        if let Some(t) = self.temperature {
            s.temperature = t;
        }
        if let Some(n) = self.max_tokens {
            s.max_tokens = n;
        }
        if let Some(t) = self.timeout_s {
            s.timeout_s = t;
        }
        s
    }

    /// The engine's config for a new encounter with `clinician` as the model clinician. A
    /// static play is one turn long whatever the turn limit, and marked static.
    pub fn encounter_config(&self, clinician: &ProviderSettings) -> Config {
        let mut config = Config::model(clinician.kind.label(), clinician.model.trim());
        if let Some(n) = self.turn_limit {
            config.turn_limit = Some(n);
        }
        if self.strategy == Strategy::Static {
            config.turn_limit = Some(super::static_play::STATIC_TURN_LIMIT);
            config.vignette = true;
        }
        config
    }
}

/// One clinician turn the engine took.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnReport {
    /// The input applied (a turn, the end form, or the closing without one).
    pub input: Input,
    /// How the model's reply was used ([`Fallback::Unusable`]: taken as nothing said).
    pub fallback: Fallback,
}

/// What the driver tells as it plays. Every method has a default that does nothing.
pub trait Observer {
    /// A model call finished, successful or not, as it is recorded (any role).
    fn exchange(&mut self, _exchange: &LlmExchange) {}

    /// The engine took the clinician's turn; `encounter` is the state after it. An error
    /// stops the run ([`PlayError::Observer`]): the browser returns one when its saved session
    /// cannot take the same input.
    fn turn(&mut self, _turn: &TurnReport, _encounter: &Encounter) -> Result<(), String> {
        Ok(())
    }

    /// The patient model starts voicing the patient side's lines of the latest turn.
    fn voice_started(&mut self) {}

    /// A piece of the line that voices log entry `seq`, as it streams in.
    fn voice_text(&mut self, _seq: u32, _piece: &str) {}

    /// The voicing is over: the lines voiced, or the error that stopped it (the scripted lines
    /// then stand for the rest).
    fn voice_finished(&mut self, _result: &Result<Vec<VoicedLine>, LlmError>) {}

    /// Asked between turns: `true` pauses the run.
    fn pause(&self) -> bool {
        false
    }
}

/// No observer: nothing is told (tests, batch runs).
impl Observer for () {}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayError {
    /// The clinician model's call failed, after the client's retries.
    Clinician(LlmError),
    /// The engine refused the clinician's input.
    Refused(String),
    /// The observer could not keep the input (the app's saved session refused it or is gone).
    Observer(String),
    /// [`MAX_TURNS`] turns without the encounter ending.
    TooManyTurns,
}

impl std::fmt::Display for PlayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlayError::Clinician(e) => write!(f, "{e}"),
            PlayError::Refused(e) => write!(f, "the engine refused the clinician's turn: {e}"),
            PlayError::Observer(e) => write!(f, "the turn could not be kept: {e}"),
            PlayError::TooManyTurns => write!(
                f,
                "{MAX_TURNS} turns without the encounter ending (it has no turn limit)"
            ),
        }
    }
}

/// Where a run stands when [`Driver::play`] returns.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayState {
    /// The encounter has ended (the engine's reason and wording).
    Finished {
        reason: EndReason,
        detail: String,
    },
    /// Paused between turns at the observer's request; playing the encounter again resumes.
    Paused,
    /// Stopped by the [`Cancel`].
    Stopped,
    Failed(PlayError),
}

/// A run's outcome.
#[derive(Debug, Clone)]
pub struct Play {
    pub state: PlayState,
    /// The encounter as the run left it.
    pub encounter: Encounter,
    /// Every line a model voiced so far (those the run was given, and its own), by log entry.
    pub voiced: BTreeMap<u32, String>,
    /// This run's model calls, in order, every role.
    pub exchanges: Vec<LlmExchange>,
    /// How each clinician turn of this run was used.
    pub turns: Vec<Fallback>,
    /// The judge's checked run or why it scored nothing; `None` when it was not called.
    pub judge: Option<Result<JudgeRun, JudgeFailure>>,
}

/// The clients of one encounter's roles, kept across pauses (what an endpoint was found to
/// refuse is remembered for the run).
pub struct Driver<T: Transport> {
    clinician: Client<T>,
    patient: Option<Client<T>>,
    judge: Option<Client<T>>,
    judge_after_failure: bool,
    strategy: Strategy,
}

impl<T: Transport> Driver<T> {
    /// A client per role, with `config`'s overrides, each over a transport from `transport`.
    pub fn new(players: &Players, config: &PlayConfig, mut transport: impl FnMut() -> T) -> Self {
        let mut client = |settings: &ProviderSettings, n: u64| {
            let mut c = Client::new(
                transport(),
                config.settings(settings),
                config.jitter_seed.wrapping_add(n),
            );
            c.retry = config.retry.clone();
            c
        };
        Driver {
            clinician: client(&players.clinician, 0),
            patient: players.patient.as_ref().map(|s| client(s, 1)),
            judge: players.judge.as_ref().map(|s| client(s, 2)),
            judge_after_failure: config.judge_after_failure,
            strategy: config.strategy.clone(),
        }
    }

    pub fn clinician(&self) -> &Client<T> {
        &self.clinician
    }

    /// Plays `encounter` with the model clinician, each ordinary turn by the config's
    /// [`Strategy`] and the end form in one call, until it ends, the observer pauses it, the
    /// `cancel` stops it or a call fails; then, if the encounter ended (or the run failed and
    /// the config asks for it), the judge scores it. `voiced` holds the lines a model voiced
    /// before this run, so that the patient's history matches what the clinician heard.
    pub async fn play(
        &self,
        mut encounter: Encounter,
        mut voiced: BTreeMap<u32, String>,
        cancel: &Cancel,
        observer: &mut dyn Observer,
    ) -> Play {
        let mut exchanges = Vec::new();
        let mut turns = Vec::new();
        // A static play's end form, from its one answer, until the encounter takes it.
        let mut static_end: Option<Option<Input>> = None;
        let state = loop {
            if let Some(end) = &encounter.state().ended {
                break PlayState::Finished {
                    reason: end.reason,
                    detail: end.detail.clone(),
                };
            }
            if cancel.is_cancelled() {
                break PlayState::Stopped;
            }
            // A static play is not paused between its answer's two inputs.
            if static_end.is_none() && observer.pause() {
                break PlayState::Paused;
            }
            if turns.len() >= MAX_TURNS {
                break PlayState::Failed(PlayError::TooManyTurns);
            }
            let (case, record) = (encounter.case(), encounter.record());
            // The end form is one call whatever the strategy (a static play's comes with its
            // answer).
            let t = match &self.strategy {
                Strategy::Static if record.state.end_requested.is_none() => {
                    let s = static_play::static_turn(&self.clinician, &encounter, cancel).await;
                    static_end = Some(s.end);
                    s.turn
                }
                Strategy::Static => {
                    let fallback = turns.last().copied().unwrap_or(Fallback::Unusable);
                    static_play::static_end(static_end.take().flatten(), fallback)
                }
                Strategy::BestOf { n, temperature } if record.state.end_requested.is_none() => {
                    best_of::best_of_turn(&self.clinician, case, record, *n, *temperature, cancel)
                        .await
                }
                _ => roles::clinician_turn(&self.clinician, case, record, cancel).await,
            };
            for x in t.exchanges {
                observer.exchange(&x);
                exchanges.push(x);
            }
            let input = match t.input {
                Ok(input) => input,
                Err(e) if cancel.is_cancelled() || e.kind() == ErrorKind::Cancelled => {
                    break PlayState::Stopped
                }
                Err(e) => break PlayState::Failed(PlayError::Clinician(e)),
            };
            turns.push(t.fallback);
            if let Err(e) = encounter.apply(input.clone()) {
                break PlayState::Failed(PlayError::Refused(e.to_string()));
            }
            // Only speech gets an answer: the end form and a silent turn have none to voice.
            let spoke = matches!(&input, Input::Turn(turn) if !turn.speak.trim().is_empty());
            let report = TurnReport {
                input,
                fallback: t.fallback,
            };
            if let Err(why) = observer.turn(&report, &encounter) {
                break PlayState::Failed(PlayError::Observer(why));
            }
            if let (Some(patient), true) = (&self.patient, spoke) {
                let (case, record) = (encounter.case(), encounter.record());
                exchanges
                    .extend(voice_turn(patient, case, record, &mut voiced, cancel, observer).await);
            }
        };
        let judged = match &state {
            PlayState::Finished { .. } => true,
            PlayState::Failed(_) => self.judge_after_failure,
            PlayState::Paused | PlayState::Stopped => false,
        };
        let mut judge = None;
        if let (Some(client), true) = (&self.judge, judged) {
            let case = encounter.case();
            // A static play's judge items are not applicable: nothing to call the judge for.
            if !super::prompts::judge_items(case).is_empty() && !encounter.state().vignette {
                let (result, calls) =
                    roles::score_with_judge(client, case, encounter.record(), &voiced, cancel)
                        .await;
                for x in calls {
                    observer.exchange(&x);
                    exchanges.push(x);
                }
                judge = Some(result);
            }
        }
        Play {
            state,
            encounter,
            voiced,
            exchanges,
            turns,
            judge,
        }
    }
}

/// Voices the patient side's lines of the latest clinician turn with the patient model,
/// streaming them to the observer, and adds them to `voiced`; returns the calls made (also
/// given to the observer). The app's human encounters use it too, for the trainee's turns.
pub async fn voice_turn<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    voiced: &mut BTreeMap<u32, String>,
    cancel: &Cancel,
    observer: &mut dyn Observer,
) -> Vec<LlmExchange> {
    observer.voice_started();
    let (result, exchanges) =
        roles::patient_reply(client, case, record, voiced, cancel, &mut |seq, piece| {
            observer.voice_text(seq, piece)
        })
        .await;
    for x in &exchanges {
        observer.exchange(x);
    }
    if let Ok(lines) = &result {
        for l in lines {
            voiced.insert(l.seq, l.text.clone());
        }
    }
    observer.voice_finished(&result);
    exchanges
}
