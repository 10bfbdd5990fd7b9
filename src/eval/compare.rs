//! A comparison's data: one [`Row`] per scored encounter (whoever played it: a trainee or a
//! model player), the figures per player with seeded 95% bootstrap intervals, and the
//! long-format CSV that pandas and R read as is. Sources (the browser's history, CLI result
//! folders, imported exports) each become rows; everything after that is the same code.

use std::collections::BTreeMap;

use serde::Serialize;

use super::job::JobRecord;
use super::plan::Price;
use super::stats::{bootstrap, macro_ratio, mean, micro, pass_k, Count, Interval, RESAMPLES};
use crate::app::labels::iso_utc;
use crate::engine::case::{Case, Competency};
use crate::engine::catalog::Catalog;
use crate::engine::debrief::expectations_named;
use crate::engine::encounter::Clinician;
use crate::engine::eval::diagnosis_matches;
use crate::engine::export::{csv_field, EncounterExport};
use crate::engine::score::{Mark, Outcome, ScoredBy};
use crate::engine::state::State;
use crate::llm::settings::Role;

/// One scored encounter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// A trainee's chosen name or "You", or a model player's label.
    pub player: String,
    pub case: String,
    /// Counted from 1 (a trainee's encounters of one case are repeats too, in time order).
    pub repeat: u32,
    /// Positive items met / scored, per competency in [`Competency::ALL`] order.
    pub competencies: [Count; 6],
    /// Sum of the weights of the items met (harms included) and of the positive weights
    /// scored.
    pub points: f64,
    pub points_possible: f64,
    /// Each scored positive item: met or not.
    pub items: BTreeMap<String, bool>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: Option<f64>,
    /// The encounter's id (its debrief in the browser that played it).
    pub encounter: String,
    pub case_title: String,
    pub case_version: String,
    /// From the case, when the comparison has it.
    pub specialty: Option<String>,
    /// The evaluation run it belongs to.
    pub run: Option<String>,
    /// When it was played or exported (ISO 8601, UTC), for the date filter.
    pub date: String,
    /// "provider / model" for a model clinician; none for a trainee.
    pub model: Option<String>,
    /// "human", "single", "best-of-4 (temperature 1.0)", "static"; none when the source does
    /// not say (a model's encounter outside a run).
    pub strategy: Option<String>,
    pub turn_limit: Option<u32>,
    /// Who voiced the patient: "scripted" or a model.
    pub patient: String,
    /// The end form's final diagnosis, if one was given.
    pub diagnosis: Option<String>,
    /// Whether it names one of the case's accepted diagnoses (needs the case).
    pub diagnosis_correct: Option<bool>,
    /// The case's timed expectations and when each was first met (needs the case).
    pub key_actions: Vec<KeyAction>,
    /// The clinician's calls and each successful call's latency.
    pub calls: u32,
    pub latencies_ms: Vec<u64>,
    /// Each judge's verdicts on the judge items (a panel's judges separately).
    pub judges: Vec<Judgement>,
    /// The educator's overrides in force: item → met.
    pub overrides: BTreeMap<String, bool>,
    /// What the scored items rest on: rules, a judge, an educator's override.
    pub by_rule: u32,
    pub by_judge: u32,
    pub by_educator: u32,
    /// Harm items that happened.
    pub harms: Vec<String>,
    /// Each scored item's competency and text (for item difficulty and the failure list).
    pub texts: BTreeMap<String, ItemText>,
}

/// A timed expectation of the case and when the clinician first met it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyAction {
    pub item: String,
    pub what: String,
    pub by_minute: u32,
    pub done_at_s: Option<u32>,
}

/// One judge's verdicts on one encounter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    pub label: String,
    pub model: String,
    pub verdicts: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemText {
    pub competency: Competency,
    pub text: String,
    pub harm: bool,
}

impl Row {
    /// A row from a scored export: its scores, items, diagnosis, judge and overrides. The
    /// judge's verdicts are the judge items' automatic outcomes (before any override).
    pub fn from_export(player: &str, repeat: u32, e: &EncounterExport) -> Row {
        let mut competencies = [Count::default(); 6];
        for ct in &e.scores.by_competency {
            if let Some(i) = Competency::ALL.iter().position(|c| *c == ct.competency) {
                competencies[i] = Count {
                    met: ct.tally.expected_met,
                    scored: ct.tally.expected_scored,
                };
            }
        }
        let mut row = Row {
            player: player.to_string(),
            case: e.case.id.clone(),
            repeat,
            competencies,
            points: e.scores.overall.points,
            points_possible: e.scores.overall.points_possible,
            encounter: e.encounter_id.clone(),
            case_title: e.case.title.clone(),
            case_version: e.case.version.clone(),
            date: e.exported_at.clone(),
            model: match &e.record.config.clinician {
                Clinician::Human => None,
                Clinician::Model { .. } => Some(e.roles.clinician.clone()),
            },
            // A job's record names its strategy ([`Row::from_job`]); an export alone tells a
            // trainee and a static play.
            strategy: match &e.record.config.clinician {
                Clinician::Human => Some("human".to_string()),
                Clinician::Model { .. } if e.record.config.vignette => {
                    Some(crate::llm::driver::STATIC_LABEL.to_string())
                }
                Clinician::Model { .. } => None,
            },
            turn_limit: e.record.config.turn_limit,
            patient: e.roles.patient.clone(),
            diagnosis: e
                .record
                .state
                .final_form
                .as_ref()
                .map(|f| f.diagnosis.clone()),
            ..Row::default()
        };
        let mut verdicts = BTreeMap::new();
        for i in &e.scorecard.items {
            let mark = i.mark();
            if matches!(mark, Mark::Met | Mark::Missed | Mark::Harm | Mark::Avoided) {
                row.texts.insert(
                    i.id.clone(),
                    ItemText {
                        competency: i.competency,
                        text: i.text.clone(),
                        harm: i.is_harm(),
                    },
                );
            }
            let met = match mark {
                Mark::Met => true,
                Mark::Missed => false,
                Mark::Harm => {
                    row.harms.push(i.id.clone());
                    continue;
                }
                _ => continue,
            };
            row.items.insert(i.id.clone(), met);
            match i.scored_by {
                ScoredBy::Rule => row.by_rule += 1,
                ScoredBy::Judge => row.by_judge += 1,
                ScoredBy::Educator => row.by_educator += 1,
                ScoredBy::Nobody | ScoredBy::NotApplicable => {}
            }
        }
        for i in &e.scorecard.items {
            if let Some(o) = &i.overridden {
                if let Some(met) = o.met {
                    row.overrides.insert(i.id.clone(), met);
                }
            }
            if !i.has_rule && i.automatic != Outcome::NotScored {
                verdicts.insert(i.id.clone(), i.automatic == Outcome::Met);
            }
        }
        if let Some(j) = &e.scorecard.judge {
            row.judges.push(Judgement {
                label: j.model.clone(),
                model: j.model.clone(),
                verdicts,
            });
        }
        row
    }

    /// A finished job's row: its export, the plan's player and repeat, run, strategy,
    /// usage and each judge of the panel; none for a failed job. `price` is the player's
    /// (from the plan), for the cost.
    pub fn from_job(record: &JobRecord, price: Option<&Price>) -> Option<Row> {
        let e = record.export.as_ref()?;
        Some(Row::from_job_export(record, e, price))
    }

    /// [`Row::from_job`] with the export given apart (the browser keeps a job's record
    /// without it and rebuilds the export from the saved encounter).
    pub fn from_job_export(record: &JobRecord, e: &EncounterExport, price: Option<&Price>) -> Row {
        let mut row = Row::from_export(&record.tag.player, record.tag.repeat, e);
        row.run = Some(record.tag.run.clone());
        row.date = iso_utc(record.finished_ms as f64);
        row.strategy = Some(record.provenance.strategy.label());
        row.turn_limit = record.provenance.turn_limit;
        if let Some(u) = record.usage.get(&Role::Clinician) {
            row.input_tokens = u.input_tokens;
            row.output_tokens = u.output_tokens;
            row.calls = u.calls;
            row.cost =
                price.map(|p| p.cost(u.input_tokens, u.cached_input_tokens, u.output_tokens));
        }
        row.latencies_ms = record.latencies_ms.clone();
        if !record.judges.is_empty() {
            row.judges = record
                .judges
                .iter()
                .filter_map(|j| {
                    let run = j.run.as_ref()?;
                    Some(Judgement {
                        label: j.label.clone(),
                        model: j.model.clone(),
                        verdicts: run
                            .verdicts
                            .iter()
                            .map(|v| (v.item.clone(), v.met))
                            .collect(),
                    })
                })
                .collect();
        }
        row
    }

    /// What only the case knows: its specialty, whether the final diagnosis is accepted, and
    /// when each timed expectation was first met. `case` must be the one played (same id).
    pub fn with_case(mut self, case: &Case, catalog: Option<&Catalog>, state: &State) -> Row {
        self.specialty = Some(case.meta.specialty.clone());
        self.diagnosis_correct = Some(state.final_form.as_ref().is_some_and(|f| {
            case.diagnoses
                .accepted
                .iter()
                .any(|a| diagnosis_matches(&f.diagnosis, a))
        }));
        self.key_actions = expectations_named(case, catalog, state)
            .into_iter()
            .map(|x| KeyAction {
                item: x.item,
                what: x.what,
                by_minute: x.by_minute,
                done_at_s: x.done_at_s,
            })
            .collect();
        self
    }

    /// All competencies together.
    pub fn overall(&self) -> Count {
        self.competencies
            .iter()
            .fold(Count::default(), |a, c| Count {
                met: a.met + c.met,
                scored: a.scored + c.scored,
            })
    }

    /// Points / possible, clipped to [0, 1] (for averaging across encounters); none when
    /// nothing is possible.
    pub fn points_ratio(&self) -> Option<f64> {
        (self.points_possible > 0.0).then(|| (self.points / self.points_possible).clamp(0.0, 1.0))
    }
}

/// A figure with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    pub value: Option<f64>,
    pub interval: Option<Interval>,
}

/// One player's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerFigures {
    pub player: String,
    pub encounters: usize,
    /// Items met / scored over all the player's encounters.
    pub micro: Figure,
    /// The mean of per-encounter ratios.
    pub macro_: Figure,
    /// Per competency (in [`Competency::ALL`] order): micro and macro, encounters without an
    /// item in it left out of the macro.
    pub by_competency: Vec<(Competency, Option<f64>, Option<f64>)>,
    /// The 95% interval of each competency's micro ratio (same order).
    pub by_competency_interval: Vec<Option<Interval>>,
    /// The mean of clipped points ratios.
    pub points: Figure,
    /// pass^k for the cases played k ≥ 2 times (k the fewest repeats among them), averaged
    /// over those cases: (k, value).
    pub pass_k: Option<(u32, f64)>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: Option<f64>,
}

/// Each player's figures, players in order of first appearance; intervals from `seed`.
pub fn player_figures(rows: &[Row], seed: u64) -> Vec<PlayerFigures> {
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        if !order.contains(&r.player.as_str()) {
            order.push(&r.player);
        }
    }
    order
        .into_iter()
        .map(|p| figures_of(p, rows.iter().filter(|r| r.player == p).collect(), seed))
        .collect()
}

fn figures_of(player: &str, rows: Vec<&Row>, seed: u64) -> PlayerFigures {
    let overall: Vec<Count> = rows.iter().map(|r| r.overall()).collect();
    let micro_of = |s: &[&&Row]| micro(&s.iter().map(|r| r.overall()).collect::<Vec<_>>());
    let macro_of = |s: &[&&Row]| macro_ratio(&s.iter().map(|r| r.overall()).collect::<Vec<_>>());
    let points_of = |s: &[&&Row]| {
        mean(
            &s.iter()
                .filter_map(|r| r.points_ratio())
                .collect::<Vec<_>>(),
        )
    };
    let all: Vec<&&Row> = rows.iter().collect();
    let figure = |stat: &dyn Fn(&[&&Row]) -> Option<f64>| Figure {
        value: stat(&all),
        interval: bootstrap(&rows, stat, RESAMPLES, seed),
    };
    let by_competency = Competency::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let counts: Vec<Count> = rows.iter().map(|r| r.competencies[i]).collect();
            (*c, micro(&counts), macro_ratio(&counts))
        })
        .collect();
    let by_competency_interval = (0..Competency::ALL.len())
        .map(|i| {
            bootstrap(
                &rows,
                |s: &[&&Row]| micro(&s.iter().map(|r| r.competencies[i]).collect::<Vec<_>>()),
                RESAMPLES,
                seed,
            )
        })
        .collect();
    PlayerFigures {
        player: player.to_string(),
        by_competency_interval,
        encounters: overall.len(),
        micro: figure(&micro_of),
        macro_: figure(&macro_of),
        by_competency,
        points: figure(&points_of),
        pass_k: pass_k_of(&rows),
        input_tokens: rows.iter().map(|r| r.input_tokens).sum(),
        output_tokens: rows.iter().map(|r| r.output_tokens).sum(),
        cost: rows
            .iter()
            .map(|r| r.cost)
            .try_fold(0.0, |a, c| c.map(|c| a + c)),
    }
}

/// pass^k over the cases a player played at least twice, k the fewest repeats among them
/// (each case's first k repeats), averaged over the cases.
fn pass_k_of(rows: &[&Row]) -> Option<(u32, f64)> {
    let mut by_case: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_case.entry(&r.case).or_default().push(r);
    }
    let k = by_case.values().map(Vec::len).filter(|n| *n >= 2).min()?;
    let mut values = Vec::new();
    for runs in by_case.values().filter(|v| v.len() >= 2) {
        let mut runs = runs.clone();
        runs.sort_by_key(|r| r.repeat);
        let maps: Vec<BTreeMap<String, bool>> =
            runs.iter().take(k).map(|r| r.items.clone()).collect();
        values.extend(pass_k(&maps));
    }
    Some((k as u32, mean(&values)?))
}

/// The long-format CSV: one line per (encounter, competency), plus one per encounter with
/// competency "all" carrying its points, tokens and cost.
pub fn long_csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "player,case,repeat,competency,items_scored,items_met,points,points_possible,input_tokens,output_tokens,cost\n",
    );
    for r in rows {
        let mut line = |competency: &str, c: Count, all: bool| {
            let opt = |v: String| if all { v } else { String::new() };
            out.push_str(&format!(
                "{},{},{},{competency},{},{},{},{},{},{},{}\n",
                csv_field(&r.player),
                csv_field(&r.case),
                r.repeat,
                c.scored,
                c.met,
                opt(r.points.to_string()),
                opt(r.points_possible.to_string()),
                opt(r.input_tokens.to_string()),
                opt(r.output_tokens.to_string()),
                opt(r.cost.map(|c| c.to_string()).unwrap_or_default()),
            ));
        };
        for (i, c) in Competency::ALL.iter().enumerate() {
            line(c.code(), r.competencies[i], false);
        }
        line("all", r.overall(), true);
    }
    out
}
