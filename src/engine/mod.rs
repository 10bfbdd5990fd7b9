//! The encounter engine: pure, deterministic Rust.
//!
//! Invariant (enforced by `tests/native/engine_purity.rs`): nothing under `src/engine` imports
//! leptos, web-sys, js-sys, gloo or wasm-bindgen, reads the clock, touches files or the network,
//! or draws randomness it was not handed. Time and seeds come in as arguments; data in, data out.
//!
//! - [`case`]: the case file model; [`load`]: parsing and validation with all errors at once;
//!   [`lint`]: warnings where a valid case disagrees with itself (results, phases, events)
//! - [`catalog`]: the shared order catalog; [`action`]: free text → catalog entry
//! - [`encounter`]: the state machine over simulated time, and its serializable record;
//!   [`state`]: the trajectory's state (actions, utterances, the end), which rules read
//! - [`sp`]: the scripted standardized patient ([`utterance`]: what kind of sentence it
//!   heard); [`lexicon`], [`text`], [`phrases`]: matching
//! - [`alarms`]: normal and critical vital-sign ranges by age (one cited table); monitor alarms
//! - [`rule`], [`eval`]: the rule language and its evaluation with evidence
//! - [`score`]: rubric scoring (rules, judge verdicts, overrides); [`debrief`]: what the
//!   debrief shows and what the judge reads; [`export`]: JSON, CSV and MedSP1000 results;
//!   [`medsp`]: MedSP1000 frozen-rubric import
//! - [`vignette`]: the whole case at once as a written vignette, for a static play
//! - [`pharmacy`]: the ward's dose-range and IV-access checks; [`units`]: dose units and
//!   conversions (per kilogram with the patient's weight)

pub mod action;
pub mod alarms;
pub mod case;
pub mod catalog;
pub mod debrief;
pub mod encounter;
pub mod eval;
pub mod export;
pub mod lexicon;
pub mod lint;
pub mod load;
pub mod medsp;
pub mod pharmacy;
pub mod phrases;
pub mod rule;
pub mod score;
pub mod sp;
pub mod state;
pub mod text;
pub mod units;
pub mod utterance;
pub mod validate;
pub mod vignette;

/// The shared order catalog shipped with the app (`assets/catalog.json` without indentation,
/// see `build.rs`).
pub const CATALOG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/assets/catalog.json"));
