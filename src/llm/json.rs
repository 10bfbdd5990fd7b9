//! Tolerant JSON: finds the JSON object in a model's reply (code fences, prose around it) and
//! repairs the common slips (trailing commas, single quotes, bare keys, Python literals, raw
//! line breaks in strings). A reply cut off mid-object is an error, never a guess.

use std::fmt;

use serde_json::Value;

/// An object found in a reply, and what had to be done to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub value: serde_json::Map<String, Value>,
    /// Empty when the reply was exactly one JSON object.
    pub repairs: Vec<Repair>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The object was inside a ``` code fence.
    CodeFence,
    /// Text before or after the object was dropped.
    SurroundingText,
    /// The text needed fixing (commas, quotes, keys, literals, line breaks).
    Syntax,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    Empty,
    /// No `{` anywhere.
    NoObject,
    /// An object starts but never closes (the reply was cut off).
    Truncated,
    /// An object was found but could not be read even after repairs.
    Invalid(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Empty => f.write_str("the reply is empty"),
            JsonError::NoObject => f.write_str("the reply contains no JSON object"),
            JsonError::Truncated => f.write_str(
                "the reply was cut off before its JSON object closed (raise max tokens)",
            ),
            JsonError::Invalid(e) => write!(f, "the reply's JSON object is not valid: {e}"),
        }
    }
}

/// Finds and reads the first JSON object in `text`.
pub fn extract_object(text: &str) -> Result<Extracted, JsonError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(JsonError::Empty);
    }
    let mut repairs = Vec::new();
    let body = match fenced(trimmed) {
        Some(inner) => {
            repairs.push(Repair::CodeFence);
            inner
        }
        None => trimmed,
    };
    let starts: Vec<usize> = body.match_indices('{').map(|(i, _)| i).take(32).collect();
    if starts.is_empty() {
        return Err(JsonError::NoObject);
    }
    let mut first_error: Option<JsonError> = None;
    for (n, &start) in starts.iter().enumerate() {
        let Some(end) = object_end(body, start) else {
            first_error.get_or_insert(JsonError::Truncated);
            if n == 0 {
                // Every later `{` lies inside this unclosed object.
                return Err(JsonError::Truncated);
            }
            continue;
        };
        let slice = &body[start..end];
        let mut these = repairs.clone();
        if start > 0 || end < body.len() {
            these.push(Repair::SurroundingText);
        }
        let parsed = match serde_json::from_str::<Value>(slice) {
            Ok(v) => Ok(v),
            Err(_) => {
                let fixed = repair(slice);
                match serde_json::from_str::<Value>(&fixed) {
                    Ok(v) => {
                        these.push(Repair::Syntax);
                        Ok(v)
                    }
                    Err(e) => Err(JsonError::Invalid(e.to_string())),
                }
            }
        };
        match parsed {
            Ok(Value::Object(map)) => {
                return Ok(Extracted {
                    value: map,
                    repairs: these,
                })
            }
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(JsonError::NoObject))
}

/// The inside of the first ``` fence, if the text has one (an unclosed fence runs to the end).
fn fenced(text: &str) -> Option<&str> {
    let open = text.find("```")?;
    let after = &text[open + 3..];
    let line_end = after.find('\n')?;
    let lang = after[..line_end].trim();
    if lang.contains(['{', ' ']) {
        return None;
    }
    let inner = &after[line_end + 1..];
    let inner = match inner.find("```") {
        Some(close) => &inner[..close],
        None => inner,
    };
    inner.contains('{').then_some(inner.trim())
}

/// Whether a quote at this point opens a string: after `{ [ , :` or at the start.
fn opens_string(prev: Option<char>) -> bool {
    matches!(prev, None | Some('{' | '[' | ',' | ':'))
}

/// The byte index just past the `}` matching the `{` at `start`, if it closes.
fn object_end(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev: Option<char> = None;
    for (i, c) in text[start..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
                prev = Some(c);
            }
            continue;
        }
        match c {
            '"' => quote = Some('"'),
            '\'' if opens_string(prev) => quote = Some('\''),
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start + i + c.len_utf8());
                }
            }
            _ => {}
        }
        if !c.is_whitespace() {
            prev = Some(c);
        }
    }
    None
}

/// Rewrites JSON-ish text into JSON: single-quoted strings, bare keys, trailing commas,
/// Python literals, raw control characters inside strings.
pub fn repair(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    let last_sig = |out: &String| out.trim_end().chars().last();
    while i < chars.len() {
        let c = chars[i];
        let prev = last_sig(&out);
        if c == '"' || (c == '\'' && opens_string(prev)) {
            let q = c;
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != q {
                let ch = chars[i];
                match ch {
                    '\\' if i + 1 < chars.len() => {
                        let next = chars[i + 1];
                        if next == '\'' {
                            out.push('\'');
                        } else {
                            out.push('\\');
                            out.push(next);
                        }
                        i += 2;
                        continue;
                    }
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => {}
                    c => out.push(c),
                }
                i += 1;
            }
            out.push('"');
            i += 1;
            continue;
        }
        if c == '}' || c == ']' {
            let t = out.trim_end().len();
            if out[..t].ends_with(',') {
                out.truncate(t - 1);
            }
            out.push(c);
            i += 1;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '-')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let mut k = j;
            while k < chars.len() && chars[k].is_whitespace() {
                k += 1;
            }
            let is_key = matches!(prev, Some('{' | ',')) && k < chars.len() && chars[k] == ':';
            if is_key {
                out.push('"');
                out.push_str(&word);
                out.push('"');
            } else {
                out.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    w => w,
                });
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(text: &str) -> (Value, Vec<Repair>) {
        let e = extract_object(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        (Value::Object(e.value), e.repairs)
    }

    #[test]
    fn clean_object() {
        let (v, r) = obj(r#"{"speak": "Hello", "actions": [], "eos": false}"#);
        assert_eq!(v, json!({"speak": "Hello", "actions": [], "eos": false}));
        assert!(r.is_empty());
        let (_, r) = obj("  \n{\"a\":1}\n ");
        assert!(r.is_empty());
    }

    #[test]
    fn fences_and_prose() {
        let (v, r) = obj("Sure! Here is my turn:\n```json\n{\"speak\": \"Hi\", \"eos\": true}\n```\nLet me know.");
        assert_eq!(v, json!({"speak": "Hi", "eos": true}));
        assert_eq!(r, [Repair::CodeFence]);
        let (v, r) = obj("```\n{\"a\": [1, 2]}\n```");
        assert_eq!(v, json!({"a": [1, 2]}));
        assert_eq!(r, [Repair::CodeFence]);
        let (v, r) = obj("I will ask about pain. {\"speak\": \"Where is the pain?\"} That's all.");
        assert_eq!(v, json!({"speak": "Where is the pain?"}));
        assert_eq!(r, [Repair::SurroundingText]);
        // Braces inside strings do not confuse the scan.
        let (v, _) = obj(r#"{"speak": "a } b { c", "x": "\"}"}"#);
        assert_eq!(v["speak"], "a } b { c");
        // An unclosed fence still yields its object.
        let (v, _) = obj("```json\n{\"a\": 1}");
        assert_eq!(v, json!({"a": 1}));
    }

    #[test]
    fn syntax_repairs() {
        let (v, r) = obj("{\"actions\": [\"ECG\", \"aspirin\",], \"eos\": false,}");
        assert_eq!(v, json!({"actions": ["ECG", "aspirin"], "eos": false}));
        assert_eq!(r, [Repair::Syntax]);
        let (v, _) = obj("{'speak': 'I\\'m Dr Lee, what\"s wrong?', 'eos': False}");
        assert_eq!(
            v,
            json!({"speak": "I'm Dr Lee, what\"s wrong?", "eos": false})
        );
        let (v, _) = obj("{speak: \"Hello\", actions: [], eos: True, note: None}");
        assert_eq!(
            v,
            json!({"speak": "Hello", "actions": [], "eos": true, "note": null})
        );
        let (v, _) = obj("{\"speak\": \"line one\nline two\"}");
        assert_eq!(v["speak"], "line one\nline two");
        // Apostrophes inside double-quoted strings are left alone.
        let (v, _) = obj("{\"speak\": \"It's fine, isn't it\",}");
        assert_eq!(v["speak"], "It's fine, isn't it");
    }

    #[test]
    fn skips_non_objects_and_bad_candidates() {
        let (v, _) = obj("Format: {speak, actions} -> {\"speak\": \"ok\"}");
        assert_eq!(v, json!({"speak": "ok"}));
    }

    #[test]
    fn errors() {
        assert_eq!(extract_object("   "), Err(JsonError::Empty));
        assert_eq!(
            extract_object("Hello, how can I help?"),
            Err(JsonError::NoObject)
        );
        assert_eq!(
            extract_object("{\"speak\": \"Hello, how are"),
            Err(JsonError::Truncated)
        );
        assert_eq!(
            extract_object("```json\n{\"speak\": \"Hi\", \"actions\": [\"ECG\""),
            Err(JsonError::Truncated)
        );
        assert!(matches!(
            extract_object("{\"a\": 1 2 3}"),
            Err(JsonError::Invalid(_))
        ));
        assert!(JsonError::Truncated.to_string().contains("max tokens"));
    }
}
