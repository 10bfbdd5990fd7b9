//! The debrief page's data path (`app::results`): scorecards from a saved session with its
//! judge run and overrides, override bookkeeping, and the four export files.

use bedside::app::library::Library;
use bedside::app::results::{add_override, debrief_of, export_file, scorecard, ExportKind};
use bedside::app::session::Session;
use bedside::engine::encounter::{Config, Input};
use bedside::engine::export::{EncounterExport, FrozenResult};
use bedside::engine::score::{JudgeRun, JudgeVerdict, Mark, Outcome, ScoredBy};

use crate::support::{catalog, root};

fn played(id: &str, kind: &str) -> Session {
    let (lib, errors) = Library::builtin(&catalog());
    assert!(errors.is_empty());
    let case = lib.get(id).unwrap();
    let mut s = Session::start(case, catalog(), Config::human(), "enc-42".into(), 0.0);
    let text =
        std::fs::read_to_string(root().join(format!("tests/fixtures/plays/{id}.{kind}.jsonl")))
            .unwrap();
    for (n, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        if s.is_ended() {
            break;
        }
        let input = Input::from_play_line(line).unwrap();
        // A closing encounter takes only the end form.
        if s.encounter.takes(&input) {
            s.apply(input, n as f64).unwrap();
        }
    }
    s
}

#[test]
fn overrides_and_judge_runs_shape_the_scorecard() {
    let mut s = played("acs-inferior-stemi", "weak");
    let before = scorecard(&s);
    let ecg = before.item("pc_ecg_10min").unwrap();
    assert_eq!(ecg.mark(), Mark::Missed);
    assert!(!add_override(
        &mut s,
        "no_such_item",
        Some(true),
        "Dr E",
        "",
        "t"
    ));
    assert!(
        s.saved.overrides.is_empty(),
        "nothing recorded for an unknown item"
    );
    assert!(add_override(
        &mut s,
        "pc_ecg_10min",
        Some(true),
        " Dr E ",
        "seen on video",
        "t1"
    ));
    let after = scorecard(&s);
    let ecg = after.item("pc_ecg_10min").unwrap();
    assert_eq!(
        (ecg.outcome, ecg.scored_by),
        (Outcome::Met, ScoredBy::Educator)
    );
    assert_eq!(ecg.overridden.as_ref().unwrap().by, "Dr E");
    assert_eq!(
        after.scores().overall.expected_met,
        before.scores().overall.expected_met + 1
    );

    let judge_ids: Vec<String> = s
        .encounter
        .case()
        .rubric
        .iter()
        .filter(|i| i.rule.is_none())
        .map(|i| i.id.clone())
        .collect();
    s.saved.judge = Some(JudgeRun {
        model: "openai-compatible / judge-x".into(),
        prompt_version: "1".into(),
        verdicts: judge_ids
            .iter()
            .map(|id| JudgeVerdict {
                item: id.clone(),
                met: false,
                evidence: String::new(),
            })
            .collect(),
    });
    let d = debrief_of(&s);
    assert_eq!(d.scores.overall.not_scored, 0, "the judge scored the rest");
    assert_eq!(
        d.scorecard.judge.as_ref().unwrap().model,
        "openai-compatible / judge-x"
    );
}

#[test]
fn every_export_file_parses_and_names_its_case() {
    let s = played("sepsis-pneumonia", "strong");
    let at = "2026-11-24T20:00:00.000Z";
    let json = export_file(&s, ExportKind::Json, at);
    assert_eq!(json.name, "bedside-sepsis-pneumonia-enc-42.json");
    let e = EncounterExport::from_json(&json.contents).unwrap();
    assert_eq!(e.exported_at, at);
    assert_eq!(e.roles.patient, "scripted");
    assert!(e.app.is_none(), "no LLM calls, no app attachment");
    let medsp = export_file(&s, ExportKind::MedSp, at);
    let r: FrozenResult = serde_json::from_str(&medsp.contents).unwrap();
    assert_eq!(r.score_summary, r.summary_from_items());
    let items = export_file(&s, ExportKind::ItemsCsv, at);
    assert_eq!(
        items.contents.matches("\r\n").count(),
        1 + s.encounter.case().rubric.len() + 1,
        "header + one row per item, the environment's safety item included (no field holds a line break here)"
    );
    let enc = export_file(&s, ExportKind::EncounterCsv, at);
    assert!(enc.name.ends_with("-encounter.csv"));
    assert_eq!(enc.contents.lines().count(), 2);
}

#[test]
fn llm_calls_and_voiced_lines_travel_in_the_export() {
    let mut s = played("sepsis-pneumonia", "weak");
    s.saved.voiced.insert(3, "Voiced by a model.".into());
    s.saved.patient_voice = "openai-compatible / smollm2".into();
    let e = EncounterExport::from_json(&export_file(&s, ExportKind::Json, "t").contents).unwrap();
    assert_eq!(e.roles.patient, "openai-compatible / smollm2");
    let app = e.app.unwrap();
    assert_eq!(app["voiced_lines"]["3"], "Voiced by a model.");
    assert!(app["llm_exchanges"].as_array().unwrap().is_empty());
}

#[test]
fn explanations_name_orders_as_the_catalog_does() {
    use bedside::app::results::humanize;
    let c = catalog();
    assert_eq!(
        humanize(
            "`aspirin` was never ordered; fact `no_pde5_inhibitor` was never elicited",
            &c
        ),
        "“Aspirin” was never ordered; fact no pde5 inhibitor was never elicited"
    );
    assert_eq!(humanize("no ids here", &c), "no ids here");
    assert_eq!(humanize("odd ` backtick", &c), "odd ` backtick");
    let s = played("acs-inferior-stemi", "weak");
    let d = debrief_of(&s);
    assert!(
        d.scorecard.items.iter().all(|i| !i.why.contains('`')),
        "no raw ids left"
    );
    let cath_lab = d
        .expectations
        .iter()
        .find(|e| e.item == "sbp_cath_lab")
        .unwrap();
    assert_eq!(
        cath_lab.what,
        c.get("cath_lab_activation").unwrap().name,
        "an expectation never met still shows the order's name"
    );
}

#[test]
fn transcripts_say_you_to_a_trainee_and_name_a_model_clinician() {
    use bedside::app::view::{session_rows, RowKind};
    let (lib, _) = Library::builtin(&catalog());
    let case = lib.get("acs-inferior-stemi").unwrap();
    let speak = || Input::from_play_line(r#"{"speak": "Hello, what brings you in?"}"#).unwrap();
    let mut human = Session::start(case, catalog(), Config::human(), "h".into(), 0.0);
    human.apply(speak(), 1.0).unwrap();
    let mut model = Session::start(
        case,
        catalog(),
        Config::model("OpenAI-compatible", "SmolLM2"),
        "m".into(),
        0.0,
    );
    model.apply(speak(), 1.0).unwrap();
    let said = |s: &Session| {
        session_rows(s)
            .into_iter()
            .find(|r| r.kind == RowKind::Clinician)
            .unwrap()
    };
    assert_eq!(said(&human).speaker, "You");
    assert_eq!(said(&model).speaker, "Clinician (SmolLM2)");
    // Voiced lines replace the scripted text, by log seq.
    let answer = session_rows(&model)
        .into_iter()
        .find(|r| r.kind == RowKind::Patient)
        .unwrap();
    model
        .saved
        .voiced
        .insert(answer.seq, "Voiced answer.".into());
    assert!(session_rows(&model)
        .iter()
        .any(|r| r.seq == answer.seq && r.text == "Voiced answer."));
}

#[test]
fn the_history_shows_each_encounters_scores() {
    use bedside::app::results::score_label;
    let s = played("sepsis-pneumonia", "weak");
    let (lib, _) = Library::builtin(&catalog());
    let o = scorecard(&s).scores().overall;
    let label = score_label(&s.saved, &lib, catalog());
    assert_eq!(
        label,
        format!(
            "{:.0}% ({}/{} items) · points {:.0}%",
            o.completion_ratio.unwrap() * 100.0,
            o.expected_met,
            o.expected_scored,
            o.points_ratio.unwrap() * 100.0
        )
    );
    let mut missing = s.saved.clone();
    missing.case_id = "no-such-case".into();
    assert!(score_label(&missing, &lib, catalog()).starts_with("cannot be scored"));
}
