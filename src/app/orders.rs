//! The order panel's logic: search-as-you-type over the whole catalog, the order text sent for
//! a picked suggestion (keeping any dose and route typed), and keyboard highlight movement.
//!
//! Orders are placed at once: each is its own clinician turn with no speech (see
//! [`crate::app::session`]), so the inbox shows it as soon as Enter is pressed.

use crate::engine::action::{interpret, interpret_as, search, Interpretation};
use crate::engine::catalog::{Catalog, Category, Order};
use crate::engine::encounter::Encounter;
use crate::engine::pharmacy::{check_dose, DoseLevel};
use crate::engine::units::fmt_num;

/// How many suggestions the panel lists.
pub const SUGGESTIONS: usize = 8;

/// One suggestion under the order box.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub id: String,
    pub name: String,
    pub category: &'static str,
    /// What it costs in simulated time: "takes 2 min · result in 45 min".
    pub detail: String,
    /// The form it is placed with, as the engine records it: "300 mg PO (default route)".
    pub form: Option<String>,
    /// The text placed when this suggestion is picked; interpreted again it gives `placed`.
    pub order_text: String,
    /// What the engine records for it.
    pub placed: Interpretation,
}

/// "takes 2 min · result in 45 min", "takes 1 min · immediate": the simulated time an order
/// costs and when its result comes back.
pub fn time_detail(order: &Order) -> String {
    let result = match order.turnaround_min {
        0 => "immediate".to_string(),
        t => format!("result in {t} min"),
    };
    format!("takes {} min · {result}", order.time_cost_min)
}

/// The suggestions for what is typed, best first; empty for blank input. Each carries the
/// typed dose and route only where its order takes them, with the catalog's defaults filled
/// in and marked.
pub fn suggestions(query: &str, catalog: &Catalog, limit: usize) -> Vec<Suggestion> {
    let typed = Some(interpret(query, catalog)).filter(|t| t.order.is_some());
    search(query, catalog, limit)
        .into_iter()
        .map(|m| {
            let detail = catalog.get(&m.id).map(time_detail).unwrap_or_default();
            let placed = match &typed {
                // The order the text names keeps what was typed.
                Some(t) if t.order.as_ref().is_some_and(|o| o.id == m.id) => Interpretation {
                    order: Some(m.clone()),
                    ..t.clone()
                },
                _ => interpret_as(query, m.clone(), catalog),
            };
            let form = placed.placed_form();
            Suggestion {
                id: m.id,
                name: m.name,
                category: m.category.label(),
                detail,
                form,
                order_text: placed.order_text(),
                placed,
            }
        })
        .collect()
}

/// Moves the highlighted suggestion by `delta` (arrow keys), wrapping around; None when there
/// are no suggestions.
pub fn move_highlight(current: Option<usize>, len: usize, delta: i32) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let len = len as i64;
    let next = match current {
        None if delta >= 0 => 0,
        None => len - 1,
        Some(i) => (i as i64 + i64::from(delta)).rem_euclid(len),
    };
    Some(next as usize)
}

/// What Enter in the order box places: the highlighted suggestion's order text, or the text as
/// typed when nothing is suggested. None for blank input.
pub fn order_for_enter(
    query: &str,
    suggestions: &[Suggestion],
    highlight: Option<usize>,
) -> Option<String> {
    if query.trim().is_empty() {
        return None;
    }
    match highlight.and_then(|i| suggestions.get(i)) {
        Some(s) => Some(s.order_text.clone()),
        None => Some(query.trim().to_string()),
    }
}

/// What placing an order needs first, as the ward would ask it.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderReview {
    /// Place it now.
    Place,
    /// A disposition: it closes the encounter, so confirm and open the end form with it.
    Disposition { name: String },
    /// The pharmacist queries the dose: place only after the trainee confirms.
    ConfirmDose { message: String },
    /// A number that cannot be read as a dose: ask for its unit; nothing is placed.
    AskUnit { message: String },
}

/// Reviews an order before it is placed: the same interpretation and the same checks the
/// engine records, so what the panel asks about is what the debrief will show.
pub fn review(text: &str, encounter: &Encounter) -> OrderReview {
    let catalog = encounter.catalog();
    let i = interpret(text, catalog);
    let Some(order) = i.order.as_ref() else {
        return OrderReview::Place;
    };
    if order.category == Category::Disposition {
        return OrderReview::Disposition {
            name: order.name.clone(),
        };
    }
    if let Some(n) = i.unread_number {
        return OrderReview::AskUnit {
            message: format!(
                "What is the {} in \"{}\"? Type the dose with its unit (e.g. {} mg) and a route.",
                fmt_num(n),
                i.raw.trim(),
                fmt_num(n)
            ),
        };
    }
    if let Some(check) = check_dose(&i, catalog, &encounter.case().patient) {
        let level = match check.level {
            DoseLevel::BelowUsual => "Below the usual dose",
            DoseLevel::AboveUsual => "Above the usual dose",
            DoseLevel::GrossOverdose => "Dangerous dose",
        };
        return OrderReview::ConfirmDose {
            message: format!(
                "{level} — {} ({}). Place it anyway?",
                check.message, check.source
            ),
        };
    }
    OrderReview::Place
}
