//! The Evaluate page's logic (`app::evaluate`), natively: the plan its form builds from the
//! providers in Settings, where keys come from, and a finished job stored as a saved
//! encounter that reopens (replays) to the same scores and tallies.

use std::collections::BTreeSet;

use bedside::app::compare::{rows_of_history, Source};
use bedside::app::evaluate::StoredRun;
use bedside::app::evaluate::{
    encounter_id, missing_keys, plan_from_file, plan_from_form, run_encounters, saved_from_job,
    secrets_for, summary_of, PlanForm, PlayerForm,
};
use bedside::app::library::Library;
use bedside::app::results::scorecard;
use bedside::app::session::Session;
use bedside::eval::job::{play_job, JobSpec};
use bedside::llm::driver::Strategy;
use bedside::llm::settings::{ApiKey, ProviderKind, ProviderSettings, Role, Settings};
use bedside::llm::transport::{block_on, Cancel, NativeTransport};

use super::server::WardServer;
use super::{parse, plan_json};
use crate::support::catalog;

fn settings(url: &str) -> Settings {
    let mut clinician = ProviderSettings::new(ProviderKind::OpenAi, url, "ward");
    clinician.key = ApiKey::new("sk-local-1");
    clinician.seed = Some(40);
    let mut judge = ProviderSettings::new(ProviderKind::OpenAi, "https://api.example.org/v1", "j");
    judge.key = ApiKey::new("sk-judge-2");
    Settings {
        clinician: Some(clinician),
        judge: Some(judge),
        patient: None,
    }
}

fn form(s: &Settings) -> PlanForm {
    let mut f = PlanForm::new(s);
    f.name = "two players".into();
    f.cases = BTreeSet::from(["sepsis-pneumonia".to_string(), "anaphylaxis-peanut".into()]);
    f.repeats = "2".into();
    let mut bon = PlayerForm::new(Role::Clinician, s, 2);
    bon.model = "ward-large".into();
    bon.best_of = "3".into();
    bon.best_of_temperature = "0.9".into();
    bon.price_in = "0.5".into();
    bon.price_out = "1.5".into();
    f.players.push(bon);
    f.judge = true;
    f
}

#[test]
fn the_form_builds_a_plan_from_the_providers_in_settings() {
    let s = settings("http://127.0.0.1:8080/v1");
    let plan = plan_from_form(&form(&s), &s).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(plan.players.len(), 2);
    assert_eq!(plan.repeats, 2);
    assert_eq!(plan.cases.len(), 2);
    let (a, b) = (&plan.players[0], &plan.players[1]);
    assert_eq!(a.base_url, "http://127.0.0.1:8080/v1");
    assert_eq!(a.model, "ward", "a blank model is the provider's");
    assert_eq!(b.model, "ward-large");
    assert_eq!(a.strategy, Strategy::Single);
    assert_eq!(
        b.strategy,
        Strategy::BestOf {
            n: 3,
            temperature: 0.9
        }
    );
    assert_eq!(b.price.map(|p| p.output_per_million), Some(1.5));
    assert_eq!(a.seed.seed(2), Some(42), "Settings' seed 40 + repeat 2");
    assert_eq!(plan.judges.len(), 1);
    assert_eq!(plan.judges[0].base_url, "https://api.example.org/v1");
    assert!(a.key_env.is_none(), "a plan never holds a key or its place");
    assert!(!plan.to_json().contains("sk-"), "no key in the plan");
    // The keys come from Settings, by the endpoint's address.
    assert_eq!(secrets_for(a, &s).key.expose(), "sk-local-1");
    assert_eq!(secrets_for(&plan.judges[0], &s).key.expose(), "sk-judge-2");
    assert!(missing_keys(&plan, &s).is_empty());
    let mut forgot = s.clone();
    forgot.judge.as_mut().unwrap().key = ApiKey::default();
    let missing = missing_keys(&plan, &forgot);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].starts_with("judge:"), "{missing:?}");
}

#[test]
fn the_forms_errors_name_their_fields() {
    let s = settings("http://127.0.0.1:8080/v1");
    let mut f = form(&s);
    f.players[0].label = String::new();
    f.players[1].temperature = "warm".into();
    f.players[1].provider = Role::Patient;
    f.cases.clear();
    f.repeats = "0".into();
    let errors = plan_from_form(&f, &s).expect_err("broken form");
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for p in [
        "players[0].label",
        "players[1].provider",
        "players[1].temperature",
        "cases",
        "repeats",
    ] {
        assert!(
            paths.iter().any(|x| x.starts_with(p)),
            "{p} missing from {paths:?}"
        );
    }
}

#[test]
fn the_form_offers_the_static_play_and_refuses_it_with_candidates() {
    let s = settings("http://127.0.0.1:8080/v1");
    let mut f = form(&s);
    f.players[0].static_play = true;
    let plan = plan_from_form(&f, &s).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(plan.players[0].strategy, Strategy::Static);
    // Static is one call: best-of's candidates cannot go with it.
    f.players[1].static_play = true;
    let errors = plan_from_form(&f, &s).expect_err("static with best-of-3");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "players[1].best_of");
}

#[test]
fn a_finished_job_is_a_saved_encounter_that_reopens_to_the_same_scores() {
    let server = WardServer::start();
    let plan = parse(&plan_json(
        &server.url,
        &[("ward", "ward"), ("down", "down")],
        &["sepsis-pneumonia"],
        1,
    ));
    let (library, _) = Library::builtin(&catalog());
    let case = library.get("sepsis-pneumonia").unwrap().case.clone();
    let jobs = plan.jobs(&["sepsis-pneumonia".to_string()]);
    let play = |i: usize| {
        let mut spec = JobSpec::new(&plan, &jobs[i], &case, &|_| Default::default());
        spec.tag.run = "run-1".into();
        block_on(play_job(
            &spec,
            case.clone(),
            catalog(),
            NativeTransport::new,
            &|| 1_796_000_000_000,
            &Cancel::new(),
            &mut (),
        ))
        .expect("not stopped")
    };
    let record = play(0);
    let saved = saved_from_job(&record, &library).expect("a finished job is an encounter");
    assert_eq!(
        saved.id,
        encounter_id("run-1", "sepsis-pneumonia--ward--r1")
    );
    let tag = &saved.job.as_ref().unwrap().tag;
    assert_eq!((tag.run.as_str(), tag.player.as_str()), ("run-1", "ward"));
    assert!(
        saved.job.as_ref().unwrap().export.is_none(),
        "stored once, as the encounter"
    );
    let export = record.export.as_ref().unwrap();
    let calls = export.app.as_ref().unwrap()["llm_exchanges"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        saved.exchanges.len(),
        calls,
        "every call kept with the encounter"
    );
    // Stored and read back as the store does (JSON), reopened by replaying its inputs.
    let text = serde_json::to_string(&saved).unwrap();
    let back: bedside::app::session::SavedEncounter = serde_json::from_str(&text).unwrap();
    let session = Session::resume(back.clone(), &library, catalog()).expect("replays");
    assert!(session.is_ended());
    assert_eq!(scorecard(&session).scores(), export.scores);
    assert_eq!(
        session.job().map(|j| j.tag.job.as_str()),
        Some("sepsis-pneumonia--ward--r1")
    );
    let summary = summary_of(&back, &library, catalog()).unwrap();
    assert_eq!(summary.scores.as_ref(), record.scores());
    assert_eq!(summary, record.summary());
    // Only this run's encounters are its.
    let others = vec![back.clone(), {
        let mut o = back.clone();
        o.job.as_mut().unwrap().tag.run = "run-2".into();
        o
    }];
    assert_eq!(run_encounters("run-1", &others).len(), 1);
    // The Compare page reads it as its run's player, named by the plan, priced by it, with the
    // record's scores; an encounter still open is no score.
    let mut priced = plan.clone();
    priced.players[0].price = Some(bedside::eval::plan::Price {
        input_per_million: 1.0,
        output_per_million: 2.0,
        cached_input_per_million: None,
    });
    let run = StoredRun {
        id: "run-1".into(),
        plan: priced,
        case_ids: vec!["sepsis-pneumonia".into()],
        created_ms: 0.0,
        failures: Default::default(),
    };
    let mut open = back.clone();
    open.job = None;
    open.ended = None;
    let (rows, problems) =
        rows_of_history(&[back.clone(), open], &[run], &library, &catalog(), None);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 1);
    let (source, row) = &rows[0];
    assert_eq!(*source, Source::Runs);
    assert_eq!(
        (row.player.as_str(), row.run.as_deref(), row.repeat),
        ("ward", Some("test run"), 1)
    );
    assert_eq!(row.overall().met, export.scores.overall.expected_met);
    assert_eq!(row.overall().scored, export.scores.overall.expected_scored);
    let usage = &record.usage[&Role::Clinician];
    assert_eq!(row.calls, usage.calls);
    let cost = (usage.input_tokens as f64 * 1.0 + usage.output_tokens as f64 * 2.0) / 1e6;
    assert!((row.cost.unwrap() - cost).abs() < 1e-12);
    assert_eq!(row.specialty.as_deref(), Some(case.meta.specialty.as_str()));
    // A failed job is never an encounter (so never a score).
    let failed = play(1);
    assert!(!failed.is_finished());
    assert!(saved_from_job(&failed, &library).is_none());
}

#[test]
fn a_plan_file_runs_in_the_browser_with_its_judge_panel_and_library_cases_only() {
    let (library, _) = Library::builtin(&catalog());
    let mut plan = plan_json(
        "http://127.0.0.1:8080/v1",
        &[("a", "m")],
        &["sepsis-pneumonia"],
        1,
    );
    plan["judges"] = serde_json::json!([
        {"label": "local", "provider": "open_ai", "base_url": "http://127.0.0.1:8081/v1", "model": "j1"},
        {"label": "claude", "provider": "anthropic", "base_url": "https://api.anthropic.com/v1",
         "model": "claude-sonnet-4-5", "key_env": "ANTHROPIC_API_KEY"}
    ]);
    let read = plan_from_file("panel.json", &plan.to_string(), &library)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read.judges.len(), 2, "a panel of judges from two providers");
    // The browser cannot read the key the plan names: Settings must hold one at that address.
    let settings = Settings::default();
    let missing = missing_keys(&read, &settings);
    assert_eq!(
        missing.len(),
        read.players.len() + read.judges.len(),
        "no provider in Settings for any endpoint: {missing:?}"
    );

    let mut broken = plan.clone();
    broken["cases"] = serde_json::json!(["sepsis-pneumonia", "no-such-case", "cases/mine.json"]);
    broken["players"][0]["base_url"] = "http://example.com/v1".into();
    let errors = plan_from_file("broken.json", &broken.to_string(), &library).expect_err("broken");
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for p in ["$.cases[1]", "$.cases[2]", "$.players[0].base_url"] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    let err =
        plan_from_file("cut.json", "{\"format\": \"bedside.plan\",", &library).expect_err("cut");
    assert!(!err.is_empty());
}
