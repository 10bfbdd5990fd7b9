//! Native integration tests: one binary, one module per area.

mod support;

mod actions;
mod alarms;
mod app;
mod app_settings;
mod broken_cases;
mod cases;
mod cli;
mod clinical_rules;
mod debrief_view;
mod dose_limits;
mod encounter_screen;
mod engine_purity;
mod eval;
mod everyday;
mod export;
mod guideline_plays;
mod llm;
mod medsp;
mod module_graph;
mod order_phrasings;
mod orders;
mod patient_utterances;
mod physiology;
mod replay;
mod results;
mod schema;
mod scoring;
mod scripted_patient;
mod static_play;
mod warnings;
mod world;
