//! The plan format: its JSON Schema in sync, errors with their paths, jobs and shards.

use std::collections::BTreeSet;

use bedside::eval::plan::{json_schema, Plan, SeedPolicy, Shard};
use bedside::llm::settings::Context;

use super::{parse, plan_json};
use crate::support::{root, shipped_matches_generated};

const URL: &str = "http://127.0.0.1:9/v1";

#[test]
fn the_shipped_plan_schema_matches_the_types() {
    let shipped =
        shipped_matches_generated("assets/plan.schema.json", &json_schema(), "plan_schema");
    let schema: serde_json::Value = serde_json::from_str(&shipped).unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for key in ["format", "format_version", "name", "players", "cases"] {
        assert!(required.contains(&key), "`{key}` is required");
    }
}

#[test]
fn the_example_plans_are_valid() {
    let dir = root().join("examples/plans");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/plans") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        Plan::parse(&path.display().to_string(), &text).unwrap_or_else(|d| panic!("{d}"));
        n += 1;
    }
    assert!(n >= 1, "examples/plans holds at least one plan");
}

/// Each broken plan and the path its first error must name.
#[test]
fn every_error_names_its_place() {
    let good = plan_json(URL, &[("a", "m"), ("b", "m")], &["sepsis-pneumonia"], 1);
    type Break = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Break, &str)> = vec![
        (
            "wrong format",
            Box::new(|p| p["format"] = "bedside.case".into()),
            "$.format",
        ),
        (
            "no players",
            Box::new(|p| p["players"] = serde_json::json!([])),
            "$.players",
        ),
        (
            "no cases",
            Box::new(|p| p["cases"] = serde_json::json!([])),
            "$.cases",
        ),
        (
            "a case twice",
            Box::new(|p| p["cases"] = serde_json::json!(["x", "x"])),
            "$.cases[1]",
        ),
        (
            "zero repeats",
            Box::new(|p| p["repeats"] = 0.into()),
            "$.repeats",
        ),
        (
            "a label twice",
            Box::new(|p| p["players"][1]["label"] = "a".into()),
            "$.players[1].label",
        ),
        (
            "a label with a slash",
            Box::new(|p| p["players"][0]["label"] = "gpt/4".into()),
            "$.players[0].label",
        ),
        (
            "not a URL",
            Box::new(|p| p["players"][1]["base_url"] = "example.com".into()),
            "$.players[1].base_url",
        ),
        (
            "an empty model",
            Box::new(|p| p["players"][0]["model"] = "".into()),
            "$.players[0].model",
        ),
        (
            "best-of-1",
            Box::new(|p| {
                p["players"][0]["strategy"] =
                    serde_json::json!({"kind": "best_of", "n": 1, "temperature": 1.0})
            }),
            "$.players[0].strategy",
        ),
        (
            "a key in the plan",
            Box::new(|p| p["players"][0]["api_key"] = "sk-live-SECRET".into()),
            "$.players[0]",
        ),
        (
            "a key variable with spaces",
            Box::new(|p| p["players"][0]["key_env"] = "MY KEY".into()),
            "$.players[0].key_env",
        ),
        (
            "a negative price",
            Box::new(|p| {
                p["players"][0]["price"] =
                    serde_json::json!({"input_per_million": -1.0, "output_per_million": 1.0})
            }),
            "$.players[0].price.input_per_million",
        ),
        (
            "a judge with a strategy",
            Box::new(|p| {
                p["judges"] = serde_json::json!([{
                    "label": "j", "provider": "open_ai", "base_url": URL, "model": "m",
                    "strategy": {"kind": "best_of", "n": 3, "temperature": 1.0}
                }])
            }),
            "$.judges[0].strategy",
        ),
    ];
    for (what, breaks, path) in cases {
        let mut plan = good.clone();
        breaks(&mut plan);
        let text = plan.to_string();
        let err = Plan::parse("plan.json", &text).expect_err(what);
        let first = &err.items[0];
        assert!(
            first.path.starts_with(path),
            "{what}: the error is at {}, not {path}: {err}",
            first.path
        );
        assert!(
            !err.to_string().contains("SECRET"),
            "{what}: an error never repeats a key: {err}"
        );
    }
    // Plain http to another machine: the CLI may call it, the browser's page cannot.
    let mut remote = good.clone();
    remote["players"][1]["base_url"] = "http://example.com/v1".into();
    let plan = parse(&remote);
    assert!(plan.check(Context::Native).is_empty());
    let browser = plan.check(Context::Browser);
    assert_eq!(browser[0].path, "$.players[1].base_url", "{browser:?}");
    let err = Plan::parse("plan.json", "{\"format\": ").expect_err("cut JSON");
    assert!(err.to_string().contains("plan.json"), "{err}");
}

#[test]
fn jobs_cover_players_cases_and_repeats_once_each() {
    let plan = parse(&plan_json(
        URL,
        &[("a", "m"), ("b", "m")],
        &["x", "y", "z"],
        2,
    ));
    let ids = vec!["x".to_string(), "y".into(), "z".into()];
    let jobs = plan.jobs(&ids);
    assert_eq!(jobs.len(), 2 * 3 * 2);
    let unique: BTreeSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(unique.len(), jobs.len(), "job ids are unique");
    assert!(unique.contains("y--b--r2"));
    // Repeat-major: every player has played every case once before any repeat 2.
    let first_half: BTreeSet<u32> = jobs[..6].iter().map(|j| j.repeat).collect();
    assert_eq!(first_half, BTreeSet::from([1]));
    for (i, j) in jobs.iter().enumerate() {
        assert_eq!(j.index, i);
    }
}

#[test]
fn shards_split_the_jobs_disjointly_and_evenly() {
    let plan = parse(&plan_json(
        URL,
        &[("a", "m"), ("b", "m"), ("c", "m")],
        &["x", "y", "z"],
        3,
    ));
    let ids: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
    let jobs = plan.jobs(&ids);
    for n in 1..=5u32 {
        let mut seen = BTreeSet::new();
        let mut sizes = Vec::new();
        for i in 1..=n {
            let shard = Shard::parse(&format!("{i}/{n}")).unwrap();
            let mine: Vec<_> = jobs.iter().filter(|j| shard.holds(j)).collect();
            sizes.push(mine.len());
            for j in mine {
                assert!(
                    seen.insert(j.id.clone()),
                    "{} is in two shards of {n}",
                    j.id
                );
            }
        }
        assert_eq!(seen.len(), jobs.len(), "the {n} shards hold every job");
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(
            max - min <= 1,
            "shards of {n} differ by one job at most: {sizes:?}"
        );
    }
    for bad in ["0/2", "3/2", "1/0", "x/2", "2"] {
        assert!(Shard::parse(bad).is_err(), "{bad} is not a shard");
    }
}

#[test]
fn seeds_follow_the_policy() {
    assert_eq!(SeedPolicy::None.seed(3), None);
    assert_eq!(SeedPolicy::Fixed { seed: 9 }.seed(3), Some(9));
    assert_eq!(SeedPolicy::PerRepeat { base: 100 }.seed(3), Some(103));
    // The default gives each repeat its own seed, so repeats differ and re-runs reproduce.
    let d = SeedPolicy::default();
    assert_ne!(d.seed(1), d.seed(2));
}
