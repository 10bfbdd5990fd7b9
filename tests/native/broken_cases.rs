//! Broken case files (tests/fixtures/broken) each produce their expected errors — every one
//! at once, with the JSON path and a hint — and never a panic.

use bedside::engine::load::load_case;

use crate::support::{catalog, root};

fn errors(file: &str) -> Vec<(String, String)> {
    let path = root().join("tests/fixtures").join(file);
    let json = std::fs::read_to_string(&path).expect("fixture");
    match load_case(file, &json, &catalog()) {
        Ok(_) => panic!("{file} should not validate"),
        Err(d) => {
            assert_eq!(d.source, file, "errors name the file");
            for item in &d.items {
                assert!(item.path.starts_with('$'), "{file}: path {}", item.path);
                assert!(!item.hint.is_empty(), "{file}: every error says what to do");
            }
            let shown = d.to_string();
            assert!(shown.contains(file), "the message names the file: {shown}");
            d.items.into_iter().map(|i| (i.path, i.message)).collect()
        }
    }
}

fn has(errors: &[(String, String)], path: &str, needle: &str) -> bool {
    errors.iter().any(|(p, m)| p == path && m.contains(needle))
}

#[test]
fn the_minimal_fixture_is_valid() {
    let json = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    load_case("minimal-case.json", &json, &catalog()).unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn bad_json_names_line_and_column() {
    let e = errors("broken/bad-json.json");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, "$");
    assert!(
        e[0].1.contains("line") && e[0].1.contains("column"),
        "{:?}",
        e[0]
    );
}

#[test]
fn missing_fields_and_wrong_types_are_all_reported() {
    let e = errors("broken/missing-fields.json");
    assert!(
        has(&e, "$.door_note", "missing field `door_note`"),
        "{e:#?}"
    );
    assert!(has(&e, "$.meta", "missing field `title`"), "{e:#?}");
    assert!(has(&e, "$.phases[0].vitals.hr", "invalid type"), "{e:#?}");
    assert_eq!(e.len(), 3, "{e:#?}");
}

#[test]
fn bad_references_are_all_reported_with_paths() {
    let e = errors("broken/bad-references.json");
    assert!(
        has(
            &e,
            "$.results.troponin_magic",
            "unknown order id `troponin_magic`"
        ),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.events[0].then[1].phase", "unknown phase `icu`"),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.facts[2].id", "duplicate fact id `onset`"),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.rubric[2].rule.elicited", "unknown fact `radiation`"),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.facts[1].speakers[0]", "unknown speaker `wife`"),
        "{e:#?}"
    );
    assert!(
        has(
            &e,
            "$.rubric[3].rule.all[0].done.order",
            "did you mean `aspirin`?"
        ),
        "{e:#?}"
    );
    assert!(
        has(
            &e,
            "$.rubric[3].rule.all[1].said.set",
            "unknown phrase set `hugs`"
        ),
        "{e:#?}"
    );
    assert_eq!(e.len(), 7, "{e:#?}");
}

#[test]
fn result_variants_and_placeholders_are_checked() {
    let e = errors("broken/bad-results.json");
    assert!(
        has(&e, "$.results.hs_troponin[0].phase", "unknown phase `icu`"),
        "{e:#?}"
    );
    // A variant's `when` is a rule like an event's, checked the same way.
    assert!(
        has(
            &e,
            "$.results.hs_troponin[1].when.elicited",
            "unknown fact `radiation`"
        ),
        "{e:#?}"
    );
    assert!(
        has(
            &e,
            "$.results.vital_signs",
            "unknown placeholder `{weight}`"
        ),
        "{e:#?}"
    );
    assert_eq!(e.len(), 3, "{e:#?}");
}

#[test]
fn unknown_fields_and_values_are_reported() {
    let e = errors("broken/unknown-fields.json");
    assert!(
        has(&e, "$.extra_section", "unknown top-level field"),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.facts[0].trigers", "unknown field `trigers`"),
        "{e:#?}"
    );
    assert!(
        has(&e, "$.meta.difficulty", "unknown variant `hard`"),
        "{e:#?}"
    );
}

#[test]
fn filler_only_triggers_and_a_zero_time_limit_are_reported() {
    let e = errors("broken/empty-trigger.json");
    assert!(
        has(&e, "$.facts[0].triggers[0]", "no content words"),
        "{e:#?}"
    );
    assert!(has(&e, "$.end.time_limit_min", "time limit is 0"), "{e:#?}");
}

#[test]
fn garbage_never_panics() {
    for junk in [
        "",
        "null",
        "[]",
        "42",
        "\"case\"",
        "{",
        "{\"schema\": \"one\"}",
        "{\"facts\": 3}",
    ] {
        assert!(
            load_case("junk.json", junk, &catalog()).is_err(),
            "{junk:?}"
        );
    }
}

/// The minimal case with its JSON changed by `edit`: the paths and messages of its errors
/// (none when it loads).
fn errors_after(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<(String, String)> {
    let json = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    edit(&mut value);
    match load_case("edited.json", &value.to_string(), &catalog()) {
        Ok(_) => Vec::new(),
        Err(d) => d.items.into_iter().map(|i| (i.path, i.message)).collect(),
    }
}

#[test]
fn a_time_limit_over_a_day_and_a_pathway_wait_the_engine_refuses_are_reported() {
    use bedside::engine::encounter::{MAX_TIME_LIMIT_MIN, MAX_WAIT_MIN};
    let limit = |m: u32| errors_after(|v| v["end"]["time_limit_min"] = m.into());
    assert!(limit(MAX_TIME_LIMIT_MIN).is_empty());
    let e = limit(MAX_TIME_LIMIT_MIN + 1);
    assert!(
        has(&e, "$.end.time_limit_min", "longer than a day"),
        "{e:?}"
    );
    let waits = |m: u32| {
        errors_after(|v| {
            v["pathway"] = serde_json::json!([{"wait": 1}, {"wait": m}]);
        })
    };
    assert!(waits(MAX_WAIT_MIN).is_empty());
    for bad in [0, MAX_WAIT_MIN + 1] {
        let e = waits(bad);
        assert!(has(&e, "$.pathway[1].wait", "a wait of"), "{bad}: {e:?}");
        assert_eq!(e.len(), 1, "{e:?}");
    }
}
