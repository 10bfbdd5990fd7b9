//! The engine is sans-IO: no UI or browser crates, no clock, no unseeded randomness.
//! This test reads every file under src/engine and fails on a forbidden import or call.

use std::fs;
use std::path::{Path, PathBuf};

/// (pattern, why it is forbidden)
const FORBIDDEN: &[(&str, &str)] = &[
    ("leptos", "the engine never depends on the UI framework"),
    ("web_sys", "the engine never touches the browser"),
    ("js_sys", "the engine never touches JavaScript"),
    ("wasm_bindgen", "the engine is target-independent"),
    ("gloo", "the engine does no I/O"),
    (
        "std::time",
        "the engine never reads the clock: time is passed in",
    ),
    (
        "Instant::now",
        "the engine never reads the clock: time is passed in",
    ),
    (
        "SystemTime",
        "the engine never reads the clock: time is passed in",
    ),
    (
        "chrono",
        "the engine never reads the clock: time is passed in",
    ),
    ("getrandom", "randomness must be seeded and passed in"),
    ("thread_rng", "randomness must be seeded and passed in"),
    ("rand::", "randomness must be seeded and passed in"),
    ("std::fs", "the engine does no I/O: data in, data out"),
    ("std::net", "the engine does no I/O"),
    ("std::env", "the engine reads no environment"),
    ("crate::ui", "the engine never depends on the UI"),
    ("crate::llm", "the engine never depends on the LLM layer"),
    ("crate::store", "the engine never depends on storage"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/engine") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code with `//` comments removed, so documentation may name what is forbidden.
fn code_only(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The violations in one file's source: (line number, pattern, reason).
fn violations(source: &str) -> Vec<(usize, &'static str, &'static str)> {
    let code = code_only(source);
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for &(pattern, why) in FORBIDDEN {
            if line.contains(pattern) {
                found.push((n + 1, pattern, why));
            }
        }
    }
    found
}

#[test]
fn engine_imports_no_ui_io_clock_or_randomness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        !files.is_empty(),
        "no engine sources found under {}",
        root.display()
    );
    let mut report = Vec::new();
    for file in &files {
        let source = fs::read_to_string(file).expect("read engine source");
        for (line, pattern, why) in violations(&source) {
            report.push(format!("{}:{line}: `{pattern}`: {why}", file.display()));
        }
    }
    assert!(
        report.is_empty(),
        "src/engine must stay pure:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_purity_check_catches_violations() {
    // The checker itself must flag what it claims to flag, and ignore comments.
    assert_eq!(violations("use leptos::prelude::*;").len(), 1);
    assert_eq!(violations("let t = std::time::Instant::now();").len(), 2);
    assert_eq!(violations("let mut r = rand::thread_rng();").len(), 2);
    assert!(violations("// leptos is not used here").is_empty());
    assert!(violations("let x = 1; // std::time would be wrong").is_empty());
}
