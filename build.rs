//! Embeds the shipped JSON assets (the order catalog and the built-in cases) without their
//! indentation: `src/engine/mod.rs` and `src/app/library.rs` include the copies this writes to
//! `OUT_DIR/assets/`. Whitespace outside strings is dropped and nothing else changes (key
//! order, escapes, numbers stay as written), so the content is the same JSON. A file that is
//! not well-formed is copied as it is, so that validation reports its errors at their lines.

use std::fs;
use std::path::Path;

fn main() {
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets");
    fs::create_dir_all(out.join("cases")).expect("create OUT_DIR/assets/cases");
    println!("cargo:rerun-if-changed=assets/catalog.json");
    println!("cargo:rerun-if-changed=assets/cases");
    copy(Path::new("assets/catalog.json"), &out.join("catalog.json"));
    let mut cases: Vec<_> = fs::read_dir("assets/cases")
        .expect("assets/cases")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    cases.sort();
    for path in cases {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("file name");
        copy(&path, &out.join("cases").join(name));
    }
}

fn copy(from: &Path, to: &Path) {
    let text = fs::read_to_string(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    let compact = minify(&text).unwrap_or(text);
    fs::write(to, compact).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
}

/// JSON without insignificant whitespace; None when strings are not closed.
fn minify(json: &str) -> Option<String> {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    (!in_string).then_some(out)
}
