//! Native integration tests: one binary, one module per area.

mod support;

mod actions;
mod app;
mod broken_cases;
mod cases;
mod engine_purity;
mod replay;
mod schema;
mod scripted_patient;
