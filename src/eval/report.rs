//! A comparison report: the rows a filter keeps, turned into everything the Compare page, the
//! downloads and `bedside-cli report` show — the method, per-player figures with intervals,
//! per case and per specialty, diagnosis accuracy, time to the cases' key actions, item
//! difficulty, each player's misses, judge agreement, and static vs dynamic on the same items.
//! One [`Report`] is built once ([`Report::build`]) and rendered as JSON, CSV
//! ([`super::compare::long_csv`]) or HTML ([`super::html`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::compare::{player_figures, Figure, Row};
use super::stats::{cohen_kappa, mean_sd, micro, Count, Kappa, RESAMPLES};
use crate::engine::case::Competency;

pub const REPORT_FORMAT: &str = "bedside.report";
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The bootstrap's seed: the same rows give the same intervals, in the browser and the CLI.
pub const REPORT_SEED: u64 = 20_261_203;

/// The strategy label of a static play (as [`crate::llm::driver::Strategy`] names it).
pub const STATIC: &str = crate::llm::driver::STATIC_LABEL;

/// Which rows a comparison keeps. Empty sets keep everything; dates compare as ISO 8601
/// prefixes ("2026-12-03").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub cases: BTreeSet<String>,
    #[serde(default)]
    pub specialties: BTreeSet<String>,
    #[serde(default)]
    pub players: BTreeSet<String>,
    #[serde(default)]
    pub runs: BTreeSet<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

impl Filter {
    pub fn keeps(&self, r: &Row) -> bool {
        let within = |set: &BTreeSet<String>, v: Option<&str>| {
            set.is_empty() || v.is_some_and(|v| set.contains(v))
        };
        let day = r.date.get(..10).unwrap_or(&r.date);
        within(&self.cases, Some(&r.case))
            && within(&self.specialties, r.specialty.as_deref())
            && within(&self.players, Some(&r.player))
            && within(&self.runs, r.run.as_deref())
            && self.from.as_deref().is_none_or(|f| day >= f)
            && self.to.as_deref().is_none_or(|t| day <= t)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }
}

/// What the comparison rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    pub encounters: usize,
    pub cases: Vec<CaseInfo>,
    /// Turn limits in force ("none" for trainees, bounded by the case's time instead).
    pub turn_limits: Vec<String>,
    pub patient_voices: Vec<String>,
    /// Each judge's label and model.
    pub judges: Vec<String>,
    pub strategies: Vec<String>,
    pub runs: Vec<String>,
    pub seed: u64,
    pub resamples: usize,
    pub filter: Filter,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseInfo {
    pub id: String,
    pub version: String,
    pub title: String,
    pub specialty: Option<String>,
}

/// One player's figures and what they rest on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlayerReport {
    pub player: String,
    /// "trainee" or "model".
    pub kind: &'static str,
    pub model: Option<String>,
    pub strategy: Option<String>,
    pub encounters: usize,
    pub cases: usize,
    pub micro: Figure,
    #[serde(rename = "macro")]
    pub macro_: Figure,
    pub points: Figure,
    pub by_competency: Vec<CompetencyFigure>,
    /// With repeats: the micro ratio of each repeat, its mean and sample sd, and how many
    /// repeats.
    pub repeats: Option<RepeatSpread>,
    pub pass_k: Option<PassK>,
    /// Encounters whose final diagnosis is accepted / encounters with a known case.
    pub diagnosis: Count,
    pub per_encounter: Usage,
    /// What the scored items rest on, over all encounters.
    pub by_rule: u32,
    pub by_judge: u32,
    pub by_educator: u32,
    /// Judges that are the player's own model (they prefer their own model's transcripts).
    pub self_judged_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompetencyFigure {
    pub competency: Competency,
    pub micro: Figure,
    #[serde(rename = "macro")]
    pub macro_: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RepeatSpread {
    pub repeats: u32,
    pub mean: f64,
    pub sd: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PassK {
    pub k: u32,
    pub value: f64,
}

/// Means per encounter (models only; none when nothing was counted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    pub calls: Option<f64>,
    pub input_tokens: Option<f64>,
    pub output_tokens: Option<f64>,
    pub cost: Option<f64>,
    pub latency_median_ms: Option<u64>,
    pub latency_p95_ms: Option<u64>,
}

/// One case, each player's result on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseReport {
    pub case: CaseInfo,
    pub players: Vec<CaseCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseCell {
    pub player: String,
    pub encounters: usize,
    pub items: Count,
    pub ratio: Option<f64>,
    pub diagnosis: Count,
}

/// One specialty, each player's micro ratio over its cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecialtyReport {
    pub specialty: String,
    pub players: Vec<(String, Count)>,
}

/// A case's timed expectation and, per player, how often and when it was met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyActionReport {
    pub case: String,
    pub item: String,
    pub what: String,
    pub by_minute: u32,
    pub players: Vec<KeyActionCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyActionCell {
    pub player: String,
    pub encounters: usize,
    pub done: usize,
    pub on_time: usize,
    /// The median simulated minute of the first time it was done, over the encounters that
    /// did it.
    pub median_minute: Option<f64>,
}

/// An item and the share of encounters that met it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDifficulty {
    pub case: String,
    pub item: String,
    pub competency: Competency,
    pub text: String,
    pub encounters: u32,
    pub met: u32,
    pub players_missing: Vec<String>,
}

impl ItemDifficulty {
    pub fn share(&self) -> f64 {
        f64::from(self.met) / f64::from(self.encounters.max(1))
    }
}

/// What one encounter missed, and the harms done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub player: String,
    pub case: String,
    pub repeat: u32,
    pub encounter: String,
    pub missed: Vec<(String, String)>,
    pub harms: Vec<(String, String)>,
}

/// Judges' agreement, and the flags.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct JudgeReport {
    pub judges: Vec<JudgeLine>,
    /// Each pair of judges over the items both judged.
    pub between: Vec<(String, String, Kappa)>,
    /// Each judge against the educator's overrides, over the items both decided.
    pub with_educator: Vec<(String, Kappa)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeLine {
    pub label: String,
    pub model: String,
    pub encounters: usize,
    pub items: Count,
    /// Players this judge scored that are its own model.
    pub same_model_as: Vec<String>,
}

/// A static player against a dynamic player of the same model, on the items the static play
/// could score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub model: String,
    pub static_player: String,
    pub dynamic_player: String,
    pub cases: Vec<GapCase>,
    pub static_items: Count,
    pub dynamic_items: Count,
    /// Static minus dynamic completion on the same items.
    pub gap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapCase {
    pub case: String,
    /// The items the static play scored (the rest need the dialogue).
    pub applicable: usize,
    pub static_items: Count,
    pub dynamic_items: Count,
    pub gap: Option<f64>,
}

/// Everything a comparison shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub format_version: u32,
    pub method: Method,
    pub players: Vec<PlayerReport>,
    pub cases: Vec<CaseReport>,
    pub specialties: Vec<SpecialtyReport>,
    pub key_actions: Vec<KeyActionReport>,
    pub difficulty: Vec<ItemDifficulty>,
    pub failures: Vec<Failure>,
    pub judges: JudgeReport,
    pub static_gap: Vec<Gap>,
}

fn add(a: Count, b: Count) -> Count {
    Count {
        met: a.met + b.met,
        scored: a.scored + b.scored,
    }
}

/// Distinct values in order of first appearance.
fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// The model's name alone, for telling whether a judge is the player's own model:
/// "openai-compatible / gpt-4o (temperature 0.2)" → "gpt-4o".
pub fn model_name(description: &str) -> String {
    let after = description.rsplit(" / ").next().unwrap_or(description);
    let name = after.split(" (").next().unwrap_or(after);
    name.trim().to_lowercase()
}

impl Report {
    /// The report over the rows `filter` keeps.
    pub fn build(rows: &[Row], filter: &Filter) -> Report {
        let rows: Vec<Row> = rows.iter().filter(|r| filter.keeps(r)).cloned().collect();
        let players = distinct(rows.iter().map(|r| r.player.as_str()));
        let player_reports = player_figures(&rows, REPORT_SEED)
            .into_iter()
            .map(|f| {
                let mine = rows.iter().filter(|r| r.player == f.player).collect();
                player_report(f, mine)
            })
            .collect();
        let mut cases: Vec<CaseInfo> = Vec::new();
        for r in &rows {
            if !cases.iter().any(|c| c.id == r.case) {
                cases.push(CaseInfo {
                    id: r.case.clone(),
                    version: r.case_version.clone(),
                    title: r.case_title.clone(),
                    specialty: r.specialty.clone(),
                });
            }
        }
        let method = Method {
            encounters: rows.len(),
            cases: cases.clone(),
            turn_limits: distinct(
                rows.iter()
                    .map(|r| r.turn_limit.map_or("none".into(), |t| t.to_string()))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
            patient_voices: distinct(rows.iter().map(|r| r.patient.as_str())),
            judges: distinct(
                rows.iter()
                    .flat_map(|r| r.judges.iter().map(|j| judge_name(&j.label, &j.model)))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
            strategies: distinct(rows.iter().filter_map(|r| r.strategy.as_deref())),
            runs: distinct(rows.iter().filter_map(|r| r.run.as_deref())),
            seed: REPORT_SEED,
            resamples: RESAMPLES,
            filter: filter.clone(),
        };
        Report {
            format: REPORT_FORMAT,
            format_version: REPORT_FORMAT_VERSION,
            players: player_reports,
            cases: cases
                .iter()
                .map(|c| case_report(c, &rows, &players))
                .collect(),
            specialties: specialty_reports(&rows, &players),
            key_actions: key_action_reports(&rows, &players),
            difficulty: difficulty(&rows),
            failures: failures(&rows),
            judges: judge_report(&rows),
            static_gap: static_gaps(&rows, &players),
            method,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn judge_name(label: &str, model: &str) -> String {
    if label == model {
        model.to_string()
    } else {
        format!("{label} ({model})")
    }
}

fn player_report(f: super::compare::PlayerFigures, rows: Vec<&Row>) -> PlayerReport {
    let first = rows[0];
    let is_model = first.model.is_some();
    let mut by_repeat: BTreeMap<u32, Vec<Count>> = BTreeMap::new();
    for r in &rows {
        by_repeat.entry(r.repeat).or_default().push(r.overall());
    }
    let repeat_ratios: Vec<f64> = by_repeat.values().filter_map(|c| micro(c)).collect();
    let repeats = (repeat_ratios.len() >= 2)
        .then(|| mean_sd(&repeat_ratios))
        .flatten()
        .map(|(mean, sd)| RepeatSpread {
            repeats: repeat_ratios.len() as u32,
            mean,
            sd,
        });
    let mut diagnosis = Count::default();
    for r in &rows {
        if let Some(ok) = r.diagnosis_correct {
            diagnosis.scored += 1;
            diagnosis.met += u32::from(ok);
        }
    }
    let n = rows.len() as f64;
    // Usage is known for run jobs; an export alone does not carry it.
    let counted = rows.iter().any(|r| r.calls > 0);
    let mean_of = |v: f64| (is_model && counted).then_some(v / n);
    let mut latencies: Vec<u64> = rows.iter().flat_map(|r| r.latencies_ms.clone()).collect();
    latencies.sort_unstable();
    let own = first.model.as_deref().map(model_name);
    let mut self_judged_by: Vec<String> = Vec::new();
    for r in &rows {
        for j in &r.judges {
            if own.as_deref() == Some(model_name(&j.model).as_str())
                && !self_judged_by.contains(&j.label)
            {
                self_judged_by.push(j.label.clone());
            }
        }
    }
    PlayerReport {
        player: f.player.clone(),
        kind: if is_model { "model" } else { "trainee" },
        model: first.model.clone(),
        strategy: first.strategy.clone(),
        encounters: rows.len(),
        cases: rows.iter().map(|r| &r.case).collect::<BTreeSet<_>>().len(),
        micro: f.micro,
        macro_: f.macro_,
        points: f.points,
        by_competency: f
            .by_competency
            .iter()
            .zip(&f.by_competency_interval)
            .map(|((c, mi, ma), i)| CompetencyFigure {
                competency: *c,
                micro: Figure {
                    value: *mi,
                    interval: *i,
                },
                macro_: *ma,
            })
            .collect(),
        repeats,
        pass_k: f.pass_k.map(|(k, value)| PassK { k, value }),
        diagnosis,
        per_encounter: Usage {
            calls: mean_of(rows.iter().map(|r| f64::from(r.calls)).sum()),
            input_tokens: mean_of(rows.iter().map(|r| r.input_tokens as f64).sum()),
            output_tokens: mean_of(rows.iter().map(|r| r.output_tokens as f64).sum()),
            cost: f.cost.map(|c| c / n),
            latency_median_ms: super::stats::nearest_rank(&latencies, 0.5),
            latency_p95_ms: super::stats::nearest_rank(&latencies, 0.95),
        },
        by_rule: rows.iter().map(|r| r.by_rule).sum(),
        by_judge: rows.iter().map(|r| r.by_judge).sum(),
        by_educator: rows.iter().map(|r| r.by_educator).sum(),
        self_judged_by,
    }
}

fn case_report(c: &CaseInfo, rows: &[Row], players: &[String]) -> CaseReport {
    let cells = players
        .iter()
        .filter_map(|p| {
            let here: Vec<&Row> = rows
                .iter()
                .filter(|r| &r.player == p && r.case == c.id)
                .collect();
            if here.is_empty() {
                return None;
            }
            let items = here
                .iter()
                .fold(Count::default(), |a, r| add(a, r.overall()));
            let mut diagnosis = Count::default();
            for r in &here {
                if let Some(ok) = r.diagnosis_correct {
                    diagnosis.scored += 1;
                    diagnosis.met += u32::from(ok);
                }
            }
            Some(CaseCell {
                player: p.clone(),
                encounters: here.len(),
                items,
                ratio: items.ratio(),
                diagnosis,
            })
        })
        .collect();
    CaseReport {
        case: c.clone(),
        players: cells,
    }
}

fn specialty_reports(rows: &[Row], players: &[String]) -> Vec<SpecialtyReport> {
    let specialties = distinct(rows.iter().filter_map(|r| r.specialty.as_deref()));
    specialties
        .into_iter()
        .map(|s| SpecialtyReport {
            players: players
                .iter()
                .filter_map(|p| {
                    let here: Vec<Count> = rows
                        .iter()
                        .filter(|r| &r.player == p && r.specialty.as_deref() == Some(s.as_str()))
                        .map(Row::overall)
                        .collect();
                    (!here.is_empty())
                        .then(|| (p.clone(), here.into_iter().fold(Count::default(), add)))
                })
                .collect(),
            specialty: s,
        })
        .collect()
}

fn key_action_reports(rows: &[Row], players: &[String]) -> Vec<KeyActionReport> {
    let mut out: Vec<KeyActionReport> = Vec::new();
    for r in rows {
        for k in &r.key_actions {
            if !out.iter().any(|o| o.case == r.case && o.item == k.item) {
                out.push(KeyActionReport {
                    case: r.case.clone(),
                    item: k.item.clone(),
                    what: k.what.clone(),
                    by_minute: k.by_minute,
                    players: Vec::new(),
                });
            }
        }
    }
    for report in &mut out {
        for p in players {
            let times: Vec<Option<u32>> = rows
                .iter()
                .filter(|r| &r.player == p && r.case == report.case)
                .filter_map(|r| r.key_actions.iter().find(|k| k.item == report.item))
                .map(|k| k.done_at_s)
                .collect();
            if times.is_empty() {
                continue;
            }
            let mut done: Vec<u32> = times.iter().flatten().copied().collect();
            done.sort_unstable();
            let median_minute = (!done.is_empty()).then(|| {
                let mid = done.len() / 2;
                let s = if done.len() % 2 == 1 {
                    f64::from(done[mid])
                } else {
                    (f64::from(done[mid - 1]) + f64::from(done[mid])) / 2.0
                };
                s / 60.0
            });
            report.players.push(KeyActionCell {
                player: p.clone(),
                encounters: times.len(),
                done: done.len(),
                on_time: done.iter().filter(|t| **t <= report.by_minute * 60).count(),
                median_minute,
            });
        }
    }
    out
}

/// Every scored positive item, hardest first: the lowest share met, then the most
/// encounters.
fn difficulty(rows: &[Row]) -> Vec<ItemDifficulty> {
    let mut by: BTreeMap<(String, String), ItemDifficulty> = BTreeMap::new();
    for r in rows {
        for (id, met) in &r.items {
            let Some(t) = r.texts.get(id) else { continue };
            let d = by
                .entry((r.case.clone(), id.clone()))
                .or_insert_with(|| ItemDifficulty {
                    case: r.case.clone(),
                    item: id.clone(),
                    competency: t.competency,
                    text: t.text.clone(),
                    encounters: 0,
                    met: 0,
                    players_missing: Vec::new(),
                });
            d.encounters += 1;
            d.met += u32::from(*met);
            if !met && !d.players_missing.contains(&r.player) {
                d.players_missing.push(r.player.clone());
            }
        }
    }
    let mut out: Vec<ItemDifficulty> = by.into_values().collect();
    out.sort_by(|a, b| {
        a.share()
            .total_cmp(&b.share())
            .then(b.encounters.cmp(&a.encounters))
            .then(a.case.cmp(&b.case))
            .then(a.item.cmp(&b.item))
    });
    out
}

fn failures(rows: &[Row]) -> Vec<Failure> {
    let text = |r: &Row, id: &str| {
        r.texts
            .get(id)
            .map_or_else(|| id.to_string(), |t| t.text.clone())
    };
    rows.iter()
        .map(|r| Failure {
            player: r.player.clone(),
            case: r.case.clone(),
            repeat: r.repeat,
            encounter: r.encounter.clone(),
            missed: r
                .items
                .iter()
                .filter(|(_, met)| !**met)
                .map(|(id, _)| (id.clone(), text(r, id)))
                .collect(),
            harms: r.harms.iter().map(|id| (id.clone(), text(r, id))).collect(),
        })
        .filter(|f| !f.missed.is_empty() || !f.harms.is_empty())
        .collect()
}

fn judge_report(rows: &[Row]) -> JudgeReport {
    let mut lines: Vec<JudgeLine> = Vec::new();
    for r in rows {
        for j in &r.judges {
            let i = match lines.iter().position(|l| l.label == j.label) {
                Some(i) => i,
                None => {
                    lines.push(JudgeLine {
                        label: j.label.clone(),
                        model: j.model.clone(),
                        encounters: 0,
                        items: Count::default(),
                        same_model_as: Vec::new(),
                    });
                    lines.len() - 1
                }
            };
            let l = &mut lines[i];
            l.encounters += 1;
            l.items.scored += j.verdicts.len() as u32;
            l.items.met += j.verdicts.values().filter(|m| **m).count() as u32;
            if r.model.as_deref().map(model_name) == Some(model_name(&j.model))
                && !l.same_model_as.contains(&r.player)
            {
                l.same_model_as.push(r.player.clone());
            }
        }
    }
    let mut between = Vec::new();
    for (a, la) in lines.iter().enumerate() {
        for lb in &lines[a + 1..] {
            let mut pairs = Vec::new();
            for r in rows {
                let ja = r.judges.iter().find(|j| j.label == la.label);
                let jb = r.judges.iter().find(|j| j.label == lb.label);
                if let (Some(ja), Some(jb)) = (ja, jb) {
                    for (item, va) in &ja.verdicts {
                        if let Some(vb) = jb.verdicts.get(item) {
                            pairs.push((*va, *vb));
                        }
                    }
                }
            }
            between.push((la.label.clone(), lb.label.clone(), cohen_kappa(&pairs)));
        }
    }
    let with_educator = lines
        .iter()
        .map(|l| {
            let mut pairs = Vec::new();
            for r in rows {
                if let Some(j) = r.judges.iter().find(|j| j.label == l.label) {
                    for (item, v) in &j.verdicts {
                        if let Some(o) = r.overrides.get(item) {
                            pairs.push((*v, *o));
                        }
                    }
                }
            }
            (l.label.clone(), cohen_kappa(&pairs))
        })
        .collect();
    JudgeReport {
        judges: lines,
        between,
        with_educator,
    }
}

/// For each static player, each dynamic player of the same model: per case, the items the
/// static play scored (its applicable items, scored), and both players' results on exactly
/// those items.
fn static_gaps(rows: &[Row], players: &[String]) -> Vec<Gap> {
    let strategy_of = |p: &str| {
        rows.iter()
            .find(|r| r.player == p)
            .and_then(|r| r.strategy.clone())
    };
    let model_of = |p: &str| {
        rows.iter()
            .find(|r| r.player == p)
            .and_then(|r| r.model.clone())
    };
    let mut out = Vec::new();
    for s in players
        .iter()
        .filter(|p| strategy_of(p).as_deref() == Some(STATIC))
    {
        let Some(model) = model_of(s) else { continue };
        for d in players.iter().filter(|p| {
            strategy_of(p).as_deref() != Some(STATIC)
                && model_of(p).is_some_and(|m| model_name(&m) == model_name(&model))
        }) {
            let cases = distinct(
                rows.iter()
                    .filter(|r| &r.player == s)
                    .map(|r| r.case.as_str()),
            );
            let mut gap_cases = Vec::new();
            for c in cases {
                if rows_of(rows, d, &c).next().is_none() {
                    continue;
                }
                let applicable: BTreeSet<&String> =
                    rows_of(rows, s, &c).flat_map(|r| r.items.keys()).collect();
                let count = |p: &str| {
                    let mut n = Count::default();
                    for r in rows_of(rows, p, &c) {
                        let on = r.items.iter().filter(|(id, _)| applicable.contains(id));
                        for (_, met) in on {
                            n.scored += 1;
                            n.met += u32::from(*met);
                        }
                    }
                    n
                };
                let (si, di) = (count(s), count(d));
                gap_cases.push(GapCase {
                    case: c.clone(),
                    applicable: applicable.len(),
                    gap: si.ratio().zip(di.ratio()).map(|(a, b)| a - b),
                    static_items: si,
                    dynamic_items: di,
                });
            }
            if gap_cases.is_empty() {
                continue;
            }
            let si = gap_cases
                .iter()
                .fold(Count::default(), |a, g| add(a, g.static_items));
            let di = gap_cases
                .iter()
                .fold(Count::default(), |a, g| add(a, g.dynamic_items));
            out.push(Gap {
                model: model.clone(),
                static_player: s.clone(),
                dynamic_player: d.clone(),
                cases: gap_cases,
                gap: si.ratio().zip(di.ratio()).map(|(a, b)| a - b),
                static_items: si,
                dynamic_items: di,
            });
        }
    }
    out
}

fn rows_of<'a>(rows: &'a [Row], player: &'a str, case: &'a str) -> impl Iterator<Item = &'a Row> {
    rows.iter()
        .filter(move |r| r.player == player && r.case == case)
}
