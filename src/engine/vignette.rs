//! The written vignette of a static play: the whole case at once, as it presents. The door
//! note, the patient as first seen (status, vital signs, IV access), every scripted fact in
//! the speaker's words, and every examination and investigation result the case defines, as
//! each would read if asked or ordered now. Treatment responses the case defines are left
//! out: they are consequences of management, not part of the presentation.
//!
//! Read from an [`Encounter`] that has not started (a new one): the same answers and
//! results the dynamic play would give at time zero, chosen by the same code.

use serde::{Deserialize, Serialize};

use super::case::{FactCategory, Vitals};
use super::catalog::Category;
use super::encounter::Encounter;
use super::eval;

/// The categories of orders whose results describe the patient (what a vignette gives).
pub const FINDING_CATEGORIES: [Category; 4] = [
    Category::Exam,
    Category::Bedside,
    Category::Lab,
    Category::Imaging,
];

/// A whole case as a written vignette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vignette {
    pub door_note: String,
    /// "Gary Hollis, 58, male, 82 kg".
    pub patient: String,
    /// How the patient looks now.
    pub status: String,
    pub vitals: Vitals,
    /// Whether IV access is in place on arrival.
    pub iv_access: bool,
    /// Every scripted fact, in case order.
    pub facts: Vec<VignetteFact>,
    /// Every examination and investigation result the case defines, examinations first.
    pub findings: Vec<Finding>,
}

/// One scripted fact as its first speaker tells it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VignetteFact {
    pub id: String,
    pub category: FactCategory,
    /// "patient" or an actor id.
    pub speaker: String,
    pub text: String,
}

/// One result the case defines, as it would come back if ordered now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The catalog order id.
    pub order: String,
    /// The order's name ("12-lead ECG").
    pub name: String,
    pub category: Category,
    pub text: String,
}

impl Encounter {
    /// The case as a written vignette, from this encounter's state (a new encounter: the
    /// presentation at time zero).
    pub fn vignette(&self) -> Vignette {
        let case = self.case();
        let state = self.state();
        let holds = |rule: &_| eval::holds(rule, case, state);
        let facts = case
            .facts
            .iter()
            .map(|f| {
                let speaker = f
                    .speakers
                    .first()
                    .cloned()
                    .unwrap_or_else(|| super::case::PATIENT.to_string());
                VignetteFact {
                    id: f.id.clone(),
                    category: f.category,
                    text: f.answer_now(&state.phase, &speaker, &holds).to_string(),
                    speaker,
                }
            })
            .collect();
        let mut findings: Vec<Finding> = case
            .results
            .keys()
            .filter_map(|id| {
                let order = self.catalog().get(id)?;
                FINDING_CATEGORIES
                    .contains(&order.category)
                    .then(|| Finding {
                        order: id.clone(),
                        name: order.name.clone(),
                        category: order.category,
                        text: self.result_text(id, &state.phase),
                    })
            })
            .collect();
        let rank = |c: Category| FINDING_CATEGORIES.iter().position(|&k| k == c);
        findings.sort_by_key(|f| rank(f.category));
        let p = &case.patient;
        let mut patient = format!("{}, {}, {}", p.name, p.age, p.sex);
        if let Some(kg) = p.weight_kg {
            patient.push_str(&format!(", {} kg", super::units::fmt_num(kg)));
        }
        Vignette {
            door_note: case.door_note.trim().to_string(),
            patient,
            status: state.status.clone(),
            vitals: state.vitals.clone(),
            iv_access: case.arrival.iv_access,
            facts,
            findings,
        }
    }
}
