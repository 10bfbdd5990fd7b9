//! The shipped case library: every case validates and meets the library's floor, and each is
//! played to its end by a scripted strong and a scripted weak clinician with the outcomes its
//! `tests/fixtures/plays/<id>.expect.json` states.

use std::collections::BTreeSet;

use bedside::engine::case::Case;
use bedside::engine::encounter::{ActionStatus, Config, Encounter, EndReason, Input};
use bedside::engine::eval::evaluate;
use serde::Deserialize;

use crate::support::{case_paths, catalog, load, root};

#[test]
fn every_shipped_case_validates_and_meets_the_floor() {
    let paths = case_paths();
    assert!(!paths.is_empty(), "no cases in assets/cases");
    let mut specialties = BTreeSet::new();
    let mut with_actor = 0;
    for path in &paths {
        let case = load(path);
        let name = path.display();
        assert_eq!(
            format!("{}.json", case.meta.id),
            path.file_name().unwrap().to_string_lossy(),
            "{name}: file name = id"
        );
        assert!(case.phases.len() >= 2, "{name}: at least two phases");
        assert!(!case.events.is_empty(), "{name}: at least one event");
        assert!(case.rubric.len() >= 12, "{name}: at least 12 rubric items");
        let competencies: BTreeSet<_> = case.rubric.iter().map(|r| r.competency).collect();
        assert!(
            competencies.len() >= 4,
            "{name}: rubric over at least 4 competencies"
        );
        assert!(
            !case.meta.references.is_empty(),
            "{name}: cites a guideline"
        );
        specialties.insert(case.meta.specialty.clone());
        with_actor += usize::from(!case.actors.is_empty());
    }
    println!(
        "{} cases, {} specialties, {with_actor} with another actor",
        paths.len(),
        specialties.len()
    );
}

#[test]
fn a_loaded_case_is_the_file_deserialized() {
    // The loader assembles the case from its separately checked sections; it must be exactly
    // what deserializing the whole file gives.
    for path in case_paths()
        .into_iter()
        .chain([root().join("tests/fixtures/minimal-case.json")])
    {
        let json = std::fs::read_to_string(&path).expect("read");
        let direct: Case = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(*load(&path), direct, "{}", path.display());
    }
}

#[derive(Debug, Deserialize)]
struct Expect {
    strong: Outcome,
    weak: Outcome,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    not_events: Vec<String>,
    #[serde(default)]
    elicited: Vec<String>,
    /// Catalog orders that must have been carried out (understood, not unsupported).
    #[serde(default)]
    done: Vec<String>,
    /// Rubric items whose engine rule must hold at the end, and items whose rule must not.
    #[serde(default)]
    rubric: Vec<String>,
    #[serde(default)]
    not_rubric: Vec<String>,
    end: EndReason,
}

fn play(case: &std::sync::Arc<Case>, file: &str) -> Encounter {
    let text = std::fs::read_to_string(root().join("tests/fixtures/plays").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut enc = Encounter::new(case.clone(), catalog(), Config::human());
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let input = Input::from_play_line(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1));
        if enc.is_ended() {
            // A terminal event may end the encounter before the script runs out; the
            // expectations say how it must end.
            break;
        }
        if !enc.takes(&input) {
            // Closing (a disposition, the last stage, a limit): only the end form is taken.
            continue;
        }
        enc.apply(input)
            .unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1));
    }
    enc
}

fn check(case: &Case, enc: &Encounter, expect: &Outcome, label: &str) -> Vec<String> {
    let st = enc.state();
    let mut problems = Vec::new();
    let visited: Vec<&str> = st.phases_visited.iter().map(|v| v.phase.as_str()).collect();
    if !expect.phases.is_empty()
        && visited != expect.phases.iter().map(String::as_str).collect::<Vec<_>>()
    {
        problems.push(format!(
            "{label}: phases {visited:?}, expected {:?}",
            expect.phases
        ));
    }
    for e in &expect.events {
        if !st.fired_events.contains(e) {
            problems.push(format!(
                "{label}: event `{e}` did not fire (fired: {:?})",
                st.fired_events
            ));
        }
    }
    for e in &expect.not_events {
        if st.fired_events.contains(e) {
            problems.push(format!("{label}: event `{e}` fired but must not"));
        }
    }
    for f in &expect.elicited {
        if !st.elicited.contains_key(f) {
            problems.push(format!("{label}: fact `{f}` was not elicited"));
        }
    }
    let ended = st.ended.as_ref().map(|e| e.reason);
    if ended != Some(expect.end) {
        problems.push(format!(
            "{label}: ended {ended:?}, expected {:?}",
            expect.end
        ));
    }
    for id in &expect.done {
        if !st
            .actions
            .iter()
            .any(|a| a.status != ActionStatus::Unsupported && a.order_id() == Some(id.as_str()))
        {
            let ordered: Vec<String> = st.actions.iter().map(|a| a.label()).collect();
            problems.push(format!(
                "{label}: order `{id}` was not carried out (ordered: {ordered:?})"
            ));
        }
    }
    for (ids, want) in [(&expect.rubric, true), (&expect.not_rubric, false)] {
        for id in ids {
            let Some(rule) = case
                .rubric
                .iter()
                .find(|r| &r.id == id)
                .and_then(|r| r.rule.as_ref())
            else {
                problems.push(format!("{label}: no rubric item `{id}` with a rule"));
                continue;
            };
            let verdict = evaluate(rule, case, st);
            if verdict.holds != want {
                problems.push(format!(
                    "{label}: rubric `{id}` holds = {}, expected {want} ({})",
                    verdict.holds, verdict.why
                ));
            }
        }
    }
    problems
}

#[test]
fn each_case_plays_to_its_expected_end_for_a_strong_and_a_weak_clinician() {
    let mut problems = Vec::new();
    for path in case_paths() {
        let case = load(&path);
        let id = &case.meta.id;
        let expect_path = root()
            .join("tests/fixtures/plays")
            .join(format!("{id}.expect.json"));
        let expect: Expect = serde_json::from_str(
            &std::fs::read_to_string(&expect_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
        let strong = play(&case, &format!("{id}.strong.jsonl"));
        problems.extend(check(
            &case,
            &strong,
            &expect.strong,
            &format!("{id} strong"),
        ));
        let weak = play(&case, &format!("{id}.weak.jsonl"));
        problems.extend(check(&case, &weak, &expect.weak, &format!("{id} weak")));
        // The strong clinician elicits every key fact.
        for f in case.facts.iter().filter(|f| f.key) {
            if !strong.state().elicited.contains_key(&f.id) {
                problems.push(format!("{id} strong: key fact `{}` not elicited", f.id));
            }
        }
        // Replaying the record's inputs reproduces the record exactly.
        let replayed = Encounter::replay(
            case.clone(),
            catalog(),
            Config::human(),
            &strong.record().inputs,
        )
        .expect("replay");
        assert_eq!(replayed.record(), strong.record(), "{id}: replay differs");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_fast_event_check_agrees_with_full_evaluation() {
    use bedside::engine::eval::holds;
    for path in case_paths() {
        let case = load(&path);
        let id = case.meta.id.clone();
        for file in [format!("{id}.strong.jsonl"), format!("{id}.weak.jsonl")] {
            let enc = play(&case, &file);
            let rules = case
                .events
                .iter()
                .map(|e| &e.when)
                .chain(case.rubric.iter().filter_map(|r| r.rule.as_ref()));
            for rule in rules {
                let mut all = Vec::new();
                rule.walk(&mut |r| all.push(r));
                for r in all {
                    assert_eq!(
                        holds(r, &case, enc.state()),
                        evaluate(r, &case, enc.state()).holds,
                        "{file}: {r:?}"
                    );
                }
            }
        }
    }
}

/// `build.rs` embeds the catalog and the cases without indentation: the same JSON values.
#[test]
fn embedded_assets_are_the_files_minus_whitespace() {
    use bedside::app::library::BUILTIN_CASES;
    use serde_json::Value;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap();
    let catalog = std::fs::read_to_string(root().join("assets/catalog.json")).unwrap();
    assert_eq!(parse(&catalog), parse(bedside::engine::CATALOG_JSON));
    assert!(bedside::engine::CATALOG_JSON.len() < catalog.len());
    for (name, embedded) in BUILTIN_CASES {
        let file = std::fs::read_to_string(root().join("assets/cases").join(name)).unwrap();
        assert_eq!(parse(&file), parse(embedded), "{name}");
        assert!(
            !embedded.contains("\n  "),
            "{name} is embedded without indentation"
        );
    }
}
