//! Rubric scoring: every rule kind table-driven over a small case (edge cases included), judge
//! runs and overrides, the two scores' formulas, and the shipped cases' strong and weak plays
//! against the scores recorded in `tests/fixtures/scores.json`.

use std::sync::Arc;

use bedside::engine::case::{Actor, Case, Competency, Fact, FactCategory, RubricItem};
use bedside::engine::encounter::{Config, Encounter, Input};
use bedside::engine::score::{
    check_judge, score, score_named, JudgeRun, JudgeVerdict, Mark, Outcome, Override, ScoredBy,
};
use serde::{Deserialize, Serialize};

use crate::support::{case_paths, catalog, load, root};

/// The minimal fixture case with a family member who alone knows one fact.
fn base_case() -> Case {
    let mut c = (*load(&root().join("tests/fixtures/minimal-case.json"))).clone();
    c.actors = vec![Actor {
        id: "son".into(),
        name: "Sam".into(),
        role: "son".into(),
        persona: "Worried.".into(),
        present_at_start: true,
        arrival_line: None,
        non_answers: vec![],
    }];
    c.facts.push(Fact {
        id: "collapse".into(),
        category: FactCategory::Hpi,
        speakers: vec!["son".into()],
        answer: "He went grey and slumped in his chair before we came.".into(),
        triggers: vec!["did he faint".into(), "pass out".into()],
        key: true,
        negative: false,
        ask: None,
    });
    c
}

fn item(id: &str, competency: Competency, weight: f64, rule: Option<&str>) -> RubricItem {
    RubricItem {
        id: id.into(),
        competency,
        text: format!("item {id}"),
        weight,
        critical: false,
        rule: rule.map(|r| serde_json::from_str(r).unwrap_or_else(|e| panic!("{id}: {e}"))),
        rationale: None,
        reference: None,
    }
}

fn play(case: &Case, lines: &[&str]) -> Encounter {
    let mut enc = Encounter::new(Arc::new(case.clone()), catalog(), Config::human());
    for line in lines {
        let input = Input::from_play_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        enc.apply(input).unwrap_or_else(|e| panic!("{line}: {e:?}"));
    }
    enc
}

struct Row {
    name: &'static str,
    rule: &'static str,
    play: &'static [&'static str],
    met: bool,
    /// Substring of the verdict's explanation.
    why: &'static str,
    /// Turns of the evidence, in order.
    evidence_turns: &'static [u32],
}

const TALK_INTRO: &str =
    r#"{"speak": "Hello, I'm Dr Kaur, one of the doctors. When did it start?", "actions": []}"#;

#[test]
fn every_rule_kind_with_edge_cases() {
    let rows = [
        Row {
            name: "done: ordered",
            rule: r#"{"done": {"order": "ecg_12_lead"}}"#,
            play: &[r#"{"speak": "", "actions": ["12 lead ECG"]}"#],
            met: true,
            why: "12-lead ECG",
            evidence_turns: &[1],
        },
        Row {
            name: "done: never ordered",
            rule: r#"{"done": {"order": "ecg_12_lead"}}"#,
            play: &[TALK_INTRO],
            met: false,
            why: "12-lead ECG not done",
            evidence_turns: &[],
        },
        Row {
            name: "done: exactly at the deadline counts",
            rule: r#"{"done": {"order": "ecg_12_lead", "by_minute": 10}}"#,
            play: &[r#"{"wait": 10}"#, r#"{"speak": "", "actions": ["ecg"]}"#],
            met: true,
            why: "at 10:00",
            evidence_turns: &[1],
        },
        Row {
            name: "done: a minute late",
            rule: r#"{"done": {"order": "ecg_12_lead", "by_minute": 10}}"#,
            play: &[r#"{"wait": 11}"#, r#"{"speak": "", "actions": ["ecg"]}"#],
            met: false,
            why: "12-lead ECG done at 11:00, late (due by 10:00)",
            evidence_turns: &[1],
        },
        Row {
            name: "done twice: a wrong dose then the right one is met by the second",
            rule: r#"{"done": {"order": "aspirin", "dose": {"min": 160, "max": 325, "unit": "mg"}}}"#,
            play: &[
                r#"{"speak": "", "actions": ["aspirin 75 mg PO"]}"#,
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
            ],
            met: true,
            why: "Aspirin",
            evidence_turns: &[2],
        },
        Row {
            name: "dose wrong",
            rule: r#"{"done": {"order": "aspirin", "dose": {"min": 160, "max": 325, "unit": "mg"}}}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin 75 mg PO"]}"#],
            met: false,
            why: "75 mg",
            evidence_turns: &[1],
        },
        Row {
            name: "dose in another unit converts",
            rule: r#"{"done": {"order": "aspirin", "dose": {"min": 160, "max": 325, "unit": "mg"}}}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin 0.3 g PO"]}"#],
            met: true,
            why: "Aspirin",
            evidence_turns: &[1],
        },
        Row {
            name: "a dose per kilogram reads against an absolute range with the case weight",
            // The base case weighs 70 kg: 30 mL/kg is 2.1 L (Surviving Sepsis Campaign 2021).
            rule: r#"{"done": {"order": "lr_bolus", "dose": {"min": 2000, "max": 3000, "unit": "mL"}}}"#,
            play: &[r#"{"speak": "", "actions": ["iv access", "hartmann's 30 ml/kg iv"]}"#],
            met: true,
            why: "Lactated",
            evidence_turns: &[1],
        },
        Row {
            name: "potassium in mmol reads as mEq",
            rule: r#"{"done": {"order": "potassium_chloride", "dose": {"min": 10, "max": 40, "unit": "mEq"}}}"#,
            play: &[r#"{"speak": "", "actions": ["iv access", "kcl 20 mmol iv"]}"#],
            met: true,
            why: "Potassium",
            evidence_turns: &[1],
        },
        Row {
            name: "dose missing when one is required",
            rule: r#"{"done": {"order": "aspirin", "dose": {"min": 160, "max": 325, "unit": "mg"}}}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin"]}"#],
            met: false,
            why: "dose",
            evidence_turns: &[1],
        },
        Row {
            name: "route wrong",
            rule: r#"{"done": {"order": "aspirin", "route": ["PO"]}}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin 300 mg PR"]}"#],
            met: false,
            why: "route PR is not PO",
            evidence_turns: &[1],
        },
        Row {
            name: "done twice: a repeat dose",
            rule: r#"{"done": {"order": "aspirin", "times": 2}}"#,
            play: &[
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
            ],
            met: true,
            why: "Aspirin 300 mg PO given at 0:00 and 1:00",
            evidence_turns: &[1, 2],
        },
        Row {
            name: "done twice required, once done",
            rule: r#"{"done": {"order": "aspirin", "times": 2}}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#],
            met: false,
            why: "1 time(s) of the 2 required",
            evidence_turns: &[1],
        },
        Row {
            name: "done twice required, the second with the wrong dose",
            rule: r#"{"done": {"order": "aspirin", "times": 2, "dose": {"min": 160, "max": 325, "unit": "mg"}}}"#,
            play: &[
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
                r#"{"speak": "", "actions": ["aspirin 75 mg PO"]}"#,
            ],
            met: false,
            why: "1 time(s) of the 2 required",
            evidence_turns: &[1],
        },
        Row {
            name: "before: in order",
            rule: r#"{"before": {"first": "ecg_12_lead", "then": "aspirin"}}"#,
            play: &[
                r#"{"speak": "", "actions": ["ecg"]}"#,
                r#"{"speak": "", "actions": ["aspirin 300 mg"]}"#,
            ],
            met: true,
            why: "before",
            evidence_turns: &[1, 2],
        },
        Row {
            name: "before: the wrong way round",
            rule: r#"{"before": {"first": "ecg_12_lead", "then": "aspirin"}}"#,
            play: &[
                r#"{"speak": "", "actions": ["aspirin 300 mg"]}"#,
                r#"{"speak": "", "actions": ["ecg"]}"#,
            ],
            met: false,
            why: "came after",
            evidence_turns: &[2, 1],
        },
        Row {
            name: "before: same turn keeps the typed order",
            rule: r#"{"before": {"first": "ecg_12_lead", "then": "aspirin"}}"#,
            play: &[r#"{"speak": "", "actions": ["ecg", "aspirin 300 mg"]}"#],
            met: true,
            why: "before",
            evidence_turns: &[1, 1],
        },
        Row {
            name: "elicited from the patient",
            rule: r#"{"elicited": "onset"}"#,
            play: &[TALK_INTRO],
            met: true,
            why: "— Test Patient answered",
            evidence_turns: &[1],
        },
        Row {
            name: "elicited from a family member's answer",
            rule: r#"{"elicited": "collapse"}"#,
            play: &[r#"{"speak": "Did he pass out at all?", "actions": []}"#],
            met: true,
            why: "— Sam (son) answered",
            evidence_turns: &[1],
        },
        Row {
            name: "not elicited",
            rule: r#"{"elicited": "smoking"}"#,
            play: &[TALK_INTRO],
            met: false,
            why: "Not asked",
            evidence_turns: &[],
        },
        Row {
            name: "said: built-in set",
            rule: r#"{"said": {"set": "introduction"}}"#,
            play: &[TALK_INTRO],
            met: true,
            why: "Said at 0:00: “H",
            evidence_turns: &[1],
        },
        Row {
            name: "said: a paraphrase of the set",
            rule: r#"{"said": {"set": "introduction"}}"#,
            play: &[
                r#"{"speak": "Hi there, my name is Priya and I'm the junior doctor.", "actions": []}"#,
            ],
            met: true,
            why: "Said at 0:00: “H",
            evidence_turns: &[1],
        },
        Row {
            name: "said: too late",
            rule: r#"{"said": {"set": "introduction", "by_minute": 1}}"#,
            play: &[r#"{"wait": 2}"#, TALK_INTRO],
            met: false,
            why: "by 1:00",
            evidence_turns: &[],
        },
        Row {
            name: "said: custom phrases",
            rule: r#"{"said": {"phrases": ["call the cardiologist"]}}"#,
            play: &[r#"{"speak": "I will call the cardiologist now.", "actions": []}"#],
            met: true,
            why: "call the cardiologist",
            evidence_turns: &[1],
        },
        Row {
            name: "never: not done",
            rule: r#"{"never": "alteplase"}"#,
            play: &[TALK_INTRO],
            met: true,
            why: "Alteplase (tPA) not given",
            evidence_turns: &[],
        },
        Row {
            name: "never: done",
            rule: r#"{"never": "alteplase"}"#,
            play: &[r#"{"speak": "", "actions": ["iv access", "alteplase"]}"#],
            met: false,
            why: "Alteplase",
            evidence_turns: &[1],
        },
        Row {
            name: "diagnosis: synonym of an accepted one",
            rule: r#"{"diagnosis": {}}"#,
            play: &[
                r#"{"end": {"diagnosis": "Inferior ST-elevation myocardial infarction", "plan": "PCI"}}"#,
            ],
            met: true,
            why: "matches",
            evidence_turns: &[0],
        },
        Row {
            name: "diagnosis: wrong",
            rule: r#"{"diagnosis": {}}"#,
            play: &[r#"{"end": {"diagnosis": "Pneumonia", "plan": "antibiotics"}}"#],
            met: false,
            why: "not among the accepted",
            evidence_turns: &[],
        },
        Row {
            name: "diagnosis: none given",
            rule: r#"{"diagnosis": {}}"#,
            play: &[TALK_INTRO],
            met: false,
            why: "no final diagnosis",
            evidence_turns: &[],
        },
        Row {
            name: "phase reached through an event",
            rule: r#"{"phase": "treated"}"#,
            play: &[r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#],
            met: true,
            why: "The stage “Treated” reached at 0:00",
            evidence_turns: &[1],
        },
        Row {
            name: "phase not reached",
            rule: r#"{"phase": "treated"}"#,
            play: &[TALK_INTRO],
            met: false,
            why: "The stage “Treated” was not reached",
            evidence_turns: &[],
        },
        Row {
            name: "said after a phase: said before it does not count",
            rule: r#"{"said": {"phrases": ["any questions"], "after": {"phase": "treated"}}}"#,
            play: &[
                r#"{"speak": "Any questions?", "actions": []}"#,
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
            ],
            met: false,
            why: "before the stage “Treated” began; it counts only after",
            evidence_turns: &[1],
        },
        Row {
            name: "said after a phase: said after it counts",
            rule: r#"{"said": {"phrases": ["any questions"], "after": {"phase": "treated"}}}"#,
            play: &[
                r#"{"speak": "Any questions?", "actions": []}"#,
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
                r#"{"speak": "Any questions now?", "actions": []}"#,
            ],
            met: true,
            why: "Said at",
            evidence_turns: &[3],
        },
        Row {
            name: "said after a phase never reached",
            rule: r#"{"said": {"phrases": ["any questions"], "after": {"phase": "treated"}}}"#,
            play: &[r#"{"speak": "Any questions?", "actions": []}"#],
            met: false,
            why: "but the stage “Treated” was never reached",
            evidence_turns: &[1],
        },
        Row {
            name: "said before an order: the same turn counts, a later one does not",
            rule: r#"{"said": {"phrases": ["any questions"], "before": {"done": "aspirin"}}}"#,
            play: &[
                r#"{"speak": "", "actions": ["aspirin 300 mg PO"]}"#,
                r#"{"speak": "Any questions?", "actions": []}"#,
            ],
            met: false,
            why: "after Aspirin was given",
            evidence_turns: &[2],
        },
        Row {
            name: "all: one part missing",
            rule: r#"{"all": [{"elicited": "onset"}, {"done": {"order": "ecg_12_lead"}}]}"#,
            play: &[TALK_INTRO],
            met: false,
            why: "12-lead ECG not done",
            evidence_turns: &[],
        },
        Row {
            name: "all: both, evidence from both",
            rule: r#"{"all": [{"elicited": "onset"}, {"done": {"order": "ecg_12_lead"}}]}"#,
            play: &[TALK_INTRO, r#"{"speak": "", "actions": ["ecg"]}"#],
            met: true,
            why: "; 12-lead ECG done at",
            evidence_turns: &[1, 2],
        },
        Row {
            name: "any: the second alternative",
            rule: r#"{"any": [{"done": {"order": "clopidogrel"}}, {"done": {"order": "ticagrelor"}}]}"#,
            play: &[r#"{"speak": "", "actions": ["ticagrelor 180 mg"]}"#],
            met: true,
            why: "Ticagrelor",
            evidence_turns: &[1],
        },
        Row {
            name: "not",
            rule: r#"{"not": {"done": {"order": "ecg_12_lead"}}}"#,
            play: &[r#"{"speak": "", "actions": ["ecg"]}"#],
            met: false,
            why: "12-lead ECG done at 0:00",
            evidence_turns: &[1],
        },
    ];
    let mut failures = Vec::new();
    for row in &rows {
        let mut c = base_case();
        c.rubric = vec![item("x", Competency::PC, 1.0, Some(row.rule))];
        let enc = play(&c, row.play);
        let card = score_named(&c, Some(&catalog()), &enc.state().clone(), None, &[]);
        let r = &card.items[0];
        let turns: Vec<u32> = r.evidence.iter().map(|e| e.turn).collect();
        let ok = (r.outcome == Outcome::Met) == row.met
            && r.why.contains(row.why)
            && turns == row.evidence_turns
            && r.scored_by == ScoredBy::Rule;
        if !ok {
            failures.push(format!(
                "{}: got {:?}, why {:?}, evidence turns {turns:?}; expected met={}, why containing {:?}, turns {:?}",
                row.name, r.outcome, r.why, row.met, row.why, row.evidence_turns
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    println!("{} rule rows", rows.len());
}

fn scoring_case() -> Case {
    let mut c = base_case();
    c.rubric = vec![
        RubricItem {
            critical: true,
            ..item(
                "ecg",
                Competency::PC,
                2.0,
                Some(r#"{"done": {"order": "ecg_12_lead", "by_minute": 10}}"#),
            )
        },
        item(
            "asa",
            Competency::PC,
            1.0,
            Some(r#"{"done": {"order": "aspirin"}}"#),
        ),
        item(
            "intro",
            Competency::ICS,
            1.0,
            Some(r#"{"said": {"set": "introduction"}}"#),
        ),
        item(
            "harm_tpa",
            Competency::PC,
            -2.0,
            Some(r#"{"done": {"order": "alteplase"}}"#),
        ),
        item("judge_explain", Competency::ICS, 1.0, None),
        item("judge_prof", Competency::PROF, 1.0, None),
    ];
    c
}

#[test]
fn scores_follow_both_formulas_and_skip_unscored_items() {
    let c = scoring_case();
    // ECG on time, aspirin, introduction; and the harm: alteplase.
    let enc = play(
        &c,
        &[
            TALK_INTRO,
            r#"{"speak": "", "actions": ["ecg", "aspirin 300 mg", "iv access", "alteplase"]}"#,
        ],
    );
    let card = score(&c, enc.state(), None, &[]);
    let s = card.scores();
    let o = &s.overall;
    assert_eq!(
        (o.items, o.not_scored),
        (7, 2),
        "two judge items not scored; the environment's safety item is scored like a rule"
    );
    assert_eq!((o.expected_met, o.expected_scored), (3, 3));
    assert_eq!(
        o.completion_ratio,
        Some(1.0),
        "harms don't enter completion"
    );
    // The case's tPA harm, and the environment's gross-overdose item (avoided).
    assert_eq!((o.harms_done, o.harms_scored), (1, 2));
    // points: 2 + 1 + 1 - 2 = 2 over positive weights scored 2 + 1 + 1 = 4.
    assert_eq!((o.points, o.points_possible), (2.0, 4.0));
    assert_eq!(o.points_ratio, Some(0.5));
    assert_eq!(s.critical_failures, vec!["harm_tpa".to_string()]);
    let pc = &s.by_competency[0];
    assert_eq!(pc.competency, Competency::PC);
    assert_eq!((pc.tally.points, pc.tally.points_possible), (1.0, 3.0));
    let prof = s
        .by_competency
        .iter()
        .find(|t| t.competency == Competency::PROF)
        .unwrap();
    assert_eq!(
        prof.tally.completion_ratio, None,
        "PROF has only a judge item"
    );
    assert_eq!(card.item("harm_tpa").unwrap().mark(), Mark::Harm);

    // A weak run: nothing done; the critical ECG is missed and listed first.
    let weak = play(&c, &[r#"{"wait": 12}"#]);
    let card = score(&c, weak.state(), None, &[]);
    let s = card.scores();
    assert_eq!(s.overall.completion_ratio, Some(0.0));
    assert_eq!(s.overall.points_ratio, Some(0.0));
    assert_eq!(s.critical_failures, vec!["ecg".to_string()]);
    assert_eq!(card.debrief_order()[0].id, "ecg");
    assert_eq!(card.item("harm_tpa").unwrap().mark(), Mark::Avoided);
}

fn verdict(item: &str, met: bool, evidence: &str) -> JudgeVerdict {
    JudgeVerdict {
        item: item.into(),
        met,
        evidence: evidence.into(),
    }
}

#[test]
fn judge_runs_must_answer_every_judge_item_exactly_once() {
    let c = scoring_case();
    let run = |verdicts| JudgeRun {
        model: "test / judge".into(),
        prompt_version: "1".into(),
        verdicts,
    };
    let err = check_judge(&c, &run(vec![verdict("judge_explain", true, "")])).unwrap_err();
    assert_eq!(err.missing, vec!["judge_prof"]);
    let err = check_judge(
        &c,
        &run(vec![
            verdict("judge_explain", true, ""),
            verdict("judge_explain", false, ""),
            verdict("judge_prof", true, ""),
            verdict("asa", true, ""),
            verdict("made_up", true, ""),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.duplicate, vec!["judge_explain"]);
    assert_eq!(
        err.unknown,
        vec!["asa", "made_up"],
        "rule items are not judged"
    );
    assert!(err.missing.is_empty());
    let text = err.to_string();
    assert!(
        text.contains("more than one verdict for judge_explain"),
        "{text}"
    );

    // A bad run is refused by `score` too: the items stay not scored, never "not met".
    let enc = play(&c, &[TALK_INTRO]);
    let bad = run(vec![verdict("judge_explain", true, "")]);
    let card = score(&c, enc.state(), Some(&bad), &[]);
    assert_eq!(
        card.item("judge_explain").unwrap().outcome,
        Outcome::NotScored
    );
    assert!(card.judge.is_none());

    // A good run scores them, anchors quotes found in the transcript and keeps the judge.
    let good = run(vec![
        verdict("judge_prof", false, ""),
        verdict("judge_explain", true, "\"I'm Dr Kaur\""),
    ]);
    check_judge(&c, &good).unwrap();
    let card = score(&c, enc.state(), Some(&good), &[]);
    let explain = card.item("judge_explain").unwrap();
    assert_eq!(
        (explain.outcome, explain.scored_by),
        (Outcome::Met, ScoredBy::Judge)
    );
    assert_eq!(explain.evidence.len(), 1, "quote located in turn 1");
    assert_eq!(explain.evidence[0].turn, 1);
    assert_eq!(card.item("judge_prof").unwrap().outcome, Outcome::NotMet);
    assert_eq!(card.scores().overall.not_scored, 0);
    assert_eq!(card.judge.as_ref().unwrap().model, "test / judge");
}

#[test]
fn educator_overrides_are_recorded_and_the_last_one_wins() {
    let c = scoring_case();
    let enc = play(&c, &[TALK_INTRO]);
    let ov = |item: &str, met: Option<bool>, note: &str| Override {
        item: item.into(),
        met,
        by: "Dr Educator".into(),
        note: note.into(),
        at: "2026-11-24T10:00".into(),
    };
    let overrides = vec![
        ov("asa", Some(true), "gave it verbally to the nurse"),
        ov("judge_prof", Some(true), "was courteous throughout"),
        ov("intro", Some(false), "first"),
        ov("intro", None, "changed my mind"),
    ];
    let card = score(&c, enc.state(), None, &overrides);
    let asa = card.item("asa").unwrap();
    assert_eq!(asa.outcome, Outcome::Met);
    assert_eq!(asa.automatic, Outcome::NotMet, "the rule's verdict is kept");
    assert_eq!(asa.scored_by, ScoredBy::Educator);
    assert_eq!(
        asa.overridden.as_ref().unwrap().note,
        "gave it verbally to the nurse"
    );
    let prof = card.item("judge_prof").unwrap();
    assert_eq!(
        (prof.outcome, prof.automatic),
        (Outcome::Met, Outcome::NotScored)
    );
    let intro = card.item("intro").unwrap();
    assert_eq!(
        (intro.outcome, intro.scored_by),
        (Outcome::Met, ScoredBy::Rule),
        "a cleared override returns the automatic outcome"
    );
    assert_eq!(
        card.overrides.len(),
        4,
        "the audit trail keeps every override"
    );
    assert_eq!(card.scores().overall.not_scored, 1, "judge_explain only");
}

/// The recorded scores of a shipped case's strong and weak plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlayScores {
    expected_met: u32,
    expected_scored: u32,
    harms_done: u32,
    points: f64,
    points_possible: f64,
    not_scored: u32,
    /// Missed expected items and harms done, by id.
    missed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CaseScores {
    strong: PlayScores,
    weak: PlayScores,
}

fn play_scores(c: &Arc<Case>, file: &str) -> PlayScores {
    let text = std::fs::read_to_string(root().join("tests/fixtures/plays").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if enc.is_ended() {
            break;
        }
        let input = Input::from_play_line(line).unwrap_or_else(|e| panic!("{file}: {e}"));
        // A closing encounter takes only the end form.
        if enc.takes(&input) {
            enc.apply(input).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        }
    }
    let card = score(c, enc.state(), None, &[]);
    let o = card.scores().overall;
    PlayScores {
        expected_met: o.expected_met,
        expected_scored: o.expected_scored,
        harms_done: o.harms_done,
        points: o.points,
        points_possible: o.points_possible,
        not_scored: o.not_scored,
        missed: card
            .items
            .iter()
            .filter(|i| matches!(i.mark(), Mark::Missed | Mark::Harm))
            .map(|i| i.id.clone())
            .collect(),
    }
}

/// Every shipped case, played by its scripted strong and weak clinicians, scores what
/// `tests/fixtures/scores.json` records (rule items only; judge items are not scored offline).
/// The strong play completes at least 80% of the rule items and commits no harm; the weak play
/// completes under half. Regenerate the file with `BEDSIDE_BLESS=1` after an intended change,
/// and review the diff: it is the documentation of what each play earns.
#[test]
fn shipped_cases_score_as_recorded() {
    let path = root().join("tests/fixtures/scores.json");
    let mut got = std::collections::BTreeMap::new();
    for p in case_paths() {
        let c = load(&p);
        let id = c.meta.id.clone();
        let strong = play_scores(&c, &format!("{id}.strong.jsonl"));
        let weak = play_scores(&c, &format!("{id}.weak.jsonl"));
        let ratio = |s: &PlayScores| s.expected_met as f64 / s.expected_scored.max(1) as f64;
        assert!(
            ratio(&strong) >= 0.8,
            "{id}: strong play completes {:.2} of rule items (missed {:?})",
            ratio(&strong),
            strong.missed
        );
        assert_eq!(strong.harms_done, 0, "{id}: strong play does harm");
        assert!(
            ratio(&weak) < 0.5,
            "{id}: weak play completes {:.2}",
            ratio(&weak)
        );
        got.insert(id, CaseScores { strong, weak });
    }
    let json = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("BEDSIDE_BLESS").is_some() {
        std::fs::write(&path, &json).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BEDSIDE_BLESS=1)", path.display()));
    let want: std::collections::BTreeMap<String, CaseScores> = serde_json::from_str(&want).unwrap();
    for (id, g) in &got {
        assert_eq!(Some(g), want.get(id), "{id}: scores changed");
    }
    assert_eq!(got.len(), want.len(), "cases added or removed");
}
