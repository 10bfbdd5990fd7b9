//! Order search quality: hundreds of orders typed the way clinicians type them (shorthand,
//! typos, UK and US wording, doses with and without spaces, "x2", "stat", route words), from
//! `tests/fixtures/order_phrasings.tsv`, each with the catalog order it names and the dose and
//! route it carries.

use bedside::engine::action::{interpret, search};

use crate::support::catalog;

const TABLE: &str = include_str!("../fixtures/order_phrasings.tsv");

/// Rows of the table that must come out right, in full (order, dose and route).
const REQUIRED_SHARE: f64 = 0.97;

/// One row: what is typed and what it means.
struct Row<'a> {
    line: usize,
    phrase: &'a str,
    order_id: &'a str,
    /// Amount and canonical unit; None: the text gives no dose, and none may be invented.
    dose: Option<(f64, &'a str)>,
    /// Canonical route; None: not checked (route words also name orders: "PR exam",
    /// "IO access").
    route: Option<&'a str>,
}

fn rows() -> Vec<Row<'static>> {
    let mut rows = Vec::new();
    let mut header = true;
    for (i, line) in TABLE.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if std::mem::take(&mut header) {
            assert_eq!(line, "phrase\torder_id\tamount\tunit\troute", "header");
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "line {}: five tab-separated columns", i + 1);
        let dose = match (cols[2], cols[3]) {
            ("", "") => None,
            (amount, unit) if !amount.is_empty() && !unit.is_empty() => Some((
                amount
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("line {}: amount `{amount}`", i + 1)),
                unit,
            )),
            _ => panic!("line {}: amount and unit go together", i + 1),
        };
        rows.push(Row {
            line: i + 1,
            phrase: cols[0],
            order_id: cols[1],
            dose,
            route: (!cols[4].is_empty()).then_some(cols[4]),
        });
    }
    rows
}

#[test]
fn the_table_is_large_covers_every_category_and_names_real_orders() {
    let catalog = catalog();
    let rows = rows();
    assert!(rows.len() >= 320, "{} rows", rows.len());
    let mut phrases = std::collections::BTreeSet::new();
    let mut categories = std::collections::BTreeSet::new();
    for r in &rows {
        let order = catalog
            .get(r.order_id)
            .unwrap_or_else(|| panic!("line {}: no order `{}`", r.line, r.order_id));
        categories.insert(order.category);
        assert!(
            phrases.insert(r.phrase.to_lowercase()),
            "line {}: `{}` twice",
            r.line,
            r.phrase
        );
    }
    assert_eq!(categories.len(), 11, "every category: {categories:?}");
}

#[test]
fn clinicians_orders_name_the_right_catalog_entry_dose_and_route() {
    let catalog = catalog();
    let rows = rows();
    let mut wrong = Vec::new();
    for r in &rows {
        let got = interpret(r.phrase, &catalog);
        let id = got.order.as_ref().map(|m| m.id.as_str());
        let dose = got.dose.as_ref().map(|d| (d.amount, d.unit.as_str()));
        let mut problems = Vec::new();
        if id != Some(r.order_id) {
            let closest: Vec<String> = search(r.phrase, &catalog, 3)
                .into_iter()
                .map(|m| format!("{} {:.3}", m.id, m.confidence))
                .collect();
            problems.push(format!(
                "got {id:?}, expected {} (closest: {})",
                r.order_id,
                closest.join(", ")
            ));
        }
        if dose != r.dose {
            problems.push(format!("dose {dose:?}, expected {:?}", r.dose));
        }
        if let Some(route) = r.route {
            if got.route.map(|r| r.as_str()) != Some(route) {
                problems.push(format!("route {:?}, expected {route}", got.route));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "line {} {:?}: {}",
                r.line,
                r.phrase,
                problems.join("; ")
            ));
        }
    }
    let right = rows.len() - wrong.len();
    let share = right as f64 / rows.len() as f64;
    println!(
        "order phrasings: {right} of {} right ({:.1}%)",
        rows.len(),
        100.0 * share
    );
    for w in &wrong {
        println!("  {w}");
    }
    assert!(
        share >= REQUIRED_SHARE,
        "{right} of {} phrasings right ({:.1}%, need {:.0}%):\n{}",
        rows.len(),
        100.0 * share,
        100.0 * REQUIRED_SHARE,
        wrong.join("\n")
    );
}

#[test]
fn search_as_you_type_lists_the_exam_the_words_mean_first() {
    let catalog = catalog();
    // (typed so far, the suggestion that must come first)
    for (typed, first) in [
        // "examine chest" is the respiratory exam (not HEENT, not the chest wall)
        ("examine chest", "lung_auscultation"),
        ("examine che", "lung_auscultation"),
        ("listen to chest", "lung_auscultation"),
        ("listen to heart", "cardiac_auscultation"),
        // a word being typed is on its way to "heart", not a typo of "ear"
        ("listen to hear", "cardiac_auscultation"),
        ("examine heart", "cardiac_auscultation"),
    ] {
        let got = search(typed, &catalog, 5);
        assert_eq!(
            got.first().map(|m| m.id.as_str()),
            Some(first),
            "{typed:?}: {got:?}"
        );
        assert!(
            got.get(1).is_none_or(|m| m.confidence < got[0].confidence),
            "{typed:?}: {first} is first on its own: {got:?}"
        );
    }
}
