//! The order panel's logic: search-as-you-type over the whole catalog, the order text sent for
//! a picked suggestion (keeping any dose and route typed), and keyboard highlight movement.
//!
//! Orders are placed at once: each is its own clinician turn with no speech (see
//! [`crate::app::session`]), so the inbox shows it as soon as Enter is pressed.

use crate::engine::action::{interpret, search};
use crate::engine::catalog::Catalog;

use super::view::dose_route_label;

/// How many suggestions the panel lists.
pub const SUGGESTIONS: usize = 8;

/// One suggestion under the order box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub id: String,
    pub name: String,
    pub category: &'static str,
    /// "result in 45 min" / "immediate".
    pub detail: String,
    /// The text placed when this suggestion is picked: its name plus any dose and route typed.
    pub order_text: String,
}

/// The suggestions for what is typed, best first; empty for blank input.
pub fn suggestions(query: &str, catalog: &Catalog, limit: usize) -> Vec<Suggestion> {
    let matches = search(query, catalog, limit);
    if matches.is_empty() {
        return Vec::new();
    }
    let typed = interpret(query, catalog);
    let suffix = dose_route_label(typed.dose.as_ref(), typed.route.as_deref());
    matches
        .into_iter()
        .map(|m| {
            let order = catalog.get(&m.id);
            let detail = match order.map(|o| o.turnaround_min) {
                Some(0) | None => "immediate".to_string(),
                Some(t) => format!("result in {t} min"),
            };
            let order_text = match &suffix {
                Some(s) => format!("{} {s}", m.name),
                None => m.name.clone(),
            };
            Suggestion {
                id: m.id,
                name: m.name,
                category: m.category.label(),
                detail,
                order_text,
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
