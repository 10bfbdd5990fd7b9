//! Evaluating rules over an encounter's state, with evidence: which turn and simulated minute
//! satisfied a rule, or why it failed ("ECG at 14:10, required by 10:00").

use serde::{Deserialize, Serialize};

use super::action::OrderedDose;
use super::case::Case;
use super::encounter::{ActionRecord, ActionStatus, State};
use super::phrases::first_match;
use super::rule::{DoneRule, DoseRange, ResultBeforeRule, Rule, TotalRule};
use super::text::stems;
use super::units::{convert_for, fmt_num};

/// One piece of evidence: where in the trajectory something happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub turn: u32,
    pub time_s: u32,
    pub text: String,
}

/// A rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub holds: bool,
    /// What satisfied it (or, for a failed rule, what came closest).
    pub evidence: Vec<Evidence>,
    /// Plain-language explanation.
    pub why: String,
}

impl Verdict {
    fn yes(why: impl Into<String>, evidence: Vec<Evidence>) -> Verdict {
        Verdict {
            holds: true,
            evidence,
            why: why.into(),
        }
    }
    fn no(why: impl Into<String>, evidence: Vec<Evidence>) -> Verdict {
        Verdict {
            holds: false,
            evidence,
            why: why.into(),
        }
    }
}

/// Whole simulated minutes, rounded down.
pub fn minute(time_s: u32) -> u32 {
    time_s / 60
}

/// Simulated time as the debrief shows it: `m:ss` ("14:05").
pub fn clock(time_s: u32) -> String {
    format!("{}:{:02}", time_s / 60, time_s % 60)
}

/// Whether a rule holds now. The fast path for events, checked at every simulated minute:
/// it builds no evidence and allocates nothing for the common rules. It must agree with
/// [`evaluate`] (a test checks this on every shipped case's rules).
pub fn holds(rule: &Rule, case: &Case, state: &State) -> bool {
    match rule {
        Rule::Minute(m) => state.now_s >= m * 60,
        Rule::Phase(id) => state.phases_visited.iter().any(|v| &v.phase == id),
        Rule::Elicited(id) => state.elicited.contains_key(id),
        Rule::Never(id) => first_done(id, state).is_none(),
        Rule::Done(d) if d.dose.is_none() && d.route.is_empty() && d.times.unwrap_or(1) <= 1 => {
            state.actions.iter().any(|a| {
                a.order_id() == Some(d.order.as_str())
                    && a.done_at().is_some_and(|t| {
                        d.by_minute.is_none_or(|m| t <= m * 60)
                            && d.elapsed_min.is_none_or(|m| state.now_s >= t + m * 60)
                    })
            })
        }
        Rule::All(rules) => rules.iter().all(|r| holds(r, case, state)),
        Rule::Any(rules) => rules.iter().any(|r| holds(r, case, state)),
        Rule::Not(inner) => !holds(inner, case, state),
        _ => evaluate(rule, case, state).holds,
    }
}

/// Evaluates a rule with evidence.
pub fn evaluate(rule: &Rule, case: &Case, state: &State) -> Verdict {
    match rule {
        Rule::Done(d) => done(d, case.patient.weight_kg, state),
        Rule::Before(pair) => {
            let first = first_done(&pair.first, state);
            let then = first_done(&pair.then, state);
            match (first, then) {
                (Some((a, ta)), Some((b, tb))) if ta < tb || (ta == tb && a.seq < b.seq) => {
                    Verdict::yes(
                        format!(
                            "{} at {} before {} at {}",
                            a.label(),
                            clock(ta),
                            b.label(),
                            clock(tb)
                        ),
                        vec![a.evidence(), b.evidence()],
                    )
                }
                (Some((a, ta)), Some((b, tb))) => Verdict::no(
                    format!(
                        "{} at {} came after {} at {}",
                        a.label(),
                        clock(ta),
                        b.label(),
                        clock(tb)
                    ),
                    vec![a.evidence(), b.evidence()],
                ),
                (None, Some((b, _))) => Verdict::no(
                    format!("{} was done but `{}` never was", b.label(), pair.first),
                    vec![b.evidence()],
                ),
                (Some((a, _)), None) => Verdict::no(
                    format!("`{}` was never done", pair.then),
                    vec![a.evidence()],
                ),
                (None, None) => Verdict::no(
                    format!("neither `{}` nor `{}` was done", pair.first, pair.then),
                    vec![],
                ),
            }
        }
        Rule::ResultBefore(r) => result_before(r, state),
        Rule::Total(t) => total(t, case.patient.weight_kg, state),
        Rule::Elicited(id) => match state.elicited.get(id) {
            Some(e) => Verdict::yes(
                format!("elicited from {} at {}", e.speaker, clock(e.time_s)),
                vec![Evidence {
                    turn: e.turn,
                    time_s: e.time_s,
                    text: e.question.clone(),
                }],
            ),
            None => Verdict::no(format!("fact `{id}` was never elicited"), vec![]),
        },
        Rule::Said(s) => {
            for u in &state.utterances {
                if s.by_minute.is_some_and(|m| u.time_s > m * 60) {
                    break;
                }
                if let Some(p) = first_match(&u.text, s.set.as_deref(), &s.phrases) {
                    return Verdict::yes(
                        format!("said \"{p}\" at {}", clock(u.time_s)),
                        vec![Evidence {
                            turn: u.turn,
                            time_s: u.time_s,
                            text: u.text.clone(),
                        }],
                    );
                }
            }
            let what = s
                .set
                .as_deref()
                .map(|n| format!("no phrase of the set `{n}`"))
                .unwrap_or_else(|| "none of the phrases".into());
            let when = s
                .by_minute
                .map(|m| format!(" by {m}:00"))
                .unwrap_or_default();
            Verdict::no(format!("{what} was said{when}"), vec![])
        }
        Rule::Never(id) => match first_done(id, state) {
            Some((a, t)) => {
                Verdict::no(format!("{} at {}", a.label(), clock(t)), vec![a.evidence()])
            }
            None => Verdict::yes(format!("`{id}` was never done"), vec![]),
        },
        Rule::Diagnosis(d) => {
            let Some(form) = &state.final_form else {
                return Verdict::no("no final diagnosis was given", vec![]);
            };
            let accepted = if d.any_of.is_empty() {
                &case.diagnoses.accepted
            } else {
                &d.any_of
            };
            match accepted
                .iter()
                .find(|a| diagnosis_matches(&form.diagnosis, a))
            {
                Some(a) => Verdict::yes(
                    format!("\"{}\" matches \"{a}\"", form.diagnosis),
                    vec![Evidence {
                        turn: state.turn,
                        time_s: state.ended.as_ref().map_or(state.now_s, |e| e.time_s),
                        text: form.diagnosis.clone(),
                    }],
                ),
                None => Verdict::no(
                    format!("\"{}\" is not among the accepted diagnoses", form.diagnosis),
                    vec![],
                ),
            }
        }
        Rule::Phase(id) => match state.phases_visited.iter().find(|v| &v.phase == id) {
            Some(v) => Verdict::yes(
                format!("reached phase `{id}` at {}", clock(v.time_s)),
                vec![Evidence {
                    turn: v.turn,
                    time_s: v.time_s,
                    text: format!("phase {id}"),
                }],
            ),
            None => Verdict::no(format!("phase `{id}` was never reached"), vec![]),
        },
        Rule::Minute(m) => {
            if state.now_s >= m * 60 {
                Verdict::yes(format!("minute {m} reached"), vec![])
            } else {
                Verdict::no(format!("only {} so far", clock(state.now_s)), vec![])
            }
        }
        Rule::All(rules) => {
            let mut evidence = Vec::new();
            for r in rules {
                let v = evaluate(r, case, state);
                if !v.holds {
                    return Verdict::no(v.why, v.evidence);
                }
                evidence.extend(v.evidence);
            }
            Verdict::yes("all conditions met", evidence)
        }
        Rule::Any(rules) => {
            let mut whys = Vec::new();
            for r in rules {
                let v = evaluate(r, case, state);
                if v.holds {
                    return v;
                }
                whys.push(v.why);
            }
            Verdict::no(whys.join("; "), vec![])
        }
        Rule::Not(inner) => {
            let v = evaluate(inner, case, state);
            Verdict {
                holds: !v.holds,
                evidence: v.evidence,
                why: format!("not: {}", v.why),
            }
        }
    }
}

/// The order carried out first (by when it was carried out), with that time.
fn first_done<'a>(order: &str, state: &'a State) -> Option<(&'a ActionRecord, u32)> {
    state
        .actions
        .iter()
        .filter(|a| a.order_id() == Some(order))
        .filter_map(|a| a.done_at().map(|t| (a, t)))
        .min_by_key(|(a, t)| (*t, a.seq))
}

/// `weight_kg` reads a dose per kilogram against an absolute range and the reverse.
fn done(d: &DoneRule, weight_kg: Option<f64>, state: &State) -> Verdict {
    let mut candidates: Vec<(&ActionRecord, u32)> = state
        .actions
        .iter()
        .filter(|a| a.order_id() == Some(d.order.as_str()))
        .filter_map(|a| a.done_at().map(|t| (a, t)))
        .collect();
    candidates.sort_by_key(|(a, t)| (*t, a.seq));
    if candidates.is_empty() {
        let held = state.actions.iter().find(|a| {
            a.order_id() == Some(d.order.as_str()) && a.status != ActionStatus::Unsupported
        });
        return match held {
            Some(a) if a.cancelled_s.is_some() => Verdict::no(
                format!("{} was cancelled before it was given", a.label()),
                vec![a.evidence()],
            ),
            Some(a) => Verdict::no(
                format!("{} was held: no IV access was placed", a.label()),
                vec![a.evidence()],
            ),
            None => Verdict::no(format!("`{}` was never ordered", d.order), vec![]),
        };
    }
    let needed = d.times.unwrap_or(1).max(1) as usize;
    let mut met: Vec<&ActionRecord> = Vec::new();
    let mut closest: Option<(&ActionRecord, String)> = None;
    for &(a, t) in &candidates {
        let failure = if let Some(range) = &d.dose {
            dose_problem(
                range,
                a.interpretation.dose.as_ref(),
                a.interpretation.rate,
                weight_kg,
            )
        } else {
            None
        }
        .or_else(|| {
            (!d.route.is_empty()
                && !a
                    .interpretation
                    .route
                    .as_ref()
                    .is_some_and(|r| d.route.iter().any(|x| x.eq_ignore_ascii_case(r))))
            .then(|| {
                format!(
                    "route {} is not {}",
                    a.interpretation.route.as_deref().unwrap_or("(none given)"),
                    d.route.join(" or ")
                )
            })
        })
        .or_else(|| {
            d.by_minute
                .filter(|&m| t > m * 60)
                .map(|m| format!("{} at {}, required by {m}:00", a.label(), clock(t)))
        })
        .or_else(|| {
            d.elapsed_min
                .filter(|&m| state.now_s < t + m * 60)
                .map(|m| format!("{} at {}, less than {m} minutes ago", a.label(), clock(t)))
        });
        match failure {
            None => {
                met.push(a);
                if met.len() >= needed {
                    let when: Vec<String> = met
                        .iter()
                        .map(|m| clock(m.done_at().unwrap_or(m.time_s)))
                        .collect();
                    return Verdict::yes(
                        format!("{} at {}", a.label(), when.join(", ")),
                        met.iter().map(|m| m.evidence()).collect(),
                    );
                }
            }
            Some(why) => {
                if closest.is_none() {
                    closest = Some((a, why));
                }
            }
        }
    }
    if !met.is_empty() {
        return Verdict::no(
            format!(
                "{} done {} time(s), {needed} required",
                met[0].label(),
                met.len()
            ),
            met.iter().map(|m| m.evidence()).collect(),
        );
    }
    let (a, why) = closest.expect("candidates is not empty");
    Verdict::no(why, vec![a.evidence()])
}

/// Why a dose does not meet a rule's range (none when it does). `rate`: the dose is a rate per
/// hour; a range with `rate` set accepts only rates (`true`) or only single doses (`false`).
fn dose_problem(
    range: &DoseRange,
    dose: Option<&OrderedDose>,
    rate: bool,
    weight_kg: Option<f64>,
) -> Option<String> {
    let Some(dose) = dose else {
        return Some("no dose was given".into());
    };
    match range.rate {
        Some(true) if !rate => {
            return Some(format!(
                "dose {} {} is a single dose, not a rate per hour",
                fmt_num(dose.amount),
                dose.unit
            ))
        }
        Some(false) if rate => {
            return Some(format!(
                "dose {} {}/h is a rate, not a single dose",
                fmt_num(dose.amount),
                dose.unit
            ))
        }
        _ => {}
    }
    let per = if rate && dose.unit != "mcg/min" {
        "/h"
    } else {
        ""
    };
    let Some(amount) = convert_for(dose.amount, &dose.unit, &range.unit, weight_kg) else {
        return Some(format!(
            "dose {} {} is not in {}",
            fmt_num(dose.amount),
            dose.unit,
            range.unit
        ));
    };
    let low = range.min.is_some_and(|m| amount < m - 1e-9);
    let high = range.max.is_some_and(|m| amount > m + 1e-9);
    (low || high).then(|| {
        let bounds = bounds(range);
        format!(
            "dose {} {}{per} is outside {bounds}",
            fmt_num(dose.amount),
            dose.unit
        )
    })
}

/// The range in words: "30–60 mL/kg", "at least 30 mL/kg".
fn bounds(range: &DoseRange) -> String {
    match (range.min, range.max) {
        (Some(a), Some(b)) => format!("{}–{} {}", fmt_num(a), fmt_num(b), range.unit),
        (Some(a), None) => format!("at least {} {}", fmt_num(a), range.unit),
        (None, Some(b)) => format!("at most {} {}", fmt_num(b), range.unit),
        (None, None) => range.unit.clone(),
    }
}

/// `result_before`: the first result of `r.result` released, against the placing of the first
/// carried-out `r.then` and the deadline.
fn result_before(r: &ResultBeforeRule, state: &State) -> Verdict {
    let back = state
        .actions
        .iter()
        .filter(|a| a.order_id() == Some(r.result.as_str()))
        .filter_map(|a| a.resulted_at().map(|t| (a, t)))
        .min_by_key(|(a, t)| (*t, a.seq));
    let then = r.then.as_deref().map(|id| {
        state
            .actions
            .iter()
            .filter(|a| a.order_id() == Some(id) && a.done_at().is_some())
            .min_by_key(|a| (a.time_s, a.seq))
            .ok_or(id)
    });
    let Some((a, ta)) = back else {
        let pending = state
            .actions
            .iter()
            .find(|a| a.order_id() == Some(r.result.as_str()) && a.done_at().is_some());
        return match pending {
            Some(a) => Verdict::no(
                format!("the result of {} was never back", a.label()),
                vec![a.evidence()],
            ),
            None => Verdict::no(format!("`{}` was never ordered", r.result), vec![]),
        };
    };
    let mut evidence = vec![a.evidence()];
    if let Some(m) = r.by_minute.filter(|&m| ta > m * 60) {
        return Verdict::no(
            format!(
                "the result of {} was back at {}, required by {m}:00",
                a.label(),
                clock(ta)
            ),
            evidence,
        );
    }
    match then {
        None => Verdict::yes(
            format!("the result of {} was back at {}", a.label(), clock(ta)),
            evidence,
        ),
        Some(Err(id)) => Verdict::no(format!("`{id}` was never done"), evidence),
        Some(Ok(b)) => {
            evidence.push(b.evidence());
            // Released at the moment B was placed counts: results are released before the
            // clinician's next turn at that moment.
            if ta <= b.time_s {
                Verdict::yes(
                    format!(
                        "the result of {} was back at {}, before {} was placed at {}",
                        a.label(),
                        clock(ta),
                        b.label(),
                        clock(b.time_s)
                    ),
                    evidence,
                )
            } else {
                Verdict::no(
                    format!(
                        "{} was placed at {}, before the result of {} was back at {}",
                        b.label(),
                        clock(b.time_s),
                        a.label(),
                        clock(ta)
                    ),
                    evidence,
                )
            }
        }
    }
}

/// How much of one order counts towards a total up to `until_s`, in the order's own unit: a
/// single dose in full once carried out (nothing if stopped), a rate per hour for the time it
/// ran. None when the order has no dose.
pub fn given_by(a: &ActionRecord, until_s: u32) -> Option<(f64, &str)> {
    let start = a.done_at()?;
    if start > until_s {
        return None;
    }
    let dose = a.interpretation.dose.as_ref()?;
    if a.interpretation.rate {
        if dose.unit == "mcg/min" {
            return None;
        }
        let end = a.stopped_s.map_or(until_s, |s| s.min(until_s));
        let hours = f64::from(end.saturating_sub(start)) / 3600.0;
        Some((dose.amount * hours, dose.unit.as_str()))
    } else if a.stopped_s.is_some_and(|s| s <= until_s) {
        Some((0.0, dose.unit.as_str()))
    } else {
        Some((dose.amount, dose.unit.as_str()))
    }
}

/// `total`: adds up what the matching orders gave.
fn total(t: &TotalRule, weight_kg: Option<f64>, state: &State) -> Verdict {
    let until = t
        .by_minute
        .map_or(state.now_s, |m| (m * 60).min(state.now_s));
    let mut sum = 0.0;
    let mut evidence = Vec::new();
    let mut parts = Vec::new();
    let mut skipped = Vec::new();
    for a in &state.actions {
        if !a
            .order_id()
            .is_some_and(|id| t.orders.iter().any(|o| o == id))
        {
            continue;
        }
        if !t.route.is_empty()
            && !a
                .interpretation
                .route
                .as_ref()
                .is_some_and(|r| t.route.iter().any(|x| x.eq_ignore_ascii_case(r)))
        {
            continue;
        }
        let Some((amount, unit)) = given_by(a, until) else {
            if a.done_at().is_some_and(|s| s <= until) && a.interpretation.dose.is_none() {
                skipped.push(format!("{} (no dose given)", a.label()));
            }
            continue;
        };
        let Some(v) = convert_for(amount, unit, &t.dose.unit, weight_kg) else {
            skipped.push(format!("{} (not in {})", a.label(), t.dose.unit));
            continue;
        };
        if a.stopped_s.is_some_and(|s| s <= until) && !a.interpretation.rate {
            skipped.push(format!("{} (stopped)", a.label()));
            continue;
        }
        sum += v;
        parts.push(format!("{} {}", fmt_num(v), t.dose.unit));
        evidence.push(a.evidence());
    }
    let low = t.dose.min.is_some_and(|m| sum < m - 1e-9);
    let high = t.dose.max.is_some_and(|m| sum > m + 1e-9);
    let mut why = format!(
        "total {} {}{}",
        fmt_num((sum * 1000.0).round() / 1000.0),
        t.dose.unit,
        if parts.len() > 1 {
            format!(" ({})", parts.join(" + "))
        } else {
            String::new()
        }
    );
    if let Some(m) = t.by_minute {
        why.push_str(&format!(" by {m}:00"));
    }
    if !skipped.is_empty() {
        why.push_str(&format!("; not counted: {}", skipped.join(", ")));
    }
    if low || high {
        Verdict::no(format!("{why}, outside {}", bounds(&t.dose)), evidence)
    } else {
        Verdict::yes(format!("{why}, within {}", bounds(&t.dose)), evidence)
    }
}

/// Medical abbreviations expanded before comparing diagnoses.
const DX_EXPANSIONS: &[(&str, &str)] = &[
    ("stemi", "st elevation myocardial infarction"),
    ("nstemi", "non st elevation myocardial infarction"),
    ("mi", "myocardial infarction"),
    ("ami", "acute myocardial infarction"),
    ("acs", "acute coronary syndrome"),
    ("dka", "diabetic ketoacidosis"),
    ("cap", "community acquired pneumonia"),
    ("ugib", "upper gastrointestinal bleed"),
    ("gi", "gastrointestinal"),
    ("pud", "peptic ulcer disease"),
    ("cva", "stroke"),
    ("ais", "acute ischemic stroke"),
    ("pe", "pulmonary embolism"),
    ("copd", "chronic obstructive pulmonary disease"),
    ("ischaemic", "ischemic"),
    ("haemorrhage", "hemorrhage"),
    ("oesophageal", "esophageal"),
    ("anaphylactic", "anaphylaxis"),
    ("overdose", "overdose"),
    ("od", "overdose"),
    ("bleeding", "bleed"),
    ("haemorrhagic", "hemorrhagic"),
];

fn dx_words(text: &str) -> Vec<String> {
    const SKIP: &[&str] = &[
        "acute",
        "the",
        "a",
        "an",
        "of",
        "with",
        "and",
        "due",
        "to",
        "secondary",
        "likely",
        "probable",
        "possible",
        "suspected",
    ];
    // Skip words and expand abbreviations on the words as written, then stem.
    let mut out = Vec::new();
    for w in super::text::words(&super::text::normalize(text)) {
        if SKIP.contains(&w) {
            continue;
        }
        match DX_EXPANSIONS.iter().find(|(a, _)| *a == w) {
            Some((_, exp)) => out.extend(stems(exp)),
            None => out.push(super::text::stem(w)),
        }
    }
    out
}

/// Whether a stated diagnosis names the accepted one: every significant word of the accepted
/// phrase appears in the stated one (after expanding abbreviations and stemming). "Acute
/// inferior STEMI" matches "inferior ST-elevation myocardial infarction".
pub fn diagnosis_matches(stated: &str, accepted: &str) -> bool {
    let stated = dx_words(stated);
    let accepted = dx_words(accepted);
    !accepted.is_empty() && accepted.iter().all(|w| stated.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_match_by_words_and_abbreviations() {
        assert!(diagnosis_matches(
            "Acute inferior STEMI",
            "inferior ST-elevation myocardial infarction"
        ));
        assert!(diagnosis_matches("DKA", "diabetic ketoacidosis"));
        assert!(diagnosis_matches(
            "diabetic ketoacidosis from missed insulin",
            "diabetic ketoacidosis"
        ));
        assert!(!diagnosis_matches("pericarditis", "inferior STEMI"));
        assert!(!diagnosis_matches("", "inferior STEMI"));
        assert!(diagnosis_matches(
            "probable haemorrhagic stroke",
            "acute hemorrhagic stroke"
        ));
    }

    #[test]
    fn doses_convert_between_units() {
        let r = DoseRange {
            min: Some(160.0),
            max: Some(325.0),
            unit: "mg".into(),
            rate: None,
        };
        assert_eq!(
            dose_problem(
                &r,
                Some(&OrderedDose {
                    amount: 300.0,
                    unit: "mg".into()
                }),
                false,
                None,
            ),
            None
        );
        assert_eq!(
            dose_problem(
                &r,
                Some(&OrderedDose {
                    amount: 0.3,
                    unit: "g".into()
                }),
                false,
                None,
            ),
            None
        );
        assert!(dose_problem(
            &r,
            Some(&OrderedDose {
                amount: 81.0,
                unit: "mg".into()
            }),
            false,
            None,
        )
        .unwrap()
        .contains("outside 160–325 mg"));
        assert!(dose_problem(&r, None, false, None)
            .unwrap()
            .contains("no dose"));
        assert!(dose_problem(
            &r,
            Some(&OrderedDose {
                amount: 2.0,
                unit: "mL".into()
            }),
            false,
            None,
        )
        .is_some());
    }
}
