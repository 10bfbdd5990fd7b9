//! The model roles' reply protocols: the clinician's `{"speak", "actions", "eos"}` turn with a
//! recorded fallback, and the judge's per-item verdicts (strict: missing, duplicate or unknown
//! items and unparseable output are errors, never "not met").

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{extract_object, JsonError, Repair};
use crate::engine::encounter::{EndForm, Turn};

/// How a clinician reply became a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Exactly one JSON object with the protocol's fields.
    Clean,
    /// A JSON object was found after unwrapping or fixing (fences, prose, commas, types).
    Repaired,
    /// No JSON at all: the text was taken as speech.
    PlainSpeech,
    /// Nothing usable (empty, cut off, broken JSON, or a turn that says and does nothing).
    Unusable,
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
}

impl ParsedTurn {
    fn unusable(why: impl Into<String>) -> ParsedTurn {
        ParsedTurn {
            turn: None,
            fallback: Fallback::Unusable,
            notes: vec![why.into()],
        }
    }
}

/// Parses one clinician reply.
pub fn parse_turn(reply: &str) -> ParsedTurn {
    let extracted = match extract_object(reply) {
        Ok(e) => e,
        Err(JsonError::NoObject) => {
            let speech = plain_speech(reply);
            if speech.is_empty() {
                return ParsedTurn::unusable("the reply is empty");
            }
            return ParsedTurn {
                turn: Some(Turn {
                    speak: speech,
                    actions: Vec::new(),
                    eos: false,
                }),
                fallback: Fallback::PlainSpeech,
                notes: vec!["no JSON object: the text was taken as speech".into()],
            };
        }
        Err(e) => return ParsedTurn::unusable(e.to_string()),
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
        return ParsedTurn::unusable(format!(
            "the JSON object has none of speak, actions, eos (it has: {})",
            keys.join(", ")
        ));
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
    let actions = match map.get("actions") {
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
    };
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
        };
    }
    if speak.is_empty() && actions.is_empty() && !eos {
        return ParsedTurn::unusable(
            "the turn says nothing, orders nothing and does not end the stage",
        );
    }
    ParsedTurn {
        turn: Some(Turn {
            speak,
            actions,
            eos,
        }),
        fallback: if notes.is_empty() {
            Fallback::Clean
        } else {
            Fallback::Repaired
        },
        notes,
    }
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

/// Plain text as speech: trims, drops a speaker label ("Doctor:") and wrapping quotes.
fn plain_speech(text: &str) -> String {
    let mut t = text.trim();
    for label in ["Doctor:", "Clinician:", "Dr:", "Physician:", "Examinee:"] {
        if t.len() >= label.len() && t[..label.len()].eq_ignore_ascii_case(label) {
            t = t[label.len()..].trim_start();
        }
    }
    let t = t.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(t);
    t.trim().to_string()
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
                "{\"speak\": [\"Hello.\", \"Where does it hurt?\"], \"reasoning\": \"x\"}",
                turn("Hello. Where does it hurt?", &[], false),
            ),
            (
                "{\"actions\": [{\"order\": \"chest x-ray\"}]}",
                turn("", &["chest x-ray"], false),
            ),
        ];
        for (text, expected) in cases {
            let p = parse_turn(text);
            assert_eq!(p.fallback, Fallback::Repaired, "{text}: {:?}", p.notes);
            assert_eq!(p.turn, expected, "{text}");
            assert!(!p.notes.is_empty());
        }
    }

    #[test]
    fn plain_text_is_speech() {
        let p = parse_turn("Doctor: \"Hello, what brings you in today?\"");
        assert_eq!(p.fallback, Fallback::PlainSpeech);
        assert_eq!(p.turn, turn("Hello, what brings you in today?", &[], false));
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
            ("{\"speak\": 42}", "speak must be text"),
            ("{\"speak\": \"x\", \"actions\": [1]}", "actions[0]"),
            ("{\"speak\": \"x\", \"eos\": \"maybe\"}", "eos"),
            ("{\"speak\": \"x\" \"y\" 3}", "not valid"),
        ] {
            let p = parse_turn(text);
            assert_eq!(p.fallback, Fallback::Unusable, "{text}");
            assert!(p.turn.is_none());
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
    let extracted = match extract_object(reply) {
        Ok(e) => e,
        Err(e) => return ParsedEnd::unusable(format!("no JSON end form: {e}")),
    };
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
    let fallback = if notes.is_empty() {
        Fallback::Clean
    } else {
        notes.insert(0, "repaired".into());
        Fallback::Repaired
    };
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

/// The end form's shape, as the prompts state it.
pub const END_FORM_SHAPE: &str = "{\"diagnosis\": \"your final diagnosis\", \"differential\": \
     [\"other diagnoses considered\"], \"plan\": \"your management plan\", \"disposition\": \
     \"e.g. admit to cardiology\"}";
