//! The rule language shared by events, phase transitions and rubric items.
//!
//! A rule is a predicate over the encounter's trajectory. In JSON each rule is an object with
//! exactly one key naming its kind, e.g. `{"done": {"order": "aspirin", "by_minute": 10}}`,
//! `{"elicited": "onset"}`, `{"all": [ ... ]}`. Evaluation lives in `eval.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A predicate over the trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// An order from the catalog was carried out (optionally with dose/route, by a deadline).
    Done(DoneRule),
    /// The first order was carried out before the second (which must also be done).
    Before(OrderPair),
    /// The result of an order was back (released) before another order was placed, or by a
    /// minute: "the potassium was known before insulin was started".
    ResultBefore(ResultBeforeRule),
    /// The doses of the matching orders add up to a total in range: repeated fluid boluses
    /// reaching 30 mL/kg within 3 hours.
    Total(TotalRule),
    /// The clinician elicited a scripted fact (from the patient or any actor present).
    Elicited(String),
    /// The clinician said something matching a phrase list or a built-in phrase set.
    Said(SaidRule),
    /// An order was never carried out (shorthand for `not done`).
    Never(String),
    /// The final diagnosis is among the case's accepted diagnoses.
    Diagnosis(DiagnosisRule),
    /// The encounter reached a phase.
    Phase(String),
    /// Simulated time has reached this minute (for events).
    Minute(u32),
    /// All of the rules hold.
    All(Vec<Rule>),
    /// At least one of the rules holds.
    Any(Vec<Rule>),
    /// The rule does not hold.
    Not(Box<Rule>),
}

/// `{"done": {"order": "aspirin", "dose": {...}, "route": ["PO"], "by_minute": 10}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneRule {
    /// Catalog order id.
    pub order: String,
    /// Dose constraint for medications: the ordered dose must fall in the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose: Option<DoseRange>,
    /// Accepted routes (any of); empty means any route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<String>,
    /// Must have been ordered at or before this simulated minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_minute: Option<u32>,
    /// Holds only once this many minutes have passed since the order (for delayed effects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_min: Option<u32>,
    /// At least this many separate orders, each meeting the other constraints (e.g. a repeat
    /// dose: `"times": 2`). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// Inclusive dose range in one unit, e.g. 160–325 mg.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    pub unit: String,
    /// `true`: the order must be a rate per hour ("6 units/h", "10 mmol/h"), read in `unit`
    /// per hour; `false`: a single dose, never a rate. Absent: either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<bool>,
}

/// `{"before": {"first": "aspirin", "then": "cath_lab"}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPair {
    pub first: String,
    pub then: String,
}

/// `{"result_before": {"result": "vbg", "then": "insulin_infusion"}}`: an order of `result`
/// had its result back (released) at or before the moment the first carried-out order of
/// `then` was placed; with `by_minute`, at or before that minute. At least one of the two;
/// with both, both must hold. An order of `then` that was never carried out fails the rule,
/// as `before` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBeforeRule {
    /// Catalog order id whose result must be back.
    pub result: String,
    /// Catalog order id that must have been placed after the result was back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    /// The result must be back at or before this simulated minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_minute: Option<u32>,
}

/// `{"total": {"orders": ["ns_bolus", "lr_bolus"], "dose": {"min": 30, "unit": "mL/kg"},
/// "by_minute": 180}}`: the doses of every carried-out order of these ids (and routes) add up
/// to a total in `dose`'s range, converted to its unit (per kilogram with the case weight).
/// A single dose counts in full once carried out (a cancelled or still-held order counts
/// nothing; a stopped one counts nothing, since how much ran is unknown); a rate per hour
/// counts pro rata for the time it ran (to its stop, the rule's minute, or now). An order
/// without a dose adds nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TotalRule {
    /// Catalog order ids whose doses add up.
    pub orders: Vec<String>,
    /// The range the total must fall in (`rate` is not used here).
    pub dose: DoseRange,
    /// Accepted routes (any of); empty means any route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<String>,
    /// Only what was given by this simulated minute counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_minute: Option<u32>,
}

/// `{"said": {"set": "introduction"}}` or `{"said": {"phrases": ["my name is", "i'm dr"]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaidRule {
    /// A built-in phrase set (see `phrases::PHRASE_SETS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Extra phrases; any one said (after normalization) satisfies the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<String>,
    /// Must have been said at or before this simulated minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_minute: Option<u32>,
    /// Counts only if said before this moment (in a turn up to the one in which it happened;
    /// any time if it never happened). E.g. a warning shot before the news.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Moment>,
    /// Counts only if said after this moment (in a later turn; never if it did not happen).
    /// E.g. checking understanding after the news, not a perception question before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Moment>,
}

/// A moment in the trajectory that a `said` rule is ordered against: `{"phase": "disclosure"}`
/// (the phase was entered) or `{"done": "aspirin"}` (the order was first carried out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Moment {
    Phase(String),
    Done(String),
}

/// `{"diagnosis": {}}`: the final diagnosis matches one of `case.diagnoses.accepted`;
/// `{"diagnosis": {"any_of": ["..."]}}` checks against the given list instead.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
}

impl Rule {
    /// Whether this rule still means something in a static play (the whole case given at
    /// once as a vignette, the model's actions carried out at time zero, no conversation),
    /// or why not. What is ordered (with its dose and route), what is never ordered, the
    /// totals given and the diagnosis still apply; a deadline (`by_minute`) is met by any
    /// order placed at time zero, so a static play is scored on what it orders, not when.
    /// What needs the dialogue or the clock does not apply: elicited facts, things said,
    /// the order of two actions, a result known before an action, an effect that takes
    /// minutes to show, a repeat dose, a phase reached, a minute passed. A phase *not*
    /// reached, as a guard of what it sits beside ("oxygen, unless in arrest"), holds at time
    /// zero and applies; as an alternative ("not in shock, or noradrenaline given": an
    /// expectation only if the course reaches shock) it would credit every static play for
    /// a course that never runs, so it does not. A combination applies only when every part
    /// does.
    pub fn applies_to_static(&self) -> Result<(), &'static str> {
        match self {
            Rule::Done(d) if d.elapsed_min.is_some() => {
                Err("it waits for an effect that takes minutes to show")
            }
            Rule::Done(d) if d.times.is_some_and(|n| n > 1) => {
                Err("it asks for repeat doses over time")
            }
            Rule::Done(_) | Rule::Never(_) | Rule::Total(_) | Rule::Diagnosis(_) => Ok(()),
            Rule::Before(_) => Err("it is about the order of two actions in time"),
            Rule::ResultBefore(_) => Err("it needs a result back before acting"),
            Rule::Elicited(_) => Err("it needs the history taken in the conversation"),
            Rule::Said(_) => Err("it needs something said to the patient"),
            Rule::Phase(_) => Err("it needs the patient's course over time"),
            Rule::Minute(_) => Err("it needs the encounter's clock"),
            Rule::Any(rules)
                if rules.iter().any(
                    |r| matches!(r, Rule::Not(inner) if matches!(**inner, Rule::Phase(_))),
                ) =>
            {
                Err("it expects something only if the patient's course reaches a phase")
            }
            Rule::All(rules) | Rule::Any(rules) => {
                rules.iter().try_for_each(Rule::applies_to_static)
            }
            Rule::Not(rule) if matches!(**rule, Rule::Phase(_)) => Ok(()),
            Rule::Not(rule) => rule.applies_to_static(),
        }
    }

    /// Every rule in this tree, depth first, this one included.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Rule)) {
        visit(self);
        match self {
            Rule::All(rules) | Rule::Any(rules) => rules.iter().for_each(|r| r.walk(visit)),
            Rule::Not(rule) => rule.walk(visit),
            _ => {}
        }
    }
}
