//! Results export and the debrief data: the encounter export and MedSP1000 shape round-trip
//! through serde, `_score_summary` matches the items, CSV rows line up with their headers and
//! quote what needs quoting, and the debrief's evidence anchors exist in its transcript.

use std::sync::Arc;

use bedside::engine::case::Case;
use bedside::engine::debrief::{debrief, Speaker};
use bedside::engine::encounter::Config;
use bedside::engine::export::{
    csv_field, encounter_csv_header, encounter_csv_row, frozen_result, items_csv_header,
    items_csv_rows, EncounterExport, FrozenResult, Roles,
};
use bedside::engine::score::{score, Mark, Scorecard};

use crate::support::played;

pub(crate) fn export(id: &str, kind: &str) -> (Arc<Case>, Scorecard, EncounterExport) {
    let (c, enc) = played(id, kind, Config::model("openai-compatible", "smollm2-135m"));
    let card = score(&c, enc.state(), None, &[]);
    let e = EncounterExport::new(
        "enc-1",
        "2026-11-24T12:00:00Z",
        &c,
        Roles::from_record(enc.record(), "scripted", None),
        enc.record(),
        &card,
    );
    (c, card, e)
}

#[test]
fn the_encounter_export_round_trips_and_refuses_other_formats() {
    let (_, _, e) = export("acs-inferior-stemi", "weak");
    let json = e.to_json();
    let back = EncounterExport::from_json(&json).unwrap();
    assert_eq!(back, e);
    assert_eq!(e.roles.clinician, "openai-compatible / smollm2-135m");
    assert!(json.starts_with("{\n  \"format\": \"bedside.encounter\""));

    let other = json.replacen("bedside.encounter", "something.else", 1);
    assert_eq!(
        EncounterExport::from_json(&other).unwrap_err(),
        "format `something.else` is not `bedside.encounter`"
    );
    let newer = json.replacen("\"format_version\": 1", "\"format_version\": 9", 1);
    assert!(EncounterExport::from_json(&newer)
        .unwrap_err()
        .contains("newer than this app reads"));
    let broken = json.replacen("\"case_version\"", "\"case_versio\"", 1);
    let err = EncounterExport::from_json(&broken).unwrap_err();
    assert!(err.starts_with("record"), "names where: {err}");
}

#[test]
fn the_medsp_shape_round_trips_and_its_summary_matches_the_items() {
    for kind in ["strong", "weak"] {
        let (_, card, e) = export("acs-inferior-stemi", kind);
        let r = frozen_result(&e);
        let json = serde_json::to_string_pretty(&r).unwrap();
        let back: FrozenResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.score_summary, back.summary_from_items());
        let scores = card.scores().overall;
        assert_eq!(r.score_summary.total_items, scores.expected_scored);
        assert_eq!(r.score_summary.completed_items, scores.expected_met);
        assert_eq!(
            Some(r.score_summary.completion_ratio),
            scores.completion_ratio,
            "the MedSP1000 ratio is our completion ratio"
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        for k in [
            "reasoning",
            "PC",
            "MK",
            "SBP",
            "ICS",
            "PBLI",
            "PROF",
            "_score_summary",
        ] {
            assert!(keys.iter().any(|x| *x == k), "{k} missing");
        }
        assert!(keys
            .iter()
            .filter(
                |k| !["reasoning", "PC", "MK", "SBP", "ICS", "PBLI", "PROF"].contains(&k.as_str())
            )
            .all(|k| k.starts_with('_')));
        let harms = v["_harm_items"].as_array().unwrap();
        // The case's own harm items (nitrate first, then the ACS harms of issue 17) and the
        // environment's overdose item, listed apart from the expected items.
        let case_harms = card.items.iter().filter(|i| i.weight < 0.0).count();
        assert_eq!(
            harms.len(),
            case_harms,
            "the case's harm items and the environment's overdose item are listed apart"
        );
        assert!(harms.len() >= 2);
        assert_eq!(harms[0]["happened"], kind == "weak", "the nitrate");
        for h in &harms[1..] {
            assert_eq!(h["happened"], false, "no other harm in either play: {h}");
        }
        assert_eq!(v["_not_scored_items"].as_array().unwrap().len(), 3);
    }
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_rows_line_up_with_their_headers() {
    let (c, _, e) = export("stroke-thrombolysis", "strong");
    let enc = parse_csv(&(encounter_csv_header() + &encounter_csv_row(&e)));
    assert_eq!(enc.len(), 2);
    assert_eq!(enc[0].len(), enc[1].len());
    let col = |name: &str| enc[0].iter().position(|h| h == name).unwrap();
    assert_eq!(enc[1][col("case_id")], "stroke-thrombolysis");
    // Exported as a model clinician: the strong play is longer than the 12-turn limit.
    assert_eq!(enc[1][col("end_reason")], "turn_limit");
    assert_eq!(enc[1][col("turns")], "12");
    assert_eq!(
        enc[1][col("completion_ratio")],
        format!("{:.4}", e.scores.overall.completion_ratio.unwrap())
    );
    let items = parse_csv(&(items_csv_header() + &items_csv_rows(&e)));
    assert_eq!(items.len(), 1 + c.rubric.len() + 1, "with the safety item");
    assert!(items.iter().all(|r| r.len() == items[0].len()));
    for (row, item) in items[1..].iter().zip(&e.scorecard.items) {
        assert_eq!(row[2], item.id);
        assert_eq!(row[11], item.text, "texts with commas and quotes survive");
    }
    let tricky = "a, \"quoted\"\nline";
    assert_eq!(parse_csv(&(csv_field(tricky) + "\n"))[0][0], tricky);
}

#[test]
fn the_debrief_times_actions_against_expectations_and_anchors_evidence() {
    let (c, enc) = played("acs-inferior-stemi", "weak", Config::human());
    let card = score(&c, enc.state(), None, &[]);
    let d = debrief(&c, enc.record(), &card);
    let ecg = d
        .expectations
        .iter()
        .find(|x| x.item == "pc_ecg_10min")
        .unwrap();
    assert_eq!(ecg.by_minute, 10);
    assert!(ecg.done_at_s.unwrap() > 600 && !ecg.on_time);
    assert!(d
        .expectations
        .windows(2)
        .all(|w| w[0].by_minute <= w[1].by_minute));
    // Critical failures first.
    let first = card.item(&d.order[0]).unwrap();
    assert!(first.is_critical_failure(), "{first:?}");
    // Every evidence anchor is a turn present in the transcript.
    let turns: std::collections::BTreeSet<u32> = d.transcript.iter().map(|l| l.turn).collect();
    for i in &d.scorecard.items {
        for ev in &i.evidence {
            assert!(
                turns.contains(&ev.turn),
                "{}: turn {} not in transcript",
                i.id,
                ev.turn
            );
        }
    }
    // Key facts: some elicited, some missed, each missed one with its answer to learn from.
    assert!(d.key_facts.iter().any(|f| f.elicited.is_some()));
    assert!(d
        .key_facts
        .iter()
        .any(|f| f.elicited.is_none() && !f.answer.is_empty()));
    assert!(d.transcript.iter().any(|l| l.speaker == Speaker::Clinician));
    assert_eq!(
        card.items
            .iter()
            .filter(|i| i.mark() == Mark::NotScored)
            .count(),
        3
    );
}
