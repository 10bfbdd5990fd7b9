//! The comparison's plots as plain shapes, computed once: the report's HTML writes them as SVG
//! text ([`svg`]) and the Compare page draws the same shapes as elements, so a plot never
//! differs between the page and the file. Every text is data, escaped where it is written.

use super::report::{Gap, Report};
use crate::engine::case::Competency;

/// One drawn shape. Coordinates are in the plot's own units (its `width` × `height`).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled rectangle; `title` is its tooltip (what it shows, in words).
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &'static str,
        title: String,
    },
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: &'static str,
    },
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        fill: &'static str,
        title: String,
    },
    Text {
        x: f64,
        y: f64,
        text: String,
        /// "start", "middle" or "end".
        anchor: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// What the plot shows, in a sentence (its accessible name).
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub shapes: Vec<Shape>,
    /// Colour keys: (colour, name).
    pub legend: Vec<(&'static str, String)>,
}

/// Okabe–Ito colours, distinguishable with colour-blindness; players take them in order.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

const AXIS: &str = "#555555";
const GRID: &str = "#dddddd";

pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// A 0–100% vertical axis with grid lines at every 25%, from `top` to `bottom` at `left`.
fn percent_axis(shapes: &mut Vec<Shape>, left: f64, right: f64, top: f64, bottom: f64) {
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        let y = bottom - v * (bottom - top);
        shapes.push(Shape::Line {
            x1: left,
            y1: y,
            x2: right,
            y2: y,
            stroke: if i == 0 { AXIS } else { GRID },
        });
        shapes.push(Shape::Text {
            x: left - 6.0,
            y: y + 4.0,
            text: pct(v),
            anchor: "end",
        });
    }
}

/// Grouped bars: per competency (and all items), one bar per player at its micro completion,
/// with its 95% interval as an error bar.
pub fn competency_bars(report: &Report) -> Plot {
    let players = &report.players;
    let groups: Vec<String> = Competency::ALL
        .iter()
        .map(|c| c.code().to_string())
        .chain(std::iter::once("All".to_string()))
        .collect();
    let (left, top, bottom) = (48.0, 16.0, 220.0);
    let bar = 14.0f64;
    let group_w = (bar * players.len().max(1) as f64 + 16.0).max(48.0);
    let width = left + group_w * groups.len() as f64 + 16.0;
    let mut shapes = Vec::new();
    percent_axis(&mut shapes, left, width - 8.0, top, bottom);
    for (g, name) in groups.iter().enumerate() {
        let gx = left + g as f64 * group_w + 8.0;
        for (i, p) in players.iter().enumerate() {
            let fig = if g < Competency::ALL.len() {
                p.by_competency[g].micro
            } else {
                p.micro
            };
            let Some(v) = fig.value else { continue };
            let x = gx + i as f64 * bar;
            let h = v * (bottom - top);
            let interval = fig
                .interval
                .map(|iv| format!(" (95% CI {}–{})", pct(iv.low), pct(iv.high)))
                .unwrap_or_default();
            shapes.push(Shape::Rect {
                x,
                y: bottom - h,
                w: bar - 2.0,
                h,
                fill: colour(i),
                title: format!("{}, {name}: {}{interval}", p.player, pct(v)),
            });
            if let Some(iv) = fig.interval {
                let cx = x + (bar - 2.0) / 2.0;
                let (y1, y2) = (
                    bottom - iv.low * (bottom - top),
                    bottom - iv.high * (bottom - top),
                );
                shapes.push(Shape::Line {
                    x1: cx,
                    y1,
                    x2: cx,
                    y2,
                    stroke: AXIS,
                });
                for y in [y1, y2] {
                    shapes.push(Shape::Line {
                        x1: cx - 3.0,
                        y1: y,
                        x2: cx + 3.0,
                        y2: y,
                        stroke: AXIS,
                    });
                }
            }
        }
        shapes.push(Shape::Text {
            x: gx + group_w / 2.0 - 8.0,
            y: bottom + 16.0,
            text: name.clone(),
            anchor: "middle",
        });
    }
    Plot {
        title: "Completion (items met / items scored) per competency and player, with 95% bootstrap intervals".into(),
        width,
        height: bottom + 28.0,
        shapes,
        legend: players
            .iter()
            .enumerate()
            .map(|(i, p)| (colour(i), p.player.clone()))
            .collect(),
    }
}

/// One point per case: trainees' completion on the case (pooled) across, each model player's
/// up. Without trainees, the first player is across and the others up. None when there is no
/// pair to plot.
pub fn case_scatter(report: &Report) -> Option<Plot> {
    let trainees: Vec<&str> = report
        .players
        .iter()
        .filter(|p| p.kind == "trainee")
        .map(|p| p.player.as_str())
        .collect();
    let (across_name, across): (String, Vec<&str>) = if trainees.is_empty() {
        let first = report.players.first()?.player.as_str();
        (first.to_string(), vec![first])
    } else {
        ("Trainees".to_string(), trainees)
    };
    let up: Vec<(usize, &str)> = report
        .players
        .iter()
        .enumerate()
        .filter(|(_, p)| !across.contains(&p.player.as_str()))
        .map(|(i, p)| (i, p.player.as_str()))
        .collect();
    if up.is_empty() {
        return None;
    }
    let (left, top, size) = (48.0, 12.0, 220.0);
    let bottom = top + size;
    let mut shapes = Vec::new();
    percent_axis(&mut shapes, left, left + size, top, bottom);
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        shapes.push(Shape::Text {
            x: left + v * size,
            y: bottom + 16.0,
            text: pct(v),
            anchor: "middle",
        });
    }
    // The diagonal: equal completion.
    shapes.push(Shape::Line {
        x1: left,
        y1: bottom,
        x2: left + size,
        y2: top,
        stroke: GRID,
    });
    let mut any = false;
    for c in &report.cases {
        let pooled = c
            .players
            .iter()
            .filter(|cell| across.contains(&cell.player.as_str()))
            .fold((0u32, 0u32), |a, cell| {
                (a.0 + cell.items.met, a.1 + cell.items.scored)
            });
        if pooled.1 == 0 {
            continue;
        }
        let x = f64::from(pooled.0) / f64::from(pooled.1);
        for (i, p) in &up {
            let Some(y) = c
                .players
                .iter()
                .find(|cell| cell.player == *p)
                .and_then(|cell| cell.ratio)
            else {
                continue;
            };
            any = true;
            shapes.push(Shape::Circle {
                cx: left + x * size,
                cy: bottom - y * size,
                r: 5.0,
                fill: colour(*i),
                title: format!("{}: {across_name} {}, {p} {}", c.case.title, pct(x), pct(y)),
            });
        }
    }
    shapes.push(Shape::Text {
        x: left + size / 2.0,
        y: bottom + 32.0,
        text: format!("{across_name} (completion per case)"),
        anchor: "middle",
    });
    any.then(|| Plot {
        title: format!("Per case: {across_name} across, each other player up; above the diagonal is better than {across_name}"),
        width: left + size + 16.0,
        height: bottom + 40.0,
        shapes,
        legend: up
            .iter()
            .map(|(i, p)| (colour(*i), p.to_string()))
            .collect(),
    })
}

/// The hardest items: horizontal bars of the share of encounters that met them, `n` at most.
pub fn item_difficulty(report: &Report, n: usize) -> Option<Plot> {
    let items: Vec<_> = report.difficulty.iter().take(n).collect();
    if items.is_empty() {
        return None;
    }
    let (left, row, width) = (300.0, 20.0, 560.0);
    let mut shapes = Vec::new();
    for (k, d) in items.iter().enumerate() {
        let y = 8.0 + k as f64 * row;
        let full = format!("{} · {}", d.case, d.text);
        let label: String = full.chars().take(46).collect();
        let label = if label.len() < full.len() {
            format!("{label}…")
        } else {
            label
        };
        shapes.push(Shape::Text {
            x: 4.0,
            y: y + 13.0,
            text: label,
            anchor: "start",
        });
        let w = d.share() * (width - left - 48.0);
        shapes.push(Shape::Rect {
            x: left,
            y: y + 2.0,
            w: w.max(1.0),
            h: row - 6.0,
            fill: colour(0),
            title: format!(
                "{} ({}): met in {} of {} encounters",
                d.text, d.case, d.met, d.encounters
            ),
        });
        shapes.push(Shape::Text {
            x: left + w + 4.0,
            y: y + 13.0,
            text: format!("{} ({}/{})", pct(d.share()), d.met, d.encounters),
            anchor: "start",
        });
    }
    Some(Plot {
        title: "The items most players miss: the share of encounters that met each".into(),
        width,
        height: 16.0 + items.len() as f64 * row,
        shapes,
        legend: Vec::new(),
    })
}

/// Static against dynamic on the same items, per pairing: two bars each.
pub fn static_gap(gaps: &[Gap]) -> Option<Plot> {
    if gaps.is_empty() {
        return None;
    }
    let (left, top, bottom) = (48.0, 16.0, 200.0);
    // Each pair is labelled with its model's name alone ("gpt-4o"), wide enough to read.
    let labels: Vec<String> = gaps
        .iter()
        .map(|g| super::report::model_name(&g.model))
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let group_w = (longest as f64 * 7.0 + 16.0).max(120.0);
    let width = left + group_w * gaps.len() as f64 + 16.0;
    let mut shapes = Vec::new();
    percent_axis(&mut shapes, left, width - 8.0, top, bottom);
    for (g, (gap, label)) in gaps.iter().zip(labels).enumerate() {
        let gx = left + g as f64 * group_w + 16.0;
        for (k, (name, count, fill)) in [
            ("static", gap.static_items, colour(1)),
            ("dynamic", gap.dynamic_items, colour(0)),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(v) = count.ratio() else { continue };
            let h = v * (bottom - top);
            shapes.push(Shape::Rect {
                x: gx + k as f64 * 36.0,
                y: bottom - h,
                w: 32.0,
                h,
                fill,
                title: format!(
                    "{} {name}: {} ({}/{} items)",
                    gap.model,
                    pct(v),
                    count.met,
                    count.scored
                ),
            });
        }
        shapes.push(Shape::Text {
            x: gx + 34.0,
            y: bottom + 16.0,
            text: label,
            anchor: "middle",
        });
    }
    Some(Plot {
        title: "Static vignette against dynamic encounter, on the same applicable items".into(),
        width,
        height: bottom + 28.0,
        shapes,
        legend: vec![(colour(1), "static".into()), (colour(0), "dynamic".into())],
    })
}

/// Text for HTML and SVG: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The plot as SVG text, every text escaped.
pub fn svg(plot: &Plot) -> String {
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        w = plot.width,
        h = plot.height,
        t = escape(&plot.title)
    );
    for s in &plot.shapes {
        match s {
            Shape::Rect {
                x,
                y,
                w,
                h,
                fill,
                title,
            } => out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
                escape(title)
            )),
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => out.push_str(&format!(
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\"/>"
            )),
            Shape::Circle {
                cx,
                cy,
                r,
                fill,
                title,
            } => out.push_str(&format!(
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r:.1}\" fill=\"{fill}\" fill-opacity=\"0.8\"><title>{}</title></circle>",
                escape(title)
            )),
            Shape::Text {
                x,
                y,
                text,
                anchor,
            } => out.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"11\">{}</text>",
                escape(text)
            )),
        }
    }
    out.push_str("</svg>");
    out
}
