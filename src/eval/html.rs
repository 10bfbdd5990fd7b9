//! The comparison report as one self-contained HTML file (inline style and SVG, no script, no
//! external request), printable to PDF. Every text from cases, players, judges and models is
//! escaped.

use super::compare::Figure;
use super::plot::{self, escape, svg, Plot};
use super::report::Report;
use super::stats::{Count, Kappa};

/// "62%", "—" when undefined.
pub fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

/// "62% (55–70%)": a figure with its 95% interval.
pub fn figure(f: &Figure) -> String {
    match (f.value, f.interval) {
        (Some(v), Some(i)) => format!(
            "{:.0}% ({:.0}–{:.0}%)",
            v * 100.0,
            i.low * 100.0,
            i.high * 100.0
        ),
        (v, _) => percent(v),
    }
}

/// "5/12 (42%)".
pub fn count(c: Count) -> String {
    if c.scored == 0 {
        "—".into()
    } else {
        format!("{}/{} ({})", c.met, c.scored, percent(c.ratio()))
    }
}

/// "κ 0.62 (n 40, agreement 85%)", or why there is none.
pub fn kappa(k: &Kappa) -> String {
    match (k.kappa, k.agreement) {
        (_, None) => "no item judged by both (n 0)".into(),
        (None, Some(a)) => format!(
            "κ undefined: one class only (n {}, agreement {})",
            k.n,
            percent(Some(a))
        ),
        (Some(v), Some(a)) => format!("κ {v:.2} (n {}, agreement {})", k.n, percent(Some(a))),
    }
}

fn gap(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:+.0} points", v * 100.0))
}

struct Table(String);

impl Table {
    fn new(caption: &str, head: &[&str]) -> Table {
        let mut s = format!("<table><caption>{}</caption><thead><tr>", escape(caption));
        for h in head {
            s.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
        }
        s.push_str("</tr></thead><tbody>");
        Table(s)
    }

    fn row(&mut self, cells: &[String]) {
        self.0.push_str("<tr>");
        for c in cells {
            self.0.push_str(&format!("<td>{}</td>", escape(c)));
        }
        self.0.push_str("</tr>");
    }

    fn end(mut self) -> String {
        self.0.push_str("</tbody></table>");
        self.0
    }
}

fn figure_block(p: &Plot) -> String {
    let mut s = format!("<figure>{}", svg(p));
    if !p.legend.is_empty() {
        s.push_str("<figcaption>");
        for (c, name) in &p.legend {
            s.push_str(&format!(
                "<span class=\"key\"><span class=\"swatch\" style=\"background:{c}\"></span>{}</span>",
                escape(name)
            ));
        }
        s.push_str("</figcaption>");
    }
    s.push_str("</figure>");
    s
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;max-width:1100px;margin:24px auto;padding:0 16px}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}caption{text-align:left;font-weight:600;padding:4px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f2f2f2}figure{margin:8px 0 16px}figcaption{font-size:12px}.key{margin-right:12px;white-space:nowrap}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}.flag{color:#a40000;font-weight:600}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}@media print{body{margin:0}h2{break-after:avoid}table,figure{break-inside:avoid}}";

/// The whole report as an HTML document.
pub fn report_html(r: &Report, title: &str) -> String {
    let m = &r.method;
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = escape(title)
    ));

    // Method.
    out.push_str("<h2>Method</h2><dl>");
    let dd = |k: &str, v: String| format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    let list = |v: &[String]| {
        if v.is_empty() {
            "—".to_string()
        } else {
            v.join("; ")
        }
    };
    out.push_str(&dd("Encounters", m.encounters.to_string()));
    out.push_str(&dd("Players", r.players.len().to_string()));
    out.push_str(&dd(
        "Protocol",
        "Each player plays the clinician against the same scripted cases; the engine executes orders on a simulated clock; rubric items with a rule are scored by the engine, the others by the judge (true only with explicit evidence) or an educator's override; items not scored stay out of every denominator. A static player is given the whole case at once as a written vignette and answers once; its orders are carried out at time zero, and the items that need the dialogue or the clock are not applicable to it (out of every denominator).".into(),
    ));
    out.push_str(&dd("Turn limits", list(&m.turn_limits)));
    out.push_str(&dd("Patient voice", list(&m.patient_voices)));
    out.push_str(&dd("Judges", list(&m.judges)));
    out.push_str(&dd("Strategies", list(&m.strategies)));
    out.push_str(&dd("Runs", list(&m.runs)));
    out.push_str(&dd(
        "Statistics",
        format!("Completion micro = items met / items scored over all encounters; macro = the mean of per-encounter ratios (per competency leaving out encounters with no item in it); points = weights met (harms negative) / positive weights, clipped to [0, 1] per encounter; pass^k = the share of items met in all of a case's first k repeats; 95% percentile bootstrap intervals over encounters, {} resamples, seed {}; judge agreement as Cohen's κ with n.", m.resamples, m.seed),
    ));
    out.push_str("</dl>");
    let mut t = Table::new("Cases", &["Case", "Version", "Title", "Specialty"]);
    for c in &m.cases {
        t.row(&[
            c.id.clone(),
            c.version.clone(),
            c.title.clone(),
            c.specialty.clone().unwrap_or_else(|| "—".into()),
        ]);
    }
    out.push_str(&t.end());

    // Players.
    out.push_str("<h2>Players</h2>");
    let mut t = Table::new(
        "Completion with 95% bootstrap intervals",
        &[
            "Player",
            "Kind",
            "Strategy",
            "Encounters",
            "Cases",
            "Micro",
            "Macro",
            "Points",
            "Repeats (mean ± sd)",
            "pass^k",
            "Diagnosis correct",
            "Items rest on",
        ],
    );
    for p in &r.players {
        t.row(&[
            p.player.clone(),
            p.model
                .clone()
                .map_or(p.kind.to_string(), |m| format!("{} ({m})", p.kind)),
            p.strategy.clone().unwrap_or_else(|| "—".into()),
            p.encounters.to_string(),
            p.cases.to_string(),
            figure(&p.micro),
            figure(&p.macro_),
            figure(&p.points),
            p.repeats.map_or("—".into(), |s| {
                format!(
                    "{:.0}% ± {:.0} ({} repeats)",
                    s.mean * 100.0,
                    s.sd * 100.0,
                    s.repeats
                )
            }),
            p.pass_k.map_or("—".into(), |k| {
                format!("pass^{} {}", k.k, percent(Some(k.value)))
            }),
            count(p.diagnosis),
            format!(
                "{} rule, {} judge, {} educator",
                p.by_rule, p.by_judge, p.by_educator
            ),
        ]);
    }
    out.push_str(&t.end());
    let flagged: Vec<String> = r
        .players
        .iter()
        .filter(|p| !p.self_judged_by.is_empty())
        .map(|p| {
            format!(
                "{} is judged by its own model ({})",
                p.player,
                p.self_judged_by.join(", ")
            )
        })
        .collect();
    for f in flagged {
        out.push_str(&format!(
            "<p class=\"flag\">{}: judges tend to prefer their own model's transcripts.</p>",
            escape(&f)
        ));
    }
    let models: Vec<_> = r
        .players
        .iter()
        .filter(|p| p.kind == "model" && p.per_encounter.calls.is_some())
        .collect();
    if !models.is_empty() {
        let mut t = Table::new(
            "Per encounter (models)",
            &[
                "Player",
                "Calls",
                "Tokens in",
                "Tokens out",
                "Cost",
                "Latency median",
                "Latency p95",
            ],
        );
        let num = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.0}"));
        let ms = |v: Option<u64>| v.map_or("—".into(), |v| format!("{v} ms"));
        for p in models {
            let u = &p.per_encounter;
            t.row(&[
                p.player.clone(),
                u.calls.map_or("—".into(), |v| format!("{v:.1}")),
                num(u.input_tokens),
                num(u.output_tokens),
                u.cost.map_or("—".into(), |c| format!("${c:.4}")),
                ms(u.latency_median_ms),
                ms(u.latency_p95_ms),
            ]);
        }
        out.push_str(&t.end());
    }

    // Competencies.
    out.push_str("<h2>Competencies</h2>");
    out.push_str(&figure_block(&plot::competency_bars(r)));
    let mut head = vec!["Player"];
    let codes: Vec<String> = crate::engine::case::Competency::ALL
        .iter()
        .map(|c| c.code().to_string())
        .collect();
    head.extend(codes.iter().map(String::as_str));
    let mut t = Table::new("Micro completion (95% interval) · macro", &head);
    for p in &r.players {
        let mut cells = vec![p.player.clone()];
        cells.extend(
            p.by_competency
                .iter()
                .map(|c| format!("{} · {}", figure(&c.micro), percent(c.macro_))),
        );
        t.row(&cells);
    }
    out.push_str(&t.end());

    // Cases.
    out.push_str("<h2>Per case</h2>");
    if let Some(p) = plot::case_scatter(r) {
        out.push_str(&figure_block(&p));
    }
    let mut head = vec!["Case".to_string()];
    head.extend(r.players.iter().map(|p| p.player.clone()));
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new("Items met / scored (diagnosis correct)", &head_refs);
    for c in &r.cases {
        let mut cells = vec![c.case.title.clone()];
        for p in &r.players {
            cells.push(
                c.players
                    .iter()
                    .find(|cell| cell.player == p.player)
                    .map_or("—".into(), |cell| {
                        format!("{} · dx {}", count(cell.items), count(cell.diagnosis))
                    }),
            );
        }
        t.row(&cells);
    }
    out.push_str(&t.end());
    if !r.specialties.is_empty() {
        let mut head = head_refs.clone();
        head[0] = "Specialty";
        let mut t = Table::new("Per specialty: items met / scored", &head);
        for s in &r.specialties {
            let mut cells = vec![s.specialty.clone()];
            for p in &r.players {
                cells.push(
                    s.players
                        .iter()
                        .find(|(name, _)| *name == p.player)
                        .map_or("—".into(), |(_, c)| count(*c)),
                );
            }
            t.row(&cells);
        }
        out.push_str(&t.end());
    }

    // Key actions.
    if !r.key_actions.is_empty() {
        out.push_str("<h2>Time to key actions</h2>");
        let mut head = head_refs.clone();
        head[0] = "Expectation";
        let mut t = Table::new(
            "Simulated minutes to each timed expectation: median of those who did it (done / encounters, on time)",
            &head,
        );
        for k in &r.key_actions {
            let mut cells = vec![format!("{}: {} by minute {}", k.case, k.what, k.by_minute)];
            for p in &r.players {
                cells.push(k.players.iter().find(|c| c.player == p.player).map_or(
                    "—".into(),
                    |c| {
                        format!(
                            "{} ({}/{}, {} on time)",
                            c.median_minute
                                .map_or("never".into(), |m| format!("{m:.0} min")),
                            c.done,
                            c.encounters,
                            c.on_time
                        )
                    },
                ));
            }
            t.row(&cells);
        }
        out.push_str(&t.end());
    }

    // Static vs dynamic.
    if !r.static_gap.is_empty() {
        out.push_str("<h2>Static vignette against dynamic encounter</h2><p>The same model given the whole case at once as a written vignette (one call: diagnosis and management) against the same model in the encounter, on the items the static play could score; items that need the dialogue are not applicable to it.</p>");
        if let Some(p) = plot::static_gap(&r.static_gap) {
            out.push_str(&figure_block(&p));
        }
        let mut t = Table::new(
            "Static − dynamic, on the same items",
            &[
                "Model",
                "Static player",
                "Dynamic player",
                "Case",
                "Applicable items",
                "Static",
                "Dynamic",
                "Gap",
            ],
        );
        for g in &r.static_gap {
            for c in &g.cases {
                t.row(&[
                    g.model.clone(),
                    g.static_player.clone(),
                    g.dynamic_player.clone(),
                    c.case.clone(),
                    c.applicable.to_string(),
                    count(c.static_items),
                    count(c.dynamic_items),
                    gap(c.gap),
                ]);
            }
            t.row(&[
                g.model.clone(),
                g.static_player.clone(),
                g.dynamic_player.clone(),
                "all cases".into(),
                String::new(),
                count(g.static_items),
                count(g.dynamic_items),
                gap(g.gap),
            ]);
        }
        out.push_str(&t.end());
    }

    // Judges.
    if !r.judges.judges.is_empty() {
        out.push_str("<h2>Judges</h2>");
        let mut t = Table::new(
            "Each judge's verdicts on the judge items",
            &[
                "Judge",
                "Model",
                "Encounters",
                "Items met / judged",
                "Same model as",
            ],
        );
        for j in &r.judges.judges {
            t.row(&[
                j.label.clone(),
                j.model.clone(),
                j.encounters.to_string(),
                count(j.items),
                if j.same_model_as.is_empty() {
                    "—".into()
                } else {
                    format!("⚠ {}", j.same_model_as.join(", "))
                },
            ]);
        }
        out.push_str(&t.end());
        let mut t = Table::new("Agreement (Cohen's κ)", &["Between", "And", "κ"]);
        for (a, b, k) in &r.judges.between {
            t.row(&[a.clone(), b.clone(), kappa(k)]);
        }
        for (a, k) in &r.judges.with_educator {
            t.row(&[a.clone(), "educator overrides".into(), kappa(k)]);
        }
        out.push_str(&t.end());
    }

    // Items.
    out.push_str("<h2>Item difficulty</h2>");
    if let Some(p) = plot::item_difficulty(r, 15) {
        out.push_str(&figure_block(&p));
    }
    let mut t = Table::new(
        "The hardest items (lowest share met)",
        &["Case", "Item", "Competency", "Met", "Missed by"],
    );
    for d in r.difficulty.iter().take(30) {
        t.row(&[
            d.case.clone(),
            d.text.clone(),
            d.competency.code().to_string(),
            format!("{}/{} ({})", d.met, d.encounters, percent(Some(d.share()))),
            d.players_missing.join(", "),
        ]);
    }
    out.push_str(&t.end());

    out.push_str("<h2>What each player missed</h2>");
    let mut t = Table::new(
        "Per encounter: items missed and harms done",
        &["Player", "Case", "Repeat", "Encounter", "Missed", "Harms"],
    );
    for f in &r.failures {
        t.row(&[
            f.player.clone(),
            f.case.clone(),
            f.repeat.to_string(),
            f.encounter.clone(),
            f.missed
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" · "),
            f.harms
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" · "),
        ]);
    }
    out.push_str(&t.end());
    out.push_str("<p>Made with Bedside. The long-format CSV and the JSON of this comparison carry every figure.</p></body></html>");
    out
}
