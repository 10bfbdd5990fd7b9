//! Diagnostics for case and catalog files: every error names the file, the JSON path and what
//! to do, and validation reports all errors at once rather than stopping at the first.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One problem in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// JSONPath-style location, e.g. `$.facts[3].triggers`; `$` for the whole file.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl Diagnostic {
    pub fn new(
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// All the problems found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// The file (or source name) they belong to.
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(source: impl Into<String>) -> Self {
        Diagnostics {
            source: source.into(),
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `Ok(())` when there is nothing to report.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.items.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// A JSON syntax error or a type error from serde, located as precisely as serde allows.
    pub fn from_serde(source: &str, json: &str, err: &serde_json::Error) -> Diagnostics {
        let mut d = Diagnostics::new(source);
        d.push(syntax_diagnostic(json, err));
        d
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} — {}", self.path, self.message, self.hint)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.items.len();
        writeln!(
            f,
            "{}: {n} error{}",
            self.source,
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.items {
            writeln!(f, "  {}: {d}", self.source)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostics {
    /// These diagnostics as warnings (they do not stop loading): "file: N warning(s)", then
    /// one line each. Empty when there are none.
    pub fn warnings_report(&self) -> String {
        let n = self.items.len();
        if n == 0 {
            return String::new();
        }
        let mut out = format!(
            "{}: {n} warning{}\n",
            self.source,
            if n == 1 { "" } else { "s" }
        );
        for d in &self.items {
            out.push_str(&format!("  {}: warning: {d}\n", self.source));
        }
        out
    }
}

fn syntax_diagnostic(json: &str, err: &serde_json::Error) -> Diagnostic {
    let line = err.line();
    let col = err.column();
    let excerpt = json
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    let excerpt: String = excerpt.chars().take(60).collect();
    let what = match err.classify() {
        serde_json::error::Category::Eof => {
            "the file ends too early (a bracket or quote is not closed)"
        }
        serde_json::error::Category::Syntax => "this is not valid JSON",
        _ => "unexpected content",
    };
    Diagnostic::new(
        "$",
        format!(
            "{what} at line {line}, column {col}: {err}{}",
            if excerpt.is_empty() {
                String::new()
            } else {
                format!(" (near `{excerpt}`)")
            }
        ),
        "fix the JSON syntax (a JSON linter or the editor's schema support shows the spot)",
    )
}

/// Deserializes `value` as `T`, reporting a failure at `path` + the inner path serde reached.
pub(crate) fn typed<T: DeserializeOwned>(
    value: &Value,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let full = join_path(path, &inner);
            let msg = e.inner().to_string();
            diags.push(Diagnostic::new(
                full,
                tidy_serde_message(&msg),
                hint_for(&msg),
            ));
            None
        }
    }
}

fn join_path(base: &str, inner: &str) -> String {
    if inner.is_empty() || inner == "." {
        return base.to_string();
    }
    let mut out = base.to_string();
    for seg in inner.split('.') {
        if seg.is_empty() {
            continue;
        }
        if seg.starts_with('[') {
            out.push_str(seg);
        } else {
            out.push('.');
            out.push_str(seg);
        }
    }
    out
}

fn tidy_serde_message(msg: &str) -> String {
    // serde_json appends " at line X column Y" for Value-based errors only rarely; drop it.
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn hint_for(msg: &str) -> String {
    if msg.starts_with("missing field") {
        "add the field (see docs/case-authoring.md)".into()
    } else if msg.starts_with("unknown field") {
        "remove the field or fix its spelling; the expected fields are listed in the message".into()
    } else if msg.starts_with("unknown variant") {
        "use one of the values listed in the message".into()
    } else if msg.starts_with("invalid type") {
        "change the value to the expected type".into()
    } else {
        "see docs/case-authoring.md for the expected shape".into()
    }
}

/// Parses JSON text into a `Value`, or a diagnostic locating the syntax error.
pub(crate) fn parse_value(source: &str, json: &str) -> Result<Value, Diagnostics> {
    serde_json::from_str::<Value>(json).map_err(|e| Diagnostics::from_serde(source, json, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_in_jsonpath_style() {
        assert_eq!(
            join_path("$.facts[2]", "triggers[0]"),
            "$.facts[2].triggers[0]"
        );
        assert_eq!(join_path("$", "meta.id"), "$.meta.id");
        assert_eq!(join_path("$.phases[0]", ""), "$.phases[0]");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let json = "{\n  \"a\": 1,\n  \"b\": \n}";
        let err = serde_json::from_str::<Value>(json).unwrap_err();
        let d = syntax_diagnostic(json, &err);
        assert_eq!(d.path, "$");
        assert!(d.message.contains("line 4"), "{}", d.message);
    }
}
