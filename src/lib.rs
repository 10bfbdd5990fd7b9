//! Bedside: a standardized-patient simulator that runs in the browser.
//!
//! - [`engine`]: the pure, deterministic case engine (no UI, no clock, no I/O).
//! - [`app`]: the app's logic without UI or browser (library, orders, sessions, view models).
//! - [`store`]: browser storage (IndexedDB for encounters, localStorage for imported cases).
//! - [`llm`]: the LLM layer (providers, robust calls, prompts, the three model roles).
//! - [`eval`]: evaluation runs (plans, jobs, the runner, the CLI's result folders).
//! - [`ui`]: the Leptos single-page app that `src/main.rs` mounts.
//!
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod app;
pub mod engine;
pub mod eval;
pub mod llm;
pub mod store;
pub mod ui;
