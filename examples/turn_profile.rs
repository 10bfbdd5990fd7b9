//! Runs the benchmark's turn N times (first argument) for instruction-count profiling:
//! `valgrind --tool=callgrind target/release/examples/turn_profile 200` (after
//! `cargo build --profile bench --example turn_profile`).

use std::hint::black_box;
use std::sync::Arc;

use bedside::engine::catalog::Catalog;
use bedside::engine::encounter::{Config, Encounter, Input, Turn};
use bedside::engine::load::load_case;
use bedside::engine::CATALOG_JSON;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let catalog = Arc::new(Catalog::from_json("catalog", CATALOG_JSON).expect("catalog"));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/cases/sepsis-pneumonia.json"
    );
    let json = std::fs::read_to_string(path).expect("read");
    let case = Arc::new(load_case(path, &json, &catalog).expect("valid case"));
    let start = Encounter::new(case, catalog, Config::human());
    let turn = Input::Turn(Turn {
        speak: "When did the pain start, and does it go anywhere? Any shortness of breath?".into(),
        actions: vec!["12 lead ECG".into(), "give ASA 325mg PO".into()],
        eos: false,
    });
    // Mode "clone" only clones (and leaks) the encounters; the default mode also applies the
    // turn and drops them, like the benchmark. (default - clone) / N = one benchmark iteration.
    let clone_only = std::env::args().nth(2).as_deref() == Some("clone");
    let encs: Vec<Encounter> = (0..n).map(|_| start.clone()).collect();
    // Keep the shared case, catalog and script index alive in both modes.
    std::mem::forget(start);
    if clone_only {
        std::mem::forget(encs);
        return;
    }
    for mut enc in encs {
        black_box(enc.apply(turn.clone()).map(|e| e.len()).ok());
    }
}
