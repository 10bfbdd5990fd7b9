//! What the debrief shows, as plain data: scores, items in debrief order, a timeline of the
//! clinician's actions against the case's expected timings, key facts elicited or missed, and
//! the transcript with anchors (`turn`) that item evidence links to. (What the judge reads is
//! built by `llm::prompts::judge_material` from the same record.)

use serde::{Deserialize, Serialize};

use super::case::{Case, FactCategory, PATIENT};
use super::catalog::Catalog;
use super::encounter::{ActionStatus, EndForm, EntryKind, Record, State};
use super::eval::{clock, id_words, phrase_set_words, seconds, Evidence};
use super::rule::Rule;
use super::score::{Scorecard, Scores};

/// Who a transcript line is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Speaker {
    Clinician,
    /// The patient or another actor, by display name.
    Actor(String),
    /// The environment: results, notices, phase changes, vitals, the clock.
    Environment,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The log entry's sequence number (unique).
    pub seq: u32,
    /// The clinician turn it belongs to: the anchor evidence links to.
    pub turn: u32,
    pub time_s: u32,
    pub speaker: Speaker,
    pub text: String,
}

impl Line {
    /// "[3:15] Clinician: Hello" — for the judge, exports and plain-text views.
    pub fn plain(&self) -> String {
        let who = match &self.speaker {
            Speaker::Clinician => "Clinician".to_string(),
            Speaker::Actor(name) => name.clone(),
            Speaker::Environment => "Environment".to_string(),
        };
        format!("[{}] {who}: {}", clock(self.time_s), self.text)
    }
}

fn actor_name(case: &Case, id: &str) -> String {
    if id == PATIENT {
        return format!("{} (patient)", case.patient.name);
    }
    case.actors
        .iter()
        .find(|a| a.id == id)
        .map(|a| format!("{} ({})", a.name, a.role))
        .unwrap_or_else(|| id.to_string())
}

fn status_word(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Executed => "executed",
        ActionStatus::Pending => "pending",
        ActionStatus::Unsupported => "unsupported",
    }
}

/// The encounter's log as transcript lines.
pub fn transcript(case: &Case, record: &Record) -> Vec<Line> {
    record
        .log
        .iter()
        .map(|e| {
            let (speaker, text) = match &e.kind {
                EntryKind::Started {
                    label,
                    status,
                    vitals,
                    ..
                } => (
                    Speaker::Environment,
                    format!("{label}. {status} {}", vitals_text(vitals)),
                ),
                EntryKind::ClinicianSaid { text } => (Speaker::Clinician, text.clone()),
                EntryKind::ActorSaid { speaker, text, .. } => {
                    (Speaker::Actor(actor_name(case, speaker)), text.clone())
                }
                EntryKind::Ordered {
                    raw,
                    name,
                    status,
                    form,
                    ..
                } => (
                    Speaker::Environment,
                    match (name, form) {
                        (Some(n), Some(f)) => {
                            format!("Order \"{raw}\" → {n} {f} ({})", status_word(*status))
                        }
                        (Some(n), None) => {
                            format!("Order \"{raw}\" → {n} ({})", status_word(*status))
                        }
                        (None, _) => format!("Order \"{raw}\" not understood (unsupported)"),
                    },
                ),
                EntryKind::Result { name, text, .. } => {
                    (Speaker::Environment, format!("Result — {name}: {text}"))
                }
                EntryKind::Cancelled { name, stopped, .. } => (
                    Speaker::Environment,
                    format!("{}: {name}", if *stopped { "Stopped" } else { "Cancelled" }),
                ),
                EntryKind::EndRequested { detail, .. } => (
                    Speaker::Environment,
                    format!("The encounter is closing ({detail}); the end form is due."),
                ),
                EntryKind::Notice { text, .. } => (Speaker::Environment, text.clone()),
                EntryKind::PhaseChanged { label, status, .. } => {
                    (Speaker::Environment, format!("{label}. {status}"))
                }
                EntryKind::Vitals { vitals } => (Speaker::Environment, vitals_text(vitals)),
                EntryKind::ActorArrived { actor } => (
                    Speaker::Environment,
                    format!("{} arrives.", actor_name(case, actor)),
                ),
                EntryKind::ActorLeft { actor } => (
                    Speaker::Environment,
                    format!("{} leaves.", actor_name(case, actor)),
                ),
                EntryKind::Waited { minutes } => {
                    (Speaker::Environment, format!("Waited {minutes} min."))
                }
                EntryKind::StageDone { .. } => {
                    (Speaker::Environment, "Done with this stage.".to_string())
                }
                EntryKind::Ended { detail, .. } => {
                    (Speaker::Environment, format!("Encounter ended: {detail}"))
                }
            };
            Line {
                seq: e.seq,
                turn: e.turn,
                time_s: e.time_s,
                speaker,
                text,
            }
        })
        .collect()
}

/// "HR 92, BP 150/90, RR 18, SpO2 97%, T 37.1 °C, GCS 15, pain 7/10" (only values present).
pub fn vitals_text(v: &super::case::Vitals) -> String {
    let mut parts = Vec::new();
    if let Some(hr) = v.hr {
        parts.push(format!("HR {hr}"));
    }
    match (v.sbp, v.dbp) {
        (Some(s), Some(d)) => parts.push(format!("BP {s}/{d}")),
        (Some(s), None) => parts.push(format!("systolic BP {s}")),
        _ => {}
    }
    if let Some(rr) = v.rr {
        parts.push(format!("RR {rr}"));
    }
    if let Some(s) = v.spo2 {
        parts.push(format!("SpO2 {s}%"));
    }
    if let Some(t) = v.temp_c {
        parts.push(format!("T {t:.1} °C"));
    }
    if let Some(g) = v.gcs {
        parts.push(format!("GCS {g}"));
    }
    if let Some(p) = v.pain {
        parts.push(format!("pain {p}/10"));
    }
    parts.join(", ")
}

/// A timing the case expects, taken from a positive rubric item's `done`/`said` rule with a
/// deadline, and what the clinician actually did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub item: String,
    /// What is expected: the catalog order's name, or the phrase set.
    pub what: String,
    pub by_minute: u32,
    /// When it was first done (any dose or route), if ever.
    pub done_at_s: Option<u32>,
    pub on_time: bool,
}

/// One action on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineAction {
    pub turn: u32,
    pub time_s: u32,
    pub label: String,
    pub status: ActionStatus,
    pub result_at_s: Option<u32>,
}

/// A key fact of the script and whether (and when, from whom) it was elicited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFact {
    pub id: String,
    pub category: FactCategory,
    /// The answer, so a trainee sees what they learnt (shown once elicited).
    pub answer: String,
    /// What to ask, shown when it was not elicited: the fact's `ask`, else "Ask about …" its
    /// first triggers.
    pub ask: String,
    pub elicited: Option<FactElicited>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactElicited {
    pub turn: u32,
    pub time_s: u32,
    pub speaker: String,
}

/// Everything the debrief page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Debrief {
    pub case_id: String,
    pub case_title: String,
    pub scores: Scores,
    pub scorecard: Scorecard,
    /// Item ids in debrief order (critical failures first).
    pub order: Vec<String>,
    pub expectations: Vec<Expectation>,
    pub actions: Vec<TimelineAction>,
    pub key_facts: Vec<KeyFact>,
    pub final_form: Option<EndForm>,
    pub ended: Option<String>,
    pub transcript: Vec<Line>,
    /// The expert pathway beside the trainee's actions (empty when the case has none; the
    /// app fills it by replaying the case's `pathway`, see [`pathway_rows`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pathway: Vec<PathwayRow>,
}

/// How the trainee's timing compares with the expert's for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathwayTiming {
    /// More than [`PATHWAY_SLACK_S`] before the expert.
    Early,
    /// Within [`PATHWAY_SLACK_S`] of the expert.
    OnTime,
    Late,
    /// The trainee never did it.
    Missing,
    /// The trainee did it; the expert did not.
    Extra,
}

/// How far from the expert's time an order still counts as on time: two minutes.
pub const PATHWAY_SLACK_S: u32 = 120;

/// One order on the expert pathway (or done only by the trainee), with both times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathwayRow {
    /// The catalog's name.
    pub name: String,
    /// As the expert placed it ("Aspirin 324 mg PO"), or the trainee for an extra.
    pub expert: Option<String>,
    pub expert_at_s: Option<u32>,
    /// As the trainee placed it, and when it was carried out.
    pub trainee: Option<String>,
    pub trainee_at_s: Option<u32>,
    pub timing: PathwayTiming,
}

impl PathwayTiming {
    /// "early", "on time", "late", "missing", "not on the pathway".
    pub fn words(self) -> &'static str {
        match self {
            PathwayTiming::Early => "early",
            PathwayTiming::OnTime => "on time",
            PathwayTiming::Late => "late",
            PathwayTiming::Missing => "missing",
            PathwayTiming::Extra => "not on the pathway",
        }
    }
}

/// The expert's orders (first of each, in the order carried out) beside the trainee's: early,
/// on time (within two minutes), late or missing; then what the trainee did that the expert
/// did not. Orders not understood, and those never carried out, are left out.
pub fn pathway_rows(expert: &State, trainee: &State) -> Vec<PathwayRow> {
    fn firsts(state: &State) -> Vec<(&str, &super::encounter::ActionRecord, u32)> {
        let mut out: Vec<(&str, &super::encounter::ActionRecord, u32)> = Vec::new();
        for a in &state.actions {
            let (Some(id), Some(t)) = (a.order_id(), a.done_at()) else {
                continue;
            };
            match out.iter_mut().find(|(i, _, _)| *i == id) {
                Some(slot) if t < slot.2 => *slot = (id, a, t),
                Some(_) => {}
                None => out.push((id, a, t)),
            }
        }
        out.sort_by_key(|(_, a, t)| (*t, a.seq));
        out
    }
    let name = |a: &super::encounter::ActionRecord| {
        a.interpretation
            .order
            .as_ref()
            .map_or_else(|| a.interpretation.raw.clone(), |o| o.name.clone())
    };
    let theirs = firsts(trainee);
    let mut rows: Vec<PathwayRow> = firsts(expert)
        .into_iter()
        .map(|(id, e, te)| {
            let mine = theirs.iter().find(|(i, _, _)| *i == id);
            let timing = match mine {
                None => PathwayTiming::Missing,
                Some((_, _, t)) if *t + PATHWAY_SLACK_S < te => PathwayTiming::Early,
                Some((_, _, t)) if *t > te + PATHWAY_SLACK_S => PathwayTiming::Late,
                Some(_) => PathwayTiming::OnTime,
            };
            PathwayRow {
                name: name(e),
                expert: Some(e.interpretation.summary()),
                expert_at_s: Some(te),
                trainee: mine.map(|(_, a, _)| a.interpretation.summary()),
                trainee_at_s: mine.map(|(_, _, t)| *t),
                timing,
            }
        })
        .collect();
    let expert_ids: Vec<&str> = firsts(expert).into_iter().map(|(i, _, _)| i).collect();
    rows.extend(
        theirs
            .iter()
            .filter(|(i, _, _)| !expert_ids.contains(i))
            .map(|(_, a, t)| PathwayRow {
                name: name(a),
                expert: None,
                expert_at_s: None,
                trainee: Some(a.interpretation.summary()),
                trainee_at_s: Some(*t),
                timing: PathwayTiming::Extra,
            }),
    );
    rows
}

/// Builds the debrief of a scored encounter.
pub fn debrief(case: &Case, record: &Record, scorecard: &Scorecard) -> Debrief {
    debrief_named(case, None, record, scorecard)
}

/// [`debrief`] with the catalog naming expected orders that were never placed.
pub fn debrief_named(
    case: &Case,
    catalog: Option<&Catalog>,
    record: &Record,
    scorecard: &Scorecard,
) -> Debrief {
    let state = &record.state;
    let mut scorecard = scorecard.clone();
    for item in &mut scorecard.items {
        for e in &mut item.evidence {
            e.seq = evidence_seq(record, e);
        }
    }
    let scorecard = &scorecard;
    Debrief {
        case_id: case.meta.id.clone(),
        case_title: case.meta.title.clone(),
        scores: scorecard.scores(),
        scorecard: scorecard.clone(),
        order: scorecard
            .debrief_order()
            .iter()
            .map(|i| i.id.clone())
            .collect(),
        expectations: expectations_named(case, catalog, state),
        actions: state
            .actions
            .iter()
            .map(|a| TimelineAction {
                turn: a.turn,
                time_s: a.time_s,
                label: a.label(),
                status: a.status,
                result_at_s: a.result.as_ref().and(a.result_due_s),
            })
            .collect(),
        // A static play was given every fact in its vignette: none was there to elicit.
        key_facts: case
            .facts
            .iter()
            .filter(|f| f.key && !state.vignette)
            .map(|f| KeyFact {
                id: f.id.clone(),
                category: f.category,
                answer: f.answer.clone(),
                ask: ask_text(f),
                elicited: state.elicited.get(&f.id).map(|e| FactElicited {
                    turn: e.turn,
                    time_s: e.time_s,
                    speaker: actor_name(case, &e.speaker),
                }),
            })
            .collect(),
        final_form: state.final_form.clone(),
        ended: state.ended.as_ref().map(|e| e.detail.clone()),
        transcript: transcript(case, record),
        pathway: Vec::new(),
    }
}

/// The question to ask for a fact: its `ask`, else "Ask about" its first three triggers.
pub fn ask_text(f: &super::case::Fact) -> String {
    match &f.ask {
        Some(q) => q.trim().to_string(),
        None => {
            let topics: Vec<&str> = f.triggers.iter().take(3).map(|t| t.as_str()).collect();
            format!("Ask about {}", topics.join(", "))
        }
    }
}

/// The log entry a piece of evidence points at: the clinician's words, the order placed, the
/// stage entered, or the end (a final diagnosis). Found by turn and text, so exact.
pub fn evidence_seq(record: &Record, e: &Evidence) -> Option<u32> {
    let same_turn = record.log.iter().filter(|l| l.turn == e.turn);
    let mut fallback = None;
    for l in same_turn {
        match &l.kind {
            EntryKind::ClinicianSaid { text } if *text == e.text => return Some(l.seq),
            EntryKind::Ordered { raw, .. } if *raw == e.text && l.time_s <= e.time_s => {
                fallback = Some(l.seq)
            }
            EntryKind::PhaseChanged { label, .. }
                if l.time_s == e.time_s && e.text.contains(label.as_str()) =>
            {
                return Some(l.seq)
            }
            EntryKind::Ended { .. } if fallback.is_none() => fallback = Some(l.seq),
            _ => {}
        }
    }
    fallback
}

/// The timings the positive rubric items expect (rules with `by_minute`, at any depth under
/// `all`/`any`), each with when it was first done.
pub fn expectations(case: &Case, state: &State) -> Vec<Expectation> {
    expectations_named(case, None, state)
}

/// [`expectations`], naming orders never placed from the catalog.
pub fn expectations_named(
    case: &Case,
    catalog: Option<&Catalog>,
    state: &State,
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for item in case.rubric.iter().filter(|i| i.weight > 0.0) {
        let Some(rule) = &item.rule else { continue };
        rule.walk(&mut |r| match r {
            Rule::Done(d) => {
                if let Some(m) = d.by_minute {
                    let first = state.actions.iter().find(|a| {
                        a.status != ActionStatus::Unsupported
                            && a.order_id() == Some(d.order.as_str())
                    });
                    let what = first
                        .and_then(|a| a.interpretation.order.as_ref())
                        .map(|o| o.name.clone())
                        .or_else(|| {
                            catalog
                                .and_then(|c| c.get(&d.order))
                                .map(|o| o.name.clone())
                        })
                        .unwrap_or_else(|| id_words(&d.order));
                    out.push(Expectation {
                        item: item.id.clone(),
                        what,
                        by_minute: m,
                        done_at_s: first.map(|a| a.time_s),
                        on_time: first.is_some_and(|a| a.time_s <= seconds(m)),
                    });
                }
            }
            Rule::Said(s) => {
                if let Some(m) = s.by_minute {
                    let first = state.utterances.iter().find(|u| {
                        super::phrases::first_match(&u.text, s.set.as_deref(), &s.phrases).is_some()
                    });
                    out.push(Expectation {
                        item: item.id.clone(),
                        what: s
                            .set
                            .as_deref()
                            .map(|n| format!("Says {}", phrase_set_words(n)))
                            .unwrap_or_else(|| {
                                let p: Vec<String> =
                                    s.phrases.iter().take(3).map(|p| format!("“{p}”")).collect();
                                format!("Says {}", p.join(" or "))
                            }),
                        by_minute: m,
                        done_at_s: first.map(|u| u.time_s),
                        on_time: first.is_some_and(|u| u.time_s <= seconds(m)),
                    });
                }
            }
            _ => {}
        });
    }
    out.sort_by_key(|e| e.by_minute);
    out
}
