//! The case library: the built-in cases (embedded at compile time), imported cases, and the
//! search and filters of the library page.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::case::{Case, Difficulty};
use crate::engine::catalog::Catalog;
use crate::engine::load::load_case;
use crate::engine::validate::{Diagnostic, Diagnostics};

macro_rules! builtin {
    ($id:literal) => {
        (
            concat!($id, ".json"),
            include_str!(concat!(env!("OUT_DIR"), "/assets/cases/", $id, ".json")),
        )
    };
}

/// The built-in case files: (file name, JSON without indentation, see `build.rs`). A native
/// test keeps this list equal to the files in `assets/cases/`.
pub const BUILTIN_CASES: &[(&str, &str)] = &[
    builtin!("acs-inferior-stemi"),
    builtin!("anaphylaxis-peanut"),
    builtin!("breaking-bad-news"),
    builtin!("dka-young-adult"),
    builtin!("ectopic-pregnancy"),
    builtin!("opioid-overdose"),
    builtin!("paediatric-asthma"),
    builtin!("sepsis-pneumonia"),
    builtin!("stroke-thrombolysis"),
    builtin!("suicide-risk-assessment"),
    builtin!("upper-gi-bleed"),
];

/// Where a case in the library comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    BuiltIn,
    Imported,
}

/// An imported case file as it is kept in browser storage: the file name and its text. It is
/// validated again on every load (the catalog may have changed since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCase {
    pub file_name: String,
    pub json: String,
}

/// One case in the library.
#[derive(Debug, Clone)]
pub struct LibraryCase {
    pub case: Arc<Case>,
    pub origin: Origin,
    pub file_name: String,
    /// The file text (kept for imported cases, which are stored and snapshotted with
    /// encounters; empty for built-ins, which are found again by id).
    pub json: Arc<str>,
}

impl LibraryCase {
    pub fn id(&self) -> &str {
        &self.case.meta.id
    }

    pub fn card(&self) -> CaseCard {
        let m = &self.case.meta;
        CaseCard {
            id: m.id.clone(),
            title: m.title.clone(),
            specialty: m.specialty.clone(),
            setting: m.setting.clone(),
            difficulty: difficulty_label(m.difficulty),
            minutes: m.estimated_minutes,
            imported: self.origin == Origin::Imported,
            file_name: self.file_name.clone(),
        }
    }
}

/// What a library card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCard {
    pub id: String,
    pub title: String,
    pub specialty: String,
    pub setting: String,
    pub difficulty: &'static str,
    pub minutes: u32,
    pub imported: bool,
    pub file_name: String,
}

pub fn difficulty_label(d: Difficulty) -> &'static str {
    match d {
        Difficulty::Introductory => "Introductory",
        Difficulty::Intermediate => "Intermediate",
        Difficulty::Advanced => "Advanced",
    }
}

/// Parses a difficulty filter value ("introductory", …); anything else means "any".
pub fn parse_difficulty(value: &str) -> Option<Difficulty> {
    match value {
        "introductory" => Some(Difficulty::Introductory),
        "intermediate" => Some(Difficulty::Intermediate),
        "advanced" => Some(Difficulty::Advanced),
        _ => None,
    }
}

/// The specialty tags of a case: "Toxicology / emergency medicine" is both "Toxicology" and
/// "Emergency medicine".
pub fn specialty_tags(specialty: &str) -> Vec<String> {
    specialty
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// The library page's search and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Words that must all appear in the title, specialty, setting or id (any case).
    pub query: String,
    /// A specialty tag (see [`specialty_tags`]); None: any.
    pub specialty: Option<String>,
    pub difficulty: Option<Difficulty>,
}

impl Filter {
    pub fn matches(&self, case: &Case) -> bool {
        let m = &case.meta;
        if let Some(d) = self.difficulty {
            if m.difficulty != d {
                return false;
            }
        }
        if let Some(s) = &self.specialty {
            if !specialty_tags(&m.specialty)
                .iter()
                .any(|t| t.eq_ignore_ascii_case(s))
            {
                return false;
            }
        }
        let haystack = format!("{} {} {} {}", m.title, m.specialty, m.setting, m.id).to_lowercase();
        self.query
            .to_lowercase()
            .split_whitespace()
            .all(|w| haystack.contains(w))
    }
}

/// The built-in and imported cases.
#[derive(Debug, Clone, Default)]
pub struct Library {
    cases: Vec<LibraryCase>,
}

impl Library {
    /// The built-in cases. A built-in case that fails validation is a bug; it is reported, not
    /// hidden, and the others still load.
    pub fn builtin(catalog: &Catalog) -> (Library, Vec<Diagnostics>) {
        let mut lib = Library::default();
        let mut errors = Vec::new();
        for (file, json) in BUILTIN_CASES {
            match load_case(file, json, catalog) {
                Ok(case) => lib.cases.push(LibraryCase {
                    case: Arc::new(case),
                    origin: Origin::BuiltIn,
                    file_name: (*file).to_string(),
                    json: Arc::from(""),
                }),
                Err(d) => errors.push(d),
            }
        }
        (lib, errors)
    }

    pub fn cases(&self) -> &[LibraryCase] {
        &self.cases
    }

    pub fn get(&self, id: &str) -> Option<&LibraryCase> {
        self.cases.iter().find(|c| c.id() == id)
    }

    /// The cards that pass the filter: built-ins first, then imported, each by title.
    pub fn cards(&self, filter: &Filter) -> Vec<CaseCard> {
        let mut cards: Vec<CaseCard> = self
            .cases
            .iter()
            .filter(|c| filter.matches(&c.case))
            .map(LibraryCase::card)
            .collect();
        cards.sort_by(|a, b| {
            a.imported
                .cmp(&b.imported)
                .then_with(|| a.title.cmp(&b.title))
        });
        cards
    }

    /// Every specialty tag in the library, sorted, without duplicates.
    pub fn specialties(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .cases
            .iter()
            .flat_map(|c| specialty_tags(&c.case.meta.specialty))
            .collect();
        tags.sort_by_key(|t| t.to_lowercase());
        tags.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        tags
    }

    /// The imported cases, as they are stored.
    pub fn stored_imports(&self) -> Vec<StoredCase> {
        self.cases
            .iter()
            .filter(|c| c.origin == Origin::Imported)
            .map(|c| StoredCase {
                file_name: c.file_name.clone(),
                json: c.json.to_string(),
            })
            .collect()
    }

    /// Validates a case file and adds it as an imported case. An imported case with the same id
    /// is replaced; a built-in id is refused. Returns whether a case was replaced.
    pub fn import(
        &mut self,
        file_name: &str,
        json: &str,
        catalog: &Catalog,
    ) -> Result<bool, Diagnostics> {
        let case = check_import(file_name, json, catalog, self)?;
        let entry = LibraryCase {
            case: Arc::new(case),
            origin: Origin::Imported,
            file_name: file_name.to_string(),
            json: Arc::from(json),
        };
        match self.cases.iter().position(|c| c.id() == entry.id()) {
            Some(i) => {
                self.cases[i] = entry;
                Ok(true)
            }
            None => {
                self.cases.push(entry);
                Ok(false)
            }
        }
    }

    /// Adds every stored import; the ones that no longer validate are returned with their
    /// errors (and left out).
    pub fn restore_imports(
        &mut self,
        stored: &[StoredCase],
        catalog: &Catalog,
    ) -> Vec<Diagnostics> {
        stored
            .iter()
            .filter_map(|s| self.import(&s.file_name, &s.json, catalog).err())
            .collect()
    }

    /// Removes an imported case; built-ins cannot be removed. Returns whether one was removed.
    pub fn remove_imported(&mut self, id: &str) -> bool {
        let before = self.cases.len();
        self.cases
            .retain(|c| !(c.origin == Origin::Imported && c.id() == id));
        self.cases.len() != before
    }
}

/// Largest case file accepted for import (the largest built-in case is far smaller).
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

/// Validates an imported case file: size, JSON, shape and references (every error at once),
/// and that its id does not clash with a built-in case.
pub fn check_import(
    file_name: &str,
    json: &str,
    catalog: &Catalog,
    library: &Library,
) -> Result<Case, Diagnostics> {
    if json.len() > MAX_IMPORT_BYTES {
        let mut d = Diagnostics::new(file_name);
        d.push(Diagnostic::new(
            "$",
            format!(
                "the file is {} KB; case files are at most {} KB",
                json.len() / 1024,
                MAX_IMPORT_BYTES / 1024
            ),
            "check that this is a Bedside case file",
        ));
        return Err(d);
    }
    let case = load_case(file_name, json, catalog)?;
    if library
        .get(&case.meta.id)
        .is_some_and(|c| c.origin == Origin::BuiltIn)
    {
        let mut d = Diagnostics::new(file_name);
        d.push(Diagnostic::new(
            "$.meta.id",
            format!("a built-in case already has the id `{}`", case.meta.id),
            "give the imported case its own id",
        ));
        return Err(d);
    }
    Ok(case)
}
