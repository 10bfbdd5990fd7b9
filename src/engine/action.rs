//! Interpreting a free-text order ("give ASA 325mg PO", "12 lead ecg", "CXR") as a catalog
//! entry with a confidence, keeping any dose and route for rules to check.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Category};
use super::lexicon::canonical_tokens;
use super::text::normalize;

/// Below this confidence an order is "unsupported" (not understood).
pub const MIN_CONFIDENCE: f64 = 0.6;

/// A dose as the clinician wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderedDose {
    pub amount: f64,
    /// Canonical unit: mg, mcg, g, units, mL, L, mEq, mmol, mg/kg, mcg/kg, units/kg, mL/kg,
    /// L/min, mcg/min.
    pub unit: String,
}

/// The catalog entry an order matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedOrder {
    pub id: String,
    pub name: String,
    pub category: Category,
    /// 0..=1; 1 is an exact name or synonym.
    pub confidence: f64,
}

/// What the engine understood of one free-text order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub raw: String,
    /// None: not understood or not available (status "unsupported").
    pub order: Option<MatchedOrder>,
    pub dose: Option<OrderedDose>,
    /// Canonical route code (PO, IV, IM, SC, SL, PR, IN, INH, NEB, IO, TOP).
    pub route: Option<String>,
}

/// Words that carry no meaning for matching an order.
const FILLER: &[&str] = &[
    "give",
    "administer",
    "start",
    "begin",
    "order",
    "get",
    "obtain",
    "check",
    "send",
    "draw",
    "do",
    "perform",
    "request",
    "please",
    "stat",
    "now",
    "immediately",
    "urgent",
    "urgently",
    "the",
    "a",
    "an",
    "of",
    "for",
    "to",
    "me",
    "us",
    "and",
    "with",
    "patient",
    "pt",
    "i",
    "want",
    "would",
    "like",
    "let",
    "lets",
    "we",
    "will",
    "need",
    "needs",
    "some",
    "x1",
    "once",
    "dose",
    "her",
    "his",
    "him",
    "them",
    "their",
    "my",
    "our",
    "this",
    "that",
    "on",
    "at",
    "right",
    "away",
    "asap",
    "chewed",
    "chew",
    "chewable",
    "place",
    "put",
    "apply",
    "insert",
    "call",
    "page",
    "contact",
    "set",
    "up",
    "arrange",
    "run",
    "also",
    "then",
    "can",
    "you",
    "be",
];

const ROUTES: &[(&str, &str)] = &[
    ("po", "PO"),
    ("oral", "PO"),
    ("orally", "PO"),
    ("chewed", "PO"),
    ("chew", "PO"),
    ("iv", "IV"),
    ("ivp", "IV"),
    ("intravenous", "IV"),
    ("intravenously", "IV"),
    ("im", "IM"),
    ("intramuscular", "IM"),
    ("intramuscularly", "IM"),
    ("sc", "SC"),
    ("sq", "SC"),
    ("subcut", "SC"),
    ("subcutaneous", "SC"),
    ("subcutaneously", "SC"),
    ("sl", "SL"),
    ("sublingual", "SL"),
    ("sublingually", "SL"),
    ("pr", "PR"),
    ("rectal", "PR"),
    ("rectally", "PR"),
    ("intranasal", "IN"),
    ("intranasally", "IN"),
    ("nasal", "IN"),
    ("inh", "INH"),
    ("inhaled", "INH"),
    ("mdi", "INH"),
    ("neb", "NEB"),
    ("nebulised", "NEB"),
    ("nebulized", "NEB"),
    ("io", "IO"),
    ("intraosseous", "IO"),
    ("topical", "TOP"),
    ("topically", "TOP"),
];

const UNITS: &[(&str, &str)] = &[
    ("mg/kg", "mg/kg"),
    ("mcg/kg", "mcg/kg"),
    ("ug/kg", "mcg/kg"),
    ("units/kg", "units/kg"),
    ("unit/kg", "units/kg"),
    ("u/kg", "units/kg"),
    ("ml/kg", "mL/kg"),
    ("l/min", "L/min"),
    ("lpm", "L/min"),
    ("mcg/min", "mcg/min"),
    ("mg", "mg"),
    ("mgs", "mg"),
    ("milligram", "mg"),
    ("milligrams", "mg"),
    ("mcg", "mcg"),
    ("ug", "mcg"),
    ("microgram", "mcg"),
    ("micrograms", "mcg"),
    ("g", "g"),
    ("gm", "g"),
    ("gram", "g"),
    ("grams", "g"),
    ("units", "units"),
    ("unit", "units"),
    ("u", "units"),
    ("iu", "units"),
    ("ml", "mL"),
    ("mls", "mL"),
    ("cc", "mL"),
    ("l", "L"),
    ("litre", "L"),
    ("liter", "L"),
    ("litres", "L"),
    ("liters", "L"),
    ("meq", "mEq"),
    ("mmol", "mmol"),
];

fn unit_of(token: &str) -> Option<&'static str> {
    UNITS.iter().find(|(u, _)| *u == token).map(|(_, c)| *c)
}

fn route_of(token: &str) -> Option<&'static str> {
    ROUTES.iter().find(|(r, _)| *r == token).map(|(_, c)| *c)
}

/// Splits "325mg" into ("325", "mg").
fn split_number_unit(token: &str) -> Option<(f64, &str)> {
    let end = token.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    if end == 0 {
        return None;
    }
    let amount: f64 = token[..end].parse().ok()?;
    Some((amount, &token[end..]))
}

/// Extracts dose and route; returns them with the text that is left to match.
fn extract_dose_route(normalized: &str) -> (Option<OrderedDose>, Option<String>, String) {
    let tokens: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
    let mut dose = None;
    let mut route = None;
    let mut rest = Vec::new();
    let mut i = 0;
    let mut dose_just_read = false;
    while i < tokens.len() {
        let t = tokens[i];
        let was_dose = std::mem::take(&mut dose_just_read);
        if dose.is_none() {
            if let Some((amount, unit)) = split_number_unit(t) {
                if let Some(u) = unit_of(unit) {
                    dose = Some(OrderedDose {
                        amount,
                        unit: u.to_string(),
                    });
                    dose_just_read = true;
                    i += 1;
                    continue;
                }
            }
            if let Ok(amount) = t.parse::<f64>() {
                if let Some(u) = tokens.get(i + 1).and_then(|n| unit_of(n)) {
                    dose = Some(OrderedDose {
                        amount,
                        unit: u.to_string(),
                    });
                    dose_just_read = true;
                    i += 2;
                    continue;
                }
            }
        }
        if route.is_none() {
            if let Some(r) = route_of(t) {
                route = Some(r.to_string());
                // Keep route words that also name orders ("neb", "iv" in "iv access"); the
                // matcher treats unmatched words as noise anyway.
                rest.push(t);
                i += 1;
                continue;
            }
            // "in" is a route only right after a dose ("2 mg in"), never as a preposition.
            if t == "in" && was_dose {
                route = Some("IN".to_string());
                i += 1;
                continue;
            }
        }
        rest.push(t);
        i += 1;
    }
    (dose, route, rest.join(" "))
}

/// Interprets one free-text order against the catalog.
pub fn interpret(raw: &str, catalog: &Catalog) -> Interpretation {
    let normalized = normalize(raw);
    let (dose, route, rest) = extract_dose_route(&normalized);
    let order = best_match(&rest, route.as_deref(), catalog);
    Interpretation {
        raw: raw.to_string(),
        order,
        dose,
        route,
    }
}

/// Up to `limit` catalog entries for a search box, best first (prefix-friendly: the last
/// word may be incomplete).
pub fn search(query: &str, catalog: &Catalog, limit: usize) -> Vec<MatchedOrder> {
    let normalized = normalize(query);
    if normalized.is_empty() {
        return Vec::new();
    }
    let (_, route, rest) = extract_dose_route(&normalized);
    let mut scored = score_all(&rest, route.as_deref(), catalog, true);
    scored.truncate(limit);
    scored
}

fn best_match(text: &str, route: Option<&str>, catalog: &Catalog) -> Option<MatchedOrder> {
    score_all(text, route, catalog, false)
        .into_iter()
        .next()
        .filter(|m| m.confidence >= MIN_CONFIDENCE)
}

/// Scores every catalog entry that shares a word with the text; best first, deterministic.
fn score_all(
    text: &str,
    route: Option<&str>,
    catalog: &Catalog,
    prefix: bool,
) -> Vec<MatchedOrder> {
    let raw_tokens = canonical_tokens(text);
    let mut tokens: BTreeSet<String> = BTreeSet::new();
    let mut corrections = 0usize;
    let last = raw_tokens.len().saturating_sub(1);
    let mut prefix_token: Option<String> = None;
    for (i, t) in raw_tokens.iter().enumerate() {
        if FILLER.contains(&t.as_str()) || (route_of(t).is_some() && !catalog.vocab.contains(t)) {
            continue;
        }
        match catalog.vocab.correct(t) {
            Some(c) => {
                if c != t {
                    corrections += 1;
                }
                tokens.insert(c.to_string());
            }
            None => {
                if prefix && i == last {
                    prefix_token = Some(t.clone());
                }
                tokens.insert(t.clone());
            }
        }
    }
    if tokens.is_empty() {
        return Vec::new();
    }
    // Candidate phrases: those sharing a token (or, when searching, starting with the prefix).
    let mut candidates: BTreeSet<usize> = BTreeSet::new();
    for t in &tokens {
        if let Some(ps) = catalog.postings.get(t) {
            candidates.extend(ps.iter().copied());
        }
    }
    if let Some(p) = &prefix_token {
        for (word, ps) in catalog.postings.range(p.clone()..) {
            if !word.starts_with(p.as_str()) {
                break;
            }
            candidates.extend(ps.iter().copied());
        }
    }
    let mut best: BTreeMap<usize, f64> = BTreeMap::new();
    for p in candidates {
        let phrase = &catalog.phrases[p];
        let matched = phrase
            .tokens
            .iter()
            .filter(|t| {
                tokens.contains(*t)
                    || prefix_token
                        .as_ref()
                        .is_some_and(|pt| t.starts_with(pt.as_str()))
            })
            .count();
        if matched == 0 {
            continue;
        }
        let recall = matched as f64 / phrase.tokens.len() as f64;
        let precision = matched as f64 / tokens.len() as f64;
        let mut score = if recall >= 1.0 {
            if precision >= 1.0 {
                1.0
            } else {
                0.75 + 0.2 * precision
            }
        } else {
            0.9 * 2.0 * precision * recall / (precision + recall)
        };
        score *= 0.95f64.powi(corrections as i32);
        let order = catalog.order_at(phrase.order);
        if let Some(r) = route {
            if !order.routes.is_empty() {
                if order.routes.iter().any(|x| x == r) {
                    score += 0.02;
                } else {
                    score *= 0.85;
                }
            }
        }
        let entry = best.entry(phrase.order).or_insert(0.0);
        if score > *entry {
            *entry = score;
        }
    }
    let mut out: Vec<(usize, f64)> = best.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.into_iter()
        .map(|(i, score)| {
            let o = catalog.order_at(i);
            MatchedOrder {
                id: o.id.clone(),
                name: o.name.clone(),
                category: o.category,
                confidence: (score.min(1.0) * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_and_routes_are_extracted() {
        let (d, r, rest) = extract_dose_route("give asa 325mg po");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 325.0,
                unit: "mg".into()
            })
        );
        assert_eq!(r.as_deref(), Some("PO"));
        assert_eq!(rest, "give asa po");
        let (d, r, _) = extract_dose_route("epinephrine 0.5 mg im");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 0.5,
                unit: "mg".into()
            })
        );
        assert_eq!(r.as_deref(), Some("IM"));
        let (d, _, _) = extract_dose_route("normal saline 30 ml/kg");
        assert_eq!(
            d,
            Some(OrderedDose {
                amount: 30.0,
                unit: "mL/kg".into()
            })
        );
        let (d, r, _) = extract_dose_route("naloxone 2 mg in");
        assert_eq!(d.map(|d| d.amount), Some(2.0));
        assert_eq!(r.as_deref(), Some("IN"));
        let (d, r, rest) = extract_dose_route("12 lead ecg");
        assert_eq!((d, r), (None, None));
        assert_eq!(rest, "12 lead ecg");
    }
}
