//! Warnings for a valid case: where its results, phases and events disagree with each other in
//! ways a reader can detect from the file alone. A warning never stops a case from loading;
//! `bedside-cli validate` prints them. Each names the JSON path and what to do.
//!
//! - a phase nothing leads to (not the first, no `next`, no event moves to it), and a result
//!   variant for such a phase;
//! - a result variant that can never be used (an earlier one applies in every phase and state,
//!   or an earlier one has the same phase and no `when`);
//! - an order's result that says a vital sign does not change ("no drop in blood pressure",
//!   "vital signs stable") while an event triggered by that same order changes it (a `vitals`
//!   effect, or a phase with other vitals);
//! - an event that waits a delay after an order shorter than the order's turnaround, so that it
//!   fires before the order's result comes back (the result, shown later, then describes an
//!   earlier moment), unless the result has a variant with `when` for the state at release;
//! - a case result that quotes a vital sign ("BP 82/46", "RR 28/min") other than the value of
//!   a phase it can be shown in (or of an event's `vitals` effect): `{sbp}` and the like read
//!   the monitor instead.

use std::collections::BTreeSet;

use super::case::{Case, Effect, Phase, ResultOverride, ResultVariant, Vitals};
use super::catalog::Catalog;
use super::rule::Rule;
use super::validate::{Diagnostic, Diagnostics};

/// Every warning for `case`, named by `source`. Empty for a case that agrees with itself.
pub fn case_warnings(source: &str, case: &Case, catalog: &Catalog) -> Diagnostics {
    let mut out = Diagnostics::new(source);
    let entered = entered_phases(case);
    unreachable_phases(case, &entered, &mut out);
    unused_variants(case, &entered, &mut out);
    unused_patient_variants(case, &entered, &mut out);
    contradicted_claims(case, catalog, &mut out);
    early_events(case, catalog, &mut out);
    quoted_vitals(case, &entered, &mut out);
    out
}

/// Phases the encounter can be in: the first, every `next`, every event's phase effect.
fn entered_phases(case: &Case) -> BTreeSet<&str> {
    let mut set: BTreeSet<&str> = case
        .phases
        .first()
        .map(|p| p.id.as_str())
        .into_iter()
        .collect();
    set.extend(case.phases.iter().filter_map(|p| p.next.as_deref()));
    for e in &case.events {
        for effect in &e.then {
            if let Effect::Phase(p) = effect {
                set.insert(p);
            }
        }
    }
    set
}

fn unreachable_phases(case: &Case, entered: &BTreeSet<&str>, out: &mut Diagnostics) {
    for (i, p) in case.phases.iter().enumerate() {
        if !entered.contains(p.id.as_str()) {
            out.push(Diagnostic::new(
                format!("$.phases[{i}]"),
                format!(
                    "phase `{}` is never entered: it is not the first phase, no phase's `next` \
                     leads to it and no event moves to it",
                    p.id
                ),
                format!(
                    "add an event with the effect {{\"phase\": \"{}\"}} or a `next`, or remove \
                     the phase",
                    p.id
                ),
            ));
        }
    }
}

fn unused_variants(case: &Case, entered: &BTreeSet<&str>, out: &mut Diagnostics) {
    let known: BTreeSet<&str> = case.phases.iter().map(|p| p.id.as_str()).collect();
    for (order, result) in &case.results {
        let ResultOverride::Variants(vs) = result else {
            continue;
        };
        for (i, v) in vs.iter().enumerate() {
            let path = format!("$.results.{order}[{i}]");
            // An unknown phase is an error (load.rs); a known one may still never be entered.
            if let Some(p) = v.phase.as_deref() {
                if known.contains(p) && !entered.contains(p) {
                    out.push(Diagnostic::new(
                        format!("{path}.phase"),
                        format!(
                            "this variant is never used: phase `{p}` is never entered (no `next` \
                             and no event leads to it)"
                        ),
                        "name a phase the encounter can be in, or add the event that enters it",
                    ));
                }
            }
            let shadow = vs[..i].iter().position(|w| {
                w.is_unconditional()
                    || (w.when.is_none() && w.phase.is_some() && w.phase == v.phase)
            });
            if let Some(k) = shadow {
                let why = if vs[k].is_unconditional() {
                    "applies in every phase and state".to_string()
                } else {
                    format!(
                        "has the same phase `{}` and no `when`",
                        vs[k].phase.as_deref().unwrap_or_default()
                    )
                };
                out.push(Diagnostic::new(
                    path,
                    format!(
                        "this variant is never used: variant [{k}] before it {why}, and the \
                         first variant that applies is shown"
                    ),
                    "move the general variant last, or give the earlier one a `when`",
                ));
            }
        }
    }
}

/// Fact variants and reactions for a phase the encounter never enters, and fact variants
/// shadowed by an earlier one that always applies in their phase.
fn unused_patient_variants(case: &Case, entered: &BTreeSet<&str>, out: &mut Diagnostics) {
    let known: BTreeSet<&str> = case.phases.iter().map(|p| p.id.as_str()).collect();
    let never = |p: &str| known.contains(p) && !entered.contains(p);
    let warn = |out: &mut Diagnostics, path: String, what: &str, p: &str| {
        out.push(Diagnostic::new(
            format!("{path}.phase"),
            format!(
                "this {what} is never used: phase `{p}` is never entered (no `next` and no \
                 event leads to it)"
            ),
            "name a phase the encounter can be in, or add the event that enters it",
        ))
    };
    for (i, f) in case.facts.iter().enumerate() {
        for (j, v) in f.variants.iter().enumerate() {
            let path = format!("$.facts[{i}].variants[{j}]");
            if let Some(p) = v.phase.as_deref().filter(|p| never(p)) {
                warn(out, path.clone(), "variant", p);
            }
            let shadow = f.variants[..j].iter().position(|w| {
                w.when.is_none()
                    && (w.phase.is_none() || w.phase == v.phase)
                    && (w.speaker.is_none() || w.speaker == v.speaker)
            });
            if let Some(k) = shadow {
                out.push(Diagnostic::new(
                    path,
                    format!(
                        "this variant is never used: variant [{k}] before it has no `when` and \
                         applies in its phase and to its speaker, and the first variant that \
                         applies is said"
                    ),
                    "put the specific variants first, or give the earlier one a `when`",
                ));
            }
        }
    }
    for (i, r) in case.reactions.iter().enumerate() {
        if let Some(p) = r.phase.as_deref().filter(|p| never(p)) {
            warn(out, format!("$.reactions[{i}]"), "reaction", p);
        }
    }
}

/// A group of vital signs a result text can speak about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Bp,
    Hr,
    Rr,
    Spo2,
    Gcs,
    Temp,
    /// "vital signs", "observations": every one of them.
    All,
}

/// Which change a text rules out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Fall,
    Rise,
    /// "unchanged", "stable": any change.
    Any,
}

/// "no drop in blood pressure" → (Bp, Fall): the blood pressure does not fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Claim {
    sign: Sign,
    direction: Direction,
}

impl Claim {
    /// The claim in plain words: "blood pressure does not fall".
    fn plain(self) -> String {
        let (name, plural) = match self.sign {
            Sign::Bp => ("blood pressure", false),
            Sign::Hr => ("heart rate", false),
            Sign::Rr => ("respiratory rate", false),
            Sign::Spo2 => ("oxygen saturation", false),
            Sign::Gcs => ("conscious level", false),
            Sign::Temp => ("temperature", false),
            Sign::All => ("vital signs", true),
        };
        let verb = match (self.direction, plural) {
            (Direction::Fall, false) => "does not fall",
            (Direction::Fall, true) => "do not fall",
            (Direction::Rise, false) => "does not rise",
            (Direction::Rise, true) => "do not rise",
            (Direction::Any, false) => "does not change",
            (Direction::Any, true) => "do not change",
        };
        format!("{name} {verb}")
    }
}

/// Names of a vital sign (lowercase words; matched as whole words).
const SIGN_WORDS: &[(&str, Sign)] = &[
    ("blood pressure", Sign::Bp),
    ("bp", Sign::Bp),
    ("haemodynamically", Sign::Bp),
    ("hemodynamically", Sign::Bp),
    ("heart rate", Sign::Hr),
    ("pulse", Sign::Hr),
    ("hr", Sign::Hr),
    ("respiratory rate", Sign::Rr),
    ("breathing rate", Sign::Rr),
    ("rr", Sign::Rr),
    ("saturation", Sign::Spo2),
    ("saturations", Sign::Spo2),
    ("sats", Sign::Spo2),
    ("spo2", Sign::Spo2),
    ("conscious level", Sign::Gcs),
    ("consciousness", Sign::Gcs),
    ("gcs", Sign::Gcs),
    ("temperature", Sign::Temp),
    ("vital signs", Sign::All),
    ("vitals", Sign::All),
    ("observations", Sign::All),
    ("obs", Sign::All),
];

/// Words that, with a vital sign in the same clause, say it does not change.
const STEADY_WORDS: &[(&str, Direction)] = &[
    ("no drop in", Direction::Fall),
    ("no fall in", Direction::Fall),
    ("no decrease in", Direction::Fall),
    ("no rise in", Direction::Rise),
    ("no increase in", Direction::Rise),
    ("no change in", Direction::Any),
    ("unchanged", Direction::Any),
    ("stable", Direction::Any),
    ("steady", Direction::Any),
    ("maintained", Direction::Any),
];

/// "no <condition>": the condition ruled out, as a change of one sign.
const NO_CONDITION: &[(&str, Sign, Direction)] = &[
    ("hypotension", Sign::Bp, Direction::Fall),
    ("hypertension", Sign::Bp, Direction::Rise),
    ("bradycardia", Sign::Hr, Direction::Fall),
    ("tachycardia", Sign::Hr, Direction::Rise),
    // A new arrhythmia is a fast one here (the monitor's rate rises); a slowing sinus rate is
    // no arrhythmia.
    ("arrhythmia", Sign::Hr, Direction::Rise),
    ("desaturation", Sign::Spo2, Direction::Fall),
    ("hypoxia", Sign::Spo2, Direction::Fall),
    ("respiratory depression", Sign::Rr, Direction::Fall),
    ("drowsiness", Sign::Gcs, Direction::Fall),
    ("sedation", Sign::Gcs, Direction::Fall),
    ("fever", Sign::Temp, Direction::Rise),
];

/// Lowercase words of a clause, joined by single spaces, padded for whole-word search.
fn words_of(clause: &str) -> String {
    let mut s = String::from(" ");
    for w in clause
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        s.push_str(&w.to_lowercase());
        s.push(' ');
    }
    s
}

fn has_words(haystack: &str, phrase: &str) -> Option<usize> {
    haystack.find(&format!(" {phrase} "))
}

/// What a result text says does not change. Clauses are split at `.`, `;` and `,`.
fn claims(text: &str) -> Vec<Claim> {
    let mut out = Vec::new();
    for clause in text.split(['.', ';', ',']) {
        let w = words_of(clause);
        let Some(no) = has_words(&w, "no").or_else(|| has_words(&w, "without")) else {
            // Without a negation only "<sign> ... stable/unchanged" is a claim.
            push_steady(&w, &mut out);
            continue;
        };
        for &(cond, sign, direction) in NO_CONDITION {
            if has_words(&w, cond).is_some_and(|at| at > no) {
                out.push(Claim { sign, direction });
            }
        }
        push_steady(&w, &mut out);
    }
    out
}

fn push_steady(w: &str, out: &mut Vec<Claim>) {
    let Some(&(_, direction)) = STEADY_WORDS.iter().find(|(s, _)| has_words(w, s).is_some()) else {
        return;
    };
    for &(name, sign) in SIGN_WORDS {
        if has_words(w, name).is_some() && !out.iter().any(|c| c.sign == sign) {
            out.push(Claim { sign, direction });
        }
    }
}

/// The smallest change of each sign that a reader would call a change.
fn changes(sign: Sign, from: &Vitals, to: &Vitals) -> Vec<(&'static str, f64)> {
    let pairs: Vec<(&'static str, Option<f64>, Option<f64>, f64)> = vec![
        (
            "systolic BP",
            from.sbp.map(f64::from),
            to.sbp.map(f64::from),
            10.0,
        ),
        (
            "diastolic BP",
            from.dbp.map(f64::from),
            to.dbp.map(f64::from),
            10.0,
        ),
        (
            "heart rate",
            from.hr.map(f64::from),
            to.hr.map(f64::from),
            10.0,
        ),
        (
            "respiratory rate",
            from.rr.map(f64::from),
            to.rr.map(f64::from),
            4.0,
        ),
        (
            "SpO2",
            from.spo2.map(f64::from),
            to.spo2.map(f64::from),
            3.0,
        ),
        ("GCS", from.gcs.map(f64::from), to.gcs.map(f64::from), 1.0),
        ("temperature", from.temp_c, to.temp_c, 0.5),
    ];
    let wanted = |name: &str| match sign {
        Sign::All => true,
        Sign::Bp => name.ends_with("BP"),
        Sign::Hr => name == "heart rate",
        Sign::Rr => name == "respiratory rate",
        Sign::Spo2 => name == "SpO2",
        Sign::Gcs => name == "GCS",
        Sign::Temp => name == "temperature",
    };
    pairs
        .into_iter()
        .filter(|(name, ..)| wanted(name))
        .filter_map(|(name, a, b, threshold)| {
            let (a, b) = (a?, b?);
            ((b - a).abs() >= threshold).then_some((name, b - a))
        })
        .collect()
}

fn contradicts(claim: Claim, deltas: &[(&'static str, f64)]) -> Option<String> {
    let hit = deltas.iter().find(|(_, d)| match claim.direction {
        Direction::Fall => *d < 0.0,
        Direction::Rise => *d > 0.0,
        Direction::Any => true,
    })?;
    Some(format!(
        "{} {}",
        hit.0,
        if hit.1 < 0.0 { "falls" } else { "rises" }
    ))
}

/// Leaf rules that must hold for `rule` to hold (not under a `not`), with their JSON paths.
fn positive<'a>(rule: &'a Rule, path: String, negated: bool, out: &mut Vec<(&'a Rule, String)>) {
    match rule {
        Rule::All(rs) | Rule::Any(rs) => {
            let kind = if matches!(rule, Rule::All(_)) {
                "all"
            } else {
                "any"
            };
            for (i, r) in rs.iter().enumerate() {
                positive(r, format!("{path}.{kind}[{i}]"), negated, out);
            }
        }
        Rule::Not(inner) => positive(inner, format!("{path}.not"), !negated, out),
        leaf if !negated => out.push((leaf, path)),
        _ => {}
    }
}

fn vitals_line(v: &Vitals) -> String {
    let mut parts = Vec::new();
    if let (Some(s), Some(d)) = (v.sbp, v.dbp) {
        parts.push(format!("BP {s}/{d}"));
    } else if let Some(s) = v.sbp {
        parts.push(format!("systolic BP {s}"));
    }
    if let Some(h) = v.hr {
        parts.push(format!("HR {h}"));
    }
    if let Some(r) = v.rr {
        parts.push(format!("RR {r}"));
    }
    if let Some(s) = v.spo2 {
        parts.push(format!("SpO2 {s}%"));
    }
    if let Some(g) = v.gcs {
        parts.push(format!("GCS {g}"));
    }
    if let Some(t) = v.temp_c {
        parts.push(format!("T {t}"));
    }
    parts.join(", ")
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(160).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// The texts an order's result can show while `handled` does not hold of an earlier variant
/// (one whose `when` is the state the caller asks about: later texts are for other states),
/// each with its JSON path (`None`: the catalog default).
fn result_texts<'a>(
    case: &'a Case,
    catalog: &'a Catalog,
    order: &str,
    handled: impl Fn(&ResultVariant) -> bool,
) -> Vec<(Option<String>, &'a str)> {
    let default = catalog.get(order).map(|o| o.default_result.as_str());
    match case.results.get_key_value(order) {
        Some((id, ResultOverride::Text(t))) => vec![(Some(format!("$.results.{id}")), t.as_str())],
        Some((id, ResultOverride::Variants(vs))) => {
            let mut out = Vec::new();
            for (i, v) in vs.iter().enumerate() {
                out.push((Some(format!("$.results.{id}[{i}].text")), v.text.as_str()));
                if handled(v) {
                    return out;
                }
            }
            if !vs.iter().any(|v| v.is_unconditional()) {
                out.extend(default.map(|d| (None, d)));
            }
            out
        }
        None => default.map(|d| (None, d)).into_iter().collect(),
    }
}

fn phase<'a>(case: &'a Case, id: &str) -> Option<&'a Phase> {
    case.phases.iter().find(|p| p.id == id)
}

fn contradicted_claims(case: &Case, catalog: &Catalog, out: &mut Diagnostics) {
    let mut seen = BTreeSet::new();
    for (i, e) in case.events.iter().enumerate() {
        let mut leaves = Vec::new();
        positive(&e.when, format!("$.events[{i}].when"), false, &mut leaves);
        // The state the event starts from: a phase its rule requires, else the first phase.
        let from = leaves
            .iter()
            .find_map(|(r, _)| match r {
                Rule::Phase(p) => phase(case, p),
                _ => None,
            })
            .or(case.phases.first());
        let Some(from) = from else { continue };
        // What the event makes the vitals: each effect's values over the starting ones.
        let mut outcomes: Vec<(String, Vitals)> = Vec::new();
        for effect in &e.then {
            match effect {
                Effect::Vitals(v) => {
                    outcomes.push((format!("sets {}", vitals_line(v)), from.vitals.overlay(v)))
                }
                Effect::Phase(p) => {
                    if let Some(p) = phase(case, p) {
                        outcomes.push((
                            format!("moves to phase `{}` ({})", p.id, vitals_line(&p.vitals)),
                            p.vitals.clone(),
                        ));
                    }
                }
                _ => {}
            }
        }
        if outcomes.is_empty() {
            continue;
        }
        for (rule, rule_path) in &leaves {
            let Rule::Done(d) = rule else { continue };
            // A variant whose `when` is this event's condition (or the order's part of it)
            // speaks for the state after the event; the texts after it are for other states.
            let handled =
                |v: &ResultVariant| v.when.as_ref().is_some_and(|w| w == &e.when || w == *rule);
            for (text_path, text) in result_texts(case, catalog, &d.order, handled) {
                for claim in claims(text) {
                    let hit = outcomes.iter().find_map(|(what, to)| {
                        contradicts(claim, &changes(claim.sign, &from.vitals, to))
                            .map(|change| (what, change))
                    });
                    let Some((what, change)) = hit else { continue };
                    let (path, whose) = match &text_path {
                        Some(p) => (p.clone(), "the case's result".to_string()),
                        None => (
                            format!("{rule_path}.done"),
                            "the result (the catalog default)".to_string(),
                        ),
                    };
                    if !seen.insert((path.clone(), e.id.clone())) {
                        continue;
                    }
                    out.push(Diagnostic::new(
                        path,
                        format!(
                            "{whose} for `{}` says the {} (\"{}\"), but event `{}`, \
                             triggered by that order, {what}: the {change}",
                            d.order,
                            claim.plain(),
                            short(text),
                            e.id,
                        ),
                        format!(
                            "give `{}` a result in $.results that agrees with the event (a \
                             variant with `when` can depend on the state when it is shown), or \
                             change the event",
                            d.order
                        ),
                    ));
                }
            }
        }
    }
}

fn early_events(case: &Case, catalog: &Catalog, out: &mut Diagnostics) {
    for (i, e) in case.events.iter().enumerate() {
        let mut leaves = Vec::new();
        positive(&e.when, format!("$.events[{i}].when"), false, &mut leaves);
        for (rule, rule_path) in &leaves {
            let Rule::Done(d) = rule else { continue };
            let (Some(elapsed), Some(order)) = (d.elapsed_min, catalog.get(&d.order)) else {
                continue;
            };
            if elapsed >= order.turnaround_min {
                continue;
            }
            let handled = matches!(
                case.results.get(&d.order),
                Some(ResultOverride::Variants(vs)) if vs.iter().any(|v| v.when.is_some())
            );
            if handled {
                continue;
            }
            out.push(Diagnostic::new(
                format!("{rule_path}.done.elapsed_min"),
                format!(
                    "event `{}` can fire {elapsed} minutes after `{}` is ordered, before its \
                     result comes back ({} minutes): the result, shown after the event, then \
                     reads as if the event had not happened",
                    e.id, d.order, order.turnaround_min
                ),
                format!(
                    "wait for the result (\"elapsed_min\": {} or more), or give `{}` a result \
                     variant with `when` for the state after this event",
                    order.turnaround_min, d.order
                ),
            ));
        }
    }
}

/// One vital sign quoted in a text: (label as written, which value, the number; NaN for a
/// placeholder such as `{sbp}`, the monitor's own value).
#[derive(Debug, Clone, PartialEq)]
struct Quote {
    label: &'static str,
    field: Field,
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Sbp,
    Dbp,
    Hr,
    Rr,
    Spo2,
    Gcs,
    Temp,
}

impl Field {
    fn of(self, v: &Vitals) -> Option<f64> {
        match self {
            Field::Sbp => v.sbp.map(f64::from),
            Field::Dbp => v.dbp.map(f64::from),
            Field::Hr => v.hr.map(f64::from),
            Field::Rr => v.rr.map(f64::from),
            Field::Spo2 => v.spo2.map(f64::from),
            Field::Gcs => v.gcs.map(f64::from),
            Field::Temp => v.temp_c,
        }
    }

    /// How far a quoted value may be from the monitor's and still read as the same.
    fn tolerance(self) -> f64 {
        match self {
            Field::Sbp | Field::Dbp | Field::Hr => 5.0,
            Field::Rr => 2.0,
            Field::Spo2 => 1.0,
            Field::Gcs => 0.0,
            Field::Temp => 0.2,
        }
    }

    fn placeholder(self) -> &'static str {
        match self {
            Field::Sbp => "{sbp}",
            Field::Dbp => "{dbp}",
            Field::Hr => "{hr}",
            Field::Rr => "{rr}",
            Field::Spo2 => "{spo2}",
            Field::Gcs => "{gcs}",
            Field::Temp => "{temp_c}",
        }
    }
}

/// Labels a vital sign is quoted by, lowercase, matched as whole words and followed by its
/// number (": ", "of " allowed between).
const QUOTE_LABELS: &[(&str, Field)] = &[
    ("blood pressure", Field::Sbp),
    ("bp", Field::Sbp),
    ("heart rate", Field::Hr),
    ("hr", Field::Hr),
    ("pulse", Field::Hr),
    ("respiratory rate", Field::Rr),
    ("rr", Field::Rr),
    ("spo2", Field::Spo2),
    ("gcs", Field::Gcs),
    ("temperature", Field::Temp),
];

/// The vital signs a text quotes with a label and a number ("BP 82/46 mmHg" gives systolic 82
/// and diastolic 46), for the alarm table; placeholders (`{sbp}`) are left out.
pub fn quoted_signs(text: &str) -> Vec<(crate::engine::alarms::Vital, f64)> {
    use crate::engine::alarms::Vital;
    quotes(text)
        .into_iter()
        .filter(|q| !q.value.is_nan())
        .map(|q| {
            let v = match q.field {
                Field::Sbp => Vital::Sbp,
                Field::Dbp => Vital::Dbp,
                Field::Hr => Vital::Hr,
                Field::Rr => Vital::Rr,
                Field::Spo2 => Vital::Spo2,
                Field::Gcs => Vital::Gcs,
                Field::Temp => Vital::TempC,
            };
            (v, q.value)
        })
        .collect()
}

/// The vital signs a text quotes with a label: "BP 82/46 mmHg", "RR 28/min", "SpO2 91%".
fn quotes(text: &str) -> Vec<Quote> {
    let lower = text.to_lowercase();
    let bytes = lower.as_bytes();
    let mut out = Vec::new();
    for &(label, field) in QUOTE_LABELS {
        let mut from = 0;
        while let Some(at) = lower[from..].find(label).map(|i| i + from) {
            from = at + label.len();
            let before_ok = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
            let after = &lower[from..];
            let after_ok = !after.starts_with(|c: char| c.is_ascii_alphanumeric());
            if !before_ok || !after_ok {
                continue;
            }
            let rest = after.trim_start_matches([' ', ':']);
            let rest = rest.strip_prefix("of ").unwrap_or(rest);
            if rest.starts_with('{') {
                // "BP {sbp}/{dbp}": the monitor's own value, which always agrees.
                out.push(Quote {
                    label,
                    field,
                    value: f64::NAN,
                });
                if field == Field::Sbp {
                    out.push(Quote {
                        label,
                        field: Field::Dbp,
                        value: f64::NAN,
                    });
                }
                continue;
            }
            let Some((first, rest)) = number(rest) else {
                continue;
            };
            out.push(Quote {
                label,
                field,
                value: first,
            });
            if field == Field::Sbp {
                if let Some((dbp, _)) = rest.strip_prefix('/').and_then(number) {
                    out.push(Quote {
                        label,
                        field: Field::Dbp,
                        value: dbp,
                    });
                }
            }
        }
    }
    out
}

/// A leading number ("36.9", "128") and what follows it.
fn number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (c == '.' && i > 0)))
        .map_or(s.len(), |(i, _)| i);
    let digits = s[..end].trim_end_matches('.');
    let value = digits.parse().ok()?;
    Some((value, &s[digits.len()..]))
}

fn quoted_vitals(case: &Case, entered: &BTreeSet<&str>, out: &mut Diagnostics) {
    // Values an event can set, which a text may quote too.
    let set_by_events: Vec<&Vitals> = case
        .events
        .iter()
        .flat_map(|e| &e.then)
        .filter_map(|effect| match effect {
            Effect::Vitals(v) => Some(v),
            _ => None,
        })
        .collect();
    let phases: Vec<&Phase> = case
        .phases
        .iter()
        .filter(|p| entered.contains(p.id.as_str()))
        .collect();
    for (order, result) in &case.results {
        // (path, text, the phases it can be shown in)
        let shown: Vec<(String, &str, Vec<&Phase>)> = match result {
            ResultOverride::Text(t) => vec![(format!("$.results.{order}"), t, phases.clone())],
            ResultOverride::Variants(vs) => vs
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let claimed = |p: &Phase| {
                        vs[..i]
                            .iter()
                            .any(|w| w.when.is_none() && w.phase.as_deref() == Some(p.id.as_str()))
                    };
                    let in_phases = phases
                        .iter()
                        .copied()
                        .filter(|p| v.phase.as_deref().is_none_or(|id| id == p.id))
                        .filter(|p| !claimed(p))
                        .collect();
                    (
                        format!("$.results.{order}[{i}].text"),
                        v.text.as_str(),
                        in_phases,
                    )
                })
                .collect(),
        };
        for (path, text, in_phases) in shown {
            let quoted = quotes(text);
            for q in &quoted {
                // Several values of one sign ("lying: BP 114/70; sitting: BP 96/60") agree when
                // one of them does.
                let same: Vec<&Quote> = quoted.iter().filter(|o| o.field == q.field).collect();
                if !std::ptr::eq(same[0], q) {
                    continue;
                }
                let agrees = |v: &Vitals| {
                    q.field.of(v).is_none_or(|x| {
                        same.iter()
                            .any(|o| o.value.is_nan() || (x - o.value).abs() <= q.field.tolerance())
                    })
                };
                if set_by_events
                    .iter()
                    .any(|v| q.field.of(v).is_some() && agrees(v))
                {
                    continue;
                }
                let Some(p) = in_phases.iter().find(|p| !agrees(&p.vitals)) else {
                    continue;
                };
                let monitor = q.field.of(&p.vitals).unwrap_or_default();
                out.push(Diagnostic::new(
                    path.clone(),
                    format!(
                        "this result says {} {} but it can be shown in phase `{}`, where the \
                         monitor reads {}",
                        q.label.to_uppercase(),
                        fmt_value(q.value),
                        p.id,
                        fmt_value(monitor)
                    ),
                    format!(
                        "quote the monitor with {} (filled when the result is shown), or give \
                         phase `{}` its own variant",
                        q.field.placeholder(),
                        p.id
                    ),
                ));
                break;
            }
        }
    }
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signs(text: &str) -> Vec<(Sign, Direction)> {
        claims(text).iter().map(|c| (c.sign, c.direction)).collect()
    }

    #[test]
    fn claims_are_read_from_plain_wording() {
        assert_eq!(
            signs("Mild transient headache; no drop in blood pressure on recheck at 5 minutes."),
            vec![(Sign::Bp, Direction::Fall)]
        );
        assert_eq!(
            signs("Given as ordered. No hypotension or immediate reaction."),
            vec![(Sign::Bp, Direction::Fall)]
        );
        assert_eq!(
            signs("Labetalol given. No bradycardia, bronchospasm or immediate reaction."),
            vec![(Sign::Hr, Direction::Fall)]
        );
        assert_eq!(
            signs("Transfusing. Vital signs stable at 15 minutes; no transfusion reaction."),
            vec![(Sign::All, Direction::Any)]
        );
        assert_eq!(
            signs("Dilute epinephrine given. No immediate arrhythmia."),
            vec![(Sign::Hr, Direction::Rise)]
        );
    }

    #[test]
    fn quoted_vitals_are_read_with_their_labels() {
        let q = quotes("HR 128/min, BP 82/46 mmHg, RR 28/min, SpO2 91% on room air, temperature 36.9 °C. GCS 13 (E3 V4 M6).");
        let got: Vec<(Field, f64)> = q.iter().map(|q| (q.field, q.value)).collect();
        for want in [
            (Field::Hr, 128.0),
            (Field::Sbp, 82.0),
            (Field::Dbp, 46.0),
            (Field::Rr, 28.0),
            (Field::Spo2, 91.0),
            (Field::Temp, 36.9),
            (Field::Gcs, 13.0),
        ] {
            assert!(got.contains(&want), "{want:?} in {got:?}");
        }
        // Unlabelled rates and words that merely contain a label are not quotes; a placeholder
        // quotes the monitor.
        assert!(quotes("Sinus bradycardia 56/min; three hrs; pulses 2+").is_empty());
        let q = quotes("Lying: HR {hr}, BP {sbp}/{dbp}.");
        assert_eq!(q.len(), 3, "{q:?}");
        assert!(q.iter().all(|q| q.value.is_nan()), "{q:?}");
    }

    #[test]
    fn reactions_and_other_negatives_are_not_vital_claims() {
        for text in [
            "Aspirin given as ordered (chewed if oral). No immediate adverse reaction.",
            "0.9% sodium chloride bolus running. No immediate reaction; lungs remain clear.",
            "No rash, wheeze or immediate reaction.",
            "Albuterol given as ordered. Mild tremor and HR up by about 10/min.",
            "Blood pressure checked every 5 minutes during titration.",
        ] {
            assert!(claims(text).is_empty(), "{text}: {:?}", claims(text));
        }
    }

    #[test]
    fn a_change_counts_past_a_threshold_and_in_the_claimed_direction() {
        let from = Vitals {
            sbp: Some(104),
            dbp: Some(66),
            hr: Some(56),
            ..Vitals::default()
        };
        let to = Vitals {
            sbp: Some(74),
            dbp: Some(42),
            hr: Some(48),
            ..Vitals::default()
        };
        let fall = Claim {
            sign: Sign::Bp,
            direction: Direction::Fall,
        };
        assert_eq!(
            contradicts(fall, &changes(Sign::Bp, &from, &to)).as_deref(),
            Some("systolic BP falls")
        );
        // A rise does not contradict "no drop"; a heart rate change of 8 is not a change.
        assert_eq!(contradicts(fall, &changes(Sign::Bp, &to, &from)), None);
        let hr = Claim {
            sign: Sign::Hr,
            direction: Direction::Any,
        };
        assert_eq!(contradicts(hr, &changes(Sign::Hr, &from, &to)), None);
    }
}
