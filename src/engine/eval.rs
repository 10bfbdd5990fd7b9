//! Evaluating rules over an encounter's state, with evidence: which turn and simulated minute
//! satisfied a rule, or why it failed ("ECG at 14:10, required by 10:00").

use serde::{Deserialize, Serialize};

use super::action::OrderedDose;
use super::case::{Case, PATIENT};
use super::catalog::{Catalog, Category};
use super::phrases::first_match;
use super::rule::{
    DiagnosisRule, DoneRule, DoseRange, Moment, OrderPair, ResultBeforeRule, Rule, SaidRule,
    TotalRule,
};
use super::state::{ActionRecord, ActionStatus, State, Utterance};
use super::text::stems;
use super::units::{convert_for, fmt_num, rate_suffix, Route, Unit};

/// One piece of evidence: where in the trajectory something happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub turn: u32,
    pub time_s: u32,
    pub text: String,
    /// The log entry it points at (`Entry::seq`), filled in by the debrief from the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
}

impl ActionRecord {
    /// Where the action is in the trajectory, as evidence: when it was carried out.
    pub fn evidence(&self) -> Evidence {
        Evidence {
            turn: self.turn,
            time_s: self.done_at().unwrap_or(self.time_s),
            text: self.interpretation.raw.clone(),
            seq: None,
        }
    }
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

/// Whole simulated minutes in seconds, saturating: a minute a case names past the clock's
/// reach (`u32::MAX` seconds, 136 years) is one the clock never reaches, never an overflow.
pub fn seconds(minutes: u32) -> u32 {
    minutes.saturating_mul(60)
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
        Rule::Minute(m) => state.now_s >= seconds(*m),
        Rule::Phase(id) => state.phases_visited.iter().any(|v| &v.phase == id),
        Rule::Elicited(id) => state.elicited.contains_key(id),
        Rule::Never(id) => first_done(id, state).is_none(),
        Rule::Done(d) if d.dose.is_none() && d.route.is_empty() && d.times.unwrap_or(1) <= 1 => {
            state.actions.iter().any(|a| {
                a.order_id() == Some(d.order.as_str())
                    && a.done_at().is_some_and(|t| {
                        d.by_minute.is_none_or(|m| t <= seconds(m))
                            && d.elapsed_min
                                .is_none_or(|m| state.now_s >= t.saturating_add(seconds(m)))
                    })
            })
        }
        Rule::All(rules) => rules.iter().all(|r| holds(r, case, state)),
        Rule::Any(rules) => rules.iter().any(|r| holds(r, case, state)),
        Rule::Not(inner) => !holds(inner, case, state),
        _ => evaluate(rule, case, state).holds,
    }
}

/// Evaluates a rule with evidence, naming orders that were never placed by their ids' words.
/// [`evaluate_named`] names them from the catalog, as the debrief does.
pub fn evaluate(rule: &Rule, case: &Case, state: &State) -> Verdict {
    evaluate_named(rule, case, None, state)
}

/// Evaluates a rule with evidence and a clinical sentence as its explanation: catalog names,
/// doses and routes as placed, clock times, the question a missed fact needed, the stage's
/// name — never an id.
pub fn evaluate_named(
    rule: &Rule,
    case: &Case,
    catalog: Option<&Catalog>,
    state: &State,
) -> Verdict {
    Cx {
        case,
        catalog,
        state,
    }
    .eval(rule)
}

/// What wording needs besides the rule: names from the case and the catalog.
struct Cx<'a> {
    case: &'a Case,
    catalog: Option<&'a Catalog>,
    state: &'a State,
}

/// An id in words, for an order no catalog names: "cath_lab_activation" → "Cath lab activation".
pub fn id_words(id: &str) -> String {
    let words = id.replace(['_', '-'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => words,
    }
}

/// The verb for carrying out an order of this kind: a drug is given, a consult requested.
fn verb(category: Option<Category>) -> &'static str {
    match category {
        Some(Category::Medication | Category::Fluid) => "given",
        Some(Category::Consult) => "requested",
        Some(Category::Lab | Category::Imaging) => "ordered",
        Some(Category::Disposition) => "arranged",
        _ => "done",
    }
}

/// A quoted utterance, shortened to about 120 characters at a word boundary.
pub fn quote(text: &str) -> String {
    const MAX: usize = 120;
    let text = text.trim();
    if text.chars().count() <= MAX {
        return format!("“{text}”");
    }
    let cut: String = text.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("“{}…”", cut.trim_end_matches([',', ';', ':', '.']))
}

/// What a built-in phrase set listens for, as the debrief names it.
pub fn phrase_set_words(set: &str) -> String {
    match set {
        "introduction" => "an introduction by name and role".into(),
        "identity_check" => "a check of the patient's name and date of birth".into(),
        "open_question" => "an open question".into(),
        "empathy" => "a statement acknowledging the patient's feelings".into(),
        "check_understanding" => {
            "a check of understanding (“what have you understood so far?”)".into()
        }
        "consent" => "a request for consent".into(),
        "explain" => "an explanation of what is happening and why".into(),
        "summarize" => "a summary of what was discussed".into(),
        "safety_net" => "safety-netting (what to do and whom to call if it gets worse)".into(),
        "warning_shot" => "a warning shot before the news".into(),
        "ask_questions" => "an invitation to ask questions".into(),
        other => id_words(other).to_lowercase(),
    }
}

impl Cx<'_> {
    fn order_name(&self, id: &str) -> String {
        self.catalog
            .and_then(|c| c.get(id))
            .map(|o| o.name.clone())
            .unwrap_or_else(|| id_words(id))
    }

    fn order_category(&self, id: &str) -> Option<Category> {
        self.catalog.and_then(|c| c.get(id)).map(|o| o.category)
    }

    fn stage(&self, id: &str) -> String {
        let label = self
            .case
            .phases
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id_words(id), |p| p.label.clone());
        format!("the stage “{label}”")
    }

    fn speaker(&self, id: &str) -> String {
        if id == PATIENT {
            return self.case.patient.name.clone();
        }
        self.case
            .actors
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| id_words(id), |a| format!("{} ({})", a.name, a.role))
    }

    /// "Aspirin 324 mg PO given at 5:39".
    fn did(&self, a: &ActionRecord) -> String {
        format!(
            "{} {} at {}",
            a.interpretation.summary(),
            verb(a.interpretation.order.as_ref().map(|o| o.category)),
            clock(a.done_at().unwrap_or(a.time_s))
        )
    }

    /// "Aspirin not given".
    fn not_done(&self, order: &str) -> String {
        format!(
            "{} not {}",
            self.order_name(order),
            verb(self.order_category(order))
        )
    }

    /// Why none of several `before` alternatives held, when they pair every one of some
    /// orders with every one of others (cultures before any antibiotic; any antihypertensive
    /// before either thrombolytic): what happened to each side once, never pair by pair.
    /// None for other alternatives.
    fn none_before(&self, rules: &[Rule]) -> Option<Verdict> {
        let pairs: Vec<&OrderPair> = rules
            .iter()
            .map(|r| match r {
                Rule::Before(p) => Some(p),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let mut firsts: Vec<&str> = Vec::new();
        let mut thens: Vec<&str> = Vec::new();
        for p in &pairs {
            if !firsts.contains(&p.first.as_str()) {
                firsts.push(&p.first);
            }
            if !thens.contains(&p.then.as_str()) {
                thens.push(&p.then);
            }
        }
        let crossed = firsts.len() * thens.len() == pairs.len()
            && firsts.iter().all(|f| {
                thens
                    .iter()
                    .all(|t| pairs.iter().any(|p| p.first == *f && p.then == *t))
            });
        if !crossed || pairs.len() < 2 {
            return None;
        }
        let earliest = |ids: &[&str]| {
            ids.iter()
                .filter_map(|id| first_done(id, self.state))
                .min_by_key(|(a, t)| (*t, a.seq))
        };
        let not_any = |ids: &[&str]| {
            let whys: Vec<String> = ids.iter().map(|id| self.not_done(id)).collect();
            alternatives_not_done(&whys)
        };
        Some(match (earliest(&firsts), earliest(&thens)) {
            // With every pair allowed, the earliest of each side in order would have held.
            (Some((a, _)), Some((b, _))) => Verdict::no(
                format!("{}, which came after {}", self.did(a), self.did(b)),
                vec![a.evidence(), b.evidence()],
            ),
            (None, Some((b, _))) => Verdict::no(
                format!("{}, but {} before it", self.did(b), not_any(&firsts)),
                vec![b.evidence()],
            ),
            (Some((a, _)), None) => Verdict::no(
                format!("{}, but {}", self.did(a), not_any(&thens)),
                vec![a.evidence()],
            ),
            (None, None) => {
                Verdict::no(format!("{}; {}", not_any(&firsts), not_any(&thens)), vec![])
            }
        })
    }

    /// The question a missed fact needed: the author's `ask`, else its first triggers.
    fn ask(&self, fact: &str) -> String {
        match self.case.facts.iter().find(|f| f.id == fact) {
            Some(f) => match &f.ask {
                Some(q) => format!("Not asked: {}", q.trim()),
                None => {
                    let topics: Vec<&str> = f.triggers.iter().take(3).map(|t| t.as_str()).collect();
                    format!("Not asked about {}", topics.join(", "))
                }
            },
            None => format!("Not asked about {}", id_words(fact).to_lowercase()),
        }
    }

    /// (turn, time) of a moment, if it happened.
    fn moment(&self, m: &Moment) -> Option<(u32, u32)> {
        match m {
            Moment::Phase(id) => self
                .state
                .phases_visited
                .iter()
                .find(|v| &v.phase == id)
                .map(|v| (v.turn, v.time_s)),
            Moment::Done(id) => first_done(id, self.state).map(|(a, t)| (a.turn, t)),
        }
    }

    fn never(&self, m: &Moment) -> String {
        match m {
            Moment::Phase(id) => format!("{} was never reached", self.stage(id)),
            Moment::Done(id) => format!(
                "{} was never {}",
                self.order_name(id),
                verb(self.order_category(id))
            ),
        }
    }

    fn moment_words(&self, m: &Moment) -> String {
        match m {
            Moment::Phase(id) => format!("{} began", self.stage(id)),
            Moment::Done(id) => format!(
                "{} was {}",
                self.order_name(id),
                verb(self.order_category(id))
            ),
        }
    }

    fn eval(&self, rule: &Rule) -> Verdict {
        match rule {
            Rule::Done(d) => self.done(d),
            Rule::ResultBefore(r) => self.result_before(r),
            Rule::Total(t) => self.total(t),
            Rule::Before(pair) => self.before(pair),
            Rule::Elicited(id) => self.elicited(id),
            Rule::Said(s) => self.said(s),
            Rule::Never(id) => match first_done(id, self.state) {
                Some((a, _)) => Verdict::no(self.did(a), vec![a.evidence()]),
                None => Verdict::yes(self.not_done(id), vec![]),
            },
            Rule::Diagnosis(d) => self.diagnosis(d),
            Rule::Phase(id) => self.phase(id),
            Rule::Minute(m) => {
                if self.state.now_s >= seconds(*m) {
                    Verdict::yes(format!("{m}:00 reached"), vec![])
                } else {
                    Verdict::no(format!("only {} so far", clock(self.state.now_s)), vec![])
                }
            }
            Rule::All(rules) => self.all(rules),
            Rule::Any(rules) => self.any(rules),
            // Every explanation states what happened or did not, so negation keeps it as is.
            Rule::Not(inner) => {
                let v = self.eval(inner);
                Verdict {
                    holds: !v.holds,
                    evidence: v.evidence,
                    why: v.why,
                }
            }
        }
    }

    /// `before`: the first order carried out before the second.
    fn before(&self, pair: &OrderPair) -> Verdict {
        let first = first_done(&pair.first, self.state);
        let then = first_done(&pair.then, self.state);
        match (first, then) {
            (Some((a, ta)), Some((b, tb))) if ta < tb || (ta == tb && a.seq < b.seq) => {
                Verdict::yes(
                    format!("{}, before {}", self.did(a), self.did(b)),
                    vec![a.evidence(), b.evidence()],
                )
            }
            (Some((a, _)), Some((b, _))) => Verdict::no(
                format!("{}, which came after {}", self.did(a), self.did(b)),
                vec![a.evidence(), b.evidence()],
            ),
            (None, Some((b, _))) => Verdict::no(
                format!("{}, but {}", self.did(b), self.not_done(&pair.first)),
                vec![b.evidence()],
            ),
            (Some((a, _)), None) => Verdict::no(
                format!("{}, but {}", self.did(a), self.not_done(&pair.then)),
                vec![a.evidence()],
            ),
            (None, None) => Verdict::no(
                format!(
                    "{}; {}",
                    self.not_done(&pair.first),
                    self.not_done(&pair.then)
                ),
                vec![],
            ),
        }
    }

    /// `elicited`: the question that drew the fact out, or the one it needed.
    fn elicited(&self, id: &str) -> Verdict {
        match self.state.elicited.get(id) {
            Some(e) => Verdict::yes(
                format!(
                    "Asked at {}: {} — {} answered",
                    clock(e.time_s),
                    quote(&e.question),
                    self.speaker(&e.speaker)
                ),
                vec![Evidence {
                    turn: e.turn,
                    time_s: e.time_s,
                    text: e.question.clone(),
                    seq: None,
                }],
            ),
            None => Verdict::no(self.ask(id), vec![]),
        }
    }

    /// `diagnosis`: the end form's final diagnosis against the accepted ones.
    fn diagnosis(&self, d: &DiagnosisRule) -> Verdict {
        let state = self.state;
        let Some(form) = &state.final_form else {
            return Verdict::no("The end form gave no final diagnosis", vec![]);
        };
        let accepted = if d.any_of.is_empty() {
            &self.case.diagnoses.accepted
        } else {
            &d.any_of
        };
        match accepted
            .iter()
            .find(|a| diagnosis_matches(&form.diagnosis, a))
        {
            Some(a) => Verdict::yes(
                format!("Final diagnosis “{}” matches “{a}”", form.diagnosis),
                vec![Evidence {
                    turn: state.turn,
                    time_s: state.ended.as_ref().map_or(state.now_s, |e| e.time_s),
                    text: form.diagnosis.clone(),
                    seq: None,
                }],
            ),
            None => Verdict::no(
                format!(
                    "Final diagnosis “{}” is not among the accepted diagnoses",
                    form.diagnosis
                ),
                vec![],
            ),
        }
    }

    /// `phase`: when the stage was reached, by its name.
    fn phase(&self, id: &str) -> Verdict {
        match self.state.phases_visited.iter().find(|v| v.phase == id) {
            Some(v) => {
                let stage = self.stage(id);
                Verdict::yes(
                    format!("{} reached at {}", capitalize(&stage), clock(v.time_s)),
                    vec![Evidence {
                        turn: v.turn,
                        time_s: v.time_s,
                        text: capitalize(&stage),
                        seq: None,
                    }],
                )
            }
            None => Verdict::no(
                format!("{} was not reached", capitalize(&self.stage(id))),
                vec![],
            ),
        }
    }

    /// `all`: the first rule that fails says why; else every reason, once each.
    fn all(&self, rules: &[Rule]) -> Verdict {
        let mut evidence = Vec::new();
        let mut whys = Vec::new();
        for r in rules {
            let v = self.eval(r);
            if !v.holds {
                return Verdict::no(v.why, v.evidence);
            }
            evidence.extend(v.evidence);
            if !whys.contains(&v.why) {
                whys.push(v.why);
            }
        }
        // A clause another one already says ("Alteplase given at 5:51" beside "CT ordered at
        // 6:51, which came after Alteplase given at 5:51") goes.
        let said_elsewhere = |i: usize| {
            whys.iter()
                .enumerate()
                .any(|(j, w)| j != i && w.contains(whys[i].as_str()))
        };
        let kept: Vec<String> = (0..whys.len())
            .filter(|&i| !said_elsewhere(i))
            .map(|i| whys[i].clone())
            .collect();
        Verdict::yes(join_clauses(&kept), evidence)
    }

    /// `any`: the first rule that holds; else why none did.
    fn any(&self, rules: &[Rule]) -> Verdict {
        let mut whys = Vec::new();
        for r in rules {
            let v = self.eval(r);
            if v.holds {
                return v;
            }
            whys.push(v.why);
        }
        self.none_before(rules)
            .unwrap_or_else(|| Verdict::no(none_of(&whys), vec![]))
    }

    fn said(&self, s: &SaidRule) -> Verdict {
        let state = self.state;
        let before = s.before.as_ref().map(|m| (m, self.moment(m)));
        let after = s.after.as_ref().map(|m| (m, self.moment(m)));
        // The first matching utterance said outside the window, to say why it did not count.
        let mut outside: Option<(&Utterance, String)> = None;
        for u in &state.utterances {
            if s.by_minute.is_some_and(|m| u.time_s > seconds(m)) {
                break;
            }
            if first_match(&u.text, s.set.as_deref(), &s.phrases).is_none() {
                continue;
            }
            let too_late = before.as_ref().and_then(|(m, at)| match at {
                Some((turn, _)) if u.turn > *turn => {
                    Some(format!("after {}", self.moment_words(m)))
                }
                _ => None,
            });
            let too_early = after.as_ref().and_then(|(m, at)| match at {
                Some((turn, _)) if u.turn > *turn => None,
                Some(_) => Some(format!("before {}", self.moment_words(m))),
                None => Some(format!("but {}", self.never(m))),
            });
            match too_late.or(too_early) {
                None => {
                    return Verdict::yes(
                        format!("Said at {}: {}", clock(u.time_s), quote(&u.text)),
                        vec![Evidence {
                            turn: u.turn,
                            time_s: u.time_s,
                            text: u.text.clone(),
                            seq: None,
                        }],
                    )
                }
                Some(why) => {
                    if outside.is_none() {
                        outside = Some((u, why));
                    }
                }
            }
        }
        self.not_said(s, outside)
    }

    /// `said` not met: the first matching utterance outside the rule's window and why, or
    /// what was listened for.
    fn not_said(&self, s: &SaidRule, outside: Option<(&Utterance, String)>) -> Verdict {
        let what = match (&s.set, s.phrases.as_slice()) {
            (Some(n), _) => phrase_set_words(n),
            (None, phrases) => {
                let shown: Vec<String> = phrases.iter().take(4).map(|p| format!("“{p}”")).collect();
                let more = if phrases.len() > 4 { " or similar" } else { "" };
                format!("words such as {}{more}", shown.join(", "))
            }
        };
        let mut when = Vec::new();
        if let Some(m) = s.by_minute {
            when.push(format!("by {m}:00"));
        }
        if let Some(m) = &s.after {
            when.push(format!("after {}", self.moment_words(m)));
        }
        if let Some(m) = &s.before {
            when.push(format!("before {}", self.moment_words(m)));
        }
        let when = if when.is_empty() {
            String::new()
        } else {
            format!(" {}", when.join(", "))
        };
        match outside {
            Some((u, why)) => Verdict::no(
                format!(
                    "Said at {}: {}, {why}; it counts only{when}",
                    clock(u.time_s),
                    quote(&u.text)
                ),
                vec![Evidence {
                    turn: u.turn,
                    time_s: u.time_s,
                    text: u.text.clone(),
                    seq: None,
                }],
            ),
            None => Verdict::no(format!("Not said{when}: {what}"), vec![]),
        }
    }

    /// `done`, with the patient's weight reading a dose per kilogram against an absolute
    /// range and the reverse.
    fn done(&self, d: &DoneRule) -> Verdict {
        let due = d
            .by_minute
            .map(|m| format!(" (due by {m}:00)"))
            .unwrap_or_default();
        let mut candidates: Vec<(&ActionRecord, u32)> = self
            .state
            .actions
            .iter()
            .filter(|a| a.order_id() == Some(d.order.as_str()))
            .filter_map(|a| a.done_at().map(|t| (a, t)))
            .collect();
        candidates.sort_by_key(|(a, t)| (*t, a.seq));
        if candidates.is_empty() {
            return self.never_carried_out(d, &due);
        }
        let needed = d.times.unwrap_or(1).max(1) as usize;
        let mut met: Vec<&ActionRecord> = Vec::new();
        let mut closest: Option<(&ActionRecord, String)> = None;
        for &(a, t) in &candidates {
            match self.done_problem(d, a, t) {
                None => {
                    met.push(a);
                    if met.len() >= needed {
                        return self.done_met(&met, &due);
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
                    "{} {} time(s) of the {needed} required",
                    self.did(met[0]),
                    met.len()
                ),
                met.iter().map(|m| m.evidence()).collect(),
            );
        }
        let (a, why) = closest.expect("candidates is not empty");
        Verdict::no(why, vec![a.evidence()])
    }

    /// `done` for an order never carried out: cancelled, held for access, or not ordered.
    fn never_carried_out(&self, d: &DoneRule, due: &str) -> Verdict {
        let held = self.state.actions.iter().find(|a| {
            a.order_id() == Some(d.order.as_str()) && a.status != ActionStatus::Unsupported
        });
        match held {
            Some(a) if a.cancelled_s.is_some() => Verdict::no(
                format!(
                    "{} ordered at {} but cancelled before it was given",
                    a.interpretation.summary(),
                    clock(a.time_s)
                ),
                vec![a.evidence()],
            ),
            Some(a) => Verdict::no(
                format!(
                    "{} ordered at {} but held: no IV access was placed",
                    a.interpretation.summary(),
                    clock(a.time_s)
                ),
                vec![a.evidence()],
            ),
            None => Verdict::no(format!("{}{due}", self.not_done(&d.order)), vec![]),
        }
    }

    /// Why one order carried out at `t` does not meet a `done` rule (its dose, route,
    /// deadline or delay), in a sentence; none when it does.
    fn done_problem(&self, d: &DoneRule, a: &ActionRecord, t: u32) -> Option<String> {
        let dose = d.dose.as_ref().and_then(|range| {
            dose_problem(
                range,
                a.interpretation.dose.as_ref(),
                a.interpretation.rate,
                self.case.patient.weight_kg,
            )
            .map(|p| format!(": {p}"))
        });
        dose.or_else(|| {
            (!route_allowed(&d.route, a.interpretation.route)).then(|| {
                format!(
                    ": route {} is not {}",
                    a.interpretation.route.map_or("(none given)", Route::as_str),
                    d.route.join(" or ")
                )
            })
        })
        .or_else(|| {
            d.by_minute
                .filter(|&m| t > seconds(m))
                .map(|m| format!(", late (due by {m}:00)"))
        })
        .or_else(|| {
            d.elapsed_min
                .filter(|&m| self.state.now_s < t.saturating_add(seconds(m)))
                .map(|m| format!(", less than {m} minutes before the end"))
        })
        .map(|why| format!("{}{why}", self.did(a)))
    }

    /// `done` met by these orders: the first named, every time given.
    fn done_met(&self, met: &[&ActionRecord], due: &str) -> Verdict {
        let when: Vec<String> = met
            .iter()
            .map(|m| clock(m.done_at().unwrap_or(m.time_s)))
            .collect();
        let first = met[0];
        Verdict::yes(
            format!(
                "{} {} at {}{due}",
                first.interpretation.summary(),
                verb(first.interpretation.order.as_ref().map(|o| o.category)),
                when.join(" and ")
            ),
            met.iter().map(|m| m.evidence()).collect(),
        )
    }

    /// `result_before`: the first result of `r.result` released, against the placing of the
    /// first carried-out `r.then` and the deadline.
    fn result_before(&self, r: &ResultBeforeRule) -> Verdict {
        let state = self.state;
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
                    format!(
                        "{} ordered at {}, but its result was not back",
                        a.interpretation.summary(),
                        clock(a.time_s)
                    ),
                    vec![a.evidence()],
                ),
                None => Verdict::no(self.not_done(&r.result), vec![]),
            };
        };
        let result = format!("The result of {}", a.interpretation.summary());
        let mut evidence = vec![a.evidence()];
        if let Some(m) = r.by_minute.filter(|&m| ta > seconds(m)) {
            return Verdict::no(
                format!("{result} was back at {}, late (due by {m}:00)", clock(ta)),
                evidence,
            );
        }
        match then {
            None => Verdict::yes(format!("{result} was back at {}", clock(ta)), evidence),
            Some(Err(id)) => Verdict::no(
                format!("{result} was back at {}; {}", clock(ta), self.not_done(id)),
                evidence,
            ),
            Some(Ok(b)) => {
                evidence.push(b.evidence());
                // Released at the moment B was placed counts: results are released before the
                // clinician's next turn at that moment.
                if ta <= b.time_s {
                    Verdict::yes(
                        format!(
                            "{result} was back at {}, before {} was ordered at {}",
                            clock(ta),
                            b.interpretation.summary(),
                            clock(b.time_s)
                        ),
                        evidence,
                    )
                } else {
                    Verdict::no(
                        format!(
                            "{} was ordered at {}, before the result of {} was back at {}",
                            b.interpretation.summary(),
                            clock(b.time_s),
                            a.interpretation.summary(),
                            clock(ta)
                        ),
                        evidence,
                    )
                }
            }
        }
    }

    /// `total`: adds up what the matching orders gave.
    fn total(&self, t: &TotalRule) -> Verdict {
        let state = self.state;
        let weight_kg = self.case.patient.weight_kg;
        let until = t
            .by_minute
            .map_or(state.now_s, |m| seconds(m).min(state.now_s));
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
            if !route_allowed(&t.route, a.interpretation.route) {
                continue;
            }
            let name = a.interpretation.summary();
            let Some((amount, unit)) = given_by(a, until) else {
                if a.done_at().is_some_and(|s| s <= until) && a.interpretation.dose.is_none() {
                    skipped.push(format!("{name} (no dose given)"));
                }
                continue;
            };
            let Some(v) =
                Unit::parse(&t.dose.unit).and_then(|to| convert_for(amount, unit, to, weight_kg))
            else {
                skipped.push(format!("{name} (not in {})", t.dose.unit));
                continue;
            };
            if a.stopped_s.is_some_and(|s| s <= until) && !a.interpretation.rate {
                skipped.push(format!("{name} (stopped)"));
                continue;
            }
            sum += v;
            parts.push(format!("{} {}", fmt_num(v), t.dose.unit));
            evidence.push(a.evidence());
        }
        let low = t.dose.min.is_some_and(|m| sum < m - 1e-9);
        let high = t.dose.max.is_some_and(|m| sum > m + 1e-9);
        let mut why = format!(
            "Total given {} {}{}",
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
}

/// How much of one order counts towards a total up to `until_s`, in the order's own unit: a
/// single dose in full once carried out (nothing if stopped), a rate per hour for the time it
/// ran. None when the order has no dose.
pub fn given_by(a: &ActionRecord, until_s: u32) -> Option<(f64, Unit)> {
    let start = a.done_at()?;
    if start > until_s {
        return None;
    }
    let dose = a.interpretation.dose.as_ref()?;
    if a.interpretation.rate {
        if dose.unit == Unit::McgPerMin {
            return None;
        }
        let end = a.stopped_s.map_or(until_s, |s| s.min(until_s));
        let hours = f64::from(end.saturating_sub(start)) / 3600.0;
        Some((dose.amount * hours, dose.unit))
    } else if a.stopped_s.is_some_and(|s| s <= until_s) {
        Some((0.0, dose.unit))
    } else {
        Some((dose.amount, dose.unit))
    }
}

/// Whether a rule's routes (as the case file writes them, in any letter case; none: any
/// route) allow the route an order was given by.
fn route_allowed(allowed: &[String], route: Option<Route>) -> bool {
    allowed.is_empty() || route.is_some_and(|r| allowed.iter().any(|x| Route::parse(x) == Some(r)))
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

/// Clauses joined by "; ", or by a space after a question or a full stop.
fn join_clauses(clauses: &[String]) -> String {
    let mut out = String::new();
    for c in clauses {
        if out.is_empty() {
            out.push_str(c);
            continue;
        }
        if out.ends_with(['?', '.']) {
            out.push(' ');
            out.push_str(c);
        } else {
            // Mid-sentence, "None given: …" reads "none given: …" (a name keeps its capital).
            out.push_str("; ");
            match ["None ", "The ", "Not ", "Total "]
                .iter()
                .find(|w| c.starts_with(**w))
            {
                Some(w) => {
                    out.push_str(&w.to_lowercase());
                    out.push_str(&c[w.len()..]);
                }
                None => out.push_str(c),
            }
        }
    }
    out
}

/// Why none of several alternatives held: "None given: Ticagrelor, Prasugrel or Clopidogrel"
/// when each was simply not done (the same verb, the same deadline: "None done: Airway
/// assessment or Primary survey (due by 5:00)"), else the clauses joined.
fn none_of(whys: &[String]) -> String {
    let whys = unique(whys);
    let (bare, due) = common_due(&whys);
    match not_done_names(&bare) {
        // Orders of different kinds ("Serum lactate not ordered; Point-of-care lactate not
        // done"): "None ordered or done: Serum lactate or Point-of-care lactate".
        Some((names, verbs)) if names.len() > 1 => {
            format!("None {}: {}{due}", verbs.join(" or "), or_list(&names))
        }
        _ => join_clauses(&whys),
    }
}

/// "Labetalol, Nicardipine infusion or Clevidipine infusion not given" from each one's "not
/// given" (one alone, or verbs that differ: as they are).
fn alternatives_not_done(whys: &[String]) -> String {
    let whys = unique(whys);
    match not_done_names(&whys) {
        Some((names, verbs)) if names.len() > 1 && verbs.len() == 1 => {
            format!("{} not {}", or_list(&names), verbs[0])
        }
        _ => join_clauses(&whys),
    }
}

/// The names in clauses that each read "<name> not <verb>", and the verbs once each in the
/// order met.
fn not_done_names(whys: &[String]) -> Option<(Vec<&str>, Vec<&'static str>)> {
    let mut verbs: Vec<&'static str> = Vec::new();
    let names = whys
        .iter()
        .map(|w| {
            NOT_DONE_VERBS.into_iter().find_map(|verb| {
                let name = w.strip_suffix(&format!(" not {verb}"))?;
                if !verbs.contains(&verb) {
                    verbs.push(verb);
                }
                Some(name)
            })
        })
        .collect::<Option<Vec<&str>>>()?;
    Some((names, verbs))
}

/// "A, B or C" (more than one name).
fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The clauses once each, in order (alternatives of one order, the same drug by two routes,
/// give the same clause).
fn unique(whys: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(whys.len());
    for w in whys {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

/// The deadline every clause ends with (" (due by 5:00)"), split off: the clauses without it
/// and the suffix; none shared: the clauses as they are and "".
fn common_due(whys: &[String]) -> (Vec<String>, String) {
    let due = |w: &str| w.rfind(" (due by ").map(|i| w[i..].to_string());
    match whys.first().and_then(|w| due(w)) {
        Some(d) if whys.iter().all(|w| w.ends_with(&d)) => (
            whys.iter()
                .map(|w| w[..w.len() - d.len()].to_string())
                .collect(),
            d,
        ),
        _ => (whys.to_vec(), String::new()),
    }
}

/// The verbs of "<name> not <verb>" (`verb` by category).
const NOT_DONE_VERBS: [&str; 5] = ["given", "done", "ordered", "requested", "arranged"];

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
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
    let per = rate_suffix(rate, dose.unit);
    let Some(amount) =
        Unit::parse(&range.unit).and_then(|to| convert_for(dose.amount, dose.unit, to, weight_kg))
    else {
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
                    unit: Unit::Mg
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
                    unit: Unit::G
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
                unit: Unit::Mg
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
                unit: Unit::Ml
            }),
            false,
            None,
        )
        .is_some());
    }
}
