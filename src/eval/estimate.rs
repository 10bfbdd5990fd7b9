//! What a plan will cost before it starts: per player and in total, the jobs, the model calls
//! of each role, an estimate of the input tokens, the output tokens at most, and the cost where
//! an endpoint has a price. Pure: it builds the real prompts of a fresh encounter of each case
//! and grows them by a per-turn increment derived from the case (see [`CaseShape`]).
//!
//! What the figures mean:
//! - **Calls** are those of a job that plays every allowed turn (the plan's turn limit, or
//!   MedSP1000's 12) with every reply usable: per ordinary turn `strategy.calls_per_turn()`
//!   clinician calls (1, or best-of's n candidates + 1 selector), then one end-form call; one
//!   patient-voice call per turn when the plan has a patient model; one call per judge per job
//!   when the case has judge items. A static player makes one clinician call per job (the
//!   vignette, its findings named by the run's catalog) and no patient or judge call. A job that ends early makes fewer; a corrective re-ask
//!   (a reply that was not the protocol's JSON, asked again once per turn) and a retried
//!   call (429, 5xx, timeout) make more: re-asks can add up to one clinician call per turn.
//! - **Input tokens** are *about*: characters / 4 of the real prompts (plus a few tokens per
//!   message for the chat template), the conversation growing each turn by a typical clinician
//!   turn (the mean of the case's expert pathway turns) and the environment's typical reply
//!   (the mean of the case's scripted answers, plus an order line per action). A model that
//!   talks more or orders more grows its prompts faster; prompt caching is not counted.
//! - **Output tokens** are *at most*: each call's `max_tokens`.
//! - **Cost** uses the about-input and the at-most-output, so it leans high.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::plan::{Endpoint, Plan};
use crate::engine::case::{Case, PathwayStep, PATIENT};
use crate::engine::catalog::{Catalog, CATALOG_SCHEMA_VERSION};
use crate::engine::encounter::{Config, Encounter, Record, DEFAULT_MODEL_TURN_LIMIT};
use crate::engine::utterance::UtteranceKind;
use crate::llm::driver::{PlayConfig, Strategy};
use crate::llm::prompts::{self, PatientReply};
use crate::llm::{Chat, Params};

/// Characters per token of English prose and JSON, the usual rule of thumb.
pub const CHARS_PER_TOKEN: u64 = 4;

/// Tokens a chat template adds around each message (role markers, separators).
pub const MESSAGE_OVERHEAD_TOKENS: u64 = 4;

/// A clinician turn's length in characters when the case has no expert pathway to measure.
pub const TYPICAL_TURN_CHARS: u64 = 160;

/// One order's line in the environment's feedback ("[minute 3] Order "…" → …: executed"),
/// with its result line later, in characters.
pub const ORDER_LINE_CHARS: u64 = 120;

/// What the selector's chat adds to the candidates' chat besides the candidates themselves
/// (the list's heading and the question), in characters.
const SELECTOR_ASK_CHARS: u64 = 160;

/// Calls of one role and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Calls {
    pub calls: u64,
    /// About: see the module's notes.
    pub input_tokens: u64,
    /// At most: each call's `max_tokens`.
    pub output_tokens_max: u64,
    /// The cost of the priced calls.
    pub cost: f64,
    /// Calls to an endpoint without a price (not in `cost`).
    pub unpriced_calls: u64,
}

impl Calls {
    fn new(endpoint: &Endpoint, calls: u64, input_tokens: u64) -> Calls {
        let output_tokens_max = calls * u64::from(max_tokens(endpoint));
        let (cost, unpriced_calls) = match endpoint.price {
            Some(p) => (p.cost(input_tokens, 0, output_tokens_max), 0),
            None => (0.0, calls),
        };
        Calls {
            calls,
            input_tokens,
            output_tokens_max,
            cost,
            unpriced_calls,
        }
    }

    fn add(&mut self, other: &Calls) {
        self.calls += other.calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens_max += other.output_tokens_max;
        self.cost += other.cost;
        self.unpriced_calls += other.unpriced_calls;
    }

    /// The cost when every call is priced.
    pub fn full_cost(&self) -> Option<f64> {
        (self.unpriced_calls == 0 && self.calls > 0).then_some(self.cost)
    }
}

/// One player's share of the plan (its jobs' calls of every role), or the total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerEstimate {
    /// The player's label ("total" for the sum).
    pub label: String,
    pub jobs: u64,
    /// The player's own calls: turns (best-of: candidates and selector) and end forms.
    pub clinician: Calls,
    /// The patient model's calls on these jobs (none without `plan.patient`).
    pub patient: Calls,
    /// Every judge's calls on these jobs.
    pub judges: Calls,
}

impl PlayerEstimate {
    /// Every role's calls together.
    pub fn all(&self) -> Calls {
        let mut c = self.clinician;
        c.add(&self.patient);
        c.add(&self.judges);
        c
    }

    fn add(&mut self, other: &PlayerEstimate) {
        self.jobs += other.jobs;
        self.clinician.add(&other.clinician);
        self.patient.add(&other.patient);
        self.judges.add(&other.judges);
    }

    /// "40 jobs · about 520 model calls · about 1.9M tokens in, at most 0.3M out · about $0.42".
    pub fn line(&self) -> String {
        let all = self.all();
        let mut parts = vec![
            format!("{} job{}", self.jobs, if self.jobs == 1 { "" } else { "s" }),
            format!("about {} model calls", all.calls),
            format!(
                "about {} tokens in, at most {} out",
                tokens(all.input_tokens),
                tokens(all.output_tokens_max)
            ),
        ];
        if all.calls > all.unpriced_calls {
            let cost = format!("about {}", dollars(all.cost));
            parts.push(if all.unpriced_calls > 0 {
                format!("{cost} for the priced endpoints")
            } else {
                cost
            });
        }
        parts.join(" · ")
    }
}

/// A plan's estimate: each player (in the plan's order) and the total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub players: Vec<PlayerEstimate>,
    pub total: PlayerEstimate,
}

impl Estimate {
    /// The total's line: "40 jobs · about 520 model calls · about 1.9M tokens in, at most
    /// 0.3M out · about $0.42".
    pub fn line(&self) -> String {
        self.total.line()
    }
}

/// "850", "12k", "1.9M".
fn tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{:.1}k", n as f64 / 1e3),
        10_000..1_000_000 => format!("{}k", (n as f64 / 1e3).round()),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// "$0.42", "under $0.01".
fn dollars(x: f64) -> String {
    if x > 0.0 && x < 0.005 {
        "under $0.01".into()
    } else {
        format!("${x:.2}")
    }
}

fn max_tokens(e: &Endpoint) -> u32 {
    e.settings(0.0).max_tokens
}

fn chars_tokens(chars: u64) -> u64 {
    chars.div_ceil(CHARS_PER_TOKEN)
}

/// A chat's size as a model would be sent it: its text / 4 plus the template's overhead.
pub fn chat_tokens(chat: &Chat) -> u64 {
    let chars: usize =
        chat.system.len() + chat.messages.iter().map(|m| m.text.len()).sum::<usize>();
    chars_tokens(chars as u64) + MESSAGE_OVERHEAD_TOKENS * (chat.messages.len() as u64 + 1)
}

/// A fresh encounter's record of `case` with the plan's turn limit. The catalog only matters
/// once orders are placed, so none is needed (`tests/native/eval/estimate.rs` checks the
/// record equals the one the built-in catalog gives).
pub fn fresh_record(case: &Arc<Case>, turn_limit: Option<u32>) -> Option<Record> {
    let empty = format!("{{\"schema\": {CATALOG_SCHEMA_VERSION}, \"orders\": []}}");
    let catalog = Catalog::from_json("(no orders)", &empty).ok()?;
    let config = PlayConfig {
        turn_limit,
        ..PlayConfig::default()
    };
    let settings = crate::llm::settings::ProviderSettings::new(
        crate::llm::settings::ProviderKind::OpenAi,
        "http://estimate",
        "estimate",
    );
    let encounter = Encounter::new(
        case.clone(),
        Arc::new(catalog),
        config.encounter_config(&settings),
    );
    Some(encounter.record().clone())
}

/// What one case's prompts weigh, in tokens: the opening of each role's chat and how much it
/// grows per turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseShape {
    /// The clinician's first chat (system prompt, door note, opening lines).
    pub clinician_opening: u64,
    /// A typical clinician turn: the mean of the case's expert pathway turns as JSON
    /// ([`TYPICAL_TURN_CHARS`] without a pathway), capped by the player's `max_tokens`
    /// where it is used.
    pub turn: u64,
    /// The environment's typical reply to a turn: the mean scripted answer with its speaker
    /// line, and [`ORDER_LINE_CHARS`] per action (the pathway's mean actions per turn).
    pub feedback: u64,
    /// The selector's system prompt minus the clinician's (best-of).
    pub selector_system_delta: i64,
    /// The patient model's first chat (system prompt, opening line, a reply's note).
    pub patient_opening: u64,
    /// A patient reply's share of its chat per turn: the clinician's words and the answer.
    pub patient_growth: u64,
    /// The judge's chat on an empty transcript with the case's judge items.
    pub judge_opening: u64,
    /// Judge items (none: no judge call).
    pub judge_items: usize,
    /// A static play's one chat (0 until [`estimate`] sets it for a plan with a static
    /// player: it needs the catalog).
    pub static_opening: u64,
}

impl CaseShape {
    pub fn of(case: &Arc<Case>, turn_limit: Option<u32>) -> CaseShape {
        let params = measuring();
        let record = fresh_record(case, turn_limit);
        let clinician_opening = record
            .as_ref()
            .map(|r| chat_tokens(&prompts::clinician_chat(case, r, params.clone())))
            .unwrap_or(0);
        let turns: Vec<(String, usize)> = case
            .pathway
            .iter()
            .filter_map(|s| match s {
                PathwayStep::Turn {
                    speak,
                    actions,
                    eos,
                } => Some((
                    serde_json::json!({"speak": speak, "actions": actions, "eos": eos}).to_string(),
                    actions.len(),
                )),
                _ => None,
            })
            .collect();
        let n = turns.len().max(1) as u64;
        let turn_chars = if turns.is_empty() {
            TYPICAL_TURN_CHARS
        } else {
            turns.iter().map(|(t, _)| t.len() as u64).sum::<u64>() / n
        };
        let speak_chars = if turns.is_empty() {
            TYPICAL_TURN_CHARS / 2
        } else {
            case.pathway
                .iter()
                .map(|s| match s {
                    PathwayStep::Turn { speak, .. } => speak.len() as u64,
                    _ => 0,
                })
                .sum::<u64>()
                / n
        };
        let actions_per_turn = turns.iter().map(|(_, a)| *a as u64).sum::<u64>() as f64 / n as f64;
        let answers: Vec<u64> = case.facts.iter().map(|f| f.answer.len() as u64).collect();
        let answer_chars = answers.iter().sum::<u64>() / answers.len().max(1) as u64;
        // "[minute 3] Name: "…"" around the answer.
        let speaker_line = format!("[minute 10] {}: \"\"\n", case.patient.name).len() as u64;
        let feedback_chars =
            answer_chars + speaker_line + (actions_per_turn * ORDER_LINE_CHARS as f64) as u64;
        let patient_opening = record
            .as_ref()
            .map(|r| {
                let first = case.facts.first();
                let facts: Vec<String> = first.map(|f| f.id.clone()).into_iter().collect();
                let reply = PatientReply {
                    speaker: PATIENT,
                    facts: &facts,
                    scripted: first.map(|f| f.answer.as_str()).unwrap_or(""),
                    kind: Some(UtteranceKind::Question),
                    reaction: None,
                };
                let chat = prompts::patient_chat(
                    case,
                    &r.log,
                    &BTreeMap::new(),
                    &[],
                    "",
                    &reply,
                    params.clone(),
                );
                chat_tokens(&chat)
            })
            .unwrap_or(0);
        let items = prompts::judge_items(case);
        let judge_opening = record
            .as_ref()
            .map(|r| {
                chat_tokens(&prompts::judge_chat(
                    case,
                    r,
                    &BTreeMap::new(),
                    &items,
                    params.clone(),
                ))
            })
            .unwrap_or(0);
        let clinician_system = prompts::clinician_system(turn_limit).len() as i64;
        CaseShape {
            clinician_opening,
            turn: chars_tokens(turn_chars),
            feedback: chars_tokens(feedback_chars),
            selector_system_delta: chars_tokens(prompts::selector_system().len() as u64) as i64
                - chars_tokens(clinician_system as u64) as i64,
            patient_opening,
            patient_growth: chars_tokens(speak_chars + answer_chars) + 2 * MESSAGE_OVERHEAD_TOKENS,
            judge_opening,
            judge_items: items.len(),
            static_opening: 0,
        }
    }
}

/// The sampling parameters of a chat built only to be measured (they weigh nothing).
fn measuring() -> Params {
    Params {
        model: String::new(),
        temperature: 0.0,
        max_tokens: 1,
        seed: None,
    }
}

/// The input tokens of a static play's one call on `case` (its vignette read with `catalog`).
pub fn static_tokens(case: &Arc<Case>, catalog: &Arc<Catalog>) -> u64 {
    let encounter = Encounter::new(case.clone(), catalog.clone(), Config::human());
    chat_tokens(&prompts::static_chat(
        case,
        &encounter.vignette(),
        measuring(),
    ))
}

/// The estimate of `plan` on its loaded `cases` (in the plan's order); `catalog` (the one
/// the run plays with) reads a static player's vignette.
pub fn estimate(plan: &Plan, cases: &[Arc<Case>], catalog: &Arc<Catalog>) -> Estimate {
    let turns = u64::from(plan.turn_limit.unwrap_or(DEFAULT_MODEL_TURN_LIMIT));
    let mut shapes: Vec<CaseShape> = cases
        .iter()
        .map(|c| CaseShape::of(c, plan.turn_limit))
        .collect();
    if plan.players.iter().any(|p| p.strategy == Strategy::Static) {
        for (shape, case) in shapes.iter_mut().zip(cases) {
            shape.static_opening = static_tokens(case, catalog);
        }
    }
    let repeats = u64::from(plan.repeats);
    let players: Vec<PlayerEstimate> = plan
        .players
        .iter()
        .map(|player| {
            let mut e = PlayerEstimate {
                label: player.label.clone(),
                ..PlayerEstimate::default()
            };
            for shape in &shapes {
                let mut one = job(plan, player, shape, turns);
                one.jobs = repeats;
                for calls in [&mut one.clinician, &mut one.patient, &mut one.judges] {
                    *calls = times(calls, repeats);
                }
                e.add(&one);
            }
            e
        })
        .collect();
    let mut total = PlayerEstimate {
        label: "total".into(),
        ..PlayerEstimate::default()
    };
    for p in &players {
        total.add(p);
    }
    Estimate { players, total }
}

fn times(c: &Calls, n: u64) -> Calls {
    Calls {
        calls: c.calls * n,
        input_tokens: c.input_tokens * n,
        output_tokens_max: c.output_tokens_max * n,
        cost: c.cost * n as f64,
        unpriced_calls: c.unpriced_calls * n,
    }
}

/// One job of `player` on a case of this shape, playing all `turns`.
fn job(plan: &Plan, player: &Endpoint, shape: &CaseShape, turns: u64) -> PlayerEstimate {
    if player.strategy == Strategy::Static {
        return PlayerEstimate {
            label: player.label.clone(),
            jobs: 1,
            clinician: Calls::new(player, 1, shape.static_opening),
            ..PlayerEstimate::default()
        };
    }
    let turn = shape.turn.min(u64::from(max_tokens(player)));
    // Each turn adds the clinician's reply and the environment's feedback as two messages.
    let growth = turn + shape.feedback + 2 * MESSAGE_OVERHEAD_TOKENS;
    let prompt = |k: u64| shape.clinician_opening + k * growth;
    let per_turn = u64::from(player.strategy.calls_per_turn());
    let mut input = 0;
    for k in 0..turns {
        if per_turn == 1 {
            input += prompt(k);
        } else {
            let n = per_turn - 1;
            let selector = (prompt(k) as i64 + shape.selector_system_delta).max(0) as u64
                + n * turn
                + chars_tokens(SELECTOR_ASK_CHARS);
            input += n * prompt(k) + selector;
        }
    }
    // The end form's chat: every turn, the closing note in place of the turn's cue.
    input += prompt(turns);
    let clinician = Calls::new(player, turns * per_turn + 1, input);
    let patient = plan
        .patient
        .as_ref()
        .map(|p| {
            let input = (0..turns)
                .map(|k| shape.patient_opening + k * shape.patient_growth)
                .sum();
            Calls::new(p, turns, input)
        })
        .unwrap_or_default();
    let mut judges = Calls::default();
    if shape.judge_items > 0 {
        // The transcript and action log hold what the clinician's chat gained.
        let input = shape.judge_opening + turns * (turn + shape.feedback);
        for j in &plan.judges {
            judges.add(&Calls::new(j, 1, input));
        }
    }
    PlayerEstimate {
        label: player.label.clone(),
        jobs: 1,
        clinician,
        patient,
        judges,
    }
}
