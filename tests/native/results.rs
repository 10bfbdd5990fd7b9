//! The debrief page's data path (`app::results`): scorecards from a saved session with its
//! judge run and overrides, override bookkeeping, and the four export files.

use bedside::app::history::score_label;
use bedside::app::library::Library;
use bedside::app::results::{debrief_of, export_file, scorecard, ExportKind};
use bedside::app::session::Session;
use bedside::engine::case::PATIENT;
use bedside::engine::encounter::{Config, Input};
use bedside::engine::export::{EncounterExport, FrozenResult};
use bedside::engine::score::{JudgeRun, JudgeVerdict, Mark, Outcome, ScoredBy};
use bedside::llm::roles::VoicedLine;

use crate::support::{catalog, root};

/// When the play first carried out `order`, in simulated seconds.
fn given_at(s: &Session, order: &str) -> u32 {
    s.encounter()
        .state()
        .actions
        .iter()
        .filter(|a| a.order_id() == Some(order))
        .filter_map(|a| a.done_at())
        .min()
        .unwrap_or_else(|| panic!("{order} was not carried out"))
}

/// A patient line a model voiced in place of log entry `seq`.
fn voiced_line(seq: u32, text: &str) -> VoicedLine {
    VoicedLine {
        seq,
        speaker: PATIENT.into(),
        text: text.into(),
    }
}

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
        if s.encounter().takes(&input) {
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
    assert!(!s.add_override("no_such_item", Some(true), "Dr E", "", "t"));
    assert!(
        s.saved().overrides.is_empty(),
        "nothing recorded for an unknown item"
    );
    assert!(s.add_override("pc_ecg_10min", Some(true), " Dr E ", "seen on video", "t1"));
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
        .encounter()
        .case()
        .rubric
        .iter()
        .filter(|i| i.rule.is_none())
        .map(|i| i.id.clone())
        .collect();
    s.record_judge(JudgeRun {
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
    })
    .expect("a run that answers every judge item once is kept");
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
    let json = export_file(&s, ExportKind::Json, at, None);
    assert_eq!(json.name, "bedside-sepsis-pneumonia-enc-42.json");
    let e = EncounterExport::from_json(&json.contents).unwrap();
    assert_eq!(e.exported_at, at);
    assert_eq!(e.roles.player, None, "no name given, none carried");
    // A trainee's chosen name travels in their export, and names them in a comparison.
    let named = export_file(&s, ExportKind::Json, at, Some("Asha"));
    let named = EncounterExport::from_json(&named.contents).unwrap();
    assert_eq!(named.roles.player.as_deref(), Some("Asha"));
    assert_eq!(bedside::eval::sources::player_of(&named, "Unnamed"), "Asha");
    assert_eq!(bedside::eval::sources::player_of(&e, "Unnamed"), "Unnamed");
    assert_eq!(e.roles.patient, "scripted");
    assert!(e.app.is_none(), "no LLM calls, no app attachment");
    let medsp = export_file(&s, ExportKind::MedSp, at, None);
    let r: FrozenResult = serde_json::from_str(&medsp.contents).unwrap();
    assert_eq!(r.score_summary, r.summary_from_items());
    let items = export_file(&s, ExportKind::ItemsCsv, at, None);
    assert_eq!(
        items.contents.matches("\r\n").count(),
        1 + s.encounter().case().rubric.len() + 1,
        "header + one row per item, the environment's safety item included (no field holds a line break here)"
    );
    let enc = export_file(&s, ExportKind::EncounterCsv, at, None);
    assert!(enc.name.ends_with("-encounter.csv"));
    assert_eq!(enc.contents.lines().count(), 2);
}

#[test]
fn llm_calls_and_voiced_lines_travel_in_the_export() {
    let mut s = played("sepsis-pneumonia", "weak");
    s.voice(
        &[voiced_line(3, "Voiced by a model.")],
        "openai-compatible / smollm2".into(),
    );
    let e =
        EncounterExport::from_json(&export_file(&s, ExportKind::Json, "t", None).contents).unwrap();
    assert_eq!(e.roles.patient, "openai-compatible / smollm2");
    let app = e.app.unwrap();
    assert_eq!(app["voiced_lines"]["3"], "Voiced by a model.");
    assert!(app["llm_exchanges"].as_array().unwrap().is_empty());
}

fn why<'a>(d: &'a bedside::engine::debrief::Debrief, id: &str) -> &'a str {
    &d.scorecard.item(id).unwrap().why
}

#[test]
fn the_chest_pain_debrief_speaks_as_a_clinician_writes() {
    let weak = debrief_of(&played("acs-inferior-stemi", "weak"));
    // The weak play: nitrate at 3:11, no aspirin, the ECG at 14:11, no PDE5 question.
    assert_eq!(why(&weak, "pc_aspirin"), "Aspirin not given (due by 15:00)");
    assert_eq!(
        why(&weak, "pc_ecg_10min"),
        "12-lead ECG done at 14:11, late (due by 10:00)"
    );
    assert_eq!(
        why(&weak, "sbp_cath_lab"),
        "Cath lab activation (interventional cardiology) not requested (due by 20:00)"
    );
    assert_eq!(
        why(&weak, "harm_nitrate"),
        "Nitroglycerin sublingual 0.4 mg SL given at 3:11"
    );
    let pde5 = why(&weak, "mk_nitrate_screen");
    assert!(
        pde5.starts_with("Not asked: Have you taken sildenafil"),
        "{pde5}"
    );
    assert!(pde5.contains("nitrate"), "{pde5}");
    assert_eq!(
        why(&weak, "ics_introduction"),
        "Not said: an introduction by name and role"
    );
    // A missed key fact shows the question to ask, never the patient's answer.
    let fact = weak
        .key_facts
        .iter()
        .find(|f| f.id == "no_pde5_inhibitor")
        .unwrap();
    assert!(fact.elicited.is_none());
    assert!(
        fact.ask.ends_with('?') || fact.ask.contains("?"),
        "{}",
        fact.ask
    );
    assert!(!fact.ask.contains(&fact.answer));
    assert!(!fact.ask.to_lowercase().contains("never taken"));
    let cath_lab = weak
        .expectations
        .iter()
        .find(|e| e.item == "sbp_cath_lab")
        .unwrap();
    assert_eq!(
        cath_lab.what,
        catalog().get("cath_lab_activation").unwrap().name,
        "an expectation never met still shows the order's name"
    );

    let strong_play = played("acs-inferior-stemi", "strong");
    let strong = debrief_of(&strong_play);
    // The time the play gave aspirin, read from its record (talk time moves it).
    let aspirin_at = given_at(&strong_play, "aspirin");
    assert!(
        aspirin_at < 15 * 60,
        "the strong play gives aspirin in time"
    );
    assert_eq!(
        why(&strong, "pc_aspirin"),
        format!(
            "Aspirin 324 mg PO given at {} (due by 15:00)",
            bedside::engine::eval::clock(aspirin_at)
        )
    );
    assert_eq!(
        why(&strong, "mk_p2y12"),
        format!(
            "Ticagrelor 180 mg PO given at {}",
            bedside::engine::eval::clock(given_at(&strong_play, "ticagrelor"))
        )
    );
    let asked = &strong_play.encounter().state().elicited["no_pde5_inhibitor"];
    assert!(why(&strong, "mk_nitrate_screen").starts_with(&format!(
        "Asked at {}: “Have you used Viagra or sildenafil in the last two days?”",
        bedside::engine::eval::clock(asked.time_s)
    )));
    assert_eq!(
        why(&strong, "pc_monitoring"),
        "The stage “Ventricular fibrillation” was not reached"
    );
    // Rationale and reference travel with the item.
    let asa = strong.scorecard.item("pc_aspirin").unwrap();
    assert!(asa.rationale.as_deref().unwrap().contains("mortality"));
    assert!(asa.reference.as_deref().unwrap().contains("ESC 2023"));
}

#[test]
fn evidence_points_at_its_log_entry() {
    use bedside::engine::encounter::EntryKind;
    let s = played("acs-inferior-stemi", "strong");
    let d = debrief_of(&s);
    let log = &s.encounter().record().log;
    let entry = |id: &str| {
        let e = &d.scorecard.item(id).unwrap().evidence[0];
        &log[e.seq.unwrap_or_else(|| panic!("{id}: no seq")) as usize].kind
    };
    assert!(
        matches!(entry("pc_aspirin"), EntryKind::Ordered { raw, .. } if raw.starts_with("aspirin"))
    );
    assert!(
        matches!(entry("ics_introduction"), EntryKind::ClinicianSaid { text } if text.contains("Dr Adeyemi"))
    );
    assert!(
        matches!(entry("mk_nitrate_screen"), EntryKind::ClinicianSaid { text } if text.contains("Viagra"))
    );
}

#[test]
fn a_perception_question_before_the_news_is_not_checking_understanding() {
    let weak = debrief_of(&played("breaking-bad-news", "weak"));
    let item = weak.scorecard.item("ics_check_understanding").unwrap();
    assert_eq!(item.mark(), Mark::Missed);
    assert!(item.why.contains("it counts only after"), "{}", item.why);
    let strong = debrief_of(&played("breaking-bad-news", "strong"));
    assert_eq!(
        strong
            .scorecard
            .item("ics_check_understanding")
            .unwrap()
            .mark(),
        Mark::Met
    );
}

/// Words that betray the engine: ids with underscores, backticks, rule vocabulary.
fn leaks(text: &str, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if text.contains('`') {
        out.push("a backtick".into());
    }
    for w in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if w.contains('_') {
            out.push(format!("snake_case `{w}`"));
        }
    }
    let lower = text.to_lowercase();
    for bad in [
        "phase ",
        "fact ",
        " the set",
        "was never elicited",
        "turn ",
        "not:",
    ] {
        // As a word: "turn 4", not "return".
        let word = lower.match_indices(bad).any(|(at, _)| {
            !lower[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphabetic())
        });
        if word {
            out.push(format!("`{bad}`"));
        }
    }
    for id in ids {
        if (id.contains('_') || id.contains('-')) && text.contains(id.as_str()) {
            out.push(format!("the id `{id}`"));
        }
    }
    out
}

#[test]
fn no_explanation_of_any_shipped_play_leaks_an_internal_id() {
    let (lib, _) = Library::builtin(&catalog());
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in lib.cases() {
        let case = entry.case.clone();
        let mut ids: Vec<String> = case.facts.iter().map(|f| f.id.clone()).collect();
        ids.extend(case.phases.iter().map(|p| p.id.clone()));
        ids.extend(case.rubric.iter().map(|i| i.id.clone()));
        for kind in ["strong", "weak"] {
            let d = debrief_of(&played(&case.meta.id, kind));
            let mut texts: Vec<(String, String)> = Vec::new();
            for i in &d.scorecard.items {
                texts.push((i.id.clone(), i.why.clone()));
                for e in &i.evidence {
                    texts.push((format!("{} evidence", i.id), e.text.clone()));
                }
            }
            for e in &d.expectations {
                texts.push((format!("{} timing", e.item), e.what.clone()));
            }
            for f in &d.key_facts {
                texts.push((format!("{} ask", f.id), f.ask.clone()));
            }
            for (what, text) in texts {
                checked += 1;
                for l in leaks(&text, &ids) {
                    problems.push(format!("{} {kind}, {what}: {l} in {text:?}", case.meta.id));
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Alternatives are explained once per side, not pair by pair: no clause of an item's
/// explanation is repeated, and a clause after a semicolon does not restart a sentence.
#[test]
fn explanations_of_alternatives_name_each_order_once() {
    let (lib, _) = Library::builtin(&catalog());
    let mut problems = Vec::new();
    for entry in lib.cases() {
        for kind in ["strong", "weak"] {
            let d = debrief_of(&played(&entry.case.meta.id, kind));
            for i in &d.scorecard.items {
                let mut seen = std::collections::BTreeSet::new();
                let parts = i
                    .why
                    .replace("; ", "\u{1}")
                    .replace(": ", "\u{1}")
                    .replace(", ", "\u{1}");
                for part in parts.split('\u{1}') {
                    let part = part.trim();
                    if part.len() > 3 && !seen.insert(part.to_string()) {
                        problems.push(format!(
                            "{} {kind} {}: {part:?} twice in {:?}",
                            entry.case.meta.id, i.id, i.why
                        ));
                    }
                }
                for restart in ["; None ", "; The ", "; Not "] {
                    if i.why.contains(restart) {
                        problems.push(format!(
                            "{} {kind} {}: {restart:?} in {:?}",
                            entry.case.meta.id, i.id, i.why
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // Cultures before any antibiotic, none of either (the sepsis weak play gives only oral
    // amoxicillin, which is not on the list): each side said once.
    let d = debrief_of(&played("sepsis-pneumonia", "weak"));
    let why = &d
        .scorecard
        .items
        .iter()
        .find(|i| i.id == "pc_cultures_before_antibiotics")
        .expect("item")
        .why;
    assert_eq!(why.matches("Blood cultures").count(), 1, "{why}");
    assert!(
        why.contains("Ceftriaxone") && why.ends_with("not given"),
        "{why}"
    );
    // Thrombolysis without blood pressure treatment first (stroke weak play).
    let d = debrief_of(&played("stroke-thrombolysis", "weak"));
    let why = &d
        .scorecard
        .items
        .iter()
        .find(|i| i.id == "pc_bp_before_lysis")
        .expect("item")
        .why;
    assert_eq!(why.matches("Labetalol").count(), 1, "{why}");
    assert!(why.contains("not given before it"), "{why}");
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
    model.voice(
        &[voiced_line(answer.seq, "Voiced answer.")],
        "a patient model".into(),
    );
    assert!(session_rows(&model)
        .iter()
        .any(|r| r.seq == answer.seq && r.text == "Voiced answer."));
}

#[test]
fn the_history_shows_each_encounters_scores() {
    let s = played("sepsis-pneumonia", "weak");
    let (lib, _) = Library::builtin(&catalog());
    let o = scorecard(&s).scores().overall;
    let label = score_label(&s.saved(), &lib, catalog());
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
    let mut missing = s.saved();
    missing.case_id = "no-such-case".into();
    assert!(score_label(&missing, &lib, catalog()).starts_with("cannot be scored"));
}

#[test]
fn a_trainee_may_run_the_judge_once_but_only_an_educator_may_replace_its_verdicts() {
    use bedside::app::educator::{judge_offer, JudgeOffer};
    // Nothing to offer without a judge or without items that need one.
    assert_eq!(judge_offer(false, 3, false, true), JudgeOffer::Nothing);
    assert_eq!(judge_offer(true, 0, false, true), JudgeOffer::Nothing);
    // The first run scores unscored items: open to the trainee.
    assert_eq!(judge_offer(true, 3, false, false), JudgeOffer::Score);
    // Running it again replaces verdicts, which changes a score: educator mode only.
    assert_eq!(judge_offer(true, 3, true, false), JudgeOffer::Locked);
    assert_eq!(judge_offer(true, 3, true, true), JudgeOffer::ScoreAgain);
}

#[test]
fn educator_mode_needs_a_name_and_every_override_carries_it() {
    use bedside::app::educator::{educator_footer, educator_name};
    use bedside::app::results::override_label;
    assert_eq!(educator_name("  Dr   Okafor ").unwrap(), "Dr Okafor");
    assert!(educator_name("   ").is_err());
    assert!(educator_name(&"x".repeat(61)).is_err());
    assert_eq!(
        educator_footer("Dr Okafor"),
        "Educator mode: overrides are recorded as made by Dr Okafor."
    );
    assert!(
        !educator_footer(" ").ends_with("by ."),
        "the footer never shows a blank name"
    );

    let mut s = played("acs-inferior-stemi", "weak");
    assert!(
        !s.add_override("sbp_cath_lab", Some(true), "  ", "", "t"),
        "an override without a name is refused"
    );
    assert!(override_label(&scorecard(&s)).is_none());
    assert!(s.add_override("sbp_cath_lab", Some(true), "Dr Okafor", "", "t"));
    assert!(s.add_override("pc_aspirin", Some(true), "Dr Lee", "", "t"));
    assert_eq!(
        override_label(&scorecard(&s)).unwrap(),
        "Overridden by Dr Lee, Dr Okafor (2 items)"
    );
    let (lib, _) = Library::builtin(&catalog());
    let label = score_label(&s.saved(), &lib, catalog());
    assert!(
        label.ends_with(" · Overridden by Dr Lee, Dr Okafor (2 items)"),
        "History marks overridden scores: {label}"
    );
    // Clearing both returns the automatic outcome and the unmarked label.
    s.add_override("sbp_cath_lab", None, "Dr Okafor", "", "t");
    s.add_override("pc_aspirin", None, "Dr Okafor", "", "t");
    assert!(override_label(&scorecard(&s)).is_none());
}

#[test]
fn completion_and_points_say_what_they_count_and_why_they_differ() {
    use bedside::app::results::{competency_legend, scores_explained};
    use bedside::engine::score::Tally;
    // The weak chest-pain play: one item met of 15, and the nitrate given (a harm of weight -2).
    let weak = scorecard(&played("acs-inferior-stemi", "weak"))
        .scores()
        .overall;
    let (what, differs) = scores_explained(&weak);
    assert!(what.starts_with("Completion counts the expected items met"));
    assert_eq!(
        differs.unwrap(),
        "Completion 7% but points -7%: 1 harm(s) done cost 2 point(s)."
    );
    // Weights alone: 1 of 2 items met, but the one met carries 3 of 4 points.
    let weighted = Tally {
        expected_scored: 2,
        expected_met: 1,
        completion_ratio: Some(0.5),
        points: 3.0,
        points_possible: 4.0,
        points_ratio: Some(0.75),
        ..Tally::default()
    };
    assert_eq!(
        scores_explained(&weighted).1.unwrap(),
        "Completion 50% but points 75%: the items met carry 3 of 4 points by weight."
    );
    // Equal scores need no second line.
    let strong = scorecard(&played("acs-inferior-stemi", "strong"))
        .scores()
        .overall;
    assert_eq!(scores_explained(&strong).1, None);
    let legend = competency_legend();
    assert_eq!(legend.len(), 6);
    assert_eq!(legend[3], ("ICS", "Interpersonal and communication skills"));
    assert_eq!(
        legend[4],
        ("PBLI", "Practice-based learning and improvement")
    );
}

#[test]
fn the_expert_pathway_sets_the_model_play_beside_the_trainees() {
    use bedside::engine::debrief::PathwayTiming;
    let (lib, _) = Library::builtin(&catalog());
    // A case's pathway is its strong play (the test fixture is kept equal to it).
    for entry in lib.cases() {
        let case = &entry.case;
        assert!(
            !case.pathway.is_empty(),
            "{}: every shipped case shows an expert pathway",
            case.meta.id
        );
        let fixture: Vec<serde_json::Value> = std::fs::read_to_string(root().join(format!(
            "tests/fixtures/plays/{}.strong.jsonl",
            case.meta.id
        )))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        let pathway: Vec<serde_json::Value> = case
            .pathway
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .map(|mut v| {
                // The end form's absent disposition serializes as null.
                if let Some(end) = v.get_mut("end").and_then(|e| e.as_object_mut()) {
                    end.retain(|_, x| !x.is_null());
                }
                v
            })
            .collect();
        assert_eq!(
            pathway, fixture,
            "{}: pathway and strong play differ",
            case.meta.id
        );
    }

    let weak = debrief_of(&played("acs-inferior-stemi", "weak"));
    let row = |d: &bedside::engine::debrief::Debrief, name: &str| {
        d.pathway
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };
    let ecg = row(&weak, "12-lead ECG");
    // The expert's time is the strong play's, the trainee's the weak play's.
    let strong_ecg = given_at(&played("acs-inferior-stemi", "strong"), "ecg_12_lead");
    let weak_ecg = given_at(&played("acs-inferior-stemi", "weak"), "ecg_12_lead");
    assert!(
        strong_ecg < 5 * 60 && weak_ecg > 10 * 60,
        "{strong_ecg} / {weak_ecg}"
    );
    assert_eq!(ecg.expert_at_s, Some(strong_ecg));
    assert_eq!(ecg.trainee_at_s, Some(weak_ecg));
    assert_eq!(ecg.timing, PathwayTiming::Late);
    let asa = row(&weak, "Aspirin");
    assert_eq!(asa.timing, PathwayTiming::Missing);
    assert_eq!(asa.expert.as_deref(), Some("Aspirin 324 mg PO"));
    assert_eq!(
        row(&weak, "Nitroglycerin sublingual").timing,
        PathwayTiming::Extra,
        "the nitrate is not on the pathway"
    );
    // The expert's pathway first, in the order the expert carried it out.
    let expert_times: Vec<u32> = weak.pathway.iter().filter_map(|r| r.expert_at_s).collect();
    assert!(expert_times.windows(2).all(|w| w[0] <= w[1]));

    let strong = debrief_of(&played("acs-inferior-stemi", "strong"));
    assert!(strong
        .pathway
        .iter()
        .all(|r| r.timing == PathwayTiming::OnTime));
    // Every shipped case has one: the weak sepsis play is shown what it missed or did late.
    let sepsis = debrief_of(&played("sepsis-pneumonia", "weak"));
    assert!(sepsis
        .pathway
        .iter()
        .any(|r| matches!(r.timing, PathwayTiming::Missing | PathwayTiming::Late)));
}

#[test]
fn a_trainee_name_is_trimmed_bounded_and_plain_text() {
    use bedside::app::compare::{player_name, NAME_MAX};
    assert_eq!(player_name("  Asha Rao "), Ok(Some("Asha Rao".into())));
    assert_eq!(player_name("   "), Ok(None));
    assert!(player_name(&"x".repeat(NAME_MAX + 1)).is_err());
    assert!(
        player_name(&"é".repeat(NAME_MAX)).is_ok(),
        "characters, not bytes"
    );
    assert!(player_name("Asha\nRao").is_err());
}
