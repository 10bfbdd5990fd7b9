//! One clinician turn (action matching + state update) on the largest shipped case.
//! Run: cargo bench --bench turn

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use bedside::engine::action::interpret;
use bedside::engine::catalog::Catalog;
use bedside::engine::encounter::{Config, Encounter, Input, Turn};
use bedside::engine::load::load_case;
use bedside::engine::CATALOG_JSON;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn largest_case(catalog: &Catalog) -> (String, Arc<bedside::engine::case::Case>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/cases");
    let mut best: Option<(usize, String, String)> = None;
    for entry in std::fs::read_dir(dir).expect("assets/cases") {
        let path = entry.expect("entry").path();
        let json = std::fs::read_to_string(&path).expect("read");
        if best.as_ref().is_none_or(|(n, _, _)| json.len() > *n) {
            best = Some((json.len(), path.display().to_string(), json));
        }
    }
    let (_, name, json) = best.expect("at least one case");
    let case = load_case(&name, &json, catalog).expect("valid case");
    (name, Arc::new(case))
}

fn bench(c: &mut Criterion) {
    let catalog = Arc::new(Catalog::from_json("catalog", CATALOG_JSON).expect("catalog"));
    let (name, case) = largest_case(&catalog);
    eprintln!("largest case: {name}");
    let start = Encounter::new(case, catalog.clone(), Config::human());
    let turn = Input::Turn(Turn {
        speak: "When did the pain start, and does it go anywhere? Any shortness of breath?".into(),
        actions: vec!["12 lead ECG".into(), "give ASA 325mg PO".into()],
        eos: false,
    });
    c.bench_function("one turn: speech + 2 orders (largest case)", |b| {
        b.iter_batched(
            || start.clone(),
            |mut enc| black_box(enc.apply(turn.clone()).map(|e| e.len())),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("interpret one order", |b| {
        b.iter(|| black_box(interpret(black_box("give ASA 325mg PO"), &catalog)))
    });
    c.bench_function("interpret one order with a typo", |b| {
        b.iter(|| black_box(interpret(black_box("trponin"), &catalog)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
