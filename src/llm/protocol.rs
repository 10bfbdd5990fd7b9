//! The model roles' reply protocols: the clinician's `{"speak", "actions", "eos"}` turn with a
//! recorded fallback, and the judge's per-item verdicts (strict: missing, duplicate or unknown
//! items and unparseable output are errors, never "not met").

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{extract_object, Extracted, JsonError, Repair};
use super::{FinishReason, ReplySchema};
use crate::engine::encounter::{EndForm, Turn};

/// How a clinician reply became a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Exactly one JSON object with the protocol's fields.
    Clean,
    /// A JSON object was found after unwrapping or fixing (fences, prose, commas, types).
    Repaired,
    /// No JSON at all: the text was taken as speech. No longer produced (prose is a
    /// [`Fault::NotJson`] now); kept so that records saved before can still be read.
    PlainSpeech,
    /// Nothing usable: see the [`Fault`].
    Unusable,
}

/// Why a clinician reply broke the protocol. Each is a recorded fault; the export counts them
/// per kind, so a comparison can report a model's protocol adherence beside its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// An empty reply.
    Empty,
    /// Prose without a JSON object.
    NotJson,
    /// A JSON object that cannot be read, or fields of the wrong type.
    Malformed,
    /// The object lacks `speak`, `actions` or `eos`.
    MissingFields,
    /// The reply stopped at the token limit instead of ending by itself.
    Truncated,
    /// The speech writes other people's lines ("Patient: …").
    OtherSpeakers,
    /// The speech repeats one of the clinician's earlier turns word for word.
    Repeated,
    /// The turn says nothing, orders nothing and does not end the stage.
    NothingDone,
}

impl Fault {
    /// Every kind, in a stable order (for tables).
    pub const ALL: [Fault; 8] = [
        Fault::Empty,
        Fault::NotJson,
        Fault::Malformed,
        Fault::MissingFields,
        Fault::Truncated,
        Fault::OtherSpeakers,
        Fault::Repeated,
        Fault::NothingDone,
    ];

    /// A short name for tables and summaries.
    pub fn label(self) -> &'static str {
        match self {
            Fault::Empty => "empty reply",
            Fault::NotJson => "no JSON",
            Fault::Malformed => "malformed JSON",
            Fault::MissingFields => "missing fields",
            Fault::Truncated => "cut off at the token limit",
            Fault::OtherSpeakers => "wrote other speakers' lines",
            Fault::Repeated => "repeated an earlier turn",
            Fault::NothingDone => "said and did nothing",
        }
    }
}

/// A parsed clinician reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedTurn {
    /// `None` exactly when `fallback` is `Unusable`.
    pub turn: Option<Turn>,
    pub fallback: Fallback,
    /// What was repaired, or why the reply is unusable.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The protocol fault, exactly when `fallback` is `Unusable`.
    #[serde(default)]
    pub fault: Option<Fault>,
}

impl ParsedTurn {
    fn unusable(fault: Fault, why: impl Into<String>) -> ParsedTurn {
        ParsedTurn {
            turn: None,
            fallback: Fallback::Unusable,
            notes: vec![why.into()],
            fault: Some(fault),
        }
    }
}

/// Parses one clinician reply: exactly one JSON object with `speak`, `actions` and `eos`.
/// Fences, text around the object, small syntax slips and loose types are repaired and noted;
/// anything else is a [`Fault`]. What the reply says is checked by [`check_turn`].
pub fn parse_turn(reply: &str) -> ParsedTurn {
    let extracted = match reply_object(reply) {
        Ok(e) => e,
        Err((fault, why)) => return ParsedTurn::unusable(fault, why),
    };
    let mut notes: Vec<String> = extracted
        .repairs
        .iter()
        .map(|r| {
            match r {
                Repair::CodeFence => "unwrapped a code fence",
                Repair::SurroundingText => "dropped text around the JSON object",
                Repair::Syntax => "fixed the JSON syntax",
            }
            .to_string()
        })
        .collect();
    let map = extracted.value;
    if !["speak", "actions", "eos"]
        .iter()
        .any(|k| map.contains_key(*k))
    {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        return ParsedTurn::unusable(
            Fault::MissingFields,
            format!(
                "the JSON object has none of speak, actions, eos (it has: {})",
                keys.join(", ")
            ),
        );
    }
    let missing: Vec<&str> = ["speak", "actions", "eos"]
        .into_iter()
        .filter(|k| !map.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return ParsedTurn::unusable(
            Fault::MissingFields,
            format!("the turn lacks {}", missing.join(" and ")),
        );
    }
    let mut problems = Vec::new();
    let speak = match map.get("speak") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Array(parts)) if parts.iter().all(Value::is_string) => {
            notes.push("joined a list of sentences in speak".into());
            parts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        }
        Some(other) => {
            problems.push(format!("speak must be text, not {}", kind(other)));
            String::new()
        }
    };
    let actions = read_actions(map.get("actions"), &mut notes, &mut problems);
    let eos = match map.get("eos") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s))
            if matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "yes") =>
        {
            notes.push("read eos given as text".into());
            true
        }
        Some(Value::String(s))
            if matches!(s.trim().to_ascii_lowercase().as_str(), "false" | "no" | "") =>
        {
            notes.push("read eos given as text".into());
            false
        }
        Some(Value::Number(n)) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => {
            notes.push("read eos given as a number".into());
            n.as_u64() == Some(1)
        }
        Some(other) => {
            problems.push(format!("eos must be true or false, not {}", kind(other)));
            false
        }
    };
    let extra: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !["speak", "actions", "eos"].contains(k))
        .collect();
    if !extra.is_empty() {
        notes.push(format!("ignored extra keys: {}", extra.join(", ")));
    }
    if !problems.is_empty() {
        return ParsedTurn {
            turn: None,
            fallback: Fallback::Unusable,
            notes: problems,
            fault: Some(Fault::Malformed),
        };
    }
    if speak.is_empty() && actions.is_empty() && !eos {
        return ParsedTurn::unusable(
            Fault::NothingDone,
            "the turn says nothing, orders nothing and does not end the stage",
        );
    }
    let speak = match strip_own_label(&speak) {
        Some(s) => {
            notes.push("dropped the clinician's own speaker label".into());
            s
        }
        None => speak,
    };
    ParsedTurn {
        turn: Some(Turn {
            speak,
            actions,
            eos,
        }),
        fallback: clean_unless(&notes),
        notes,
        fault: None,
    }
}

/// The one JSON object of a clinician reply (a turn, a static answer), or the protocol fault
/// the reply commits and why.
fn reply_object(reply: &str) -> Result<Extracted, (Fault, String)> {
    match extract_object(reply) {
        Ok(e) => Ok(e),
        Err(JsonError::NoObject) if reply.trim().is_empty() => {
            Err((Fault::Empty, "the reply is empty".into()))
        }
        Err(JsonError::NoObject) => Err((
            Fault::NotJson,
            "the reply is prose, not the JSON object the protocol asks for".into(),
        )),
        Err(e) => Err((Fault::Malformed, e.to_string())),
    }
}

/// A usable reply's fallback: clean, or repaired when something was (`notes`).
fn clean_unless(notes: &[String]) -> Fallback {
    if notes.is_empty() {
        Fallback::Clean
    } else {
        Fallback::Repaired
    }
}

/// The `actions` of a reply: a list of texts (a single text, and objects holding one text,
/// are taken and noted); what cannot be read is added to `problems`.
fn read_actions(
    value: Option<&Value>,
    notes: &mut Vec<String>,
    problems: &mut Vec<String>,
) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(Value::String(s)) => {
            notes.push("took a single action given as text".into());
            vec![s.trim().to_string()]
        }
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    Value::String(_) => {}
                    Value::Object(o) => match o.values().find_map(Value::as_str) {
                        Some(s) => {
                            notes.push(format!("took actions[{i}] from an object"));
                            out.push(s.trim().to_string());
                        }
                        None => problems.push(format!("actions[{i}] is an object without text")),
                    },
                    other => {
                        problems.push(format!("actions[{i}] must be text, not {}", kind(other)))
                    }
                }
            }
            out
        }
        Some(other) => {
            problems.push(format!(
                "actions must be a list of text, not {}",
                kind(other)
            ));
            Vec::new()
        }
    }
}

/// What a well-formed turn must also be: a reply that ended by itself, speech in the
/// clinician's own voice only, and not a word-for-word repeat of an earlier turn.
/// `earlier` holds the clinician's earlier speech; `people` the names of the patient and the
/// others present (their labels give an invented dialogue away).
pub fn check_turn(
    turn: &Turn,
    finish: &FinishReason,
    earlier: &[&str],
    people: &[&str],
) -> Option<(Fault, String)> {
    if *finish == FinishReason::Length {
        return Some((
            Fault::Truncated,
            "the reply was cut off at the token limit".into(),
        ));
    }
    if let Some(label) = other_speaker_label(&turn.speak, people) {
        return Some((
            Fault::OtherSpeakers,
            format!(
                "the speech writes other speakers' lines (\"{label}:\"); say only your own words"
            ),
        ));
    }
    let said = squash(&turn.speak);
    if said.split(' ').count() >= 3 && earlier.iter().any(|e| squash(e) == said) {
        return Some((
            Fault::Repeated,
            "the speech repeats an earlier turn word for word".into(),
        ));
    }
    None
}

/// Lowercase words, punctuation dropped, single spaces.
fn squash(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Labels of the clinician's own voice a model may put in front of its speech.
const OWN_LABELS: [&str; 5] = ["doctor", "clinician", "dr", "physician", "examinee"];

/// Labels of other people's voices, besides the case's own names.
const OTHER_LABELS: [&str; 9] = [
    "patient", "nurse", "mother", "father", "wife", "husband", "parent", "son", "daughter",
];

/// The speech without a leading label of the clinician's own voice ("Doctor: Hello"), if it
/// has one.
fn strip_own_label(speak: &str) -> Option<String> {
    let (label, rest) = speak.split_once(':')?;
    let label = label.trim().trim_matches('*').to_lowercase();
    let label = label.trim_end_matches('.');
    OWN_LABELS.contains(&label).then(|| rest.trim().to_string())
}

/// A speaker label in the speech ("Patient:", "Gary:", "Doctor:" after other text) that shows
/// the model writing a dialogue instead of its own words.
fn other_speaker_label(speak: &str, people: &[&str]) -> Option<String> {
    for (at, _) in speak.match_indices(':') {
        // The one or two words right before the colon, starting a line or a sentence.
        let before = &speak[..at];
        let start = before
            .rfind(['\n', '.', '!', '?', '"'])
            .map(|p| p + 1)
            .unwrap_or(0);
        let label = before[start..].trim().trim_matches('*').trim();
        if label.is_empty() || label.split_whitespace().count() > 2 {
            continue;
        }
        let lower = label.to_lowercase();
        let lower = lower.trim_end_matches('.');
        let is_person = people.iter().any(|p| {
            let p = p.to_lowercase();
            p == lower || p.split_whitespace().next() == Some(lower)
        });
        let is_role = OTHER_LABELS.contains(&lower);
        // The clinician's own label counts only after other text (a second voice).
        let own_later = OWN_LABELS.contains(&lower) && start > 0;
        if is_person || is_role || own_later {
            return Some(label.to_string());
        }
    }
    None
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The message asking the model once more for a protocol-conforming reply.
pub fn clinician_correction(problem: &str) -> String {
    format!(
        "Your last reply could not be used: {problem}. Reply again, continuing the encounter, with \
         exactly one JSON object and nothing else, in this shape: {{\"speak\": \"...\", \
         \"actions\": [\"...\"], \"eos\": false}} (\"speak\": your own words to the patient; \
         \"actions\": your orders and examinations, or [])."
    )
}

/// One judged rubric item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub id: String,
    pub met: bool,
    pub evidence: String,
}

/// Why a judge reply cannot be used. Every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeError {
    pub problems: Vec<String>,
}

impl fmt::Display for JudgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the judge's reply cannot be used: {}",
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for JudgeError {}

fn judge_err(p: impl Into<String>) -> JudgeError {
    JudgeError {
        problems: vec![p.into()],
    }
}

/// Parses `{"verdicts": [{"id", "met", "evidence"}, ...]}` against the expected item ids, in
/// the order of `ids`.
pub fn parse_judge(reply: &str, ids: &[&str]) -> Result<Vec<Verdict>, JudgeError> {
    let extracted = extract_object(reply).map_err(|e| judge_err(e.to_string()))?;
    let list = match extracted.value.get("verdicts") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(judge_err(format!(
                "`verdicts` must be a list, not {}",
                kind(other)
            )))
        }
        None => return Err(judge_err("the reply has no `verdicts` list")),
    };
    let mut problems = Vec::new();
    let mut found: BTreeMap<String, Verdict> = BTreeMap::new();
    for (i, entry) in list.iter().enumerate() {
        let Some(o) = entry.as_object() else {
            problems.push(format!("verdicts[{i}] is not an object"));
            continue;
        };
        let id = match o.get("id") {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                problems.push(format!("verdicts[{i}] has no id"));
                continue;
            }
        };
        if !ids.contains(&id.as_str()) {
            problems.push(format!("verdicts[{i}] names an unknown item `{id}`"));
            continue;
        }
        let met = match o.get("met") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            _ => {
                problems.push(format!("item `{id}` has no true/false `met`"));
                continue;
            }
        };
        let evidence = match o.get("evidence") {
            Some(Value::String(s)) => s.trim().to_string(),
            None | Some(Value::Null) => String::new(),
            Some(other) => {
                problems.push(format!(
                    "item `{id}`: evidence must be text, not {}",
                    kind(other)
                ));
                continue;
            }
        };
        if met && evidence.is_empty() {
            problems.push(format!(
                "item `{id}` is marked met without an evidence quote (met requires explicit evidence)"
            ));
            continue;
        }
        if found.contains_key(&id) {
            problems.push(format!("item `{id}` is answered more than once"));
            continue;
        }
        found.insert(id.clone(), Verdict { id, met, evidence });
    }
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| {
            !found.contains_key(*id) && !problems.iter().any(|p| p.contains(&format!("`{id}`")))
        })
        .collect();
    if !missing.is_empty() {
        problems.push(format!("items not answered: {}", missing.join(", ")));
    }
    if !problems.is_empty() {
        return Err(JudgeError { problems });
    }
    Ok(ids.iter().filter_map(|id| found.remove(*id)).collect())
}

/// Whether an evidence quote appears in the material (case, spacing and punctuation
/// ignored), for the audit display.
pub fn quote_found(quote: &str, material: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .collect::<String>()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let q = norm(quote);
    !q.is_empty() && norm(material).contains(&q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speak: &str, actions: &[&str], eos: bool) -> Option<Turn> {
        Some(Turn {
            speak: speak.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            eos,
        })
    }

    #[test]
    fn clean_turn() {
        let p = parse_turn(
            r#"{"speak": "Hello, I'm Dr Lee.", "actions": ["12-lead ECG", "aspirin 325 mg PO"], "eos": false}"#,
        );
        assert_eq!(p.fallback, Fallback::Clean);
        assert_eq!(
            p.turn,
            turn(
                "Hello, I'm Dr Lee.",
                &["12-lead ECG", "aspirin 325 mg PO"],
                false
            )
        );
        assert!(p.notes.is_empty());
    }

    #[test]
    fn repaired_turns() {
        let cases = [
            (
                "```json\n{\"speak\": \"Hi\", \"actions\": [], \"eos\": false}\n```",
                turn("Hi", &[], false),
            ),
            (
                "Here you go: {'speak': 'Any allergies?', 'actions': ['ECG',], 'eos': 'false'}",
                turn("Any allergies?", &["ECG"], false),
            ),
            (
                "{\"speak\": null, \"actions\": \"troponin\", \"eos\": 1}",
                turn("", &["troponin"], true),
            ),
            (
                "{\"speak\": [\"Hello.\", \"Where does it hurt?\"], \"actions\": [], \"eos\": false, \"reasoning\": \"x\"}",
                turn("Hello. Where does it hurt?", &[], false),
            ),
            (
                "{\"speak\": \"\", \"actions\": [{\"order\": \"chest x-ray\"}], \"eos\": false}",
                turn("", &["chest x-ray"], false),
            ),
            (
                "{\"speak\": \"Doctor: Hello, what brings you in today?\", \"actions\": [], \"eos\": false}",
                turn("Hello, what brings you in today?", &[], false),
            ),
        ];
        for (text, expected) in cases {
            let p = parse_turn(text);
            assert_eq!(p.fallback, Fallback::Repaired, "{text}: {:?}", p.notes);
            assert_eq!(p.turn, expected, "{text}");
            assert!(!p.notes.is_empty());
            assert_eq!(p.fault, None);
        }
    }

    #[test]
    fn prose_is_a_fault_not_speech() {
        let p = parse_turn("Doctor: \"Hello, what brings you in today?\"");
        assert_eq!(p.fallback, Fallback::Unusable);
        assert_eq!(p.fault, Some(Fault::NotJson));
        assert!(
            p.turn.is_none(),
            "prose is never taken as speech rules could credit"
        );
    }

    #[test]
    fn a_turn_missing_actions_or_eos_is_a_fault() {
        for (text, needle) in [
            (
                "{\"speak\": \"Good morning, I'm Dr Lee.\"}",
                "lacks actions and eos",
            ),
            (
                "{\"speak\": \"Any allergies?\", \"actions\": []}",
                "lacks eos",
            ),
            ("{\"actions\": [\"ECG\"], \"eos\": false}", "lacks speak"),
        ] {
            let p = parse_turn(text);
            assert_eq!(p.fault, Some(Fault::MissingFields), "{text}");
            assert!(p.turn.is_none());
            assert!(p.notes.join(" ").contains(needle), "{text}: {:?}", p.notes);
        }
    }

    #[test]
    fn cut_off_invented_dialogue_and_repeats_are_faults() {
        let said = |s: &str| Turn {
            speak: s.into(),
            actions: vec![],
            eos: false,
        };
        let stop = FinishReason::Stop;
        let people = ["Gary Mitchell", "Linda Mitchell"];
        let ok = said("Hello Gary, I'm one of the doctors. What has been happening today?");
        assert_eq!(check_turn(&ok, &stop, &[], &people), None);
        assert_eq!(
            check_turn(&ok, &FinishReason::Length, &[], &people).map(|f| f.0),
            Some(Fault::Truncated)
        );
        for dialogue in [
            "How is the pain?\nPatient: It is crushing, doctor.",
            "How is the pain? Gary: Still bad. Doctor: I'm sorry to hear that.",
            "Tell me more. Linda: He has been sweating all morning.",
            "Where is the pain? Nurse: His blood pressure is 90/60.",
        ] {
            assert_eq!(
                check_turn(&said(dialogue), &stop, &[], &people).map(|f| f.0),
                Some(Fault::OtherSpeakers),
                "{dialogue}"
            );
        }
        for own in [
            "Two things: your pain and your breathing.",
            "The plan is simple: an ECG now, then aspirin.",
            "It is 10:30 now; the results are due at 11:00.",
        ] {
            assert_eq!(check_turn(&said(own), &stop, &[], &people), None, "{own}");
        }
        let earlier = ["Hello, I'm Dr Lee. What brings you in today?"];
        assert_eq!(
            check_turn(
                &said("hello, I'm Dr Lee - what brings you in today"),
                &stop,
                &earlier,
                &people
            )
            .map(|f| f.0),
            Some(Fault::Repeated)
        );
        assert_eq!(
            check_turn(&said("Okay."), &stop, &["Okay."], &people),
            None,
            "short acknowledgements may recur"
        );
    }

    #[test]
    fn unusable_replies() {
        for (text, needle) in [
            ("", "empty"),
            ("  ", "empty"),
            ("{\"speak\": \"Hello, how are", "cut off"),
            ("{\"question\": \"pain?\"}", "none of speak"),
            (
                "{\"speak\": \"\", \"actions\": [], \"eos\": false}",
                "says nothing",
            ),
            (
                "{\"speak\": 42, \"actions\": [], \"eos\": false}",
                "speak must be text",
            ),
            (
                "{\"speak\": \"x\", \"actions\": [1], \"eos\": false}",
                "actions[0]",
            ),
            (
                "{\"speak\": \"x\", \"actions\": [], \"eos\": \"maybe\"}",
                "eos",
            ),
            ("{\"speak\": \"x\" \"y\" 3}", "not valid"),
        ] {
            let p = parse_turn(text);
            assert_eq!(p.fallback, Fallback::Unusable, "{text}");
            assert!(p.turn.is_none());
            assert!(
                p.fault.is_some(),
                "{text}: every unusable reply names its fault"
            );
            assert!(p.notes.join(" ").contains(needle), "{text}: {:?}", p.notes);
        }
        assert!(clinician_correction("it was cut off").contains("\"speak\""));
    }

    const IDS: [&str; 3] = ["ics-1", "pc-2", "prof-1"];

    #[test]
    fn judge_all_items_once() {
        let reply = "```json\n{\"verdicts\": [\
            {\"id\": \"pc-2\", \"met\": true, \"evidence\": \"ordered a 12-lead ECG\"},\
            {\"id\": \"ics-1\", \"met\": false, \"evidence\": \"\"},\
            {\"id\": \"prof-1\", \"met\": \"true\", \"evidence\": \"I'm Dr Lee\"},]}\n```";
        let v = parse_judge(reply, &IDS).unwrap();
        assert_eq!(v.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), IDS);
        assert_eq!(
            v.iter().map(|v| v.met).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(v[1].evidence, "ordered a 12-lead ECG");
    }

    #[test]
    fn judge_errors_never_default_to_not_met() {
        let e = parse_judge(
            r#"{"verdicts": [{"id": "pc-2", "met": false, "evidence": ""}, {"id": "pc-2", "met": true, "evidence": "x"}, {"id": "zz-9", "met": false}]}"#,
            &IDS,
        )
        .unwrap_err();
        let all = e.to_string();
        assert!(all.contains("`pc-2` is answered more than once"), "{all}");
        assert!(all.contains("unknown item `zz-9`"), "{all}");
        assert!(all.contains("items not answered: ics-1, prof-1"), "{all}");

        let e = parse_judge(r#"{"verdicts": [{"id": "ics-1", "met": true}, {"id": "pc-2", "met": "maybe"}, {"id": "prof-1", "met": false}]}"#, &IDS).unwrap_err();
        assert!(e.problems[0].contains("without an evidence quote"), "{e}");
        assert!(e.problems[1].contains("no true/false"), "{e}");
        assert_eq!(e.problems.len(), 2, "{e}");

        assert!(parse_judge("All items look good to me.", &IDS)
            .unwrap_err()
            .to_string()
            .contains("no JSON object"));
        assert!(parse_judge(r#"{"ics-1": true}"#, &IDS)
            .unwrap_err()
            .to_string()
            .contains("no `verdicts`"));
        assert!(parse_judge(
            r#"{"verdicts": [{"id": "ics-1", "met": false, "evidence": "no"#,
            &IDS
        )
        .unwrap_err()
        .to_string()
        .contains("cut off"));
        // No items to judge: an empty list is the only right answer.
        assert_eq!(parse_judge(r#"{"verdicts": []}"#, &[]).unwrap(), vec![]);
    }

    #[test]
    fn quotes_are_checked_loosely() {
        assert!(quote_found(
            "I'm  Dr LEE",
            "Clinician: Hello, I'm Dr Lee, the doctor."
        ));
        assert!(!quote_found("gave aspirin", "Clinician: Hello"));
        assert!(!quote_found("", "anything"));
    }
}

/// Parses the clinician's end form when the encounter is closing:
/// `{"diagnosis": "...", "differential": ["..."], "plan": "...", "disposition": "..."}`.
/// A reply without a diagnosis cannot be used: the encounter then closes without one, never
/// with a guessed one.
pub fn parse_end_form(reply: &str) -> ParsedEnd {
    match extract_object(reply) {
        Ok(e) => end_form_of(&e),
        Err(e) => ParsedEnd::unusable(format!("no JSON end form: {e}")),
    }
}

/// The end form in an extracted object (its repairs noted).
fn end_form_of(extracted: &Extracted) -> ParsedEnd {
    let v = &extracted.value;
    let text = |key: &str| -> String {
        match v.get(key) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::new(),
        }
    };
    let diagnosis = text("diagnosis");
    if diagnosis.is_empty() {
        return ParsedEnd::unusable("the end form has no \"diagnosis\"");
    }
    let differential = match v.get("differential") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => s
            .split([';', '\n'])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let disposition = Some(text("disposition")).filter(|d| !d.is_empty());
    let mut notes: Vec<String> = extracted.repairs.iter().map(|r| format!("{r:?}")).collect();
    let fallback = clean_unless(&notes);
    if fallback == Fallback::Repaired {
        notes.insert(0, "repaired".into());
    }
    ParsedEnd {
        form: Some(EndForm {
            diagnosis,
            differential,
            plan: text("plan"),
            disposition,
        }),
        fallback,
        notes,
    }
}

/// A parsed end form.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEnd {
    /// `None` exactly when `fallback` is `Unusable`.
    pub form: Option<EndForm>,
    pub fallback: Fallback,
    pub notes: Vec<String>,
}

impl ParsedEnd {
    fn unusable(why: impl Into<String>) -> ParsedEnd {
        ParsedEnd {
            form: None,
            fallback: Fallback::Unusable,
            notes: vec![why.into()],
        }
    }
}

/// The message asking the model once more for a usable end form.
pub fn end_form_correction(problem: &str) -> String {
    format!(
        "Your last reply could not be used: {problem}. Reply again with exactly one JSON object \
         and nothing else: {END_FORM_SHAPE}."
    )
}

/// A parsed static answer ([`super::static_play`]): the end form and the actions, both from
/// one JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatic {
    /// `None` exactly when `fallback` is `Unusable`.
    pub answer: Option<(EndForm, Vec<String>)>,
    pub fallback: Fallback,
    /// What was repaired, or why the reply is unusable.
    pub notes: Vec<String>,
    /// The protocol fault, exactly when `fallback` is `Unusable`.
    pub fault: Option<Fault>,
}

/// Parses a static answer: one JSON object with the end form's fields (read as
/// [`parse_end_form`] reads them) and `actions`, a list of orders. A missing or unreadable
/// diagnosis or `actions` makes it unusable; an empty list is an answer that orders nothing.
pub fn parse_static(reply: &str) -> ParsedStatic {
    let unusable = |fault: Fault, why: String| ParsedStatic {
        answer: None,
        fallback: Fallback::Unusable,
        notes: vec![why],
        fault: Some(fault),
    };
    let extracted = match reply_object(reply) {
        Ok(e) => e,
        Err((fault, why)) => return unusable(fault, why),
    };
    let end = end_form_of(&extracted);
    let map = extracted.value;
    let Some(form) = end.form else {
        return unusable(Fault::MissingFields, end.notes.join("; "));
    };
    if !map.contains_key("actions") {
        return unusable(Fault::MissingFields, "the answer lacks \"actions\"".into());
    }
    let (mut notes, mut problems) = (end.notes, Vec::new());
    let actions = read_actions(map.get("actions"), &mut notes, &mut problems);
    if !problems.is_empty() {
        return ParsedStatic {
            answer: None,
            fallback: Fallback::Unusable,
            notes: problems,
            fault: Some(Fault::Malformed),
        };
    }
    ParsedStatic {
        answer: Some((form, actions)),
        fallback: clean_unless(&notes),
        notes,
        fault: None,
    }
}

/// The static answer's shape, as the prompts state it.
pub const STATIC_SHAPE: &str = "{\"diagnosis\": \"your final diagnosis\", \"differential\": \
     [\"other diagnoses considered\"], \"plan\": \"your management plan\", \"disposition\": \
     \"e.g. admit to cardiology\", \"actions\": [\"every order you would carry out now, one per \
     item\"]}";

/// The message asking the model once more for a usable static answer.
pub fn static_correction(problem: &str) -> String {
    format!(
        "Your last reply could not be used: {problem}. Reply again with exactly one JSON object \
         and nothing else: {STATIC_SHAPE}."
    )
}

/// The static answer's JSON Schema: the end form's, with the actions.
pub fn static_schema() -> ReplySchema {
    let mut schema = end_form_schema().schema;
    schema["properties"]["actions"] =
        serde_json::json!({"type": "array", "items": {"type": "string"}});
    if let Some(required) = schema["required"].as_array_mut() {
        required.push("actions".into());
    }
    ReplySchema {
        name: "static_answer".into(),
        schema,
    }
}

/// The clinician turn's JSON Schema, for providers' structured output (the prompt states the
/// same shape in words).
pub fn turn_schema() -> ReplySchema {
    ReplySchema {
        name: "clinician_turn".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "speak": {"type": "string"},
                "actions": {"type": "array", "items": {"type": "string"}},
                "eos": {"type": "boolean"}
            },
            "required": ["speak", "actions", "eos"],
            "additionalProperties": false
        }),
    }
}

/// The end form's JSON Schema.
pub fn end_form_schema() -> ReplySchema {
    ReplySchema {
        name: "end_form".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "diagnosis": {"type": "string"},
                "differential": {"type": "array", "items": {"type": "string"}},
                "plan": {"type": "string"},
                "disposition": {"type": "string"}
            },
            "required": ["diagnosis", "differential", "plan", "disposition"],
            "additionalProperties": false
        }),
    }
}

/// The judge's JSON Schema: one verdict per item, ids limited to the items asked about.
pub fn judge_schema(ids: &[&str]) -> ReplySchema {
    ReplySchema {
        name: "judge_verdicts".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "verdicts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "enum": ids},
                            "met": {"type": "boolean"},
                            "evidence": {"type": "string"}
                        },
                        "required": ["id", "met", "evidence"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["verdicts"],
            "additionalProperties": false
        }),
    }
}

/// The end form's shape, as the prompts state it.
pub const END_FORM_SHAPE: &str = "{\"diagnosis\": \"your final diagnosis\", \"differential\": \
     [\"other diagnoses considered\"], \"plan\": \"your management plan\", \"disposition\": \
     \"e.g. admit to cardiology\"}";

/// The best-of selector's JSON Schema: the number of one of the `count` candidates shown.
pub fn selector_schema(count: usize) -> ReplySchema {
    let numbers: Vec<usize> = (1..=count).collect();
    ReplySchema {
        name: "selector_choice".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "choice": {"type": "integer", "enum": numbers}
            },
            "required": ["choice"],
            "additionalProperties": false
        }),
    }
}

/// Reads the selector's `{"choice": k}` among `count` candidates numbered from 1: the chosen
/// candidate's index from 0, or why the reply cannot be used. A number written as text
/// (`"2"`) is read as the number.
pub fn parse_choice(reply: &str, count: usize) -> Result<usize, String> {
    let extracted = extract_object(reply).map_err(|e| e.to_string())?;
    let choice = match extracted.value.get("choice") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        None => return Err("the reply has no \"choice\"".into()),
        Some(_) => None,
    };
    match choice {
        Some(k) if (1..=count as u64).contains(&k) => Ok(k as usize - 1),
        _ => Err(format!(
            "the choice {} is not a candidate's number (1 to {count})",
            extracted.value["choice"]
        )),
    }
}
