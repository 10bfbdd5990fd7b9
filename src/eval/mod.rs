//! Evaluation runs: many model players × many cases × repeats, judged by none, one or a panel
//! of judges. Plain Rust shared by the browser's Evaluate page and `bedside-cli run`: the plan
//! format, resolving and playing one job through `llm::driver`, the run's state machine with
//! progress and per-player tallies, and (natively) the CLI's result folder.

#[cfg(not(target_arch = "wasm32"))]
pub mod batch;
pub mod compare;
pub mod estimate;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod html;
pub mod job;
pub mod plan;
pub mod plot;
pub mod report;
pub mod run;
pub mod sources;
pub mod stats;
