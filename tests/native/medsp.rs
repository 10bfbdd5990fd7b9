//! MedSP1000 frozen-rubric import over fixtures that reproduce each kind of mess seen in real
//! files (`tests/fixtures/medsp/`): every file imports or fails with its own clear error, the
//! batch goes on, and the totals add up.

use bedside::engine::case::Competency;
use bedside::engine::medsp::{import_many, import_rubric, LONG_ITEM_CHARS};

use crate::support::root;

fn fixtures() -> Vec<(String, String)> {
    let dir = root().join("tests/fixtures/medsp");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_messy_batch_imports_what_it_can_and_names_every_failure() {
    let files = fixtures();
    let report = import_many(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    assert_eq!(report.files(), 12);
    let imported: Vec<&str> = report.imported.iter().map(|r| r.file.as_str()).collect();
    assert_eq!(
        imported,
        [
            "case0101_s1.json",
            "case0105_s1.json",
            "case0106_s1.json",
            "case0107_s3.json",
            "case0112_s1.json"
        ]
    );
    let errors: Vec<(&str, &str, &str)> = report
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.at.as_str(), e.message.as_str()))
        .collect();
    let expect = [
        ("case0102_s1.json", "", "the file is empty"),
        ("case0103_s1.json", "", "the file is empty"),
        ("case0104_s2.json", "", "the rubric has no items"),
        ("case0108_s1.json", "line 2, column 0", "not valid JSON"),
        ("case0109_s1.json", "", "expected a JSON object"),
        (
            "case0110_s1.json",
            "PC[0]",
            "an item object needs a text field",
        ),
        ("case0111_s1.json", "PC", "expected a list of rubric items"),
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for ((file, at, msg), (wf, wa, wm)) in errors.iter().zip(expect) {
        assert_eq!((*file, *at), (wf, wa));
        assert!(msg.starts_with(wm), "{file}: {msg}");
    }
    let per: Vec<(Competency, usize)> = report.items_by_competency();
    assert_eq!(
        per,
        [
            (Competency::PC, 8),
            (Competency::MK, 3),
            (Competency::SBP, 2),
            (Competency::ICS, 2),
            (Competency::PBLI, 1),
            (Competency::PROF, 1)
        ]
    );
    assert_eq!(report.items(), 17);
    assert_eq!(
        report.summary(),
        "12 files: 5 imported, 7 failed; 17 items (PC 8, MK 3, SBP 2, ICS 2, PBLI 1, PROF 1)"
    );
}

fn one(name: &str) -> bedside::engine::medsp::ImportedRubric {
    let text = std::fs::read_to_string(root().join("tests/fixtures/medsp").join(name)).unwrap();
    import_rubric(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn items_become_judge_items_with_stable_ids() {
    let r = one("case0101_s1.json");
    assert_eq!(
        (r.case_id.as_str(), r.scenario.as_str()),
        ("case0101", "s1")
    );
    assert_eq!(r.rubric_version.as_deref(), Some("frozen-v1"));
    let ids: Vec<&str> = r.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        ["pc-01", "pc-02", "mk-01", "sbp-01", "ics-01", "pbli-01", "prof-01"]
    );
    assert!(r.items.iter().all(|i| i.rule.is_none() && i.weight == 1.0));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        one("case0101_s1.json"),
        r,
        "importing twice gives the same ids"
    );
}

#[test]
fn markdown_bullets_and_line_breaks_are_cleaned_and_reported() {
    let r = one("case0105_s1.json");
    let texts: Vec<&str> = r.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Takes a focused history covering: onset; duration; radiation",
            "Checks glucose; Checks ketones",
            "Knows the DKA criteria",
            "Explains the plan in plain words. Checks understanding.",
        ]
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| w == "PROF[0]: empty item skipped"));
    assert!(r.warnings.iter().any(|w| w.starts_with("PC[0]: cleaned")));
}

#[test]
fn long_items_are_kept_whole_and_flagged() {
    let r = one("case0106_s1.json");
    let long = &r.items[0].text;
    assert!(long.chars().count() > LONG_ITEM_CHARS);
    assert!(long.ends_with("intracranial haemorrhage,"));
    assert!(
        r.warnings[0].contains("characters long"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn extra_keys_item_objects_and_names_from_the_file() {
    let r = one("case0107_s3.json");
    assert_eq!(
        (r.case_id.as_str(), r.scenario.as_str()),
        ("case0107", "s3")
    );
    assert_eq!(r.items[0].text, "Assesses airway.");
    assert_eq!(r.warnings, ["ignored extra keys: _frozen_at, notes"]);
    let r = one("case0112_s1.json");
    assert_eq!(r.case_id, "case9999", "the file's own values win");
    assert!(r.warnings[0].contains("the file name says case `case0112`"));
}

#[test]
fn the_cli_reports_totals_and_fails_when_a_file_failed() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args(["import-rubric", "tests/fixtures/medsp"])
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "some files failed");
    assert_eq!(
        stdout.trim(),
        "12 files: 5 imported, 7 failed; 17 items (PC 8, MK 3, SBP 2, ICS 2, PBLI 1, PROF 1)"
    );
    assert_eq!(stderr.matches("error: ").count(), 7, "{stderr}");
    assert!(stderr.contains("case0110_s1.json: PC[0]: an item object needs a text field"));

    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args([
            "import-rubric",
            "tests/fixtures/medsp/case0101_s1.json",
            "--json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let text = String::from_utf8_lossy(&ok.stdout);
    let json_end = text.rfind(']').unwrap();
    let rubrics: Vec<bedside::engine::medsp::ImportedRubric> =
        serde_json::from_str(&text[..=json_end]).unwrap();
    assert_eq!(rubrics[0].items.len(), 7);
}
