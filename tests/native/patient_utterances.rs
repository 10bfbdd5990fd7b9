//! The scripted patient against a corpus of what trainees say (`fixtures/patient_utterances.tsv`,
//! written from each case's clinical story before reading its trigger lists): questions,
//! requests to examine, news, explanations, empathy, reassurance, greetings, closings and
//! instructions, across every shipped case. Reports the share answered right per group and
//! overall, and fails below the floors.

use std::collections::BTreeMap;

use bedside::engine::case::{Case, ReactionKind};
use bedside::engine::encounter::{Config, Encounter, EntryKind, Input, Turn};
use bedside::engine::lexicon::ROS_NEGATIVES;
use bedside::engine::sp::EXAM_HINT;
use bedside::engine::utterance::UtteranceKind;

use crate::support::{case, catalog, root};

/// Overall share answered right that the corpus must reach. The goal is 95% overall and 90%
/// in every group, and the floors are the goal's, raised overall to what the engine honestly
/// reaches (97.1%, 395/407: 92.8% before the tie-break by the rarer trigger words, the
/// third-person questions put to the companion present, the lexicon's additions and facts a
/// companion tells in their own words), so that it cannot slip back. The rows were not tuned to
/// the triggers; one row's expectation was corrected on clinical grounds ("Who is with you
/// today?" asks who is present, not the living situation).
const FLOOR_OVERALL: f64 = 0.965;
/// Share every group must reach.
const FLOOR_GROUP: f64 = 0.90;

struct Row {
    line: usize,
    case: String,
    group: String,
    setup: Vec<String>,
    utterance: String,
    expect: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/patient_utterances.tsv"))
        .expect("corpus");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 5, "line {}: five columns: {l}", i + 1);
            Row {
                line: i + 1,
                case: cols[0].to_string(),
                group: cols[1].to_string(),
                setup: if cols[2] == "-" {
                    vec![]
                } else {
                    cols[2].split(';').map(str::to_string).collect()
                },
                utterance: cols[3].to_string(),
                expect: cols[4].to_string(),
            }
        })
        .collect()
}

fn say(enc: &mut Encounter, words: &str) {
    enc.apply(Input::Turn(Turn {
        speak: words.into(),
        ..Turn::default()
    }))
    .expect("turn");
}

/// What the patient side said to the last utterance: (speaker, text, facts, kind, reaction).
type Line = (
    String,
    String,
    Vec<String>,
    Option<UtteranceKind>,
    Option<String>,
);

fn play(row: &Row) -> (Vec<Line>, bool) {
    let mut enc = Encounter::new(case(&row.case), catalog(), Config::human());
    for step in &row.setup {
        let (what, arg) = step.split_once(':').expect("setup step");
        match what {
            "order" => enc
                .apply(Input::Turn(Turn {
                    actions: vec![arg.to_string()],
                    ..Turn::default()
                }))
                .map(|_| ())
                .expect("order"),
            "say" => say(&mut enc, arg),
            "wait" => enc
                .apply(Input::Wait {
                    minutes: arg.parse().expect("minutes"),
                })
                .map(|_| ())
                .expect("wait"),
            other => panic!("line {}: unknown setup `{other}`", row.line),
        }
    }
    let from = enc.record().log.len();
    say(&mut enc, &row.utterance);
    let mut lines = Vec::new();
    let mut hint = false;
    for e in &enc.record().log[from..] {
        match &e.kind {
            EntryKind::ActorSaid {
                speaker,
                text,
                facts,
                kind,
                reaction,
            } => lines.push((
                speaker.clone(),
                text.clone(),
                facts.clone(),
                *kind,
                reaction.clone(),
            )),
            EntryKind::Notice { text, .. } if text == EXAM_HINT => hint = true,
            _ => {}
        }
    }
    (lines, hint)
}

fn reaction_kind(case: &Case, id: &str) -> Option<ReactionKind> {
    case.reactions.iter().find(|r| r.id == id).map(|r| r.kind)
}

fn kind_name(kind: &str) -> Option<UtteranceKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_string())).ok()
}

/// Whether the reply meets the row's expectation; else why not.
fn judge(row: &Row, lines: &[Line], hint: bool) -> Result<(), String> {
    let c = case(&row.case);
    let facts: Vec<&str> = lines
        .iter()
        .flat_map(|l| l.2.iter().map(String::as_str))
        .collect();
    let (what, arg) = row.expect.split_once(':').unwrap_or((&row.expect, ""));
    let no_facts = || {
        if facts.is_empty() {
            Ok(())
        } else {
            Err(format!("disclosed {facts:?}"))
        }
    };
    match what {
        "facts" => {
            let want: Vec<&str> = arg.split(',').collect();
            if facts == want {
                Ok(())
            } else {
                Err(format!("disclosed {facts:?}, wanted {want:?}"))
            }
        }
        "reaction" => {
            no_facts()?;
            let want: ReactionKind =
                serde_json::from_value(serde_json::Value::String(arg.into())).expect("kind");
            // The case's reaction of that kind, or a line the case's events scripted for
            // these words.
            let ok = lines.iter().any(|l| {
                l.4.as_deref().and_then(|id| reaction_kind(&c, id)) == Some(want)
                    || (l.3.is_none() && l.4.is_none())
            });
            if ok {
                Ok(())
            } else {
                Err(format!("no {arg} reaction"))
            }
        }
        "consent" => {
            no_facts()?;
            if !lines
                .iter()
                .any(|l| l.3 == Some(UtteranceKind::ExamRequest))
            {
                return Err("no consent".into());
            }
            if !hint {
                return Err("no hint that examinations are ordered".into());
            }
            Ok(())
        }
        "ack" => {
            no_facts()?;
            let want = kind_name(arg).expect("utterance kind");
            if lines.iter().any(|l| l.3 == Some(want)) {
                Ok(())
            } else {
                Err(format!("no line answering a {arg}"))
            }
        }
        "negative" => {
            no_facts()?;
            if lines
                .iter()
                .any(|l| ROS_NEGATIVES.iter().any(|(_, n)| *n == l.1))
            {
                Ok(())
            } else {
                Err("no review-of-systems negative".into())
            }
        }
        "people" => {
            no_facts()?;
            let named = lines.iter().any(|l| {
                c.actors.iter().any(|a| {
                    a.name
                        .split_whitespace()
                        .next()
                        .is_some_and(|n| l.1.contains(n))
                })
            });
            if named {
                Ok(())
            } else {
                Err("nobody named".into())
            }
        }
        other => Err(format!("unknown expectation `{other}`")),
    }
}

#[test]
fn the_patient_answers_what_trainees_say() {
    let rows = rows();
    assert!(rows.len() >= 400, "{} rows", rows.len());
    let cases: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.case.as_str()).collect();
    assert_eq!(cases.len(), 11, "every shipped case: {cases:?}");
    let mut per_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for row in &rows {
        let (lines, hint) = play(row);
        let verdict = judge(row, &lines, hint);
        let g = per_group.entry(row.group.as_str()).or_default();
        g.1 += 1;
        match verdict {
            Ok(()) => g.0 += 1,
            Err(why) => {
                let said: Vec<String> = lines.iter().map(|l| format!("{}: {}", l.0, l.1)).collect();
                failures.push(format!(
                    "line {} [{}] {} \"{}\": {why}\n      replied: {}",
                    row.line,
                    row.case,
                    row.group,
                    row.utterance,
                    said.join(" | ")
                ));
            }
        }
    }
    let total: usize = rows.len();
    let right: usize = per_group.values().map(|g| g.0).sum();
    let share = right as f64 / total as f64;
    let mut report = format!("overall {right}/{total} = {:.1}%\n", share * 100.0);
    for (g, (ok, n)) in &per_group {
        report += &format!(
            "  {g:<13} {ok:>3}/{n:<3} = {:.1}%\n",
            *ok as f64 / *n as f64 * 100.0
        );
    }
    eprintln!("{report}");
    if std::env::var_os("BEDSIDE_SHOW_FAILURES").is_some() {
        eprintln!("{}", failures.join("\n"));
    }
    assert!(share >= FLOOR_OVERALL, "{report}\n{}", failures.join("\n"));
    for (g, (ok, n)) in &per_group {
        assert!(
            *ok as f64 / *n as f64 >= FLOOR_GROUP,
            "group {g}: {report}\n{}",
            failures.join("\n")
        );
    }
}

/// The replies to a row's utterance, for the checks below.
fn reply(case_id: &str, setup: &str, utterance: &str) -> (Vec<Line>, bool) {
    play(&Row {
        line: 0,
        case: case_id.into(),
        group: String::new(),
        setup: if setup.is_empty() {
            vec![]
        } else {
            setup.split(';').map(str::to_string).collect()
        },
        utterance: utterance.into(),
        expect: String::new(),
    })
}

fn text(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| l.1.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn facts(lines: &[Line]) -> Vec<String> {
    lines.iter().flat_map(|l| l.2.clone()).collect()
}

/// The rows of issue 11's table, each answered as a trained standardized patient would.
#[test]
fn the_issue_table_is_answered_in_character() {
    let acs = "acs-inferior-stemi";
    // News: a reaction from the case's script, not the medication list.
    let (l, _) = reply(
        acs,
        "",
        "Gary, your ECG shows you're having a heart attack. Do you have any questions?",
    );
    assert!(facts(&l).is_empty(), "{l:?}");
    assert!(text(&l).contains("heart attack"), "{}", text(&l));
    // How the pain is now comes from the state.
    let (before, _) = reply(acs, "", "How's the pain now?");
    let (after, _) = reply(
        acs,
        "order:IV cannula;order:morphine 2.5 mg IV;wait:5",
        "How's the pain now after that injection?",
    );
    assert_eq!(facts(&before), ["pain_now"]);
    assert_eq!(facts(&after), ["pain_now"]);
    assert_ne!(
        text(&before),
        text(&after),
        "the answer follows the morphine"
    );
    // Anyone to call: the wife from the social history.
    let (l, _) = reply(acs, "", "Is there anyone you'd like us to call?");
    assert!(text(&l).contains("Denise"), "{}", text(&l));
    // Consent to an examination, and the hint that examinations are ordered.
    for words in [
        "I'm going to listen to your heart now, is that ok?",
        "listen to heart",
    ] {
        let (l, hint) = reply(acs, "", words);
        assert!(
            l.iter().any(|l| l.3 == Some(UtteranceKind::ExamRequest)),
            "{words}: {l:?}"
        );
        assert!(hint, "{words}: no hint");
        assert!(facts(&l).is_empty());
    }
    // Empathy gets a reaction, not "Okay.".
    let (l, _) = reply(acs, "", "I'm sorry you're going through this");
    assert!(l.iter().any(|l| l.4.is_some()), "{l:?}");
    // A greeting and a question: the question is answered.
    let (l, _) = reply(
        acs,
        "",
        "Hi Gary, I'm one of the doctors. Can you tell me what's been going on today?",
    );
    assert_eq!(facts(&l), ["chief_complaint"]);
    // A family-history question gives the family history only.
    let (l, _) = reply(
        acs,
        "",
        "Has anyone in your family had heart problems, like a heart attack?",
    );
    assert_eq!(facts(&l), ["family_history"]);
    // The gentle, normalising question discloses like the blunt one.
    let (l, _) = reply(
        "suicide-risk-assessment",
        "",
        "Sometimes when people feel this low, they have thoughts of ending their life. Have you had thoughts like that?",
    );
    assert_eq!(facts(&l), ["active_ideation"]);
    // Bad news, the plan and the prognosis: reactions, never the presenting history.
    let bbn = "breaking-bad-news";
    for (words, kind) in [
        ("I'm afraid I have some bad news. It looks like cancer.", ReactionKind::BadNews),
        (
            "The next step is a biopsy to confirm what type it is, and then the oncology team will see you to talk about treatment options.",
            ReactionKind::Plan,
        ),
        (
            "I'm so sorry. We're probably talking about months rather than years.",
            ReactionKind::BadNews,
        ),
    ] {
        let (l, _) = reply(bbn, "", words);
        let c = case(bbn);
        assert!(facts(&l).is_empty(), "{words}: {l:?}");
        assert!(
            l.iter()
                .any(|l| l.4.as_deref().and_then(|id| reaction_kind(&c, id)) == Some(kind)),
            "{words}: {l:?}"
        );
    }
}

/// The strong bad-news play: every piece of news, explanation or empathy gets a reaction in
/// character (scripted by the case's reactions or events), never "Okay." and never history.
#[test]
fn a_bad_news_conversation_gets_reactions_not_history() {
    let c = case("breaking-bad-news");
    let play =
        std::fs::read_to_string(root().join("tests/fixtures/plays/breaking-bad-news.strong.jsonl"))
            .expect("play");
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    let mut checked = 0;
    for line in play.lines().filter(|l| !l.trim().is_empty()) {
        let input = Input::from_play_line(line).expect("play line");
        let Input::Turn(turn) = &input else {
            let _ = enc.apply(input);
            continue;
        };
        let words = turn.speak.clone();
        let from = enc.record().log.len();
        enc.apply(input).expect("turn");
        let kinds: Vec<UtteranceKind> = words
            .split(['.', '!'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| bedside::engine::utterance::classify(s, s.trim_end().ends_with('?')).kind)
            .collect();
        let statement = kinds.iter().any(|k| {
            matches!(
                k,
                UtteranceKind::News | UtteranceKind::Explanation | UtteranceKind::Empathy
            )
        });
        if !statement || words.contains('?') {
            continue;
        }
        let said: Vec<(String, Vec<String>)> = enc.record().log[from..]
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::ActorSaid { text, facts, .. } => Some((text.clone(), facts.clone())),
                _ => None,
            })
            .collect();
        assert!(!said.is_empty(), "no reaction to \"{words}\"");
        for (text, facts) in &said {
            assert_ne!(text, "Okay.", "\"{words}\"");
            assert!(facts.is_empty(), "\"{words}\" disclosed {facts:?}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "{checked} statements checked");
}

/// Unscripted questions get in-character non-answers, never the same one twice in a row; the
/// exam hint is given once per encounter.
#[test]
fn non_answers_vary_and_the_exam_hint_is_given_once() {
    let mut enc = Encounter::new(case("acs-inferior-stemi"), catalog(), Config::human());
    let mut last: Option<String> = None;
    for _ in 0..6 {
        let from = enc.record().log.len();
        say(&mut enc, "What's your favourite football team?");
        let now: Vec<String> = enc.record().log[from..]
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::ActorSaid { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(now.len(), 1, "{now:?}");
        assert_ne!(
            last.as_deref(),
            Some(now[0].as_str()),
            "repeated back to back"
        );
        last = Some(now[0].clone());
    }
    say(&mut enc, "Can I listen to your chest?");
    say(&mut enc, "I'd like to feel your pulses now.");
    let hints = enc
        .record()
        .log
        .iter()
        .filter(|e| matches!(&e.kind, EntryKind::Notice { text, .. } if text == EXAM_HINT))
        .count();
    assert_eq!(hints, 1);
}

/// The LLM patient voices what the engine chose: the reaction's words reach its prompt, and a
/// state-dependent fact is conveyed as answered now.
#[test]
fn the_model_patient_is_told_the_reaction_and_the_current_answer() {
    use bedside::llm::prompts::{patient_cue, PatientReply};
    let c = case("acs-inferior-stemi");
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    say(
        &mut enc,
        "Gary, your ECG shows you're having a heart attack. Do you have any questions?",
    );
    for words in ["", "How's the pain now?"] {
        if !words.is_empty() {
            say(&mut enc, words);
        }
        let e = enc
            .record()
            .log
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EntryKind::ActorSaid { .. }))
            .expect("a reply");
        let reply = PatientReply::of(&e.kind).unwrap();
        let (text, facts, reaction) = (reply.scripted, reply.facts, reply.reaction);
        let prompt = patient_cue(&c, &[], "", &reply);
        let tail = &prompt[prompt.find("This reply is spoken by").expect("reply part")..];
        assert!(tail.contains(text), "{tail}");
        if words.is_empty() {
            assert_eq!(reaction, Some("diagnosis"));
            assert!(tail.contains("react"), "{tail}");
        } else {
            assert_eq!(facts, &["pain_now".to_string()]);
        }
    }
}

/// A companion tells a fact in their own words (a variant by speaker); the patient, once able
/// to answer, tells it in the first person. Either way the same fact is elicited.
#[test]
fn a_companion_tells_the_patients_fact_in_their_own_words() {
    let od = "opioid-overdose";
    let (l, _) = reply(od, "", "Does he live with anyone?");
    assert_eq!(facts(&l), ["living"], "{l:?}");
    assert_eq!(
        l[0].0, "friend",
        "the unconscious patient cannot answer: {l:?}"
    );
    assert!(text(&l).contains("lives with me"), "{}", text(&l));
    let (l, _) = reply(
        od,
        "order:naloxone 400 micrograms IM;wait:5",
        "Marcus, who do you live with?",
    );
    assert_eq!(facts(&l), ["living"], "{l:?}");
    assert_eq!(l[0].0, "patient", "{l:?}");
    assert!(
        text(&l).contains("I share a flat with Kyle"),
        "{}",
        text(&l)
    );
    // A sentence he cannot answer beside one he can: only the answer, no "I don't remember".
    let (l, _) = reply(
        od,
        "order:naloxone 400 micrograms IM;wait:5",
        "Marcus, can you hear me? You're in hospital. Who do you live with?",
    );
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(
        text(&l).starts_with("I share a flat with Kyle"),
        "{}",
        text(&l)
    );
}

/// A variant naming a speaker who does not tell the fact is a load error at its path.
#[test]
fn a_variant_speaker_must_tell_the_fact() {
    let text = std::fs::read_to_string("assets/cases/opioid-overdose.json").unwrap();
    let broken = text.replacen(r#""speaker": "friend","#, r#""speaker": "mother","#, 1);
    assert_ne!(broken, text);
    let err = bedside::engine::load::load_case("opioid-overdose.json", &broken, &catalog())
        .expect_err("an unknown variant speaker is refused");
    let shown = err.to_string();
    assert!(shown.contains(".variants[0].speaker"), "{shown}");
    assert!(shown.contains("\"mother\""), "{shown}");
}

/// A fact variant after one that always applies is never said: the validator warns.
#[test]
fn a_shadowed_fact_variant_is_a_warning() {
    use bedside::engine::case::FactVariant;
    use bedside::engine::lint::case_warnings;
    let mut c = (*case("acs-inferior-stemi")).clone();
    let i = c
        .facts
        .iter()
        .position(|f| f.id == "pain_now")
        .expect("pain_now");
    assert!(case_warnings("acs", &c, &catalog()).items.is_empty());
    c.facts[i].variants.insert(
        0,
        FactVariant {
            phase: None,
            when: None,
            speaker: None,
            answer: "Always this.".into(),
        },
    );
    let w = case_warnings("acs", &c, &catalog());
    assert!(
        w.items
            .iter()
            .any(|d| d.path == format!("$.facts[{i}].variants[1]")),
        "{w}"
    );
}

/// The tie-break by rarer trigger words keeps a list of distinct symptoms whole ("fever or
/// sweating" each name one fact) and narrows a question whose words one fact shares with
/// others ("admitted with his asthma" is about the admissions).
#[test]
fn one_question_gets_the_fact_it_names_most_specifically() {
    let facts = |case_id: &str, said: &str| -> Vec<String> {
        reply(case_id, "", said)
            .0
            .into_iter()
            .flat_map(|l| l.2)
            .collect()
    };
    let both = facts("acs-inferior-stemi", "Any fever or sweating?");
    assert!(
        both.contains(&"no_pleuritic_infective".to_string())
            && both.contains(&"sweating_nausea".to_string()),
        "{both:?}"
    );
    assert_eq!(
        facts(
            "paediatric-asthma",
            "Has he ever been admitted to hospital with his asthma?"
        ),
        vec!["admissions".to_string()]
    );
}
