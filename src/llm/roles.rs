//! One call per role: one patient reply (streamed), one clinician turn (prompt → call → parse
//! with fallback and one corrective re-ask → engine input), one judge call and the checked
//! [`JudgeRun`] it gives. Every prompt and raw reply is recorded as an [`LlmExchange`] (which
//! never holds the key). The encounter is played by [`super::driver`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::{Client, UsageTotals};
use super::error::{ErrorKind, LlmError};
use super::prompts::{self, PatientReply};
use super::protocol::{self, Fallback, Fault, ParsedTurn, Verdict};
use super::settings::{ProviderKind, ProviderSettings, Role};
use super::transport::{Cancel, Transport};
use super::{Chat, Completion, Message};
use crate::engine::case::Case;
use crate::engine::encounter::{EntryKind, Input, Record, Turn};
use crate::engine::score::{check_judge, JudgeError, JudgeRun, JudgeVerdict};

/// One model call as the record keeps it: endpoint (no key), the full prompt, the raw reply
/// or the error, and how the reply was used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmExchange {
    pub role: Role,
    pub provider: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub chat: Chat,
    #[serde(default)]
    pub completion: Option<Completion>,
    #[serde(default)]
    pub error: Option<LlmError>,
    /// The clinician's fallback kind, when this call was a clinician turn.
    #[serde(default)]
    pub fallback: Option<Fallback>,
    /// Repairs made, or why the reply was unusable.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The protocol fault of a clinician reply that could not be used.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Whether this call was the corrective re-ask.
    #[serde(default)]
    pub correction: bool,
    /// Which part of a best-of turn this call was ([`super::best_of`]); `None` for a turn of
    /// one call (and in records saved before best-of existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<TurnStep>,
}

/// The part of a best-of-N clinician turn a call was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnStep {
    /// The k-th candidate sampled, k from 1 to N.
    Candidate(u32),
    /// The call that picked one of the usable candidates.
    Selector,
}

impl LlmExchange {
    fn new<T: Transport>(client: &Client<T>, role: Role, chat: Chat) -> LlmExchange {
        let s = client.settings();
        LlmExchange {
            role,
            provider: s.kind,
            base_url: s.base().to_string(),
            model: s.model.trim().to_string(),
            chat,
            completion: None,
            error: None,
            fallback: None,
            notes: Vec::new(),
            fault: None,
            correction: false,
            step: None,
        }
    }

    pub fn raw_reply(&self) -> Option<&str> {
        self.completion.as_ref().map(|c| c.text.as_str())
    }
}

/// A line the model voiced in place of the engine's scripted line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicedLine {
    /// The log entry (`ActorSaid`) it replaces.
    pub seq: u32,
    pub speaker: String,
    pub text: String,
}

/// Voices the patient-side lines of the latest clinician turn, streaming each through
/// `on_text(seq, piece)`. `voiced` holds earlier voiced lines so the history matches what
/// the clinician heard. Stops at the first error.
pub async fn patient_reply<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    voiced: &BTreeMap<u32, String>,
    cancel: &Cancel,
    on_text: &mut dyn FnMut(u32, &str),
) -> (Result<Vec<VoicedLine>, LlmError>, Vec<LlmExchange>) {
    let turn = record.state.turn;
    let last_said = record
        .log
        .iter()
        .rposition(|e| matches!(e.kind, EntryKind::ClinicianSaid { .. }) && e.turn == turn);
    let Some(from) = last_said else {
        return (Ok(Vec::new()), Vec::new());
    };
    let present: Vec<String> = record.state.actors_present.iter().cloned().collect();
    let mut voiced = voiced.clone();
    let mut lines = Vec::new();
    let mut exchanges = Vec::new();
    for (i, e) in record.log.iter().enumerate().skip(from + 1) {
        let Some(reply) = PatientReply::of(&e.kind) else {
            continue;
        };
        let chat = prompts::patient_chat(
            case,
            &record.log[..i],
            &voiced,
            &present,
            &record.state.status,
            &reply,
            client.params(),
        );
        let seq = e.seq;
        let mut chat = chat;
        let (mut ex, result) = loop {
            let mut ex = LlmExchange::new(client, Role::Patient, chat.clone());
            let result = client
                .stream(&chat, cancel, &mut |piece| on_text(seq, piece))
                .await;
            // Too long for the model (refused before any text): drop the oldest exchanges.
            if let Err(err) = &result {
                if err.kind() == ErrorKind::ContextLength {
                    if let Some(shorter) = prompts::trim_oldest(&chat) {
                        ex.error = Some(err.clone());
                        ex.notes.push("the chat outgrew the context window; retrying without the oldest exchanges".into());
                        exchanges.push(ex);
                        chat = shorter;
                        continue;
                    }
                }
            }
            break (ex, result);
        };
        match result {
            Ok(c) => {
                let mut names = vec![case.patient.name.as_str()];
                names.extend(case.actors.iter().map(|a| a.name.as_str()));
                let text = clean_patient_text(&c.text, &names);
                ex.completion = Some(c);
                if text.is_empty() {
                    let err = LlmError::new(
                        ErrorKind::Protocol,
                        "The patient model returned an empty reply.",
                    );
                    ex.error = Some(err.clone());
                    exchanges.push(ex);
                    return (Err(err), exchanges);
                }
                voiced.insert(seq, text.clone());
                lines.push(VoicedLine {
                    seq,
                    speaker: reply.speaker.to_string(),
                    text,
                });
                exchanges.push(ex);
            }
            Err(err) => {
                ex.error = Some(err.clone());
                exchanges.push(ex);
                return (Err(err), exchanges);
            }
        }
    }
    (Ok(lines), exchanges)
}

/// Trims a patient reply and drops a leading speaker label ("Gary:", "Patient:") the model
/// may add.
fn clean_patient_text(text: &str, names: &[&str]) -> String {
    let t = text.trim();
    if let Some((label, rest)) = t.split_once(':') {
        let label = label.trim().trim_matches('*').to_lowercase();
        let known = label == "patient"
            || names.iter().any(|n| {
                let n = n.to_lowercase();
                n == label || n.split_whitespace().next() == Some(label.as_str())
            });
        if known {
            return rest.trim().to_string();
        }
    }
    t.to_string()
}

/// The outcome of one clinician turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicianTurn {
    /// The engine input, or the error to show (after one corrective re-ask).
    pub input: Result<Input, LlmError>,
    pub fallback: Fallback,
    pub exchanges: Vec<LlmExchange>,
}

/// What a clinician reply is read against: whether it is the end form, the clinician's earlier
/// speech (no word-for-word repeat) and the people of the case (no lines written for them).
/// One reading for [`clinician_turn`] and the best-of candidates ([`super::best_of`]).
pub(super) struct TurnCheck<'a> {
    pub(super) closing: bool,
    earlier: Vec<&'a str>,
    people: Vec<&'a str>,
}

impl<'a> TurnCheck<'a> {
    pub(super) fn new(case: &'a Case, record: &'a Record) -> TurnCheck<'a> {
        let earlier = record
            .log
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::ClinicianSaid { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let mut people: Vec<&str> = vec![case.patient.name.as_str()];
        people.extend(case.actors.iter().map(|a| a.name.as_str()));
        TurnCheck {
            closing: record.state.end_requested.is_some(),
            earlier,
            people,
        }
    }

    /// Parses and checks reply `c` (a turn, or the end form while the encounter is closing),
    /// records it on `ex` (the completion, fallback, notes and fault) and returns the input
    /// when the reply is usable, with its fallback.
    pub(super) fn read(&self, ex: &mut LlmExchange, c: Completion) -> (Option<Input>, Fallback) {
        let (input, fallback, notes, fault) = if self.closing {
            let p = protocol::parse_end_form(&c.text);
            (p.form.map(Input::End), p.fallback, p.notes, None)
        } else {
            let ParsedTurn {
                turn,
                fallback,
                mut notes,
                fault,
            } = protocol::parse_turn(&c.text);
            let checked = turn
                .as_ref()
                .and_then(|t| protocol::check_turn(t, &c.finish, &self.earlier, &self.people));
            match checked {
                Some((fault, why)) => {
                    notes.push(why);
                    (None, Fallback::Unusable, notes, Some(fault))
                }
                None => (turn.map(Input::Turn), fallback, notes, fault),
            }
        };
        ex.completion = Some(c);
        ex.fallback = Some(fallback);
        ex.notes = notes;
        ex.fault = fault;
        (input, fallback)
    }
}

/// One clinician-role call on `chat` (`tag` marks its exchange). A chat too long for the model
/// is sent again without its oldest turns (the refused call recorded in `exchanges`), and
/// `chat` keeps the shorter form for the turn's later calls. Returns the call's exchange, not
/// yet recorded, and its result.
pub(super) async fn clinician_call<T: Transport>(
    client: &Client<T>,
    chat: &mut Chat,
    cancel: &Cancel,
    exchanges: &mut Vec<LlmExchange>,
    tag: impl Fn(&mut LlmExchange),
) -> (LlmExchange, Result<Completion, LlmError>) {
    loop {
        let mut ex = LlmExchange::new(client, Role::Clinician, chat.clone());
        tag(&mut ex);
        let result = client.complete(chat, cancel).await;
        if let Err(err) = &result {
            if err.kind() == ErrorKind::ContextLength {
                if let Some(shorter) = prompts::trim_oldest(chat) {
                    ex.error = Some(err.clone());
                    ex.notes.push(
                        "the chat outgrew the context window; retrying without the oldest turns"
                            .into(),
                    );
                    exchanges.push(ex);
                    *chat = shorter;
                    continue;
                }
            }
        }
        return (ex, result);
    }
}

/// Runs one clinician turn: prompt from the record → call → parse (fallback recorded) → if
/// unusable, ask once more for a corrected reply → engine input; a reply still unusable is a
/// turn in which nothing is said or done (fallback `Unusable`). Only a failed call is an error. While the
/// encounter is closing (a disposition, the last stage, the turn or time limit), the turn
/// asks for the end form (diagnosis, differential, plan) and returns [`Input::End`], or
/// [`Input::Close`] when no usable end form comes even after asking once more.
pub async fn clinician_turn<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    cancel: &Cancel,
) -> ClinicianTurn {
    let mut chat = prompts::clinician_chat(case, record, client.params());
    let check = TurnCheck::new(case, record);
    let closing = check.closing;
    let mut exchanges = Vec::new();
    for attempt in 0..2 {
        let (mut ex, result) = clinician_call(client, &mut chat, cancel, &mut exchanges, |ex| {
            ex.correction = attempt == 1
        })
        .await;
        let c = match result {
            Ok(c) => c,
            Err(err) => return call_failed(ex, err, exchanges),
        };
        let raw = c.text.clone();
        let (input, fallback) = check.read(&mut ex, c);
        let problem = ex.notes.join("; ");
        exchanges.push(ex);
        if let Some(input) = input {
            return ClinicianTurn {
                input: Ok(input),
                fallback,
                exchanges,
            };
        }
        if attempt == 1 && closing {
            // No usable end form even after asking again: the encounter closes without a
            // diagnosis (scored as none given), never with a guessed one.
            return ClinicianTurn {
                input: Ok(Input::Close),
                fallback: Fallback::Unusable,
                exchanges,
            };
        }
        if attempt == 1 {
            // Still unusable after asking again: a protocol fault, recorded on the exchange,
            // and the turn is taken as nothing said and nothing done (never as speech that
            // rules could credit). The encounter goes on.
            return nothing_said(
                exchanges,
                "unusable after asking again: the turn is taken as nothing said",
            );
        }
        chat.messages.push(Message::assistant(raw));
        chat.messages.push(Message::user(if closing {
            protocol::end_form_correction(&problem)
        } else {
            protocol::clinician_correction(&problem)
        }));
    }
    // Not reached: the second pass always returns.
    ClinicianTurn {
        input: Err(LlmError::new(
            ErrorKind::Protocol,
            "The clinician model's reply could not be used.",
        )),
        fallback: Fallback::Unusable,
        exchanges,
    }
}

/// A failed call fails the turn, recorded on its exchange `ex`.
pub(super) fn call_failed(
    mut ex: LlmExchange,
    err: LlmError,
    mut exchanges: Vec<LlmExchange>,
) -> ClinicianTurn {
    ex.error = Some(err.clone());
    exchanges.push(ex);
    ClinicianTurn {
        input: Err(err),
        fallback: Fallback::Unusable,
        exchanges,
    }
}

/// A turn with nothing usable in it, taken as nothing said and nothing done; `why` is noted on
/// the last call.
pub(super) fn nothing_said(mut exchanges: Vec<LlmExchange>, why: &str) -> ClinicianTurn {
    if let Some(last) = exchanges.last_mut() {
        last.notes.push(why.into());
    }
    ClinicianTurn {
        input: Ok(Input::Turn(Turn::default())),
        fallback: Fallback::Unusable,
        exchanges,
    }
}

/// The protocol faults of a run's clinician replies, per kind (kinds with none left out).
pub fn fault_counts(exchanges: &[LlmExchange]) -> BTreeMap<Fault, u32> {
    let mut counts = BTreeMap::new();
    for f in exchanges.iter().filter_map(|x| x.fault) {
        *counts.entry(f).or_insert(0) += 1;
    }
    counts
}

/// The judge's verdicts for the rubric items without a rule. A reply that cannot be used is
/// re-asked once, then returned as a Protocol error (never "not met").
pub async fn judge<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    voiced: &BTreeMap<u32, String>,
    cancel: &Cancel,
) -> (Result<Vec<Verdict>, LlmError>, Vec<LlmExchange>) {
    let items = prompts::judge_items(case);
    if items.is_empty() {
        return (Ok(Vec::new()), Vec::new());
    }
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut chat = prompts::judge_chat(case, record, voiced, &items, client.params());
    let mut exchanges = Vec::new();
    for attempt in 0..2 {
        let mut ex = LlmExchange::new(client, Role::Judge, chat.clone());
        ex.correction = attempt == 1;
        let c = match client.complete(&chat, cancel).await {
            Ok(c) => c,
            Err(err) => {
                ex.error = Some(err.clone());
                exchanges.push(ex);
                return (Err(err), exchanges);
            }
        };
        let raw = c.text.clone();
        ex.completion = Some(c);
        match protocol::parse_judge(&raw, &ids) {
            Ok(v) => {
                exchanges.push(ex);
                return (Ok(v), exchanges);
            }
            Err(je) => {
                ex.notes = je.problems.clone();
                if attempt == 1 {
                    let err = LlmError::new(
                        ErrorKind::Protocol,
                        "The judge model's reply could not be used, even after asking once more; the items stay unscored.",
                    )
                    .with_detail(je.problems.join("; "), client.redactor());
                    ex.error = Some(err.clone());
                    exchanges.push(ex);
                    return (Err(err), exchanges);
                }
                exchanges.push(ex);
                chat.messages.push(Message::assistant(raw));
                chat.messages.push(Message::user(format!(
                    "Your reply could not be used: {}. Reply again with one JSON object {{\"verdicts\": [...]}} \
                     answering each of these ids exactly once: {}.",
                    je.problems.join("; "),
                    ids.join(", ")
                )));
            }
        }
    }
    // Not reached: the second pass always returns.
    (
        Err(LlmError::new(
            ErrorKind::Protocol,
            "The judge model's reply could not be used.",
        )),
        exchanges,
    )
}

/// The judge model's verdicts as the engine's judge run: the one place a [`JudgeRun`] is made,
/// naming the judge ("OpenAI-compatible / gpt-4o-mini", never a key) and the version of its
/// prompt ([`prompts::JUDGE_PROMPT_VERSION`]).
pub fn judge_run(s: &ProviderSettings, verdicts: &[Verdict]) -> JudgeRun {
    JudgeRun {
        model: format!("{} / {}", s.kind.label(), s.model.trim()),
        prompt_version: prompts::JUDGE_PROMPT_VERSION.to_string(),
        verdicts: verdicts
            .iter()
            .map(|v| JudgeVerdict {
                item: v.id.clone(),
                met: v.met,
                evidence: v.evidence.clone(),
            })
            .collect(),
    }
}

/// Why the judge scored nothing: its call failed (or its reply was unusable even after asking
/// again), or the run it gave does not answer every judge item exactly once.
#[derive(Debug, Clone, PartialEq)]
pub enum JudgeFailure {
    Call(LlmError),
    Refused(JudgeError),
}

impl std::fmt::Display for JudgeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JudgeFailure::Call(e) => write!(f, "The judge did not score the items: {e}"),
            JudgeFailure::Refused(e) => write!(
                f,
                "The judge's reply was refused as a whole, so the items stay unscored: {e}"
            ),
        }
    }
}

/// Scores the judge items of a played encounter: the judge call ([`judge`]), its verdicts as a
/// [`JudgeRun`] ([`judge_run`]), checked against the case (every judge item exactly once).
pub async fn score_with_judge<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    voiced: &BTreeMap<u32, String>,
    cancel: &Cancel,
) -> (Result<JudgeRun, JudgeFailure>, Vec<LlmExchange>) {
    let (result, exchanges) = judge(client, case, record, voiced, cancel).await;
    let outcome = result.map_err(JudgeFailure::Call).and_then(|verdicts| {
        let run = judge_run(client.settings(), &verdicts);
        check_judge(case, &run)
            .map(|()| run)
            .map_err(JudgeFailure::Refused)
    });
    (outcome, exchanges)
}

/// Usage summed over exchanges: calls, failed calls, retries (from each reply's attempts),
/// tokens where the provider reported them, latency.
pub fn usage_totals<'a>(exchanges: impl IntoIterator<Item = &'a LlmExchange>) -> UsageTotals {
    let mut t = UsageTotals::default();
    for x in exchanges {
        t.calls += 1;
        match &x.completion {
            None => t.failed_calls += 1,
            Some(c) => {
                t.retries += c.attempts.saturating_sub(1);
                t.input_tokens += c.usage.input_tokens;
                t.output_tokens += c.usage.output_tokens;
                t.cached_input_tokens += c.usage.cached_input_tokens;
                t.latency_ms += c.latency_ms;
                t.unreported_usage += u32::from(!c.usage_reported);
            }
        }
    }
    t
}

/// Usage per role over `exchanges` (roles without calls left out).
pub fn usage_by_role(exchanges: &[LlmExchange]) -> BTreeMap<Role, UsageTotals> {
    Role::ALL
        .into_iter()
        .filter_map(|role| {
            let of_role: Vec<&LlmExchange> = exchanges.iter().filter(|x| x.role == role).collect();
            (!of_role.is_empty()).then(|| (role, usage_totals(of_role)))
        })
        .collect()
}

/// What an export carries beyond the engine for a model-played or model-voiced encounter, the
/// same from the CLI and the browser: every call (prompt, raw reply or error, never a key), the
/// clinician's protocol faults per kind, usage per role, and the lines a model voiced.
pub fn export_record(
    exchanges: &[LlmExchange],
    voiced: &BTreeMap<u32, String>,
) -> serde_json::Value {
    serde_json::json!({
        "llm_exchanges": exchanges,
        "protocol_faults": fault_counts(exchanges),
        "usage": usage_by_role(exchanges),
        "voiced_lines": voiced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_text_cleanup() {
        let names = ["Gary Hollis", "Maya Hollis"];
        assert_eq!(
            clean_patient_text("  Gary Hollis: It's my chest. ", &names),
            "It's my chest."
        );
        assert_eq!(clean_patient_text("**Maya**: He fell.", &names), "He fell.");
        assert_eq!(clean_patient_text("Patient: No.", &names), "No.");
        assert_eq!(
            clean_patient_text("It hurts: here, Doc.", &names),
            "It hurts: here, Doc."
        );
    }
}
