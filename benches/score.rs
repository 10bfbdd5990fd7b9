//! Scoring a finished encounter: the rubric scorecard, the debrief data, and the MedSP1000
//! export, on the ACS case played by its scripted strong clinician.
//! Run: cargo bench --bench score

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use bedside::engine::catalog::Catalog;
use bedside::engine::debrief::debrief;
use bedside::engine::encounter::{Config, Encounter, Input};
use bedside::engine::export::{frozen_result, EncounterExport, Roles};
use bedside::engine::load::load_case;
use bedside::engine::score::score;
use bedside::engine::CATALOG_JSON;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Arc::new(Catalog::from_json("catalog", CATALOG_JSON).expect("catalog"));
    let path = root.join("assets/cases/acs-inferior-stemi.json");
    let json = std::fs::read_to_string(&path).expect("case");
    let case = Arc::new(load_case("acs", &json, &catalog).expect("valid case"));
    let play =
        std::fs::read_to_string(root.join("tests/fixtures/plays/acs-inferior-stemi.strong.jsonl"))
            .expect("play");
    let mut enc = Encounter::new(case.clone(), catalog, Config::human());
    for line in play.lines().filter(|l| !l.trim().is_empty()) {
        if enc.is_ended() {
            break;
        }
        enc.apply(Input::from_play_line(line).expect("line"))
            .expect("input");
    }
    let record = enc.record().clone();
    c.bench_function("score a finished encounter (ACS, strong play)", |b| {
        b.iter(|| black_box(score(&case, &record.state, None, &[]).scores()))
    });
    let card = score(&case, &record.state, None, &[]);
    c.bench_function("debrief data (ACS, strong play)", |b| {
        b.iter(|| black_box(debrief(&case, &record, &card)))
    });
    c.bench_function("export JSON + MedSP1000 shape (ACS, strong play)", |b| {
        b.iter(|| {
            let e = EncounterExport::new(
                "bench",
                "",
                &case,
                Roles::from_record(&record, "scripted", None),
                &record,
                &card,
            );
            black_box((e.to_json().len(), frozen_result(&e)))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
