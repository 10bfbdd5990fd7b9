//! Rubric scoring: rule items scored by the engine, judge items by an LLM judge's verdicts,
//! educator overrides on top, and the two scores side by side.
//!
//! - **Completion ratio** (the MedSP1000 metric): positive-weight items met / positive-weight
//!   items scored. Harm items (negative weight) are not expectations to complete; they count in
//!   points and are listed as harms.
//! - **Points** (HealthBench's formula): the sum of the weights of items met, negatives
//!   included, over the sum of the positive weights of the items scored. Not clipped here; a
//!   single encounter can go below zero. Clip to [0, 1] only when averaging encounters.
//!
//! Items that are not scored (a judge item with no judge run) and items not applicable to a
//! static play (they need the dialogue or the clock) are left out of every
//! denominator. Scoring is a pure function of the case, the encounter state, the judge's
//! verdicts and the overrides, so a stored record re-scores identically.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::case::{Case, Competency, RubricItem};
use super::catalog::Catalog;
use super::catalog::GROSS_OVERDOSE_FACTOR;
use super::encounter::State;
use super::eval::{clock, evaluate_named, Evidence};
use super::pharmacy::DoseLevel;
use super::units::fmt_num;

/// Whether an item's behaviour happened. For a harm item (negative weight) `Met` means the harm
/// happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    NotMet,
    NotScored,
}

impl Outcome {
    fn from_bool(met: bool) -> Outcome {
        if met {
            Outcome::Met
        } else {
            Outcome::NotMet
        }
    }
}

/// Who decided an item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoredBy {
    /// The item's rule, evaluated by the engine.
    Rule,
    /// The LLM judge.
    Judge,
    /// An educator's manual override.
    Educator,
    /// Nobody: a judge item without a judge run.
    Nobody,
    /// Nobody, by design: the item needs the dialogue or the clock, and this was a static
    /// play ([`crate::engine::rule::Rule::applies_to_static`]).
    NotApplicable,
}

/// How the debrief shows an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// An expected behaviour that happened.
    Met,
    /// An expected behaviour that did not happen.
    Missed,
    /// A harmful action that happened.
    Harm,
    /// A harmful action that was avoided.
    Avoided,
    NotScored,
    /// Not applicable to a static play: left out like an item not scored, and said why.
    NotApplicable,
}

/// The judge's verdict on one item, as the LLM layer parsed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeVerdict {
    pub item: String,
    pub met: bool,
    /// The judge's quote from the transcript, action log or feedback.
    #[serde(default)]
    pub evidence: String,
}

/// A complete judge run: who judged, and one verdict per judge item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeRun {
    /// Provider and model, e.g. "openai-compatible / gpt-4o-mini". Never a key.
    pub model: String,
    /// Version of the judge prompt, so results stay comparable.
    pub prompt_version: String,
    pub verdicts: Vec<JudgeVerdict>,
}

/// An educator's manual decision on one item. Overrides are kept in order; the last one for
/// an item wins, and one with `met: None` returns the item to its automatic outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub item: String,
    pub met: Option<bool>,
    /// Who overrode (free text, e.g. the educator's name).
    pub by: String,
    /// Why.
    pub note: String,
    /// When, as the caller formats it (the engine has no clock).
    pub at: String,
}

/// One item's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub competency: Competency,
    pub text: String,
    pub weight: f64,
    pub critical: bool,
    /// Whether the item has a rule (scored by the engine) or is a judge item.
    pub has_rule: bool,
    /// The outcome that counts (after any override).
    pub outcome: Outcome,
    pub scored_by: ScoredBy,
    /// The rule's or the judge's outcome, before any override.
    pub automatic: Outcome,
    /// Where in the trajectory the outcome comes from (turn, simulated time, text).
    pub evidence: Vec<Evidence>,
    /// Plain-language explanation ("ECG at 14:10, required by 10:00").
    pub why: String,
    /// The judge's quote, for judge items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_quote: Option<String>,
    /// The override in force, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<Override>,
    /// Why the item matters, and the guideline it rests on (from the rubric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ItemResult {
    pub fn is_harm(&self) -> bool {
        self.weight < 0.0
    }

    pub fn mark(&self) -> Mark {
        match (self.outcome, self.is_harm()) {
            (Outcome::NotScored, _) if self.scored_by == ScoredBy::NotApplicable => {
                Mark::NotApplicable
            }
            (Outcome::NotScored, _) => Mark::NotScored,
            (Outcome::Met, false) => Mark::Met,
            (Outcome::NotMet, false) => Mark::Missed,
            (Outcome::Met, true) => Mark::Harm,
            (Outcome::NotMet, true) => Mark::Avoided,
        }
    }

    /// Missed critical expectation or a harm done: what the debrief lists first.
    pub fn is_critical_failure(&self) -> bool {
        matches!(self.mark(), Mark::Harm) || (self.critical && self.mark() == Mark::Missed)
    }
}

/// Counts and scores over a set of items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// All items, scored or not.
    pub items: u32,
    /// Items left out of every denominator: not scored, or not applicable.
    pub not_scored: u32,
    /// The part of `not_scored` not applicable to a static play.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_applicable: u32,
    /// Positive items scored / met: the completion ratio's denominator and numerator.
    pub expected_scored: u32,
    pub expected_met: u32,
    /// Harm items scored / harms that happened.
    pub harms_scored: u32,
    pub harms_done: u32,
    /// `expected_met / expected_scored`; none when nothing is scored.
    pub completion_ratio: Option<f64>,
    /// Sum of the weights of items met, negatives included.
    pub points: f64,
    /// The part of `points` that harms done took away (zero or negative).
    #[serde(default)]
    pub harm_points: f64,
    /// Sum of the positive weights of the items scored.
    pub points_possible: f64,
    /// `points / points_possible`; none when nothing is scored.
    pub points_ratio: Option<f64>,
}

impl Tally {
    fn add(&mut self, item: &ItemResult) {
        self.items += 1;
        match item.mark() {
            Mark::NotScored => self.not_scored += 1,
            Mark::NotApplicable => {
                self.not_scored += 1;
                self.not_applicable += 1;
            }
            Mark::Met => {
                self.expected_scored += 1;
                self.expected_met += 1;
            }
            Mark::Missed => self.expected_scored += 1,
            Mark::Harm => {
                self.harms_scored += 1;
                self.harms_done += 1;
            }
            Mark::Avoided => self.harms_scored += 1,
        }
        if item.outcome != Outcome::NotScored {
            if item.weight > 0.0 {
                self.points_possible += item.weight;
            }
            if item.outcome == Outcome::Met {
                self.points += item.weight;
                if item.weight < 0.0 {
                    self.harm_points += item.weight;
                }
            }
        }
    }

    fn finish(mut self) -> Tally {
        self.completion_ratio = (self.expected_scored > 0)
            .then(|| self.expected_met as f64 / self.expected_scored as f64);
        self.points_ratio =
            (self.points_possible > 0.0).then(|| self.points / self.points_possible);
        self
    }
}

/// One competency's tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetencyTally {
    pub competency: Competency,
    #[serde(flatten)]
    pub tally: Tally,
}

/// Overall and per-competency scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub overall: Tally,
    /// All six competencies in ACGME order, empty ones included.
    pub by_competency: Vec<CompetencyTally>,
    /// Ids of missed critical items and harms done, in rubric order.
    pub critical_failures: Vec<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A scored rubric: every item's result, with the judge run and overrides that shaped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub items: Vec<ItemResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeInfo>,
    /// Every override ever made, in order (the audit trail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// Which judge scored the judge items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeInfo {
    pub model: String,
    pub prompt_version: String,
}

/// Why a judge run cannot be used. Nothing is scored from a run with any of these.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JudgeError {
    /// Judge items the run has no verdict for.
    pub missing: Vec<String>,
    /// Items answered more than once.
    pub duplicate: Vec<String>,
    /// Ids that are not judge items of this rubric (unknown, or a rule item).
    pub unknown: Vec<String>,
}

impl std::fmt::Display for JudgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("no verdict for {}", self.missing.join(", ")));
        }
        if !self.duplicate.is_empty() {
            parts.push(format!(
                "more than one verdict for {}",
                self.duplicate.join(", ")
            ));
        }
        if !self.unknown.is_empty() {
            parts.push(format!(
                "verdicts for items that are not judge items: {}",
                self.unknown.join(", ")
            ));
        }
        write!(
            f,
            "the judge's reply cannot be used: {}; every judge item must be answered exactly once",
            parts.join("; ")
        )
    }
}

impl std::error::Error for JudgeError {}

/// The items the judge scores: those without a rule.
pub fn judge_items(case: &Case) -> impl Iterator<Item = &RubricItem> {
    case.rubric.iter().filter(|i| i.rule.is_none())
}

/// Checks that a judge run answers every judge item of the case exactly once.
pub fn check_judge(case: &Case, run: &JudgeRun) -> Result<(), JudgeError> {
    let wanted: BTreeSet<&str> = judge_items(case).map(|i| i.id.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut err = JudgeError::default();
    for v in &run.verdicts {
        if !wanted.contains(v.item.as_str()) {
            err.unknown.push(v.item.clone());
        } else if !seen.insert(v.item.as_str()) && !err.duplicate.contains(&v.item) {
            err.duplicate.push(v.item.clone());
        }
    }
    err.missing = wanted.difference(&seen).map(|s| s.to_string()).collect();
    if err == JudgeError::default() {
        Ok(())
    } else {
        Err(err)
    }
}

/// Scores a case's rubric over an encounter's state.
///
/// `judge` must have passed [`check_judge`]; a run that did not is an error for the caller to
/// show, and is refused here too (the judge items stay not scored).
pub fn score(
    case: &Case,
    state: &State,
    judge: Option<&JudgeRun>,
    overrides: &[Override],
) -> Scorecard {
    score_named(case, None, state, judge, overrides)
}

/// [`score`], with the catalog naming in explanations the orders that were never placed
/// (what the debrief and exports show).
pub fn score_named(
    case: &Case,
    catalog: Option<&Catalog>,
    state: &State,
    judge: Option<&JudgeRun>,
    overrides: &[Override],
) -> Scorecard {
    let judge = judge.filter(|run| check_judge(case, run).is_ok());
    let verdicts: BTreeMap<&str, &JudgeVerdict> = judge
        .map(|run| run.verdicts.iter().map(|v| (v.item.as_str(), v)).collect())
        .unwrap_or_default();
    let mut in_force: BTreeMap<&str, &Override> = BTreeMap::new();
    for o in overrides {
        if o.met.is_some() {
            in_force.insert(o.item.as_str(), o);
        } else {
            in_force.remove(o.item.as_str());
        }
    }
    let items = case
        .rubric
        .iter()
        .map(|item| {
            let mut result = ItemResult {
                id: item.id.clone(),
                competency: item.competency,
                text: item.text.clone(),
                weight: item.weight,
                critical: item.critical,
                has_rule: item.rule.is_some(),
                outcome: Outcome::NotScored,
                scored_by: ScoredBy::Nobody,
                automatic: Outcome::NotScored,
                evidence: Vec::new(),
                why: "Not scored: this item needs the judge, and no judge has scored it".into(),
                judge_quote: None,
                overridden: None,
                rationale: item.rationale.clone(),
                reference: item.reference.clone(),
            };
            let not_applicable = match &item.rule {
                _ if !state.vignette => None,
                Some(rule) => rule.applies_to_static().err(),
                None => Some("it is judged from the conversation"),
            };
            if let Some(why) = not_applicable {
                result.scored_by = ScoredBy::NotApplicable;
                result.why = format!("Not applicable to a static vignette: {why}");
            } else if let Some(rule) = &item.rule {
                let v = evaluate_named(rule, case, catalog, state);
                result.automatic = Outcome::from_bool(v.holds);
                result.scored_by = ScoredBy::Rule;
                result.evidence = v.evidence;
                result.why = v.why;
            } else if let Some(v) = verdicts.get(item.id.as_str()) {
                result.automatic = Outcome::from_bool(v.met);
                result.scored_by = ScoredBy::Judge;
                result.why = if v.met {
                    "The judge found explicit evidence in the transcript".into()
                } else {
                    "The judge found no explicit evidence in the transcript".into()
                };
                let quote = v.evidence.trim();
                if !quote.is_empty() {
                    result.evidence = locate_quote(state, quote);
                    result.judge_quote = Some(quote.to_string());
                }
            }
            result
        })
        .chain(std::iter::once(gross_overdose_item(state)))
        .map(|mut result| {
            result.outcome = result.automatic;
            if let Some(o) = in_force.get(result.id.as_str()) {
                result.outcome = Outcome::from_bool(o.met.unwrap_or(false));
                result.scored_by = ScoredBy::Educator;
                result.overridden = Some((*o).clone());
            }
            result
        })
        .collect();
    Scorecard {
        items,
        judge: judge.map(|run| JudgeInfo {
            model: run.model.clone(),
            prompt_version: run.prompt_version.clone(),
        }),
        overrides: overrides.to_vec(),
    }
}

/// The id of the safety item every case has: a dose over [`GROSS_OVERDOSE_FACTOR`] times the
/// usual maximum given (the pharmacy check, `engine::pharmacy`).
pub const GROSS_OVERDOSE_ITEM: &str = "safety-gross-overdose";

/// The harm item the environment adds to every rubric: a gross overdose given, whatever the
/// case's author wrote.
fn gross_overdose_item(state: &State) -> ItemResult {
    let overdoses: Vec<_> = state
        .actions
        .iter()
        .filter(|a| a.done_at().is_some())
        .filter_map(|a| {
            a.dose_check
                .as_ref()
                .filter(|c| c.level == DoseLevel::GrossOverdose)
                .map(|c| (a, c))
        })
        .collect();
    let why = match overdoses.first() {
        Some((a, c)) => format!(
            "{} at {}: {}",
            a.interpretation.summary(),
            clock(a.done_at().unwrap_or(a.time_s)),
            c.message
        ),
        None => "No dose was more than ten times its usual maximum".into(),
    };
    ItemResult {
        id: GROSS_OVERDOSE_ITEM.into(),
        competency: Competency::PC,
        text: format!(
            "Gives a dose more than {} times the usual maximum (pharmacy safety check)",
            fmt_num(GROSS_OVERDOSE_FACTOR)
        ),
        weight: -2.0,
        critical: true,
        has_rule: true,
        outcome: Outcome::NotScored,
        scored_by: ScoredBy::Rule,
        automatic: Outcome::from_bool(!overdoses.is_empty()),
        evidence: overdoses.iter().map(|(a, _)| a.evidence()).collect(),
        why,
        judge_quote: None,
        overridden: None,
        rationale: Some(
            "A dose ten times the usual maximum is a prescribing error that harms whatever the case."
                .into(),
        ),
        reference: None,
    }
}

/// The clinician utterances that contain a judge's quote (whitespace and case folded), as
/// evidence anchors. Empty when the quote is not a clinician utterance (it may quote the
/// patient or the action log; the debrief then shows the quote without an anchor).
fn locate_quote(state: &State, quote: &str) -> Vec<Evidence> {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let needle = fold(quote.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace()));
    if needle.is_empty() {
        return Vec::new();
    }
    state
        .utterances
        .iter()
        .filter(|u| fold(&u.text).contains(&needle))
        .map(|u| Evidence {
            turn: u.turn,
            time_s: u.time_s,
            text: u.text.clone(),
            seq: None,
        })
        .chain(
            state
                .actions
                .iter()
                .filter(|a| fold(&a.interpretation.raw).contains(&needle))
                .map(|a| a.evidence()),
        )
        .collect()
}

impl Scorecard {
    /// Overall and per-competency scores.
    pub fn scores(&self) -> Scores {
        let mut overall = Tally::default();
        let mut by: BTreeMap<Competency, Tally> = Competency::ALL
            .iter()
            .map(|c| (*c, Tally::default()))
            .collect();
        for item in &self.items {
            overall.add(item);
            by.entry(item.competency).or_default().add(item);
        }
        Scores {
            overall: overall.finish(),
            by_competency: Competency::ALL
                .iter()
                .map(|c| CompetencyTally {
                    competency: *c,
                    tally: by.remove(c).unwrap_or_default().finish(),
                })
                .collect(),
            critical_failures: self
                .items
                .iter()
                .filter(|i| i.is_critical_failure())
                .map(|i| i.id.clone())
                .collect(),
        }
    }

    /// Items in debrief order: critical failures first, then missed, harms avoided/met, not
    /// scored; rubric order within each group.
    pub fn debrief_order(&self) -> Vec<&ItemResult> {
        let rank = |i: &ItemResult| match (i.is_critical_failure(), i.mark()) {
            (true, _) => 0,
            (false, Mark::Missed) => 1,
            (false, Mark::NotScored) => 2,
            (false, Mark::NotApplicable) => 5,
            (false, Mark::Met) => 3,
            (false, Mark::Avoided) => 4,
            (false, Mark::Harm) => 0,
        };
        let mut items: Vec<&ItemResult> = self.items.iter().collect();
        items.sort_by_key(|i| rank(i));
        items
    }

    pub fn item(&self, id: &str) -> Option<&ItemResult> {
        self.items.iter().find(|i| i.id == id)
    }
}
