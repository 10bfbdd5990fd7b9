//! assets/case.schema.json is generated from the engine's types and must stay in sync.
//! Regenerate with: BEDSIDE_BLESS=1 cargo test --test native schema

use bedside::engine::case::json_schema;

use crate::support::{case_paths, shipped_matches_generated};

#[test]
fn the_shipped_json_schema_matches_the_engine_types() {
    let shipped = shipped_matches_generated("assets/case.schema.json", &json_schema(), "schema");
    let schema: serde_json::Value = serde_json::from_str(&shipped).expect("the schema is JSON");
    let required = schema["required"].as_array().expect("required list");
    for key in [
        "schema",
        "meta",
        "door_note",
        "patient",
        "facts",
        "phases",
        "end",
        "diagnoses",
        "rubric",
    ] {
        assert!(
            required.iter().any(|r| r == key),
            "`{key}` is required in the schema"
        );
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false),
        "unknown top-level keys are flagged"
    );
}

#[test]
fn every_shipped_case_points_editors_at_the_schema() {
    for path in case_paths() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            v["$schema"],
            "../case.schema.json",
            "{}: add \"$schema\": \"../case.schema.json\"",
            path.display()
        );
    }
}
