//! The debrief's score views: overall scores, the per-competency bar chart (SVG drawn here, no
//! library), the rubric checklist with evidence links into the transcript (`widgets::Transcript`
//! rows), the timeline of expected timings, and key facts. Components take an engine `Debrief`; the geometry and
//! wording live in plain functions that native tests cover.

use leptos::prelude::*;

use crate::engine::case::Competency;
use crate::engine::debrief::{Debrief, Expectation};
use crate::engine::eval::clock;
use crate::engine::score::{ItemResult, Mark, ScoredBy, Tally};

pub use crate::app::results::percent;
use crate::app::results::{competency_legend, override_label, scores_explained};

/// "5 of 6 items" / "no items scored".
pub fn items_line(t: &Tally) -> String {
    if t.expected_scored == 0 {
        "no items scored".to_string()
    } else {
        format!("{} of {} items", t.expected_met, t.expected_scored)
    }
}

/// One bar pair of the competency chart, in SVG user units.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub competency: Competency,
    pub label: &'static str,
    /// y of the row's top.
    pub y: f64,
    /// Width of the completion bar and of the points bar (points clipped to 0..1 for drawing).
    pub completion_w: f64,
    pub points_w: f64,
    pub completion_text: String,
    pub points_text: String,
    /// No scored items: drawn as an empty, dashed row.
    pub empty: bool,
}

/// Chart layout constants.
pub const CHART_LABEL_W: f64 = 64.0;
pub const CHART_BAR_W: f64 = 240.0;
pub const CHART_ROW_H: f64 = 34.0;

/// The bars for the six competencies, in ACGME order.
pub fn bars(d: &Debrief) -> Vec<Bar> {
    d.scores
        .by_competency
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = &c.tally;
            let clip = |r: Option<f64>| r.unwrap_or(0.0).clamp(0.0, 1.0) * CHART_BAR_W;
            Bar {
                competency: c.competency,
                label: c.competency.code(),
                y: i as f64 * CHART_ROW_H,
                completion_w: clip(t.completion_ratio),
                points_w: clip(t.points_ratio),
                completion_text: percent(t.completion_ratio),
                points_text: percent(t.points_ratio),
                empty: t.expected_scored == 0 && t.harms_scored == 0,
            }
        })
        .collect()
}

/// The words shown for an item's mark.
pub fn mark_label(m: Mark) -> &'static str {
    match m {
        Mark::Met => "Met",
        Mark::Missed => "Missed",
        Mark::Harm => "Harm done",
        Mark::Avoided => "Harm avoided",
        Mark::NotScored => "Not scored",
        Mark::NotApplicable => "Not applicable (static)",
    }
}

/// Who decided, in words.
pub fn scored_by_label(i: &ItemResult) -> String {
    match i.scored_by {
        ScoredBy::Rule => "rule".to_string(),
        ScoredBy::Judge => "judge".to_string(),
        ScoredBy::Educator => match &i.overridden {
            Some(o) if !o.by.is_empty() => format!("override by {}", o.by),
            _ => "educator override".to_string(),
        },
        ScoredBy::Nobody => "no judge configured".to_string(),
        ScoredBy::NotApplicable => "not applicable to a static vignette".to_string(),
    }
}

/// "ECG: by 10:00 — done at 14:11 (late)".
pub fn expectation_line(e: &Expectation) -> String {
    let when = match e.done_at_s {
        Some(t) if e.on_time => format!("done at {}", clock(t)),
        Some(t) => format!("done at {} (late)", clock(t)),
        None => "not done".to_string(),
    };
    format!("{}: by {}:00 — {when}", e.what, e.by_minute)
}

/// The transcript row (`entry-{seq}`, as `widgets::Transcript` renders it) a piece of evidence
/// points at, among the rows shown (`shown`: their log seqs; orders and results are not
/// conversation rows): the first shown line of its turn at or after its time, else the last
/// shown line before it (the moment it happened), else the first line.
pub fn evidence_target(d: &Debrief, shown: &[u32], turn: u32, time_s: u32) -> Option<String> {
    let lines = || d.transcript.iter().filter(|l| shown.contains(&l.seq));
    lines()
        .find(|l| l.turn == turn && l.time_s >= time_s)
        .or_else(|| lines().rfind(|l| l.turn < turn || (l.turn == turn && l.time_s <= time_s)))
        .or_else(|| lines().next())
        .map(|l| format!("entry-{}", l.seq))
}

/// Scrolls the transcript to a row and focuses it (keyboard users land there too).
fn go_to(anchor: &str) {
    if let Some(el) = document().get_element_by_id(anchor) {
        el.scroll_into_view();
        if let Ok(html) = leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlElement>(el)
        {
            let _ = html.focus();
        }
    }
}

/// Overall scores: completion ratio and points side by side, what each counts, why they
/// differ when they do, and whether an educator changed any item.
#[component]
pub fn ScoreSummary(debrief: Debrief) -> impl IntoView {
    let o = debrief.scores.overall.clone();
    let (what, differs) = scores_explained(&o);
    let overridden = override_label(&debrief.scorecard);
    let harms = o.harms_done;
    let harms_class = if harms > 0 {
        "score-tile score-bad"
    } else {
        "score-tile"
    };
    view! {
        <div class="score-summary">
            <div class="score-tile">
                <span class="score-value" data-testid="completion">{percent(o.completion_ratio)}</span>
                <span class="score-label">"Completion"</span>
                <span class="score-detail">{items_line(&o)}</span>
            </div>
            <div class="score-tile">
                <span class="score-value" data-testid="points">{percent(o.points_ratio)}</span>
                <span class="score-label">"Points"</span>
                <span class="score-detail">
                    {format!("{} of {} points", trim_num(o.points), trim_num(o.points_possible))}
                </span>
            </div>
            <div class=harms_class>
                <span class="score-value">{harms}</span>
                <span class="score-label">"Harms"</span>
                <span class="score-detail">
                    {match (o.not_scored - o.not_applicable, o.not_applicable) {
                        (0, 0) => "every item scored".to_string(),
                        (n, 0) => format!("{n} item(s) not scored"),
                        (0, a) => format!("{a} item(s) not applicable to a static vignette"),
                        (n, a) => format!(
                            "{n} item(s) not scored; {a} not applicable to a static vignette"
                        ),
                    }}
                </span>
            </div>
        </div>
        <p class="score-explained" data-testid="score-explained">{what}</p>
        {differs.map(|d| view! { <p class="score-differs" data-testid="score-differs">{d}</p> })}
        {overridden.map(|o| view! { <p class="override-note" data-testid="override-note">{o}</p> })}
    }
}

fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// Per-competency bars: completion (solid) and points (light), with the values as text.
#[component]
pub fn CompetencyChart(debrief: Debrief) -> impl IntoView {
    let bars = bars(&debrief);
    let height = CHART_ROW_H * bars.len() as f64;
    let width = CHART_LABEL_W + CHART_BAR_W + 110.0;
    let rows = bars
        .into_iter()
        .map(|b| {
            let y = b.y;
            let title = format!(
                "{}: completion {}, points {}",
                b.competency.label(),
                b.completion_text,
                b.points_text
            );
            view! {
                <g class="chart-row" class:chart-empty=b.empty>
                    <title>{title}</title>
                    <text x="0" y=y + 20.0 class="chart-label">{b.label}</text>
                    <rect x=CHART_LABEL_W y=y + 4.0 width=CHART_BAR_W height="12" class="chart-track"></rect>
                    <rect x=CHART_LABEL_W y=y + 4.0 width=b.completion_w height="12" class="chart-completion"></rect>
                    <rect x=CHART_LABEL_W y=y + 18.0 width=CHART_BAR_W height="8" class="chart-track"></rect>
                    <rect x=CHART_LABEL_W y=y + 18.0 width=b.points_w height="8" class="chart-points"></rect>
                    <text x=CHART_LABEL_W + CHART_BAR_W + 8.0 y=y + 20.0 class="chart-value">
                        {format!("{} · {}", b.completion_text, b.points_text)}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="competency-chart">
            <svg
                viewBox=format!("0 0 {width} {height}")
                role="img"
                aria-label="Scores per competency: completion ratio and points"
            >
                {rows}
            </svg>
            <figcaption>
                <span class="legend legend-completion">"Completion"</span>
                <span class="legend legend-points">"Points"</span>
                <dl class="competency-legend" data-testid="competency-legend">
                    {competency_legend()
                        .into_iter()
                        .map(|(code, name)| view! { <dt>{code}</dt> <dd>{name}</dd> })
                        .collect_view()}
                </dl>
            </figcaption>
        </figure>
    }
}

/// The rubric checklist in debrief order, with evidence links and (optionally) overrides.
#[component]
pub fn Checklist(
    debrief: Debrief,
    /// Log seqs of the transcript rows on the page (evidence links land on one of them).
    shown: Vec<u32>,
    /// Called with (item id, met) when an educator overrides; `None` clears the override.
    #[prop(optional)]
    on_override: Option<Callback<(String, Option<bool>)>>,
) -> impl IntoView {
    let items: Vec<ItemResult> = debrief
        .order
        .iter()
        .filter_map(|id| debrief.scorecard.item(id).cloned())
        .collect();
    let rows = items
        .into_iter()
        .map(|i| {
            let mark = i.mark();
            let class = format!("check-item mark-{mark:?}").to_lowercase();
            let evidence = i
                .evidence
                .iter()
                .map(|e| {
                    let target = e
                        .seq
                        .filter(|s| shown.contains(s))
                        .map(|s| format!("entry-{s}"))
                        .or_else(|| evidence_target(&debrief, &shown, e.turn, e.time_s))
                        .unwrap_or_default();
                    view! {
                        <li>
                            <button
                                type="button"
                                class="evidence-link"
                                on:click=move |_| go_to(&target)
                            >
                                {clock(e.time_s)}
                            </button>
                            " "
                            <q>{e.text.clone()}</q>
                        </li>
                    }
                })
                .collect_view();
            let quote = i.judge_quote.clone();
            let id = i.id.clone();
            let overrides = on_override.map(|cb| {
                let (a, b, c) = (id.clone(), id.clone(), id.clone());
                view! {
                    <div class="override" role="group" aria-label="Educator override">
                        <button type="button" on:click=move |_| cb.run((a.clone(), Some(true)))>"Mark met"</button>
                        <button type="button" on:click=move |_| cb.run((b.clone(), Some(false)))>"Mark not met"</button>
                        <button type="button" on:click=move |_| cb.run((c.clone(), None))>"Clear"</button>
                    </div>
                }
            });
            view! {
                <li class=class data-item=i.id.clone()>
                    <div class="check-head">
                        <span class="check-mark">{mark_label(mark)}</span>
                        <span class="check-comp">{i.competency.code()}</span>
                        {i.critical.then(|| view! { <span class="check-critical">"critical"</span> })}
                        <span class="check-text">{i.text.clone()}</span>
                    </div>
                    <p class="check-why">
                        {i.why.clone()} <span class="check-by">{format!(" ({})", scored_by_label(&i))}</span>
                    </p>
                    {quote.map(|q| view! { <p class="check-quote">"Judge quotes: " <q>{q}</q></p> })}
                    {i.rationale.clone().map(|r| view! { <p class="check-rationale">"Why it matters: " {r}</p> })}
                    {i.reference.clone().map(|r| view! { <p class="check-reference">"Reference: " <cite>{r}</cite></p> })}
                    <ul class="evidence">{evidence}</ul>
                    {overrides}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="checklist">{rows}</ol> }
}

/// Expected timings against what was done, and the key facts elicited or missed.
#[component]
pub fn TimelineAndFacts(debrief: Debrief, shown: Vec<u32>) -> impl IntoView {
    let expectations = debrief
        .expectations
        .iter()
        .map(|e| {
            let class = if e.on_time {
                "timing on-time"
            } else {
                "timing late"
            };
            view! { <li class=class>{expectation_line(e)}</li> }
        })
        .collect_view();
    let facts = debrief
        .key_facts
        .iter()
        .map(|f| match &f.elicited {
            Some(e) => {
                let target = evidence_target(&debrief, &shown, e.turn, e.time_s).unwrap_or_default();
                view! {
                    <li class="fact elicited">
                        <button type="button" class="evidence-link" on:click=move |_| go_to(&target)>
                            {format!("{} from {}", clock(e.time_s), e.speaker)}
                        </button>
                        " " {f.answer.clone()}
                    </li>
                }
                .into_any()
            }
            None => view! {
                <li class="fact missed">
                    <span class="fact-missed">"Not asked. "</span>
                    {f.ask.clone()}
                </li>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <div class="timeline-facts">
            <section aria-labelledby="timing-h">
                <h3 id="timing-h">"Expected timings"</h3>
                <ul class="timings">{expectations}</ul>
            </section>
            {(!debrief.key_facts.is_empty()).then(|| view! {
                <section aria-labelledby="facts-h">
                    <h3 id="facts-h">"Key facts"</h3>
                    <ul class="facts">{facts}</ul>
                </section>
            })}
        </div>
    }
}

/// "0:26", or "—" for no time.
pub fn pathway_time(t: Option<u32>) -> String {
    t.map(clock).unwrap_or_else(|| "—".to_string())
}

/// The expert pathway beside the trainee's actions: one row per order, with both times and
/// early / on time / late / missing.
#[component]
pub fn ExpertPathway(debrief: Debrief) -> impl IntoView {
    if debrief.pathway.is_empty() {
        return ().into_any();
    }
    let rows = debrief
        .pathway
        .iter()
        .map(|r| {
            let class = format!("pathway-row timing-{:?}", r.timing).to_lowercase();
            view! {
                <tr class=class>
                    <th scope="row">{r.name.clone()}</th>
                    <td>{pathway_time(r.expert_at_s)} " " <span class="muted">{r.expert.clone().unwrap_or_default()}</span></td>
                    <td>{pathway_time(r.trainee_at_s)} " " <span class="muted">{r.trainee.clone().unwrap_or_default()}</span></td>
                    <td class="pathway-timing">{r.timing.words()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="expert-pathway" aria-labelledby="pathway-h" data-testid="expert-pathway">
            <h3 id="pathway-h">"Expert pathway"</h3>
            <p class="muted">
                "The case's model play, order by order, beside yours; on time means within two minutes of the expert."
            </p>
            <div class="table-scroll">
                <table class="pathway">
                    <thead>
                        <tr>
                            <th scope="col">"Order"</th>
                            <th scope="col">"Expert"</th>
                            <th scope="col">"You"</th>
                            <th scope="col">"Timing"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}
