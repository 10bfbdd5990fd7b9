//! Shared helpers for the native tests: the built-in catalog and the shipped cases.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bedside::engine::case::Case;
use bedside::engine::catalog::Catalog;
use bedside::engine::load::load_case;
use bedside::engine::CATALOG_JSON;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            Arc::new(
                Catalog::from_json("assets/catalog.json", CATALOG_JSON)
                    .unwrap_or_else(|d| panic!("{d}")),
            )
        })
        .clone()
}

/// Paths of the shipped case files, sorted.
pub fn case_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("assets/cases"))
        .expect("assets/cases exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

pub fn load(path: &Path) -> Arc<Case> {
    let json = std::fs::read_to_string(path).expect("read case");
    Arc::new(
        load_case(&path.display().to_string(), &json, &catalog()).unwrap_or_else(|d| panic!("{d}")),
    )
}

pub fn case(id: &str) -> Arc<Case> {
    load(&root().join("assets/cases").join(format!("{id}.json")))
}

/// A generated file shipped in the repo (a JSON Schema) must equal what the code generates:
/// `BEDSIDE_BLESS=1` rewrites it; otherwise a difference fails with the command that fixes it.
/// Returns the shipped text.
pub fn shipped_matches_generated(relative: &str, generated: &str, bless_filter: &str) -> String {
    let path = root().join(relative);
    if std::env::var_os("BEDSIDE_BLESS").is_some() {
        std::fs::write(&path, generated).expect("write the generated file");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "{relative} is out of date: run `BEDSIDE_BLESS=1 cargo test --test native {bless_filter}`"
    );
    shipped
}

/// Plays `tests/fixtures/plays/{id}.{kind}.jsonl` (else `guideline_plays/`) to its end with
/// the real engine; a closing encounter takes only the end form.
pub fn played(
    id: &str,
    kind: &str,
    config: bedside::engine::encounter::Config,
) -> (
    Arc<bedside::engine::case::Case>,
    bedside::engine::encounter::Encounter,
) {
    use bedside::engine::encounter::{Encounter, Input};
    let c = case(id);
    let plays = root().join(format!("tests/fixtures/plays/{id}.{kind}.jsonl"));
    let path = if plays.exists() {
        plays
    } else {
        root().join(format!("tests/fixtures/guideline_plays/{id}.{kind}.jsonl"))
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut enc = Encounter::new(c.clone(), catalog(), config);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let input = Input::from_play_line(line).unwrap();
        if enc.is_ended() {
            break;
        }
        if enc.takes(&input) {
            enc.apply(input).unwrap();
        }
    }
    (c, enc)
}
