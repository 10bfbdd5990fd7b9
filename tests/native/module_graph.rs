//! The module graph has no new import loops, and `src/app` stays plain Rust.
//!
//! Every file under `src/` is one module (`src/engine/sp.rs` is `engine::sp`, a `mod.rs` is its
//! folder's module). An edge runs from a module to every module it names by a `crate::` or
//! `super::` path, including inside grouped imports (`use crate::engine::{case::Case, sp}`).
//! Test modules (`#[cfg(test)]` to the end of a file) are left out: they import their parent by
//! design. A loop is a strongly connected set of two or more modules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The loops that exist today, each sorted (none since the structure issue, 13, broke the last).
/// The test fails on any other loop, and on a listed loop that no longer exists (delete it).
const KNOWN_LOOPS: &[&[&str]] = &[];

/// What `src/app` must never import: it is the logic the UI and the CLI share, tested natively.
const APP_FORBIDDEN: &[(&str, &str)] = &[
    ("leptos", "app logic never depends on the UI framework"),
    ("web_sys", "app logic never touches the browser"),
    ("js_sys", "app logic never touches JavaScript"),
    ("wasm_bindgen", "app logic is target-independent"),
    ("gloo", "app logic does no browser I/O"),
    ("crate::store", "app logic never depends on browser storage"),
    ("crate::ui", "app logic never depends on the UI"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/engine/sp.rs` → `engine::sp`; `src/engine/mod.rs` → `engine`; `src/lib.rs` → `crate`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    if parts.is_empty() {
        "crate".to_string()
    } else {
        parts.join("::")
    }
}

/// The source without `//` comments and without the `#[cfg(test)] mod …` at the end.
fn code_only(source: &str) -> String {
    let test_module = source
        .match_indices("#[cfg(test)]")
        .find(|(i, m)| source[i + m.len()..].trim_start().starts_with("mod "));
    let body = match test_module {
        Some((i, _)) => &source[..i],
        None => source,
    };
    body.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path the code names after `crate::` or `super::`, as segment lists, with grouped
/// imports expanded one level per brace (`a::{b::C, d}` gives `a::b::C` and `a::d`).
fn named_paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        let starts_word = i == 0 || !is_ident(chars[i - 1]);
        let (is_super, skip) = if rest.starts_with("crate::") {
            (false, 7)
        } else if rest.starts_with("super::") {
            (true, 7)
        } else {
            (false, 0)
        };
        if skip > 0 && starts_word {
            let mut paths = Vec::new();
            let end = parse_tree(&chars, i + skip, Vec::new(), &mut paths);
            out.extend(paths.into_iter().map(|p| (is_super, p)));
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a use-tree from `at`; pushes every complete path; returns where it stopped.
fn parse_tree(
    chars: &[char],
    mut at: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    loop {
        while at < chars.len() && chars[at].is_whitespace() {
            at += 1;
        }
        if at < chars.len() && chars[at] == '{' {
            at += 1;
            loop {
                at = parse_tree(chars, at, path.clone(), out);
                while at < chars.len() && (chars[at].is_whitespace() || chars[at] == ',') {
                    at += 1;
                }
                if at >= chars.len() || chars[at] == '}' {
                    return at + 1;
                }
            }
        }
        let start = at;
        while at < chars.len() && is_ident(chars[at]) {
            at += 1;
        }
        if at > start {
            path.push(chars[start..at].iter().collect());
        }
        if at + 1 < chars.len() && chars[at] == ':' && chars[at + 1] == ':' {
            at += 2;
            continue;
        }
        if !path.is_empty() {
            out.push(path);
        }
        return at;
    }
}

/// The module a path lands in: the longest prefix that is a module file.
fn resolve(
    modules: &BTreeSet<String>,
    from: &str,
    is_super: bool,
    path: &[String],
) -> Option<String> {
    let mut base: Vec<String> = if is_super {
        let mut parts: Vec<String> = from.split("::").map(str::to_string).collect();
        parts.pop();
        parts
    } else {
        Vec::new()
    };
    base.extend(path.iter().cloned());
    (1..=base.len())
        .rev()
        .map(|n| base[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        let code = code_only(&fs::read_to_string(file).expect("read source"));
        let targets = edges.entry(from.clone()).or_default();
        for (is_super, path) in named_paths(&code) {
            if let Some(to) = resolve(&modules, &from, is_super, &path) {
                if to != from {
                    targets.insert(to);
                }
            }
        }
    }
    edges
}

/// Strongly connected sets of two or more modules (Tarjan), each sorted, sorted.
fn loops(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[v] == self.index[v] {
                let mut set = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    set.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if set.len() > 1 {
                    set.sort();
                    self.found.push(set);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.found.sort();
    t.found
}

#[test]
fn no_import_loops_beyond_the_known_ones() {
    let edges = graph();
    assert!(
        edges.len() > 40 && edges.contains_key("engine::sp"),
        "the module graph was not read: {:?}",
        edges.keys().collect::<Vec<_>>()
    );
    let found = loops(&edges);
    let known: Vec<Vec<String>> = KNOWN_LOOPS
        .iter()
        .map(|l| l.iter().map(|m| m.to_string()).collect())
        .collect();
    let new: Vec<&Vec<String>> = found.iter().filter(|l| !known.contains(l)).collect();
    assert!(
        new.is_empty(),
        "new import loops between modules (move the shared types to a lower module): {new:?}"
    );
    let gone: Vec<&Vec<String>> = known.iter().filter(|l| !found.contains(l)).collect();
    assert!(
        gone.is_empty(),
        "these known loops are broken now: delete them from KNOWN_LOOPS: {gone:?}"
    );
}

#[test]
fn the_loop_finder_reads_grouped_imports_and_super() {
    let paths = named_paths(
        "use crate::engine::{case::Case, sp};\nuse super::view::Row;\nlet x = crate::app::orders::review(a);",
    );
    let flat: Vec<(bool, String)> = paths.into_iter().map(|(s, p)| (s, p.join("::"))).collect();
    assert_eq!(
        flat,
        vec![
            (false, "engine::case::Case".to_string()),
            (false, "engine::sp".to_string()),
            (true, "view::Row".to_string()),
            (false, "app::orders::review".to_string()),
        ]
    );
    let modules: BTreeSet<String> = ["app", "app::view", "app::session", "engine", "engine::case"]
        .into_iter()
        .map(str::to_string)
        .collect();
    let row = ["view".to_string(), "Row".to_string()];
    assert_eq!(
        resolve(&modules, "app::session", true, &row).as_deref(),
        Some("app::view")
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    edges.entry("d".into()).or_default().insert("a".into());
    assert_eq!(loops(&edges), vec![vec!["a", "b", "c"]]);
}

/// `src/app` and `src/eval` (evaluation runs, shared by the browser and the CLI) stay plain
/// Rust.
#[test]
fn app_imports_no_ui_browser_or_storage() {
    let mut files = Vec::new();
    for dir in ["src/app", "src/eval"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let before = files.len();
        rust_files(&root, &mut files);
        assert!(files.len() > before, "no sources under {}", root.display());
    }
    let mut report = Vec::new();
    for file in &files {
        let code = code_only(&fs::read_to_string(file).expect("read app source"));
        for (n, line) in code.lines().enumerate() {
            for &(pattern, why) in APP_FORBIDDEN {
                if line.contains(pattern) {
                    report.push(format!("{}:{}: `{pattern}`: {why}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        report.is_empty(),
        "src/app and src/eval must stay plain Rust:\n{}",
        report.join("\n")
    );
}
