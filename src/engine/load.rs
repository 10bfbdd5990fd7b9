//! Loading a case file: JSON syntax, shape (per section and per array element, so that every
//! error is reported at once), then references and ids against the catalog.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::case::*;
use super::catalog::Catalog;
use super::encounter::MAX_WAIT_MIN;
use super::phrases::phrase_set;
use super::rule::Rule;
use super::sp::content_tokens;
use super::validate::{parse_value, typed, Diagnostic, Diagnostics};

/// Sections of a case file: (key, required, is an array checked element by element).
const SECTIONS: &[(&str, bool)] = &[
    ("schema", true),
    ("$schema", false),
    ("meta", true),
    ("door_note", true),
    ("patient", true),
    ("actors", false),
    ("facts", true),
    ("reactions", false),
    ("results", false),
    ("phases", true),
    ("arrival", false),
    ("events", false),
    ("end", true),
    ("diagnoses", true),
    ("rubric", true),
    ("pathway", false),
];

/// Parses and validates a case file. `source` names the file in diagnostics.
pub fn load_case(source: &str, json: &str, catalog: &Catalog) -> Result<Case, Diagnostics> {
    let value = parse_value(source, json)?;
    let mut diags = Diagnostics::new(source);
    let Some(obj) = value.as_object() else {
        diags.push(Diagnostic::new(
            "$",
            "a case file must be a JSON object",
            "wrap the case in { … }",
        ));
        return Err(diags);
    };
    for key in obj.keys() {
        if !SECTIONS.iter().any(|(k, _)| k == key) {
            diags.push(Diagnostic::new(
                format!("$.{key}"),
                format!("unknown top-level field `{key}`"),
                format!(
                    "remove it or fix its spelling; expected: {}",
                    SECTIONS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let mut parts = Parts::default();
    for (key, required) in SECTIONS {
        match obj.get(*key) {
            None if *required => diags.push(Diagnostic::new(
                format!("$.{key}"),
                format!("missing field `{key}`"),
                "add it (see docs/case-authoring.md)",
            )),
            None => {}
            Some(v) => parts.check_section(key, v, &mut diags),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    // Every section parsed: the case is assembled from them, not deserialized again.
    let Some(case) = parts.into_case() else {
        diags.push(Diagnostic::new(
            "$",
            "internal error: a checked section was not kept",
            "report this case file to the Bedside developers",
        ));
        return Err(diags);
    };
    check_references(&case, catalog, &mut diags);
    check_pathway_waits(&case, &mut diags);
    diags.into_result().map(|()| case)
}

/// The expert pathway's waits, as the engine takes them (1 to [`MAX_WAIT_MIN`] minutes): a wait
/// it would refuse would silently lose the pathway from the debrief.
fn check_pathway_waits(case: &Case, diags: &mut Diagnostics) {
    for (i, step) in case.pathway.iter().enumerate() {
        if let PathwayStep::Wait { wait } = step {
            if *wait == 0 || *wait > MAX_WAIT_MIN {
                diags.push(Diagnostic::new(
                    format!("$.pathway[{i}].wait"),
                    format!("a wait of {wait} minutes"),
                    format!("wait 1 to {MAX_WAIT_MIN} minutes at a time"),
                ));
            }
        }
    }
}

/// The typed sections of a case file, kept from the per-section checks.
#[derive(Default)]
struct Parts {
    schema: Option<u32>,
    json_schema: Option<String>,
    meta: Option<Meta>,
    door_note: Option<String>,
    patient: Option<Patient>,
    actors: Option<Vec<Actor>>,
    facts: Option<Vec<Fact>>,
    reactions: Option<Vec<Reaction>>,
    results: Option<BTreeMap<String, ResultOverride>>,
    phases: Option<Vec<Phase>>,
    arrival: Option<Arrival>,
    events: Option<Vec<Event>>,
    end: Option<EndConditions>,
    diagnoses: Option<Diagnoses>,
    rubric: Option<Vec<RubricItem>>,
    pathway: Option<Vec<super::case::PathwayStep>>,
}

impl Parts {
    /// Checks one section, reporting every problem in it, and keeps it when it is valid.
    fn check_section(&mut self, key: &str, v: &Value, diags: &mut Diagnostics) {
        let path = format!("$.{key}");
        match key {
            "schema" => self.schema = typed(v, &path, diags),
            "$schema" => self.json_schema = typed(v, &path, diags),
            "door_note" => self.door_note = typed(v, &path, diags),
            "meta" => self.meta = typed(v, &path, diags),
            "patient" => self.patient = typed(v, &path, diags),
            "actors" => self.actors = each(v, &path, diags),
            "facts" => self.facts = each(v, &path, diags),
            "reactions" => self.reactions = each(v, &path, diags),
            "results" => self.results = typed(v, &path, diags),
            "phases" => self.phases = each(v, &path, diags),
            "arrival" => self.arrival = typed(v, &path, diags),
            "events" => self.events = each(v, &path, diags),
            "end" => self.end = typed(v, &path, diags),
            "diagnoses" => self.diagnoses = typed(v, &path, diags),
            "rubric" => self.rubric = each(v, &path, diags),
            "pathway" => self.pathway = each(v, &path, diags),
            _ => {}
        }
    }

    /// The case, when every required section was kept; optional ones default.
    fn into_case(self) -> Option<Case> {
        Some(Case {
            schema: self.schema?,
            json_schema: self.json_schema,
            meta: self.meta?,
            door_note: self.door_note?,
            patient: self.patient?,
            actors: self.actors.unwrap_or_default(),
            facts: self.facts?,
            reactions: self.reactions.unwrap_or_default(),
            results: self.results.unwrap_or_default(),
            phases: self.phases?,
            arrival: self.arrival.unwrap_or_default(),
            events: self.events.unwrap_or_default(),
            end: self.end?,
            diagnoses: self.diagnoses?,
            rubric: self.rubric?,
            pathway: self.pathway.unwrap_or_default(),
        })
    }
}

/// Every element of an array section, each checked on its own so that all errors are
/// reported; `None` unless all of them are valid.
fn each<T: serde::de::DeserializeOwned>(
    v: &Value,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Vec<T>> {
    match v.as_array() {
        Some(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match typed::<T>(item, &format!("{path}[{i}]"), diags) {
                    Some(t) => out.push(t),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
        None => {
            diags.push(Diagnostic::new(
                path,
                "expected an array",
                "write a JSON array: [ … ]",
            ));
            None
        }
    }
}

/// Ids and references: everything a schema cannot check.
fn check_references(case: &Case, catalog: &Catalog, diags: &mut Diagnostics) {
    if case.schema != CASE_SCHEMA_VERSION {
        diags.push(Diagnostic::new(
            "$.schema",
            format!(
                "schema is {}, this version of Bedside reads {CASE_SCHEMA_VERSION}",
                case.schema
            ),
            "set \"schema\": 1",
        ));
    }
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !id_ok(&case.meta.id) {
        diags.push(Diagnostic::new(
            "$.meta.id",
            format!(
                "case id `{}` must use lowercase letters, digits and dashes",
                case.meta.id
            ),
            "rename it, e.g. `acs-inferior-stemi`",
        ));
    }
    for (field, text) in [
        ("$.door_note", &case.door_note),
        ("$.patient.opening_line", &case.patient.opening_line),
    ] {
        if text.trim().is_empty() {
            diags.push(Diagnostic::new(field, "must not be empty", "write it"));
        }
    }

    let actors = unique_ids(
        case.actors.iter().map(|a| a.id.as_str()),
        "$.actors",
        "actor",
        diags,
    );
    for (i, a) in case.actors.iter().enumerate() {
        if a.id == PATIENT {
            diags.push(Diagnostic::new(
                format!("$.actors[{i}].id"),
                "`patient` is reserved for the patient",
                "give the actor another id, e.g. `daughter`",
            ));
        }
    }
    let facts = unique_ids(
        case.facts.iter().map(|f| f.id.as_str()),
        "$.facts",
        "fact",
        diags,
    );
    let phases = unique_ids(
        case.phases.iter().map(|p| p.id.as_str()),
        "$.phases",
        "phase",
        diags,
    );
    unique_ids(
        case.events.iter().map(|e| e.id.as_str()),
        "$.events",
        "event",
        diags,
    );
    unique_ids(
        case.rubric.iter().map(|r| r.id.as_str()),
        "$.rubric",
        "rubric item",
        diags,
    );

    let speaker_ok = |s: &str| s == PATIENT || actors.contains(s);
    // A fact's or a reaction's speakers: at least one, each the patient or a known actor.
    let check_speakers = |speakers: &[String], path: &str, none: &str, diags: &mut Diagnostics| {
        if speakers.is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}.speakers"),
                none,
                "list `patient` or an actor id",
            ));
        }
        for (j, s) in speakers.iter().enumerate() {
            if !speaker_ok(s) {
                diags.push(unknown(
                    format!("{path}.speakers[{j}]"),
                    "speaker",
                    s,
                    &actors,
                    "`patient` or an actor id",
                ));
            }
        }
    };
    for (i, f) in case.facts.iter().enumerate() {
        let path = format!("$.facts[{i}]");
        check_speakers(&f.speakers, &path, "no speaker can tell this fact", diags);
        if f.answer.trim().is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}.answer"),
                "the answer is empty",
                "write what the speaker says",
            ));
        }
        if f.triggers.is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}.triggers"),
                "no triggers: this fact can never be elicited",
                "add a few short question phrasings",
            ));
        }
        for (j, t) in f.triggers.iter().enumerate() {
            if content_tokens(t).is_empty() {
                diags.push(Diagnostic::new(
                    format!("{path}.triggers[{j}]"),
                    format!(
                        "trigger `{t}` has no content words (only filler such as `do you have`)"
                    ),
                    "use words that carry the question, e.g. `chest pain`, `how long`",
                ));
            }
        }
    }

    let refs = Refs {
        catalog,
        facts: &facts,
        phases: &phases,
    };
    for (order, result) in &case.results {
        let path = format!("$.results.{order}");
        if catalog.get(order).is_none() {
            diags.push(unknown_order(path.clone(), order, catalog));
        }
        let texts: Vec<(String, &str)> = match result {
            ResultOverride::Text(t) => vec![(path.clone(), t.as_str())],
            ResultOverride::Variants(vs) => vs
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}].text"), v.text.as_str()))
                .collect(),
        };
        for (p, text) in texts {
            for name in unknown_placeholders(text) {
                diags.push(placeholder_error(p.clone(), &name));
            }
        }
        if let ResultOverride::Variants(vs) = result {
            if vs.is_empty() {
                diags.push(Diagnostic::new(
                    path.clone(),
                    "no variants",
                    "give a text or at least one variant",
                ));
            }
            for (i, v) in vs.iter().enumerate() {
                if let Some(p) = &v.phase {
                    if !phases.contains(p.as_str()) {
                        diags.push(unknown(
                            format!("{path}[{i}].phase"),
                            "phase",
                            p,
                            &phases,
                            "a phase id",
                        ));
                    }
                }
                if let Some(rule) = &v.when {
                    refs.check_rule(rule, &format!("{path}[{i}].when"), diags);
                }
            }
        }
    }

    let phase_ok = |p: &Option<String>, path: String, diags: &mut Diagnostics| {
        if let Some(p) = p {
            if !phases.contains(p.as_str()) {
                diags.push(unknown(path, "phase", p, &phases, "a phase id"));
            }
        }
    };
    for (i, f) in case.facts.iter().enumerate() {
        for (j, v) in f.variants.iter().enumerate() {
            let path = format!("$.facts[{i}].variants[{j}]");
            phase_ok(&v.phase, format!("{path}.phase"), diags);
            if let Some(rule) = &v.when {
                refs.check_rule(rule, &format!("{path}.when"), diags);
            }
            if let Some(sp) = v
                .speaker
                .as_deref()
                .filter(|sp| !f.speakers.iter().any(|s| s == sp))
            {
                diags.push(Diagnostic::new(
                    format!("{path}.speaker"),
                    format!(
                        "the speaker \"{sp}\" is not one of this fact's speakers ({})",
                        f.speakers.join(", ")
                    ),
                    "add the speaker to the fact's `speakers`, or name one of them",
                ));
            }
            if v.answer.trim().is_empty() {
                diags.push(Diagnostic::new(
                    format!("{path}.answer"),
                    "the answer is empty",
                    "write what the speaker says in this state",
                ));
            }
        }
    }
    unique_ids(
        case.reactions.iter().map(|r| r.id.as_str()),
        "$.reactions",
        "reaction",
        diags,
    );
    for (i, r) in case.reactions.iter().enumerate() {
        let path = format!("$.reactions[{i}]");
        phase_ok(&r.phase, format!("{path}.phase"), diags);
        if let Some(rule) = &r.when {
            refs.check_rule(rule, &format!("{path}.when"), diags);
        }
        check_speakers(
            &r.speakers,
            &path,
            "no speaker can give this reaction",
            diags,
        );
        if r.line.trim().is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}.line"),
                "the line is empty",
                "write what the speaker says",
            ));
        }
    }

    if case.phases.is_empty() {
        diags.push(Diagnostic::new(
            "$.phases",
            "a case needs at least one phase",
            "add the initial phase",
        ));
    }
    for (i, p) in case.phases.iter().enumerate() {
        if let Some(next) = &p.next {
            if !phases.contains(next.as_str()) {
                diags.push(unknown(
                    format!("$.phases[{i}].next"),
                    "phase",
                    next,
                    &phases,
                    "a phase id",
                ));
            }
        }
    }

    for (i, e) in case.events.iter().enumerate() {
        let path = format!("$.events[{i}]");
        refs.check_rule(&e.when, &format!("{path}.when"), diags);
        if e.then.is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}.then"),
                "the event does nothing",
                "add at least one effect",
            ));
        }
        for (j, effect) in e.then.iter().enumerate() {
            let p = format!("{path}.then[{j}]");
            match effect {
                Effect::Phase(id) if !phases.contains(id.as_str()) => diags.push(unknown(
                    format!("{p}.phase"),
                    "phase",
                    id,
                    &phases,
                    "a phase id",
                )),
                Effect::Say { speaker, .. } if !speaker_ok(speaker) => diags.push(unknown(
                    format!("{p}.say.speaker"),
                    "speaker",
                    speaker,
                    &actors,
                    "`patient` or an actor id",
                )),
                Effect::Arrive(a) | Effect::Leave(a) if !actors.contains(a.as_str()) => {
                    diags.push(unknown(p.clone(), "actor", a, &actors, "an actor id"))
                }
                _ => {}
            }
        }
    }

    if case.end.time_limit_min == 0 {
        diags.push(Diagnostic::new(
            "$.end.time_limit_min",
            "the time limit is 0",
            "give the case a time limit in minutes",
        ));
    } else if case.end.time_limit_min > MAX_TIME_LIMIT_MIN {
        diags.push(Diagnostic::new(
            "$.end.time_limit_min",
            format!(
                "the time limit is {} minutes, longer than a day",
                case.end.time_limit_min
            ),
            format!("give the case a time limit of at most {MAX_TIME_LIMIT_MIN} minutes"),
        ));
    }
    if case.diagnoses.accepted.iter().all(|d| d.trim().is_empty()) {
        diags.push(Diagnostic::new(
            "$.diagnoses.accepted",
            "no accepted diagnosis",
            "list the diagnoses that count as correct",
        ));
    }
    if case.rubric.is_empty() {
        diags.push(Diagnostic::new(
            "$.rubric",
            "the rubric is empty",
            "add rubric items",
        ));
    }
    for (i, item) in case.rubric.iter().enumerate() {
        let path = format!("$.rubric[{i}]");
        if !item.weight.is_finite() || item.weight == 0.0 {
            diags.push(Diagnostic::new(
                format!("{path}.weight"),
                format!("weight {} is not a non-zero number", item.weight),
                "use a positive weight, or negative for a harmful action",
            ));
        }
        if let Some(rule) = &item.rule {
            refs.check_rule(rule, &format!("{path}.rule"), diags);
        }
    }
}

/// A dose range has at least one bound, in order.
fn check_range(range: &super::rule::DoseRange, at: &str, diags: &mut Diagnostics) {
    if range.min.is_none() && range.max.is_none() {
        diags.push(Diagnostic::new(
            at,
            "a dose range needs `min`, `max` or both",
            "add the bounds",
        ));
    }
    if let (Some(a), Some(b)) = (range.min, range.max) {
        if a > b {
            diags.push(Diagnostic::new(
                at,
                format!("min {a} is above max {b}"),
                "swap the bounds",
            ));
        }
    }
}

struct Refs<'a> {
    catalog: &'a Catalog,
    facts: &'a BTreeSet<&'a str>,
    phases: &'a BTreeSet<&'a str>,
}

impl Refs<'_> {
    fn check_rule(&self, rule: &Rule, path: &str, diags: &mut Diagnostics) {
        match rule {
            Rule::Done(d) => {
                if self.catalog.get(&d.order).is_none() {
                    diags.push(unknown_order(
                        format!("{path}.done.order"),
                        &d.order,
                        self.catalog,
                    ));
                }
                if let Some(range) = &d.dose {
                    check_range(range, &format!("{path}.done.dose"), diags);
                }
            }
            Rule::Before(pair) => {
                for (k, id) in [("first", &pair.first), ("then", &pair.then)] {
                    if self.catalog.get(id).is_none() {
                        diags.push(unknown_order(
                            format!("{path}.before.{k}"),
                            id,
                            self.catalog,
                        ));
                    }
                }
            }
            Rule::ResultBefore(r) => {
                for (k, id) in [("result", Some(&r.result)), ("then", r.then.as_ref())] {
                    if let Some(id) = id.filter(|id| self.catalog.get(id).is_none()) {
                        diags.push(unknown_order(
                            format!("{path}.result_before.{k}"),
                            id,
                            self.catalog,
                        ));
                    }
                }
                if r.then.is_none() && r.by_minute.is_none() {
                    diags.push(Diagnostic::new(
                        format!("{path}.result_before"),
                        "no `then` and no `by_minute`: before what?",
                        "add the order placed after the result (`then`), a deadline \
                         (`by_minute`), or both",
                    ));
                }
            }
            Rule::Total(t) => {
                if t.orders.is_empty() {
                    diags.push(Diagnostic::new(
                        format!("{path}.total.orders"),
                        "no orders to add up",
                        "list the catalog ids whose doses count (e.g. [\"ns_bolus\", \"lr_bolus\"])",
                    ));
                }
                for (i, id) in t.orders.iter().enumerate() {
                    if self.catalog.get(id).is_none() {
                        diags.push(unknown_order(
                            format!("{path}.total.orders[{i}]"),
                            id,
                            self.catalog,
                        ));
                    }
                }
                check_range(&t.dose, &format!("{path}.total.dose"), diags);
                if super::units::Unit::parse(&t.dose.unit)
                    .and_then(|u| u.dimension())
                    .is_none()
                {
                    diags.push(Diagnostic::new(
                        format!("{path}.total.dose.unit"),
                        format!("unknown unit `{}`", t.dose.unit),
                        "use a canonical unit: mg, mcg, g, units, mL, L, mEq, mmol, mg/kg, mL/kg…",
                    ));
                }
            }
            Rule::Never(id) => {
                if self.catalog.get(id).is_none() {
                    diags.push(unknown_order(format!("{path}.never"), id, self.catalog));
                }
            }
            Rule::Elicited(id) => {
                if !self.facts.contains(id.as_str()) {
                    diags.push(unknown(
                        format!("{path}.elicited"),
                        "fact",
                        id,
                        self.facts,
                        "a fact id",
                    ));
                }
            }
            Rule::Phase(id) => {
                if !self.phases.contains(id.as_str()) {
                    diags.push(unknown(
                        format!("{path}.phase"),
                        "phase",
                        id,
                        self.phases,
                        "a phase id",
                    ));
                }
            }
            Rule::Said(s) => {
                if let Some(set) = &s.set {
                    if phrase_set(set).is_none() {
                        diags.push(Diagnostic::new(
                            format!("{path}.said.set"),
                            format!("unknown phrase set `{set}`"),
                            format!(
                                "use one of: {}",
                                super::phrases::PHRASE_SETS
                                    .iter()
                                    .map(|(n, _)| *n)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                }
                if s.set.is_none() && s.phrases.is_empty() {
                    diags.push(Diagnostic::new(
                        format!("{path}.said"),
                        "no phrase set and no phrases",
                        "add `set` or `phrases`",
                    ));
                }
                for (key, m) in [("before", &s.before), ("after", &s.after)] {
                    match m {
                        Some(super::rule::Moment::Phase(id))
                            if !self.phases.contains(id.as_str()) =>
                        {
                            diags.push(unknown(
                                format!("{path}.said.{key}.phase"),
                                "phase",
                                id,
                                self.phases,
                                "a phase id",
                            ))
                        }
                        Some(super::rule::Moment::Done(id)) if self.catalog.get(id).is_none() => {
                            diags.push(unknown_order(
                                format!("{path}.said.{key}.done"),
                                id,
                                self.catalog,
                            ))
                        }
                        _ => {}
                    }
                }
            }
            Rule::All(rules) | Rule::Any(rules) => {
                let kind = if matches!(rule, Rule::All(_)) {
                    "all"
                } else {
                    "any"
                };
                if rules.is_empty() {
                    diags.push(Diagnostic::new(
                        format!("{path}.{kind}"),
                        "an empty combination",
                        "list at least one rule",
                    ));
                }
                for (i, r) in rules.iter().enumerate() {
                    self.check_rule(r, &format!("{path}.{kind}[{i}]"), diags);
                }
            }
            Rule::Not(inner) => self.check_rule(inner, &format!("{path}.not"), diags),
            Rule::Diagnosis(_) | Rule::Minute(_) => {}
        }
    }
}

fn unique_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    path: &str,
    what: &str,
    diags: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        if id.trim().is_empty() {
            diags.push(Diagnostic::new(
                format!("{path}[{i}].id"),
                format!("empty {what} id"),
                "give it an id",
            ));
        } else if !seen.insert(id) {
            diags.push(Diagnostic::new(
                format!("{path}[{i}].id"),
                format!("duplicate {what} id `{id}`"),
                format!("give every {what} a unique id"),
            ));
        }
    }
    seen
}

fn unknown(
    path: String,
    what: &str,
    id: &str,
    known: &BTreeSet<&str>,
    expected: &str,
) -> Diagnostic {
    let known_list = if known.is_empty() {
        "none defined".to_string()
    } else {
        known.iter().copied().collect::<Vec<_>>().join(", ")
    };
    Diagnostic::new(
        path,
        format!("unknown {what} `{id}`"),
        format!("use {expected} defined in the case ({known_list})"),
    )
}

fn unknown_order(path: String, id: &str, catalog: &Catalog) -> Diagnostic {
    let suggestion = super::action::interpret(id, catalog)
        .order
        .map(|m| format!(" — did you mean `{}`?", m.id))
        .unwrap_or_default();
    Diagnostic::new(
        path,
        format!("unknown order id `{id}`{suggestion}"),
        "use an order id from assets/catalog.json (bedside-cli catalog <words> searches it)",
    )
}
