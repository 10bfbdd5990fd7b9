//! Native integration tests: one binary, one module per area.

mod support;

mod actions;
mod alarms;
mod app;
mod app_settings;
mod broken_cases;
mod cases;
mod debrief_view;
mod dose_limits;
mod engine_purity;
mod export;
mod llm;
mod medsp;
mod order_phrasings;
mod orders;
mod patient_utterances;
mod replay;
mod results;
mod schema;
mod scoring;
mod scripted_patient;
mod warnings;
mod world;
