//! A comparison's data: one [`Row`] per scored encounter (whoever played it: a trainee or a
//! model player), the figures per player with seeded 95% bootstrap intervals, and the
//! long-format CSV that pandas and R read as is. Sources (the browser's history, CLI result
//! folders, imported exports) each become rows; everything after that is the same code.

use std::collections::BTreeMap;

use super::stats::{bootstrap, macro_ratio, mean, micro, pass_k, Count, Interval, RESAMPLES};
use crate::engine::case::Competency;
use crate::engine::export::{csv_field, EncounterExport};
use crate::engine::score::Mark;

/// One scored encounter.
#[derive(Debug, Clone, PartialEq)]
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
}

impl Row {
    /// A row from a scored export.
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
        let items = e
            .scorecard
            .items
            .iter()
            .filter_map(|i| match i.mark() {
                Mark::Met => Some((i.id.clone(), true)),
                Mark::Missed => Some((i.id.clone(), false)),
                _ => None,
            })
            .collect();
        Row {
            player: player.to_string(),
            case: e.case.id.clone(),
            repeat,
            competencies,
            points: e.scores.overall.points,
            points_possible: e.scores.overall.points_possible,
            items,
            input_tokens: 0,
            output_tokens: 0,
            cost: None,
        }
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
#[derive(Debug, Clone, Copy, PartialEq)]
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
    PlayerFigures {
        player: player.to_string(),
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
