//! The estimate before a run: calls by the definition (turns × calls per turn + the end form,
//! a patient call per turn, a call per judge per job), output tokens at most, cost from the
//! prices, the opening prompt as the driver builds it, and the input-token estimate against
//! what real SmolLM2 reports.

use std::sync::Arc;

use bedside::engine::case::Case;
use bedside::engine::encounter::Encounter;
use bedside::eval::batch::Options;
use bedside::eval::estimate::{
    chat_tokens, estimate, fresh_record, CaseShape, MESSAGE_OVERHEAD_TOKENS,
};
use bedside::eval::plan::Price;
use bedside::llm::driver::PlayConfig;
use bedside::llm::prompts::{clinician_chat, judge_items};
use bedside::llm::settings::{ProviderKind, ProviderSettings};
use bedside::llm::Params;

use super::{load, parse, plan_json, run, scratch};
use crate::support::{self, catalog};

const CASES: &[&str] = &["sepsis-pneumonia", "anaphylaxis-peanut", "dka-young-adult"];

fn cases(ids: &[&str]) -> Vec<Arc<Case>> {
    ids.iter()
        .map(|id| support::load(&support::root().join(format!("assets/cases/{id}.json"))))
        .collect()
}

fn endpoint(label: &str, model: &str, max_tokens: u32) -> serde_json::Value {
    serde_json::json!({
        "label": label, "provider": "open_ai", "base_url": "http://127.0.0.1:9/v1",
        "model": model, "max_tokens": max_tokens,
    })
}

#[test]
fn a_static_player_is_one_call_per_job_on_its_vignette() {
    // With a patient model and a judge in the plan: the static player needs neither.
    let mut plan = plan_json(
        "http://127.0.0.1:9/v1",
        &[("static", "m1"), ("one", "m1")],
        CASES,
        2,
    );
    plan["players"][0]["strategy"] = serde_json::json!({"kind": "static"});
    plan["patient"] = endpoint("voice", "p", 100);
    plan["judges"] = serde_json::json!([endpoint("j", "j", 300)]);
    let cases = cases(CASES);
    let e = estimate(&parse(&plan), &cases, &catalog());
    let s = &e.players[0];
    assert_eq!(s.jobs, 6);
    assert_eq!(s.clinician.calls, 6, "one call per job");
    assert_eq!(s.clinician.output_tokens_max, 6 * 64);
    assert_eq!(s.patient.calls + s.judges.calls, 0);
    // Its input is the vignette of each case, twice (two repeats).
    let vignettes: u64 = cases
        .iter()
        .map(|c| bedside::eval::estimate::static_tokens(c, &catalog()))
        .sum();
    assert!(vignettes > 0);
    assert_eq!(s.clinician.input_tokens, 2 * vignettes);
    // The dynamic player beside it still has its patient voice and judge calls.
    assert!(e.players[1].patient.calls > 0 && e.players[1].judges.calls > 0);
}

#[test]
fn calls_and_output_tokens_follow_the_definition() {
    // 2 players × 3 cases × 2 repeats, turn limit 4, one player best-of-3.
    let mut plan = plan_json(
        "http://127.0.0.1:9/v1",
        &[("one", "m1"), ("bon", "m2")],
        CASES,
        2,
    );
    plan["turn_limit"] = 4.into();
    plan["players"][1]["strategy"] =
        serde_json::json!({"kind": "best_of", "n": 3, "temperature": 1.0});
    let cases = cases(CASES);
    let e = estimate(&parse(&plan), &cases, &catalog());
    let (one, bon) = (&e.players[0], &e.players[1]);
    assert_eq!((one.label.as_str(), bon.label.as_str()), ("one", "bon"));
    assert_eq!((one.jobs, bon.jobs, e.total.jobs), (6, 6, 12));
    // Each job: 4 turns of calls_per_turn, then the end form.
    assert_eq!(one.clinician.calls, 6 * (4 + 1));
    assert_eq!(bon.clinician.calls, 6 * (4 * 4 + 1));
    assert_eq!(e.total.clinician.calls, 6 * (4 + 1) + 6 * (4 * 4 + 1));
    // No patient model, no judges: no calls of theirs.
    assert_eq!(e.total.patient.calls + e.total.judges.calls, 0);
    assert_eq!(e.total.all().calls, e.total.clinician.calls);
    // Output: every call at its max_tokens (the plan's 64).
    assert_eq!(one.clinician.output_tokens_max, one.clinician.calls * 64);
    assert_eq!(e.total.all().output_tokens_max, e.total.all().calls * 64);
    // Best-of's candidates each read the whole chat: more than three times the single's input.
    assert!(bon.clinician.input_tokens > 3 * one.clinician.input_tokens);
    // No price: no cost.
    assert_eq!(e.total.all().full_cost(), None);
    let line = e.line();
    assert!(
        line.starts_with("12 jobs · about 132 model calls · about "),
        "{line}"
    );
    assert!(!line.contains('$'), "{line}");
}

#[test]
fn the_patient_voice_and_each_judge_add_their_calls_and_cost() {
    let mut plan = plan_json("http://127.0.0.1:9/v1", &[("one", "m1")], CASES, 3);
    plan["turn_limit"] = 5.into();
    plan["patient"] = endpoint("voice", "p", 100);
    plan["judges"] = serde_json::json!([endpoint("j1", "a", 300), endpoint("j2", "b", 400)]);
    let price = Price {
        input_per_million: 2.0,
        output_per_million: 8.0,
        cached_input_per_million: None,
    };
    let priced = serde_json::to_value(price).unwrap();
    plan["players"][0]["price"] = priced.clone();
    plan["patient"]["price"] = priced.clone();
    plan["judges"][0]["price"] = priced;
    // The third case without its judge items: no judge call for its jobs.
    let mut cases = cases(CASES);
    let mut unjudged = (*cases[2]).clone();
    unjudged.rubric.retain(|i| i.rule.is_some());
    assert!(judge_items(&unjudged).is_empty());
    cases[2] = Arc::new(unjudged);
    let e = estimate(&parse(&plan), &cases, &catalog());
    let p = &e.players[0];
    assert_eq!(p.jobs, 9);
    assert_eq!(p.clinician.calls, 9 * (5 + 1));
    assert_eq!(p.patient.calls, 9 * 5, "one patient reply per turn");
    assert_eq!(p.patient.output_tokens_max, 9 * 5 * 100);
    let judged_jobs = 2 * 3;
    assert_eq!(
        p.judges.calls,
        judged_jobs * 2,
        "one call per judge per judged job"
    );
    assert_eq!(p.judges.output_tokens_max, judged_jobs * (300 + 400));
    // Cost: the priced endpoints' calls; the second judge has no price.
    assert_eq!(p.judges.unpriced_calls, judged_jobs);
    let cost =
        |c: &bedside::eval::estimate::Calls| price.cost(c.input_tokens, 0, c.output_tokens_max);
    assert!((p.clinician.full_cost().unwrap() - cost(&p.clinician)).abs() < 1e-12);
    assert!((p.patient.full_cost().unwrap() - cost(&p.patient)).abs() < 1e-12);
    assert_eq!(p.judges.full_cost(), None);
    let all = p.all();
    assert_eq!(all.calls, 54 + 45 + 12);
    let line = e.line();
    assert!(line.contains("9 jobs · about 111 model calls"), "{line}");
    assert!(line.contains("for the priced endpoints"), "{line}");
    assert!(line.contains('$'), "{line}");
}

#[test]
fn the_opening_prompt_is_the_one_the_driver_sends() {
    let params = Params {
        model: "m".into(),
        temperature: 0.0,
        max_tokens: 1,
        seed: None,
    };
    for path in support::case_paths() {
        let case = support::load(&path);
        for turn_limit in [None, Some(3)] {
            // What play_job starts from, with the built-in catalog.
            let config = PlayConfig {
                turn_limit,
                ..PlayConfig::default()
            };
            let settings = ProviderSettings::new(ProviderKind::OpenAi, "http://x/v1", "m");
            let real = Encounter::new(case.clone(), catalog(), config.encounter_config(&settings));
            let fresh = fresh_record(&case, turn_limit).expect("a fresh record");
            assert_eq!(
                clinician_chat(&case, &fresh, params.clone()),
                clinician_chat(&case, real.record(), params.clone()),
                "{}",
                path.display()
            );
            let shape = CaseShape::of(&case, turn_limit);
            assert_eq!(
                shape.clinician_opening,
                chat_tokens(&clinician_chat(&case, real.record(), params.clone()))
            );
            assert!(shape.turn > 0 && shape.feedback > 0, "{shape:?}");
        }
    }
}

#[test]
fn input_tokens_grow_with_the_turns_as_defined() {
    let case = cases(&["sepsis-pneumonia"]);
    let mut plan = plan_json(
        "http://127.0.0.1:9/v1",
        &[("one", "m1")],
        &["sepsis-pneumonia"],
        1,
    );
    plan["players"][0]["max_tokens"] = 1000.into();
    for turns in [1u64, 4, 12] {
        plan["turn_limit"] = turns.into();
        let shape = CaseShape::of(&case[0], Some(turns as u32));
        // Call k (from 0) reads the opening and k turns of growth; the end form reads all.
        let growth = shape.turn + shape.feedback + 2 * MESSAGE_OVERHEAD_TOKENS;
        let expected: u64 = (0..=turns)
            .map(|k| shape.clinician_opening + k * growth)
            .sum();
        let e = estimate(&parse(&plan), &case, &catalog());
        assert_eq!(e.total.clinician.input_tokens, expected, "{turns} turns");
    }
}

/// The estimate against what llama.cpp counts for a short SmolLM2 run. SmolLM2 talks and
/// orders differently from the case's expert, so only a generous bound is asserted (within
/// 3× either way); the ratio is printed as a figure.
#[test]
fn the_input_estimate_is_near_what_smollm2_reports() {
    let Some((smol, _guard)) = crate::llm::smol::smol("the_input_estimate_is_near_smollm2") else {
        return;
    };
    let dir = scratch("estimate-smol");
    let mut plan = plan_json(
        &smol.url,
        &[("smol", "SmolLM2")],
        &["sepsis-pneumonia", "anaphylaxis-peanut"],
        1,
    );
    plan["turn_limit"] = 3.into();
    plan["players"][0]["max_tokens"] = 120.into();
    plan["players"][0]["timeout_s"] = 120.into();
    let loaded = load(&dir, &plan);
    let estimated = estimate(&loaded.plan, &loaded.cases, &catalog());
    let options = Options {
        per_endpoint: Some(1),
        ..Options::default()
    };
    let index = run(&loaded, &dir.join("out"), &options);
    assert_eq!(index.done, 2, "{index:?}");
    let actual = &index.players[0];
    let est = &estimated.players[0].clinician;
    let ratio = est.input_tokens as f64 / actual.input_tokens as f64;
    let per_call = (est.input_tokens as f64 / est.calls as f64)
        / (actual.input_tokens as f64 / f64::from(actual.calls));
    eprintln!(
        "FIGURE estimate vs SmolLM2: input tokens estimated {} / reported {} = {ratio:.2} \
         (calls estimated {} / made {}; per call {per_call:.2}); output at most {} / reported {}",
        est.input_tokens,
        actual.input_tokens,
        est.calls,
        actual.calls,
        est.output_tokens_max,
        actual.output_tokens
    );
    assert!(
        (1.0 / 3.0..=3.0).contains(&ratio),
        "the input estimate is off by more than 3×: {ratio:.2}"
    );
    // At most is at most: one reply per call, none longer than max_tokens.
    assert!(actual.output_tokens <= u64::from(actual.calls) * 120);
}
