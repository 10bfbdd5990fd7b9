//! Prompt builders for the three model roles. Pure functions of the case and the encounter
//! record; no I/O.
//!
//! - The **patient** prompt carries the SP script (persona, affect, facts as the actor's
//!   knowledge) and the standardized-patient rules.
//! - The **clinician** prompt carries only the door note and what the environment returned —
//!   never the hidden script, the rubric or result texts that were not released.
//! - The **judge** prompt carries the transcript, the action log, the environment feedback and
//!   the rubric items that have no rule.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Chat, Message, Params};
use crate::engine::case::{Case, FactCategory, RubricItem, PATIENT};
use crate::engine::encounter::{ActionStatus, Entry, EntryKind, Input, Record, Turn};
use crate::engine::utterance::UtteranceKind;
use crate::engine::vignette::Vignette;

pub use crate::engine::debrief::vitals_text;

/// The display name of a patient-side speaker: "Gary Hollis" or "Maya (daughter)".
pub fn speaker_name(case: &Case, speaker: &str) -> String {
    if speaker == PATIENT {
        return case.patient.name.clone();
    }
    case.actors
        .iter()
        .find(|a| a.id == speaker)
        .map(|a| format!("{} ({})", a.name, a.role))
        .unwrap_or_else(|| speaker.to_string())
}

fn minutes(time_s: u32) -> String {
    format!("[minute {}]", time_s / 60)
}

fn status_text(s: ActionStatus) -> &'static str {
    match s {
        ActionStatus::Executed => "executed",
        ActionStatus::Pending => "pending (the result will come back later)",
        ActionStatus::Unsupported => "unsupported (not understood or not available)",
    }
}

/// What the environment returned in one entry, as the clinician sees it; `None` for the
/// clinician's own speech.
pub fn feedback_line(case: &Case, e: &Entry) -> Option<String> {
    let t = minutes(e.time_s);
    let line = match &e.kind {
        EntryKind::Started { status, vitals, .. } => {
            let mut s = format!("{t} Patient: {status}");
            let v = vitals_text(vitals);
            if !v.is_empty() {
                let _ = write!(s, " Monitor: {v}.");
            }
            s
        }
        EntryKind::ClinicianSaid { .. } => return None,
        EntryKind::ActorSaid { speaker, text, .. } => {
            format!("{t} {}: \"{text}\"", speaker_name(case, speaker))
        }
        EntryKind::Ordered {
            raw,
            name,
            status,
            form,
            ..
        } => match (name, form) {
            (Some(n), Some(f)) => {
                format!("{t} Order \"{raw}\" → {n} {f}: {}", status_text(*status))
            }
            (Some(n), None) => format!("{t} Order \"{raw}\" → {n}: {}", status_text(*status)),
            (None, _) => format!("{t} Order \"{raw}\": {}", status_text(*status)),
        },
        EntryKind::Cancelled { name, stopped, .. } => format!(
            "{t} {}: {name}.",
            if *stopped { "Stopped" } else { "Cancelled" }
        ),
        EntryKind::EndRequested { detail, .. } => format!(
            "{t} The encounter is closing: {detail}. Give your final diagnosis, differential and plan."
        ),
        EntryKind::Result { name, text, .. } => format!("{t} Result — {name}: {text}"),
        EntryKind::Notice { text, .. } => format!("{t} {text}"),
        EntryKind::PhaseChanged { status, .. } => format!("{t} Patient: {status}"),
        EntryKind::Vitals { vitals } => format!("{t} Monitor: {}", vitals_text(vitals)),
        EntryKind::ActorArrived { actor } => {
            format!("{t} {} arrives.", speaker_name(case, actor))
        }
        EntryKind::ActorLeft { actor } => format!("{t} {} leaves.", speaker_name(case, actor)),
        EntryKind::Waited { minutes } => format!("{t} You wait {minutes} minute(s)."),
        EntryKind::StageDone { .. } => format!("{t} Stage complete."),
        EntryKind::Ended { detail, .. } => format!("{t} The encounter has ended: {detail}."),
    };
    Some(line)
}

/// The clinician's system prompt: the MedSP1000 examinee protocol.
pub fn clinician_system(turn_limit: Option<u32>) -> String {
    let mut s = String::from(
        "You are the examining clinician in a simulated clinical encounter (an OSCE-style station). \
         You see the door note and then, after each of your turns, only what the environment returns: \
         what the patient and others present say, the status of each action (executed, pending, \
         unsupported), results when they come back, events, and vital signs.\n\n\
         Reply to every turn with exactly one JSON object and nothing else, no code fences, no commentary:\n\
         {\"speak\": \"...\", \"actions\": [\"...\"], \"eos\": false}\n\n\
         - \"speak\": only the words you say aloud to the patient or to others present (\"\" if you say nothing).\n\
         - \"actions\": only non-verbal operations, one per item: examinations (\"examine abdomen\"), \
         bedside tests, laboratory tests, imaging, medications with dose and route (\"aspirin 300 mg PO\"), \
         procedures, consults, and the disposition (\"admit to cardiology\"). [] if none.\n\
         - \"eos\": true only when the current stage of the encounter is complete; otherwise false.\n\n\
         Take a focused history, examine, investigate, treat and decide on a disposition as a competent \
         clinician would. Do not invent findings: ask or order to learn them.",
    );
    if let Some(n) = turn_limit {
        let _ = write!(s, " You have at most {n} turns.");
    }
    s
}

/// What ends the clinician's chat for an ordinary turn (after the latest feedback).
const TURN_CUE: &str =
    "\n\nYour turn: reply with one JSON object {\"speak\", \"actions\", \"eos\"}.";

/// The clinician's serialized turn, as its earlier replies are shown back to it.
fn turn_json(turn: &Turn) -> String {
    serde_json::json!({"speak": turn.speak, "actions": turn.actions, "eos": turn.eos}).to_string()
}

/// The clinician's chat for its next turn: door note, then alternating own turns and the
/// environment's feedback. Built from the record only.
pub fn clinician_chat(case: &Case, record: &Record, params: Params) -> Chat {
    let mut by_turn: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for e in &record.log {
        if let Some(line) = feedback_line(case, e) {
            by_turn.entry(e.turn).or_default().push(line);
        }
    }
    let mut messages = Vec::new();
    let mut first = format!(
        "Door note: {}\n\nThe encounter begins.",
        case.door_note.trim()
    );
    if let Some(lines) = by_turn.get(&0) {
        first.push('\n');
        first.push_str(&lines.join("\n"));
    }
    messages.push(Message::user(first));
    let mut n = 0;
    for input in &record.inputs {
        if let Input::Turn(turn) = input {
            n += 1;
            messages.push(Message::assistant(turn_json(turn)));
            let lines = by_turn.get(&n).cloned().unwrap_or_default();
            let text = if lines.is_empty() {
                "Nothing happens in response.".to_string()
            } else {
                lines.join("\n")
            };
            messages.push(Message::user(text));
        }
    }
    if let Some(last) = messages.last_mut() {
        if record.state.end_requested.is_some() {
            let _ = write!(
                last.text,
                "\n\nThe encounter is closing. Reply with one JSON object: {}.",
                super::protocol::END_FORM_SHAPE
            );
        } else {
            last.text.push_str(TURN_CUE);
        }
    }
    let closing = record.state.end_requested.is_some();
    Chat {
        system: clinician_system(record.config.turn_limit),
        messages,
        params,
        schema: Some(if closing {
            super::protocol::end_form_schema()
        } else {
            super::protocol::turn_schema()
        }),
    }
}

fn category_label(c: FactCategory) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
        .replace('_', " ")
}

/// What one patient-side reply must convey: who speaks and which facts the engine decided
/// the question elicited.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientReply<'a> {
    /// "patient" or an actor id.
    pub speaker: &'a str,
    /// The fact ids the engine matched (empty: nothing in the script covers the question).
    pub facts: &'a [String],
    /// The scripted line the engine produced, as a fallback reference for wording.
    pub scripted: &'a str,
    /// What kind of utterance the engine read (a question, news, a request to examine...).
    pub kind: Option<UtteranceKind>,
    /// The case's reaction (by id) the engine chose for this line: the model voices it.
    pub reaction: Option<&'a str>,
}

impl<'a> PatientReply<'a> {
    /// What a patient-side log entry (`ActorSaid`) asks the patient model to voice; `None` for
    /// any other entry.
    pub fn of(kind: &'a EntryKind) -> Option<PatientReply<'a>> {
        let EntryKind::ActorSaid {
            speaker,
            text,
            facts,
            kind,
            reaction,
        } = kind
        else {
            return None;
        };
        Some(PatientReply {
            speaker,
            facts,
            scripted: text,
            kind: *kind,
            reaction: reaction.as_deref(),
        })
    }
}

/// The patient's system prompt: persona, everyone on the patient's side, what each knows, and
/// the standardized-patient rules. It depends on the case alone, so it is byte-identical for
/// every reply of an encounter (a provider caches it); what changes from one reply to the next
/// is in [`patient_cue`], at the end of the last message.
pub fn patient_system(case: &Case) -> String {
    let p = &case.patient;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "You are a standardized patient: a trained actor in a clinical skills examination. You play {} \
         ({}, {}), and, when they are present, the other people on the patient's side listed below.",
        p.name, p.age, p.sex
    );
    let _ = writeln!(s, "\nWho {} is: {}", p.name, p.persona.trim());
    let _ = writeln!(s, "Manner: {}", p.affect.trim());
    for a in &case.actors {
        let _ = writeln!(
            s,
            "\nWhen present: {} ({}): {}",
            a.name,
            a.role,
            a.persona.trim()
        );
    }
    let _ = writeln!(
        s,
        "\nWhat you know (give each item only when asked about it, in your own everyday words; each \
         person knows only the items marked as known to them):"
    );
    for f in &case.facts {
        let who: Vec<String> = if f.speakers.is_empty() {
            vec![speaker_name(case, PATIENT)]
        } else {
            f.speakers.iter().map(|sp| speaker_name(case, sp)).collect()
        };
        let _ = writeln!(
            s,
            "- ({}; known to {}) {}",
            category_label(f.category),
            who.join(", "),
            f.answer.trim()
        );
    }
    let _ = write!(
        s,
        "\nRules of a standardized patient:\n\
         1. Answer only what the clinician asks, briefly (one to three short sentences), as a real person would.\n\
         2. Never volunteer information that was not asked for.\n\
         3. Stay in character at all times. Never mention being an actor, an AI, a simulation, a case or a script.\n\
         4. No meta-language: never say things like \"the case says\", \"not provided\", \"not specified\" or \
         \"not in my information\". If asked something your knowledge does not cover, answer as this person \
         would: usually a plain no, or that you don't know.\n\
         5. Speak only as the person the note for this reply names. Never speak as the clinician, a nurse or a \
         narrator, and never describe examination findings, test results or what the clinician does.\n\
         6. Reply with the spoken words only.\n\
         7. The clinician's latest message ends with a note in square brackets for this reply only: who is \
         present, who speaks and what to convey. Follow it; never repeat it or mention it."
    );
    s
}

/// The per-reply part of the patient prompt, appended to the last message: who is present and
/// what the clinician sees now, who speaks, and which facts the engine matched (or the reaction
/// it chose). Everything before it stays the same from one reply to the next.
pub fn patient_cue(case: &Case, present: &[String], status: &str, reply: &PatientReply) -> String {
    let p = &case.patient;
    let mut s = String::from("[Note for this reply, not spoken:");
    let mut here = vec![p.name.clone()];
    here.extend(
        case.actors
            .iter()
            .filter(|a| present.contains(&a.id))
            .map(|a| format!("{} ({})", a.name, a.role)),
    );
    let _ = write!(s, " Present: {}.", here.join(", "));
    if !status.trim().is_empty() {
        let _ = write!(s, " What the clinician sees: {}", status.trim());
        if !status.trim().ends_with('.') {
            s.push('.');
        }
    }
    // The engine decides who speaks: a line it gives the patient means the patient can answer
    // now (a phase may wake an unconscious patient), whatever `can_answer` says at the start.
    if !p.can_answer && reply.speaker != PATIENT {
        let _ = write!(s, " {} cannot answer questions right now.", p.name);
    }
    let who = speaker_name(case, reply.speaker);
    // A fact with state-dependent answers conveys the answer the engine chose now: the
    // scripted line.
    let state_dependent = reply
        .facts
        .iter()
        .filter_map(|id| case.facts.iter().find(|f| &f.id == id))
        .any(|f| !f.variants.is_empty());
    let facts: Vec<&str> = if state_dependent {
        vec![reply.scripted.trim()]
    } else {
        reply
            .facts
            .iter()
            .filter_map(|id| case.facts.iter().find(|f| &f.id == id))
            .map(|f| f.answer.trim())
            .collect()
    };
    let reaction = reply
        .reaction
        .and_then(|id| case.reactions.iter().find(|r| r.id == id));
    let _ = write!(s, " This reply is spoken by {who}.");
    if reaction.is_some() {
        let _ = write!(
            s,
            " The clinician has just told you something ({}); this is how you react, so convey this reaction and \
             these words' meaning, nothing more: {}",
            kind_label(reply.kind),
            reply.scripted.trim()
        );
    } else if facts.is_empty() && reply.kind.is_some_and(|k| k != UtteranceKind::Question) {
        let _ = write!(
            s,
            " The clinician is not asking a question ({}): respond briefly in character, without adding new facts (for example: \"{}\").",
            kind_label(reply.kind),
            reply.scripted.trim()
        );
    } else if facts.is_empty() {
        let _ = write!(
            s,
            " The question touches nothing in what you know: reply in character without adding new facts."
        );
        if !reply.scripted.trim().is_empty() {
            let _ = write!(s, " (For example: \"{}\")", reply.scripted.trim());
        }
    } else {
        let _ = write!(
            s,
            " The question asks about the following, and this reply should convey exactly this, nothing more: {}",
            facts.join(" ")
        );
    }
    s.push(']');
    s
}

/// What the clinician did, in words for the patient prompt.
fn kind_label(kind: Option<UtteranceKind>) -> &'static str {
    match kind {
        Some(UtteranceKind::ExamRequest) => "they asked to examine you or do something to you",
        Some(UtteranceKind::News) => "they told you a diagnosis or news",
        Some(UtteranceKind::Explanation) => "they explained a plan or a treatment",
        Some(UtteranceKind::Empathy) => "they showed empathy",
        Some(UtteranceKind::Reassurance) => "they reassured you",
        Some(UtteranceKind::Greeting) => "they greeted you",
        Some(UtteranceKind::Closing) => "they are leaving for now",
        Some(UtteranceKind::Instruction) => "they asked you to do something",
        _ => "a statement",
    }
}

/// The patient's chat: the stable system part ([`patient_system`]), the conversation so far
/// (clinician as user, patient side as assistant), and the clinician's latest words with the
/// per-reply note ([`patient_cue`]) as the last message. `voiced` maps log entry numbers to what
/// the model said instead of the scripted line, so the history matches what the clinician
/// heard. Every message but the last is the same from one reply to the next.
pub fn patient_chat(
    case: &Case,
    history: &[Entry],
    voiced: &BTreeMap<u32, String>,
    present: &[String],
    status: &str,
    reply: &PatientReply,
    params: Params,
) -> Chat {
    let mut messages: Vec<Message> = Vec::new();
    for e in history {
        match &e.kind {
            EntryKind::ClinicianSaid { text } => messages.push(Message::user(text.clone())),
            EntryKind::ActorSaid { speaker, text, .. } => {
                let text = voiced.get(&e.seq).unwrap_or(text);
                let line = if speaker == PATIENT {
                    text.clone()
                } else {
                    format!("{}: {text}", speaker_name(case, speaker))
                };
                messages.push(Message::assistant(line));
            }
            _ => {}
        }
    }
    if !matches!(messages.last(), Some(m) if m.speaker == super::Speaker::User) {
        messages.push(Message::user("(The clinician waits for you to go on.)"));
    }
    if let Some(last) = messages.last_mut() {
        last.text.push_str("\n\n");
        last.text
            .push_str(&patient_cue(case, present, status, reply));
    }
    Chat {
        system: patient_system(case),
        messages,
        params,
        schema: None,
    }
}

/// The note that replaces dropped turns.
pub const OMITTED: &str = "(Earlier turns are omitted to fit the model's context window.)";

/// Drops the oldest half of the turn pairs after the first message (the door note or the
/// opening), for a model whose context window the chat outgrew. `None` when there is
/// nothing left to drop.
pub fn trim_oldest(chat: &Chat) -> Option<Chat> {
    // Messages after the first come in (assistant, user) pairs; keep the last pair at least.
    let pairs = chat.messages.len().saturating_sub(1) / 2;
    if pairs < 2 {
        return None;
    }
    let drop = pairs / 2;
    let mut messages = Vec::with_capacity(chat.messages.len() - 2 * drop);
    let mut first = chat.messages[0].clone();
    if !first.text.ends_with(OMITTED) {
        first.text.push_str("\n\n");
        first.text.push_str(OMITTED);
    }
    messages.push(first);
    messages.extend(chat.messages[1 + 2 * drop..].iter().cloned());
    Some(Chat {
        system: chat.system.clone(),
        messages,
        params: chat.params.clone(),
        schema: chat.schema.clone(),
    })
}

/// The rubric items the judge scores: those without a rule.
pub fn judge_items(case: &Case) -> Vec<&RubricItem> {
    crate::engine::score::judge_items(case).collect()
}

/// The version of the clinician prompt ([`clinician_system`], [`clinician_chat`], the
/// corrections in [`super::protocol`]); change it when that prompt changes.
pub const CLINICIAN_PROMPT_VERSION: &str = "bedside-clinician-1";

/// The version of the patient prompt ([`patient_system`], [`patient_cue`], [`patient_chat`]).
pub const PATIENT_PROMPT_VERSION: &str = "bedside-patient-1";

/// The version of the best-of selector prompt ([`selector_system`], [`selector_chat`]).
pub const SELECTOR_PROMPT_VERSION: &str = "bedside-selector-1";

/// The version of the static prompt ([`static_system`], [`static_chat`], the correction in
/// [`super::protocol`]).
pub const STATIC_PROMPT_VERSION: &str = "bedside-static-1";

/// Each prompt's version by role ("clinician", "patient", "judge", "selector"), to record with
/// a run so that its results stay comparable.
pub fn prompt_versions() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("clinician", CLINICIAN_PROMPT_VERSION),
        ("patient", PATIENT_PROMPT_VERSION),
        ("judge", JUDGE_PROMPT_VERSION),
        ("selector", SELECTOR_PROMPT_VERSION),
        ("static", STATIC_PROMPT_VERSION),
    ])
}

/// The static clinician's system prompt: the whole case at once, one answer.
pub fn static_system() -> String {
    format!(
        "You are the examining clinician. You are given a written clinical vignette: the whole case \
         at once, with the history in the words of the people who told it and the examination and \
         investigation results already back. There is no conversation: you answer once.\n\n\
         Reply with exactly one JSON object and nothing else, no code fences, no commentary:\n\
         {}\n\n\
         - \"actions\": every non-verbal operation you would carry out now, one per item, in the \
         order you would do them: examinations, bedside tests, laboratory tests, imaging, \
         medications with dose and route (\"aspirin 300 mg PO\"), fluids, oxygen, procedures and \
         consults. Medicines and fluids given intravenously need IV access: order it unless the \
         vignette says a line is in place. [] if none.\n\
         - \"disposition\": where the patient goes next; keep it out of \"actions\".\n\n\
         Manage the patient as a competent clinician would, from what the vignette gives.",
        super::protocol::STATIC_SHAPE
    )
}

/// The vignette as the static clinician reads it.
pub fn vignette_text(case: &Case, v: &Vignette) -> String {
    let mut s = format!("Door note: {}\n\nPatient: {}.\n", v.door_note, v.patient);
    let _ = write!(s, "Now: {}", v.status.trim());
    let vitals = vitals_text(&v.vitals);
    if !vitals.is_empty() {
        let _ = write!(s, " Monitor: {vitals}.");
    }
    let _ = writeln!(
        s,
        " IV access: {}.",
        if v.iv_access {
            "in place"
        } else {
            "not yet in place"
        }
    );
    s.push_str("\nHistory (each item in the words of the person who told it):\n");
    for f in &v.facts {
        let _ = writeln!(
            s,
            "- {} ({}): \"{}\"",
            f.category.label(),
            speaker_name(case, &f.speaker),
            f.text.trim()
        );
    }
    if !v.findings.is_empty() {
        s.push_str("\nExamination and investigations:\n");
        for f in &v.findings {
            let _ = writeln!(s, "- {}: {}", f.name, f.text.trim());
        }
    }
    s
}

/// The static clinician's chat: the vignette, and the question.
pub fn static_chat(case: &Case, v: &Vignette, params: Params) -> Chat {
    let text = format!(
        "{}\nGive your diagnosis and your management. Reply with one JSON object: {}.",
        vignette_text(case, v),
        super::protocol::STATIC_SHAPE
    );
    Chat {
        system: static_system(),
        messages: vec![Message::user(text)],
        params,
        schema: Some(super::protocol::static_schema()),
    }
}

/// The best-of selector's system prompt: what it reads and the reply format.
pub fn selector_system() -> String {
    "You supervise the examining clinician in a simulated clinical encounter (an OSCE-style \
     station). The conversation is the encounter so far as the clinician saw it: the door note and \
     what the environment returned, and the clinician's own turns as JSON objects {\"speak\", \
     \"actions\", \"eos\"}. At the end, candidate next turns are listed, numbered. Choose the one \
     a competent clinician should take now: safe, focused on what matters most, moving the \
     encounter forward, with only spoken words in \"speak\" and only non-verbal operations in \
     \"actions\".\n\n\
     Reply with exactly one JSON object and nothing else: {\"choice\": <the candidate's number>}"
        .to_string()
}

/// The selector's chat: the candidates' chat (`chat`, the clinician's for this turn, trimmed if
/// it was) with the candidate turns listed, numbered from 1, in place of the turn's cue.
pub fn selector_chat(chat: &Chat, candidates: &[&Turn], params: Params) -> Chat {
    let mut messages = chat.messages.clone();
    if let Some(last) = messages.last_mut() {
        if let Some(feedback) = last.text.strip_suffix(TURN_CUE) {
            last.text = feedback.to_string();
        }
        last.text
            .push_str("\n\nCandidate next turns for the clinician:");
        for (i, t) in candidates.iter().enumerate() {
            let _ = write!(last.text, "\n{}. {}", i + 1, turn_json(t));
        }
        let _ = write!(
            last.text,
            "\n\nWhich candidate should the clinician take? Reply with one JSON object: \
             {{\"choice\": <a number from 1 to {}>}}.",
            candidates.len()
        );
    }
    Chat {
        system: selector_system(),
        messages,
        params,
        schema: Some(super::protocol::selector_schema(candidates.len())),
    }
}

/// The version of the judge prompt ([`judge_system`], [`judge_chat`]), recorded with every
/// judge run so that results stay comparable; change it when the judge prompt changes.
pub const JUDGE_PROMPT_VERSION: &str = "bedside-judge-1";

/// The judge's system prompt: frozen-rubric semantics and the reply format.
pub fn judge_system() -> String {
    "You are an examiner scoring a simulated clinical encounter against a frozen rubric. \
     For each rubric item decide whether it was met. An item is met (true) only if the transcript, \
     the action log or the environment feedback contains explicit evidence of it; when in doubt, it \
     is not met (false). Quote the evidence exactly as it appears in the material (a short excerpt); \
     for an item not met, give an empty evidence string or say briefly what is missing.\n\n\
     Answer every item exactly once, using its id, and nothing else. Reply with one JSON object only:\n\
     {\"verdicts\": [{\"id\": \"<item id>\", \"met\": true, \"evidence\": \"<quote>\"}, ...]}"
        .to_string()
}

/// The material the judge reads: transcript, action log, environment feedback and end form.
/// What the judge reads: the transcript as the clinician heard it (`voiced`: lines a patient
/// model said in place of the scripted ones, by log seq), the action log with statuses and
/// results, the environment's feedback, and the end form.
pub fn judge_material(case: &Case, record: &Record, voiced: &BTreeMap<u32, String>) -> String {
    let mut transcript = Vec::new();
    let mut feedback = Vec::new();
    for e in &record.log {
        let t = minutes(e.time_s);
        match &e.kind {
            EntryKind::ClinicianSaid { text } => {
                transcript.push(format!("{t} Clinician: \"{text}\""))
            }
            EntryKind::ActorSaid { speaker, text, .. } => {
                let text = voiced.get(&e.seq).unwrap_or(text);
                transcript.push(format!("{t} {}: \"{text}\"", speaker_name(case, speaker)))
            }
            EntryKind::Ordered { .. } | EntryKind::Result { .. } => {}
            _ => {
                if let Some(l) = feedback_line(case, e) {
                    feedback.push(l);
                }
            }
        }
    }
    let mut actions = Vec::new();
    for a in &record.state.actions {
        let mut line = format!(
            "{} {} — {}",
            minutes(a.time_s),
            a.label(),
            match a.status {
                ActionStatus::Executed => "executed",
                ActionStatus::Pending => "pending",
                ActionStatus::Unsupported => "unsupported",
            }
        );
        if let Some(r) = &a.result {
            let _ = write!(line, "; result: {r}");
        }
        actions.push(line);
    }
    let mut s = String::new();
    let _ = writeln!(s, "Door note: {}\n", case.door_note.trim());
    let _ = writeln!(
        s,
        "TRANSCRIPT\n{}\n",
        if transcript.is_empty() {
            "(nothing was said)".into()
        } else {
            transcript.join("\n")
        }
    );
    let _ = writeln!(
        s,
        "ACTION LOG\n{}\n",
        if actions.is_empty() {
            "(no actions)".into()
        } else {
            actions.join("\n")
        }
    );
    let _ = writeln!(
        s,
        "ENVIRONMENT FEEDBACK\n{}",
        if feedback.is_empty() {
            "(none)".into()
        } else {
            feedback.join("\n")
        }
    );
    if let Some(f) = &record.state.final_form {
        let _ = writeln!(
            s,
            "\nEND FORM\nDiagnosis: {}\nDifferential: {}\nPlan: {}\nDisposition: {}",
            f.diagnosis,
            f.differential.join("; "),
            f.plan,
            f.disposition.as_deref().unwrap_or("(none)")
        );
    }
    s
}

/// The judge's chat for the given items (normally [`judge_items`]).
pub fn judge_chat(
    case: &Case,
    record: &Record,
    voiced: &BTreeMap<u32, String>,
    items: &[&RubricItem],
    params: Params,
) -> Chat {
    let mut user = judge_material(case, record, voiced);
    let _ = writeln!(user, "\nRUBRIC ITEMS (answer each id exactly once)");
    for i in items {
        let _ = writeln!(
            user,
            "- id: {} [{}] {}",
            i.id,
            i.competency.label(),
            i.text.trim()
        );
    }
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    Chat {
        system: judge_system(),
        messages: vec![Message::user(user)],
        params,
        schema: Some(super::protocol::judge_schema(&ids)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::case::Vitals;

    #[test]
    fn vitals_are_spelled_out() {
        let v = Vitals {
            hr: Some(56),
            sbp: Some(104),
            dbp: Some(66),
            spo2: Some(95),
            temp_c: Some(36.6),
            pain: Some(8),
            ..Default::default()
        };
        assert_eq!(
            vitals_text(&v),
            "HR 56, BP 104/66, SpO2 95%, T 36.6 °C, pain 8/10"
        );
        assert_eq!(vitals_text(&Vitals::default()), "");
    }

    #[test]
    fn trimming_drops_the_oldest_turn_pairs() {
        let params = Params {
            model: "m".into(),
            temperature: 0.0,
            max_tokens: 1,
            seed: None,
        };
        let mut messages = vec![Message::user("door")];
        for i in 1..=5 {
            messages.push(Message::assistant(format!("turn {i}")));
            messages.push(Message::user(format!("feedback {i}")));
        }
        let chat = Chat {
            system: "s".into(),
            messages,
            params,
            schema: Some(crate::llm::protocol::turn_schema()),
        };
        let t = trim_oldest(&chat).unwrap();
        assert_eq!(t.schema, chat.schema, "the reply's shape survives trimming");
        let texts: Vec<&str> = t.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts[0], format!("door\n\n{OMITTED}"));
        assert_eq!(
            &texts[1..],
            [
                "turn 3",
                "feedback 3",
                "turn 4",
                "feedback 4",
                "turn 5",
                "feedback 5"
            ]
        );
        let t2 = trim_oldest(&t).unwrap();
        assert_eq!(t2.messages.len(), 5);
        assert!(!t2.messages[0]
            .text
            .ends_with(&format!("{OMITTED}\n\n{OMITTED}")));
        assert_eq!(trim_oldest(&trim_oldest(&t2).unwrap()), None);
    }

    #[test]
    fn clinician_system_states_the_protocol() {
        let s = clinician_system(Some(12));
        assert!(s.contains("{\"speak\": \"...\", \"actions\": [\"...\"], \"eos\": false}"));
        assert!(s.contains("at most 12 turns"));
        assert!(judge_system().contains("exactly once"));
    }
}
