//! Validator warnings (tests/fixtures/warnings): where a valid case's results, phases and events
//! disagree in ways the file shows. A warning names the JSON path and what to do, and never stops
//! the case from loading; the shipped cases have none.

use bedside::engine::lint::case_warnings;
use bedside::engine::load::load_case;

use crate::support::{case_paths, catalog, load, root};

/// The warnings of a fixture, as (path, message); the fixture must load.
fn warnings(file: &str) -> Vec<(String, String)> {
    let path = root().join("tests/fixtures").join(file);
    let json = std::fs::read_to_string(&path).expect("fixture");
    let case = load_case(file, &json, &catalog())
        .unwrap_or_else(|d| panic!("{file}: a warning must not stop loading:\n{d}"));
    let w = case_warnings(file, &case, &catalog());
    assert_eq!(w.source, file, "warnings name the file");
    for d in &w.items {
        assert!(d.path.starts_with('$'), "{file}: path {}", d.path);
        assert!(!d.hint.is_empty(), "{file}: every warning says what to do");
    }
    let shown = w.warnings_report();
    assert!(
        shown.contains(file) && shown.contains("warning"),
        "the report names the file and says warning: {shown}"
    );
    w.items.into_iter().map(|d| (d.path, d.message)).collect()
}

fn has(w: &[(String, String)], path: &str, needles: &[&str]) -> bool {
    w.iter()
        .any(|(p, m)| p == path && needles.iter().all(|n| m.contains(n)))
}

#[test]
fn a_result_that_says_a_vital_does_not_change_while_its_own_event_changes_it() {
    let w = warnings("warnings/result-says-unchanged.json");
    // The catalog's diltiazem text ("No hypotension or immediate reaction") against an event
    // on that order that drops the pressure to 74/42: reported where the order triggers the
    // event, since the text is the catalog's.
    assert!(
        has(
            &w,
            "$.events[1].when.any[0].done",
            &[
                "`diltiazem`",
                "blood pressure does not fall",
                "event `nitrate`",
                "phase `hypotension` (BP 74/42",
                "systolic BP falls"
            ]
        ),
        "{w:#?}"
    );
    // The case's own text ("No bradycardia") against a `vitals` effect of HR 52: reported at
    // the case's result.
    assert!(
        has(
            &w,
            "$.results.labetalol",
            &["heart rate does not fall", "event `slow`", "sets HR 52"]
        ),
        "{w:#?}"
    );
    // GTN IV has a variant whose `when` is that very event's condition: the text after it
    // ("No hypotension") is for the other states, so nothing is reported for it.
    assert!(
        !w.iter()
            .any(|(p, m)| m.contains("nitroglycerin_iv") || p.contains("nitroglycerin_iv")),
        "{w:#?}"
    );
    assert_eq!(w.len(), 2, "{w:#?}");
}

#[test]
fn an_event_that_fires_before_its_orders_result_comes_back() {
    let w = warnings("warnings/event-before-result.json");
    // Cath lab activation comes back after 20 minutes; "team ready" 15 minutes after the call
    // would be followed by a result written for an earlier moment.
    assert!(
        has(
            &w,
            "$.events[1].when.done.elapsed_min",
            &[
                "event `team_ready`",
                "15 minutes after `cath_lab_activation`",
                "(20 minutes)"
            ]
        ),
        "{w:#?}"
    );
    // The gynaecology consult's result has a variant for the state after its event.
    assert!(
        !w.iter().any(|(_, m)| m.contains("obgyn_consult")),
        "{w:#?}"
    );
    assert_eq!(w.len(), 1, "{w:#?}");
}

#[test]
fn phases_and_result_variants_that_are_never_used() {
    let w = warnings("warnings/unused-variants.json");
    assert!(
        has(&w, "$.phases[2]", &["phase `icu` is never entered"]),
        "{w:#?}"
    );
    assert!(
        has(
            &w,
            "$.results.cbc[0].phase",
            &["never used", "phase `icu` is never entered"]
        ),
        "{w:#?}"
    );
    // After a variant without phase or `when`, nothing else is ever chosen.
    assert!(
        has(
            &w,
            "$.results.cbc[2]",
            &["never used", "variant [1]", "every phase and state"]
        ),
        "{w:#?}"
    );
    assert!(
        has(
            &w,
            "$.results.gcs[1]",
            &["never used", "same phase `treated`"]
        ),
        "{w:#?}"
    );
    assert_eq!(w.len(), 4, "{w:#?}");
}

#[test]
fn a_result_that_quotes_vitals_the_monitor_does_not_show() {
    let w = warnings("warnings/quoted-vitals.json");
    // "Lying: BP 130/80" is right on arrival but can be shown after the event, at 88/50.
    assert!(
        has(
            &w,
            "$.results.orthostatic_vitals",
            &["BP 130", "phase `treated`", "reads 88"]
        ),
        "{w:#?}"
    );
    // Placeholders read the monitor; a variant per phase quotes that phase's value.
    assert!(
        !w.iter()
            .any(|(p, _)| p.contains("vital_signs") || p.contains("pulse_oximetry")),
        "{w:#?}"
    );
    assert_eq!(w.len(), 1, "{w:#?}");
}

#[test]
fn the_shipped_cases_and_the_minimal_fixture_agree_with_themselves() {
    let mut problems = Vec::new();
    for path in case_paths() {
        let case = load(&path);
        let w = case_warnings(&path.display().to_string(), &case, &catalog());
        if !w.is_empty() {
            problems.push(w.warnings_report());
        }
    }
    let json = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    let minimal = load_case("minimal-case.json", &json, &catalog()).unwrap();
    assert!(case_warnings("minimal-case.json", &minimal, &catalog()).is_empty());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
