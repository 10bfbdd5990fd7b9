//! Bedside: a standardized-patient simulator that runs in the browser.
//!
//! - [`engine`]: the pure, deterministic case engine (no UI, no clock, no I/O).
//! - [`llm`]: the LLM layer (providers, robust calls, prompts, the three model roles).
//! - [`ui`]: the Leptos single-page app that `src/main.rs` mounts.
//!
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod engine;
pub mod llm;
pub mod ui;
