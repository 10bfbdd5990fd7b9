//! MedSP1000 frozen-rubric import.
//!
//! A frozen rubric file (one per scenario, named `<case>_<scenario>.json`) is
//! `{"case_id", "scenario", "rubric_version", "PC": [item, ...], "MK": [...], "SBP", "ICS",
//! "PBLI", "PROF"}` where an item is a string (some files use objects with a text field).
//! Real files are messy: empty files, zero items, items with newlines, bullets and markdown,
//! items over 2,000 characters, extra keys. Each file either imports, with warnings for what
//! was cleaned or ignored, or fails with one clear error; a batch goes on past failures and
//! reports totals. Imported items have no rule: they are judge items, with stable ids
//! (`pc-01`, `mk-03`: competency and position in the file).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::{Competency, RubricItem};

/// Items longer than this are kept but flagged: judges and people skim them.
pub const LONG_ITEM_CHARS: usize = 2000;

/// A rubric imported from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedRubric {
    /// The file name it came from.
    pub file: String,
    pub case_id: String,
    pub scenario: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_version: Option<String>,
    pub items: Vec<RubricItem>,
    /// What was cleaned, skipped or ignored, each naming where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ImportedRubric {
    pub fn count(&self, c: Competency) -> usize {
        self.items.iter().filter(|i| i.competency == c).count()
    }
}

/// Why one file did not import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportError {
    pub file: String,
    /// Where in the file (a JSON path such as `PC[3]`, or `line 4, column 9`); empty for the
    /// whole file.
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.at, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

const KNOWN_KEYS: [&str; 3] = ["case_id", "scenario", "rubric_version"];
/// Object fields that hold an item's text, in order of preference.
const TEXT_FIELDS: [&str; 5] = ["item", "text", "criterion", "description", "content"];

/// `<case>_<scenario>.json` → (case, scenario). The scenario is after the last underscore.
fn split_name(file: &str) -> Option<(String, String)> {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.strip_suffix(".json").unwrap_or(base);
    let (case, scenario) = stem.rsplit_once('_')?;
    (!case.is_empty() && !scenario.is_empty()).then(|| (case.to_string(), scenario.to_string()))
}

/// Item text as an educator meant it: markdown emphasis and bullets removed, lines joined,
/// whitespace collapsed. "Asks about:\n- onset\n- **duration**" → "Asks about: onset; duration".
pub fn clean_item(raw: &str) -> String {
    let mut out = String::new();
    for line in raw.lines() {
        let mut l = line.trim();
        l = l.trim_start_matches('#').trim_start();
        for bullet in ["- ", "* ", "• ", "+ ", "– "] {
            if let Some(rest) = l.strip_prefix(bullet) {
                l = rest.trim_start();
                break;
            }
        }
        // "1. " / "2) " numbering
        let digits = l.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && digits <= 3 {
            let rest = &l[digits..];
            if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
                l = r.trim_start();
            }
        }
        let l: String = l.replace(['*', '`'], "").replace("__", "");
        let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
        if l.is_empty() {
            continue;
        }
        if !out.is_empty() {
            if out.ends_with([':', ';', ',', '.', '!', '?']) {
                out.push(' ');
            } else {
                out.push_str("; ");
            }
        }
        out.push_str(&l);
    }
    out
}

fn err(file: &str, at: impl Into<String>, message: impl Into<String>) -> ImportError {
    ImportError {
        file: file.to_string(),
        at: at.into(),
        message: message.into(),
    }
}

/// Imports one frozen rubric file.
pub fn import_rubric(file: &str, text: &str) -> Result<ImportedRubric, ImportError> {
    if text.trim().is_empty() {
        return Err(err(
            file,
            "",
            "the file is empty; a frozen rubric is a JSON object with PC, MK, SBP, ICS, PBLI and PROF lists",
        ));
    }
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        err(
            file,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(err(
            file,
            "",
            "expected a JSON object with PC, MK, SBP, ICS, PBLI and PROF lists",
        ));
    };
    let mut warnings = Vec::new();
    let from_name = split_name(file);
    let field = |name: &str| -> Result<Option<String>, ImportError> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(err(file, name, "expected a string")),
        }
    };
    let case_id = field("case_id")?;
    let scenario = field("scenario")?;
    let rubric_version = field("rubric_version")?;
    let (case_id, scenario) = match (case_id, scenario, &from_name) {
        (Some(c), Some(s), named) => {
            if let Some((nc, ns)) = named {
                if nc != &c || ns != &s {
                    warnings.push(format!(
                        "the file name says case `{nc}`, scenario `{ns}`; the file says case `{c}`, scenario `{s}` (the file's values are used)"
                    ));
                }
            }
            (c, s)
        }
        (c, s, Some((nc, ns))) => (
            c.unwrap_or_else(|| nc.clone()),
            s.unwrap_or_else(|| ns.clone()),
        ),
        (None, _, None) | (_, None, None) => {
            return Err(err(
                file,
                "",
                "no case_id/scenario in the file and the file name is not <case>_<scenario>.json",
            ))
        }
    };
    let extra: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN_KEYS.contains(k) && !Competency::ALL.iter().any(|c| c.code() == *k))
        .collect();
    if !extra.is_empty() {
        warnings.push(format!("ignored extra keys: {}", extra.join(", ")));
    }
    let mut items = Vec::new();
    for c in Competency::ALL {
        let k = c.code();
        let from_text: Vec<Value>;
        let list = match map.get(k) {
            None | Some(Value::Null) => {
                warnings.push(format!("no `{k}` list: no {k} items"));
                continue;
            }
            Some(Value::Array(list)) => list,
            Some(Value::String(s)) if !s.trim().is_empty() => {
                // A competency given as one block of text: one item per non-empty line.
                warnings.push(format!("`{k}` is a string, not a list: one item per line"));
                from_text = s
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| Value::String(l.to_string()))
                    .collect();
                &from_text
            }
            Some(_) => return Err(err(file, k, "expected a list of rubric items")),
        };
        let mut n = 0;
        for (i, v) in list.iter().enumerate() {
            let at = format!("{k}[{i}]");
            let raw = match v {
                Value::String(s) => s.as_str(),
                Value::Object(o) => match TEXT_FIELDS
                    .iter()
                    .find_map(|f| o.get(*f).and_then(Value::as_str))
                {
                    Some(s) => s,
                    None => {
                        return Err(err(
                            file,
                            at,
                            format!(
                                "an item object needs a text field (one of {})",
                                TEXT_FIELDS.join(", ")
                            ),
                        ))
                    }
                },
                Value::Null => {
                    warnings.push(format!("{at}: null item skipped"));
                    continue;
                }
                _ => return Err(err(file, at, "expected an item text (a string)")),
            };
            let text = clean_item(raw);
            if text.is_empty() {
                warnings.push(format!("{at}: empty item skipped"));
                continue;
            }
            if text != raw.trim() {
                warnings.push(format!("{at}: cleaned (markdown, bullets or line breaks)"));
            }
            let chars = text.chars().count();
            if chars > LONG_ITEM_CHARS {
                warnings.push(format!(
                    "{at}: {chars} characters long (over {LONG_ITEM_CHARS}); kept whole"
                ));
            }
            n += 1;
            items.push(RubricItem {
                id: format!("{}-{n:02}", k.to_lowercase()),
                competency: c,
                text,
                weight: 1.0,
                critical: false,
                rule: None,
                rationale: None,
                reference: None,
            });
        }
    }
    if items.is_empty() {
        return Err(err(
            file,
            "",
            "the rubric has no items in any of PC, MK, SBP, ICS, PBLI, PROF",
        ));
    }
    Ok(ImportedRubric {
        file: file.to_string(),
        case_id,
        scenario,
        rubric_version,
        items,
        warnings,
    })
}

/// The outcome of importing many files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    pub imported: Vec<ImportedRubric>,
    pub errors: Vec<ImportError>,
}

impl BatchReport {
    pub fn files(&self) -> usize {
        self.imported.len() + self.errors.len()
    }

    pub fn items(&self) -> usize {
        self.imported.iter().map(|r| r.items.len()).sum()
    }

    /// Items per competency, in ACGME order.
    pub fn items_by_competency(&self) -> Vec<(Competency, usize)> {
        Competency::ALL
            .iter()
            .map(|c| (*c, self.imported.iter().map(|r| r.count(*c)).sum()))
            .collect()
    }

    /// "12 files: 10 imported, 2 failed; 143 items (PC 40, MK 31, ...)".
    pub fn summary(&self) -> String {
        let per: Vec<String> = self
            .items_by_competency()
            .iter()
            .map(|(c, n)| format!("{} {n}", c.code()))
            .collect();
        format!(
            "{} files: {} imported, {} failed; {} items ({})",
            self.files(),
            self.imported.len(),
            self.errors.len(),
            self.items(),
            per.join(", ")
        )
    }
}

/// Imports many files; a failure does not stop the batch.
pub fn import_many<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> BatchReport {
    let mut report = BatchReport::default();
    for (name, text) in files {
        match import_rubric(name, text) {
            Ok(r) => report.imported.push(r),
            Err(e) => report.errors.push(e),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_markdown_bullets_and_lines() {
        assert_eq!(
            clean_item("Asks about:\n- onset\n- **duration**"),
            "Asks about: onset; duration"
        );
        assert_eq!(
            clean_item("1. Checks `BP`\n2) Gives aspirin"),
            "Checks BP; Gives aspirin"
        );
        assert_eq!(clean_item("  ## Plain   item  "), "Plain item");
        assert_eq!(
            clean_item("Sentence one.\nSentence two"),
            "Sentence one. Sentence two"
        );
        assert_eq!(clean_item("\n \n"), "");
    }

    #[test]
    fn file_names_split_at_the_last_underscore() {
        assert_eq!(
            split_name("dir/case_12_scenario3.json"),
            Some(("case_12".into(), "scenario3".into()))
        );
        assert_eq!(split_name("nounderscore.json"), None);
        assert_eq!(split_name("_x.json"), None);
    }
}
