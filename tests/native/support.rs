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

/// A static play of `case` answered with its expert pathway: every pathway action at once
/// (dispositions last, as the static driver hands them over), then the pathway's end form.
/// `config` must be a static one (`vignette`, a turn limit of 1).
pub fn static_pathway_play(
    case: &Arc<bedside::engine::case::Case>,
    config: bedside::engine::encounter::Config,
) -> bedside::engine::encounter::Encounter {
    use bedside::engine::case::PathwayStep;
    use bedside::engine::encounter::{EndForm, Input, Turn};
    let mut actions = Vec::new();
    let mut end = None;
    for step in &case.pathway {
        match step {
            PathwayStep::Turn { actions: a, .. } => actions.extend(a.iter().cloned()),
            PathwayStep::End { end: e } => end = Some(e.clone()),
            PathwayStep::Wait { .. } => {}
        }
    }
    let actions = bedside::llm::static_play::dispositions_last(actions, &catalog());
    let mut enc = bedside::engine::encounter::Encounter::new(case.clone(), catalog(), config);
    enc.apply(Input::Turn(Turn {
        speak: String::new(),
        actions,
        eos: false,
    }))
    .expect("the static turn");
    let end = end.expect("every shipped case has a pathway end");
    enc.apply(Input::End(EndForm {
        diagnosis: end.diagnosis,
        differential: end.differential,
        plan: end.plan,
        disposition: end.disposition,
    }))
    .expect("the end form");
    enc
}
