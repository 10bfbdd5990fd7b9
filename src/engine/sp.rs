//! The scripted standardized patient: answers the clinician's utterance from the case script.
//!
//! Each sentence of the utterance is matched against the facts' triggers on canonical content
//! words (see `lexicon`), so several questions in one utterance each get their answer, and lay
//! and medical wordings meet. Unscripted review-of-systems questions get a natural negative;
//! anything else an in-character non-answer. Which facts were elicited is decided here, the
//! same way whoever voices the patient.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::case::{Case, FactCategory, ReactionKind, PATIENT};
use super::lexicon::{canonical_tokens_except, tokens_marked, ROS_NEGATIVES};
use super::rule::Rule;
use super::text::{FuzzyVocab, WordMap};
use super::utterance::{classify, expand, has, Classified, UtteranceKind};

/// Words that carry no content in a question. Sorted, for binary search (a test checks).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "by",
    "can",
    "could",
    "did",
    "do",
    "doctor",
    "doe",
    "does",
    "dont",
    "dr",
    "else",
    "ever",
    "experience",
    "experienced",
    "feel",
    "feeling",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "hav",
    "have",
    "hello",
    "hi",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "ive",
    "just",
    "know",
    "let",
    "lets",
    "like",
    "madam",
    "me",
    "mr",
    "mrs",
    "ms",
    "my",
    "no",
    "not",
    "notice",
    "noticed",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "other",
    "out",
    "please",
    "right",
    "should",
    "sir",
    "so",
    "some",
    "something",
    "tell",
    "thank",
    "thanks",
    "that",
    "the",
    "there",
    "this",
    "to",
    "today",
    "up",
    "us",
    "very",
    "was",
    "we",
    "well",
    "were",
    "will",
    "with",
    "would",
    "yes",
    "you",
    "your",
    "youre",
    "yours",
    "yourself",
    "youve",
];

const QUESTION_STARTS: &[&str] = &[
    "do", "does", "did", "are", "is", "was", "were", "have", "has", "had", "can", "could", "would",
    "will", "when", "where", "what", "how", "why", "who", "which", "any", "tell", "describe",
    "whats", "hows",
];

/// Shown once per encounter when the clinician asks to examine the patient in words: the
/// examination itself is an order.
pub const EXAM_HINT: &str = "To examine the patient, place the examination from the Orders panel (for example \"examine chest\"); its findings come back as a result.";

const DEFAULT_NON_ANSWERS: &[&str] = &[
    "I'm not sure what you mean.",
    "I don't really know, to be honest.",
    "I couldn't tell you.",
    "Sorry, I'm not sure.",
];

const DEFAULT_ACTOR_NON_ANSWERS: &[&str] = &["I'm not sure, sorry.", "I don't know about that."];

/// Content tokens of a text: canonical tokens without filler words.
pub fn content_tokens(text: &str) -> Vec<String> {
    canonical_tokens_except(text, &is_stopword)
}

fn is_stopword(w: &str) -> bool {
    STOPWORDS.binary_search(&w).is_ok()
}

/// One line said by a patient-side speaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpokenLine {
    /// "patient" or an actor id.
    pub speaker: String,
    pub text: String,
    /// Facts this line disclosed.
    pub facts: Vec<String>,
    /// What kind of utterance this line answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<UtteranceKind>,
    /// The case's reaction (by id) this line gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
}

/// The case script, pre-tokenized for matching. Built from the case; not serialized.
///
/// Every word a trigger (or a review-of-systems concept) uses gets a small id; a trigger is a
/// sorted list of ids, and each id lists the triggers that use it, so a question only looks
/// at the triggers that share a word with it.
#[derive(Debug, Clone)]
pub struct ScriptIndex {
    /// trigger and concept word → id
    ids: WordMap<String, u32>,
    /// per fact: its triggers as sorted, distinct word ids
    triggers: Vec<Vec<Vec<u32>>>,
    /// per word id: the (fact, trigger) pairs whose trigger uses it
    postings: Vec<Vec<(u32, u32)>>,
    /// per `ROS_NEGATIVES` entry: its concept's word ids
    ros: Vec<Vec<u32>>,
    /// per word id: how many facts have a trigger that uses it (a word few facts use names
    /// what a question asks for more specifically than one many facts share)
    facts_using: Vec<u32>,
    vocab: FuzzyVocab,
}

impl ScriptIndex {
    pub fn new(case: &Case) -> ScriptIndex {
        let mut index = ScriptIndex {
            ids: WordMap::default(),
            triggers: Vec::with_capacity(case.facts.len()),
            postings: Vec::new(),
            ros: Vec::with_capacity(ROS_NEGATIVES.len()),
            facts_using: Vec::new(),
            vocab: FuzzyVocab::default(),
        };
        for (fi, fact) in case.facts.iter().enumerate() {
            let mut triggers = Vec::with_capacity(fact.triggers.len());
            for text in &fact.triggers {
                let mut ids: Vec<u32> = content_tokens(text)
                    .into_iter()
                    .map(|w| index.intern(w))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                if ids.is_empty() {
                    continue;
                }
                for &id in &ids {
                    index.postings[id as usize].push((fi as u32, triggers.len() as u32));
                }
                triggers.push(ids);
            }
            index.triggers.push(triggers);
        }
        for (concept, _) in ROS_NEGATIVES {
            let ids = concept
                .split(' ')
                .map(|w| index.intern(w.to_string()))
                .collect();
            index.ros.push(ids);
        }
        index.facts_using = index
            .postings
            .iter()
            .map(|p| {
                let mut facts: Vec<u32> = p.iter().map(|(f, _)| *f).collect();
                facts.dedup();
                facts.len() as u32
            })
            .collect();
        index
    }

    /// How specifically a trigger names its fact: the sum over its words of one over the
    /// number of facts whose triggers use the word.
    fn specificity(&self, trigger: &[u32]) -> f64 {
        trigger
            .iter()
            .map(|&id| 1.0 / f64::from(self.facts_using[id as usize].max(1)))
            .sum()
    }

    fn intern(&mut self, word: String) -> u32 {
        if let Some(&id) = self.ids.get(&word) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.postings.push(Vec::new());
        self.vocab.insert(word.clone());
        self.ids.insert(word, id);
        id
    }
}

/// A sentence's content words as script word ids: all of them, and those that name what the
/// sentence is about (not the object of an allergy).
struct SentenceWords {
    /// The sentence had content words (known to the script or not).
    any: bool,
    all: Vec<u32>,
    heads: Vec<u32>,
    /// Script word ids in the order the sentence says them (first occurrence).
    order: Vec<u32>,
}

impl SentenceWords {
    fn new(index: &ScriptIndex, sentence: &str) -> SentenceWords {
        let tokens = tokens_marked(sentence, &is_stopword);
        let mut words = SentenceWords {
            any: !tokens.is_empty(),
            all: Vec::with_capacity(tokens.len()),
            heads: Vec::with_capacity(tokens.len()),
            order: Vec::with_capacity(tokens.len()),
        };
        for t in &tokens {
            // Words no trigger uses cannot complete a trigger; only typos of script words
            // matter.
            let Some(id) = index
                .vocab
                .correct_strict(&t.text)
                .and_then(|w| index.ids.get(w))
                .copied()
            else {
                continue;
            };
            words.all.push(id);
            if !words.order.contains(&id) {
                words.order.push(id);
            }
            if !t.qualifier {
                words.heads.push(id);
            }
        }
        words.all.sort_unstable();
        words.all.dedup();
        words.heads.sort_unstable();
        words.heads.dedup();
        words
    }

    fn has_all(&self, ids: &[u32]) -> bool {
        is_subset(ids, &self.all)
    }

    /// Where in the sentence a trigger's words first appear.
    fn position(&self, ids: &[u32]) -> usize {
        ids.iter()
            .filter_map(|id| self.order.iter().position(|o| o == id))
            .min()
            .unwrap_or(usize::MAX)
    }

    fn has_head(&self, ids: &[u32]) -> bool {
        ids.iter().any(|id| self.heads.binary_search(id).is_ok())
    }
}

/// Whether sorted `a` is a subset of sorted `b`.
fn is_subset(a: &[u32], b: &[u32]) -> bool {
    let mut j = 0;
    for x in a {
        while j < b.len() && b[j] < *x {
            j += 1;
        }
        if j == b.len() || b[j] != *x {
            return false;
        }
        j += 1;
    }
    true
}

/// Who can speak right now.
pub struct Presence<'a> {
    pub patient_can_answer: bool,
    pub actors_present: &'a BTreeSet<String>,
}

/// What the scripted patient knows of the encounter when it answers: the phase and the state
/// (for state-dependent answers and reactions) and what the patient side said before.
pub struct Context<'a> {
    pub phase: &'a str,
    /// Evaluates a rule on the encounter's state now (`eval::holds`).
    pub holds: &'a dyn Fn(&Rule) -> bool,
    /// How many times each reaction (by id) was given so far.
    pub reaction_uses: &'a BTreeMap<String, u32>,
    /// The last line each speaker said, so a non-answer is not repeated back to back.
    pub last_lines: &'a BTreeMap<String, String>,
    /// Someone on the patient's side already reacted to this utterance (an event's line), so
    /// statements get no further reaction.
    pub scripted_reaction: bool,
}

/// The patient side's reply to one utterance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    pub lines: Vec<SpokenLine>,
    /// The clinician asked to examine (or do something to) the patient.
    pub exam_request: bool,
}

/// Splits an utterance into sentences (at ? . ! ;), keeping whether each was a question.
fn sentences(utterance: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in utterance.chars() {
        if matches!(c, '?' | '.' | '!' | ';' | '\n') {
            let is_q = c == '?';
            if !cur.trim().is_empty() {
                out.push((cur.trim().to_string(), is_q));
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push((cur.trim().to_string(), false));
    }
    out.into_iter()
        .map(|(s, q)| {
            let raw = s.split_whitespace().next().unwrap_or("").to_lowercase();
            let first: String = raw.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            // "We're going to..." is not "were": a contraction starts a question only when it
            // is a question word's ("what's", "how's").
            let contracted = raw.contains(['\'', '’']);
            let q = q
                || (QUESTION_STARTS.contains(&first.as_str())
                    && (!contracted || matches!(first.as_str(), "whats" | "hows")));
            (s, q)
        })
        .collect()
}

/// Questions about who is with the patient or whom to call.
const PEOPLE_QUESTIONS: &[&str] = &[
    "anyone we can call",
    "anyone we should call",
    "anyone we could call",
    "anyone you would like us to call",
    "anyone you would like us to contact",
    "anyone you want us to call",
    "anyone we should contact",
    "anyone we can contact",
    "anyone we should let know",
    "anyone we can let know",
    "someone we can call",
    "someone we should call",
    "let know you are here",
    "who can we call",
    "who should we call",
    "who should we contact",
    "who is with you",
    "who came with you",
    "who came in with",
    "who came with",
    "who is here with",
    "who brought",
    "anyone with you",
    "here with you",
    "next of kin",
    "who is at home",
    "anyone you can talk to",
    "anyone to talk to",
    "someone you can talk to",
    "who do you have",
    "family we should",
    "on their way",
    "live with anyone",
    "lives with anyone",
    "live alone",
    "live on your own",
];

/// Questions about who is here (answered by whoever came with the patient).
const PRESENCE_QUESTIONS: &[&str] = &[
    "with you",
    "with her",
    "with him",
    "came in",
    "came with",
    "here with",
    "brought",
];

/// Words naming the people in a patient's life (a fact mentioning one answers "anyone we can
/// call?").
const RELATIONS: &[&str] = &[
    "wife",
    "husband",
    "partner",
    "girlfriend",
    "boyfriend",
    "sister",
    "brother",
    "daughter",
    "son",
    "mum",
    "mother",
    "dad",
    "father",
    "flatmate",
    "friend",
    "friends",
    "parents",
    "family",
    "share a flat",
    "live with",
    "lives with",
];

/// Words that make a question about the family (a family-history question is answered by
/// the family history, not the patient's own).
const FAMILY_WORDS: &[&str] = &[
    "family",
    "relatives",
    "parents",
    "mum",
    "mother",
    "dad",
    "father",
    "brother",
    "brothers",
    "sister",
    "sisters",
    "siblings",
    "grandparents",
    "runs",
    "run",
];

/// Open questions about why the patient came: answered by the chief complaint.
const COMPLAINT_QUESTIONS: &[&str] = &[
    "what brings you",
    "what brought you",
    "what has brought you",
    "what is brought you",
    "what is been going on",
    "what has been going on",
    "what is going on",
    "what is been happening",
    "what has been happening",
    "what is happening",
    "what happened",
    "what has happened",
    "what is the problem",
    "what seems to be",
    "what is wrong",
    "how can i help",
    "what can i do for you",
    "what can we do for you",
    "tell me about the pain",
    "tell me about your pain",
    "tell me more about the pain",
    "tell me more about your pain",
];

/// Said by the patient side when a statement calls for a reaction and the case has none.
fn default_reaction(kind: UtteranceKind, reaction: Option<ReactionKind>) -> &'static str {
    match (kind, reaction) {
        (UtteranceKind::ExamRequest, _) => "Yes, that's fine. Go ahead.",
        (UtteranceKind::News, Some(ReactionKind::BadNews)) => {
            "Oh... I don't... What does that mean? What happens now?"
        }
        (UtteranceKind::News, _) => "Oh. Right... What does that mean?",
        (UtteranceKind::Explanation, Some(ReactionKind::Treatment)) => "Okay. Will that help?",
        (UtteranceKind::Explanation, _) => "Okay. What happens after that?",
        (UtteranceKind::Empathy, _) => "Thank you. It's a lot.",
        (UtteranceKind::Reassurance, _) => "Okay. Thank you, that helps.",
        (UtteranceKind::Greeting, _) => "Hello.",
        (UtteranceKind::Closing, _) => "Okay. Thank you.",
        (UtteranceKind::Instruction, _) => "All right.",
        _ => "Okay.",
    }
}

/// One piece of the reply before lines by the same speaker are joined.
struct Part {
    speaker: String,
    text: String,
    fact: Option<String>,
    kind: UtteranceKind,
    reaction: Option<String>,
    non_answer: bool,
}

/// The scripted patient's (and present actors') reply to one clinician utterance.
/// `variant` picks among in-character non-answers deterministically (pass the turn number).
pub fn respond(
    case: &Case,
    index: &ScriptIndex,
    utterance: &str,
    presence: &Presence,
    ctx: &Context,
    variant: u64,
) -> Reply {
    let mut parts: Vec<Part> = Vec::new();
    let mut said_facts: BTreeSet<usize> = BTreeSet::new();
    let mut non_answer_used = false;
    let mut exam_request = false;
    // The statement that most calls for a reaction: (weight, classification).
    let mut statement: Option<Classified> = None;
    let addressed = addressed_actor(case, presence, utterance);
    let fallback_speaker = || -> Option<&str> {
        if addressed.is_none() && presence.patient_can_answer {
            Some(PATIENT)
        } else {
            addressed.or_else(|| presence.actors_present.iter().next().map(String::as_str))
        }
    };

    // The statement just before a question, which may carry what the question is about
    // ("Some people in your situation think about ending it all. Has that crossed your mind?").
    let mut preamble: Option<String> = None;
    for (sentence, is_question) in sentences(utterance) {
        let classified = classify(&sentence, is_question);
        if classified.kind != UtteranceKind::Question {
            if classified.kind == UtteranceKind::ExamRequest {
                exam_request = true;
            }
            // Leaving ("I'll be back shortly") after anything but news or a request to
            // examine ends the exchange.
            let closes = classified.kind == UtteranceKind::Closing
                && statement.is_none_or(|s| {
                    !matches!(s.kind, UtteranceKind::News | UtteranceKind::ExamRequest)
                });
            if closes || statement.is_none_or(|s| classified.kind.weight() > s.kind.weight()) {
                statement = Some(classified);
            }
            preamble = Some(sentence);
            continue;
        }
        let mut words = SentenceWords::new(index, &sentence);
        let mut expanded = expand(&sentence);
        // A question about the patient in the third person ("How was he overnight?") is put
        // to whoever is with the patient, unless it names someone.
        let third = addressed
            .is_none()
            .then(|| third_person_companion(case, presence, &expanded))
            .flatten();
        let asked = addressed.or(third);
        let mut found = answer_facts(case, index, &words, &expanded, presence, asked, ctx, true);
        if let Some(pre) = preamble.take().filter(|_| found.is_empty()) {
            let joined = format!("{pre}, {sentence}");
            let w = SentenceWords::new(index, &joined);
            let e = expand(&joined);
            let mut again = answer_facts(case, index, &w, &e, presence, asked, ctx, false);
            // "... thoughts of ending their life. Have you had thoughts like that?": the
            // question points back at what the preamble named last.
            if again.len() > 1 && !has(&e, &["and", "also", "as well"]) {
                again.drain(..again.len() - 1);
            }
            if !again.is_empty() {
                (words, expanded, found) = (w, e, again);
            }
        }
        let answered = found
            .into_iter()
            .map(|(fi, speaker, text)| {
                if said_facts.insert(fi) {
                    parts.push(Part {
                        speaker: speaker.to_string(),
                        text: text.to_string(),
                        fact: Some(case.facts[fi].id.clone()),
                        kind: UtteranceKind::Question,
                        reaction: None,
                        non_answer: false,
                    });
                }
            })
            .count()
            > 0;
        if answered {
            continue;
        }
        if let Some(negative) = ros_negative(index, &words, presence, third, asked) {
            parts.extend(negative);
            continue;
        }
        if let Some(part) = people_answer(case, &expanded, presence, asked, ctx, &mut said_facts) {
            parts.push(part);
            continue;
        }
        if non_answer_used {
            continue;
        }
        non_answer_used = true;
        if let Some(speaker) = third.or_else(fallback_speaker) {
            parts.push(non_answer_part(case, speaker, ctx, variant));
        }
    }

    react_to_statement(
        &mut parts,
        statement,
        case,
        presence,
        addressed,
        ctx,
        fallback_speaker(),
    );
    // One sentence answered: the others' "I don't remember" goes ("Marcus, can you hear me?
    // Who do you live with?" is answered by who he lives with).
    if parts.iter().any(|p| !p.non_answer) {
        parts.retain(|p| !p.non_answer);
    }

    let mut lines: Vec<SpokenLine> = Vec::new();
    for p in parts {
        push_line(&mut lines, p);
    }
    Reply {
        lines,
        exam_request,
    }
}

/// The facts a question asks for, in the order it asks: (fact index, speaker, answer now).
#[allow(clippy::too_many_arguments)]
fn answer_facts<'c>(
    case: &'c Case,
    index: &ScriptIndex,
    words: &SentenceWords,
    expanded: &str,
    presence: &Presence,
    addressed: Option<&str>,
    ctx: &Context,
    narrow: bool,
) -> Vec<(usize, &'c str, &'c str)> {
    if !words.any {
        return Vec::new();
    }
    // Facts with a trigger fully present that names at least one thing the sentence is
    // about (so "allergic to any medicines" is not a question about medicines), each with
    // its longest such trigger; then drop matches whose trigger is a strict subset of
    // another match's trigger (the more specific question wins).
    let mut candidates: Vec<(u32, u32)> = Vec::new();
    for &id in &words.heads {
        candidates.extend_from_slice(&index.postings[id as usize]);
    }
    candidates.sort_unstable();
    candidates.dedup();
    let mut matches: Vec<(usize, &[u32])> = Vec::new();
    for (fi, ti) in candidates {
        let trigger = &index.triggers[fi as usize][ti as usize][..];
        if !words.has_all(trigger) {
            continue;
        }
        match matches.last_mut() {
            // Of equally long triggers the last one counts (as `max_by_key` would).
            Some(last) if last.0 == fi as usize => {
                if trigger.len() >= last.1.len() {
                    last.1 = trigger;
                }
            }
            _ => matches.push((fi as usize, trigger)),
        }
    }
    let mut specific: Vec<(usize, usize)> = matches
        .iter()
        .filter(|(_, t)| {
            !matches
                .iter()
                .any(|(_, o)| t.len() < o.len() && is_subset(t, o))
        })
        .map(|(fi, t)| (*fi, words.position(t)))
        .collect();
    // A question about the family asks for the family history only.
    if has(expanded, FAMILY_WORDS)
        && specific
            .iter()
            .any(|(fi, _)| case.facts[*fi].category == FactCategory::Family)
    {
        specific.retain(|(fi, _)| case.facts[*fi].category == FactCategory::Family);
    }
    // One question asks for what its most specific trigger names, unless it joins several
    // ("... and are you allergic to anything?").
    if !has(expanded, &["and", "also", "as well"]) {
        let longest = specific
            .iter()
            .map(|(fi, _)| best_len(&matches, *fi))
            .max()
            .unwrap_or(0);
        specific.retain(|(fi, _)| best_len(&matches, *fi) == longest);
        // Of facts matched by equally long triggers, the one whose trigger words fewer facts
        // share ("admitted with his asthma": the admissions, not the asthma history). Not
        // for a question read with its preamble, which points back at what was named last.
        if narrow && specific.len() > 1 {
            let score = |fi: usize| {
                matches
                    .iter()
                    .filter(|(f, _)| *f == fi)
                    .map(|(_, t)| index.specificity(t))
                    .fold(0.0, f64::max)
            };
            let best = specific
                .iter()
                .map(|(fi, _)| score(*fi))
                .fold(0.0, f64::max);
            specific.retain(|(fi, _)| score(*fi) >= best - 1e-9);
        }
    }
    // "What's been going on?": the chief complaint.
    if specific.is_empty() && has(expanded, COMPLAINT_QUESTIONS) {
        if let Some(fi) = case.facts.iter().position(|f| {
            f.category == FactCategory::Complaint
                && pick_speaker(&f.speakers, presence, addressed).is_some()
        }) {
            specific.push((fi, 0));
        }
    }
    // In the order asked.
    specific.sort_by_key(|&(fi, pos)| (pos, fi));
    specific
        .into_iter()
        .filter_map(|(fi, _)| {
            let fact = &case.facts[fi];
            let speaker = pick_speaker(&fact.speakers, presence, addressed)?;
            Some((fi, speaker, fact.answer_now(ctx.phase, speaker, ctx.holds)))
        })
        .collect()
}

/// The length of the longest trigger by which fact `fi` matched.
fn best_len(matches: &[(usize, &[u32])], fi: usize) -> usize {
    matches
        .iter()
        .filter(|(f, _)| *f == fi)
        .map(|(_, t)| t.len())
        .max()
        .unwrap_or(0)
}

/// The companion present (the first) when a question speaks of the patient in the third
/// person: "he"/"him"/"his" for a male patient, "she"/"her" for a female one.
fn third_person_companion<'c>(
    case: &'c Case,
    presence: &Presence,
    expanded: &str,
) -> Option<&'c str> {
    let pronouns: &[&str] = if case.patient.sex.to_lowercase().starts_with('f') {
        &["she", "her", "hers", "herself"]
    } else {
        &["he", "him", "his", "himself"]
    };
    if !has(expanded, pronouns) {
        return None;
    }
    case.actors
        .iter()
        .find(|a| presence.actors_present.contains(&a.id))
        .map(|a| a.id.as_str())
}

/// The companion present whom the utterance names (by role or first name), if any.
fn addressed_actor<'c>(case: &'c Case, presence: &Presence, utterance: &str) -> Option<&'c str> {
    let lower = utterance.to_lowercase();
    case.actors
        .iter()
        .filter(|a| presence.actors_present.contains(&a.id))
        .find(|a| {
            lower.contains(&a.role.to_lowercase())
                || a.name
                    .split_whitespace()
                    .next()
                    .is_some_and(|n| lower.contains(&n.to_lowercase()))
        })
        .map(|a| a.id.as_str())
}

/// A review-of-systems question the case does not script: a plain negative from the patient,
/// or "Not that I know of." from the companion asked. `Some(None)`: a ROS question nobody
/// present can answer (nothing more is said for it); `None`: not a ROS question.
fn ros_negative(
    index: &ScriptIndex,
    words: &SentenceWords,
    presence: &Presence,
    third: Option<&str>,
    asked: Option<&str>,
) -> Option<Option<Part>> {
    if !words.any {
        return None;
    }
    let (_, (_, negative)) = index
        .ros
        .iter()
        .zip(ROS_NEGATIVES)
        .find(|(ids, _)| words.has_all(ids) && words.has_head(ids))?;
    let speaker = if presence.patient_can_answer && third.is_none() {
        Some((PATIENT, *negative))
    } else {
        asked
            .or_else(|| presence.actors_present.iter().next().map(String::as_str))
            .map(|a| (a, "Not that I know of."))
    };
    Some(speaker.map(|(speaker, text)| Part {
        speaker: speaker.to_string(),
        text: text.to_string(),
        fact: None,
        kind: UtteranceKind::Question,
        reaction: None,
        non_answer: false,
    }))
}

/// An in-character non-answer by `speaker` (the case's own, else a default), never the line
/// the speaker said last.
fn non_answer_part(case: &Case, speaker: &str, ctx: &Context, variant: u64) -> Part {
    let custom = if speaker == PATIENT {
        &case.patient.non_answers[..]
    } else {
        case.actors
            .iter()
            .find(|a| a.id == speaker)
            .map_or(&[][..], |a| &a.non_answers[..])
    };
    let defaults = if speaker == PATIENT {
        DEFAULT_NON_ANSWERS
    } else {
        DEFAULT_ACTOR_NON_ANSWERS
    };
    let last = ctx.last_lines.get(speaker).map(String::as_str);
    let mut text = non_answer(custom, defaults, variant);
    if last.is_some_and(|l| l.ends_with(text)) {
        text = non_answer(custom, defaults, variant.wrapping_add(1));
    }
    Part {
        speaker: speaker.to_string(),
        text: text.to_string(),
        fact: None,
        kind: UtteranceKind::Question,
        reaction: None,
        non_answer: true,
    }
}

/// Statements: a request to examine always gets consent; news and explanations always get a
/// reaction; empathy and reassurance when no question was answered; other statements only
/// when nothing else was said. A reaction replaces the non-answers, and so does an event's
/// scripted line.
fn react_to_statement(
    parts: &mut Vec<Part>,
    statement: Option<Classified>,
    case: &Case,
    presence: &Presence,
    addressed: Option<&str>,
    ctx: &Context,
    fallback: Option<&str>,
) {
    let Some(st) = statement else {
        if ctx.scripted_reaction {
            parts.retain(|p| !p.non_answer);
        }
        return;
    };
    let reacts = match st.kind {
        UtteranceKind::ExamRequest => true,
        UtteranceKind::News | UtteranceKind::Explanation => !ctx.scripted_reaction,
        UtteranceKind::Empathy | UtteranceKind::Reassurance => {
            !ctx.scripted_reaction && parts.iter().all(|p| p.non_answer)
        }
        _ => parts.is_empty() && !ctx.scripted_reaction,
    };
    if reacts {
        if let Some(part) = reaction_part(case, st, presence, addressed, ctx, fallback) {
            parts.retain(|p| !p.non_answer);
            parts.push(part);
        }
    } else if ctx.scripted_reaction {
        parts.retain(|p| !p.non_answer);
    }
}

/// "Is there anyone we can call?", "who is with you?": answered from the case's people.
fn people_answer(
    case: &Case,
    expanded: &str,
    presence: &Presence,
    addressed: Option<&str>,
    ctx: &Context,
    said_facts: &mut BTreeSet<usize>,
) -> Option<Part> {
    if !has(expanded, PEOPLE_QUESTIONS) {
        return None;
    }
    let present: Vec<&super::case::Actor> = case
        .actors
        .iter()
        .filter(|a| presence.actors_present.contains(&a.id))
        .collect();
    let pronoun = if case.patient.sex.to_lowercase().starts_with('f') {
        "her"
    } else {
        "his"
    };
    let actor_line = |a: &super::case::Actor| Part {
        speaker: a.id.clone(),
        text: format!(
            "I'm here. I'm {}, {pronoun} {}.",
            a.name.split_whitespace().next().unwrap_or(&a.name),
            a.role
        ),
        fact: None,
        kind: UtteranceKind::Question,
        reaction: None,
        non_answer: false,
    };
    if has(expanded, PRESENCE_QUESTIONS) {
        if let Some(a) = present.first() {
            return Some(actor_line(a));
        }
    }
    // The patient's social history first, then other facts.
    let relation_fact = [FactCategory::Social, FactCategory::Other]
        .iter()
        .find_map(|category| {
            case.facts.iter().enumerate().find(|(_, f)| {
                f.category == *category
                    && pick_speaker(&f.speakers, presence, addressed).is_some_and(|speaker| {
                        has(
                            &expand(f.answer_now(ctx.phase, speaker, ctx.holds)),
                            RELATIONS,
                        )
                    })
            })
        });
    if let Some((fi, f)) = relation_fact {
        let speaker = pick_speaker(&f.speakers, presence, addressed)?;
        said_facts.insert(fi);
        return Some(Part {
            speaker: speaker.to_string(),
            text: f.answer_now(ctx.phase, speaker, ctx.holds).to_string(),
            fact: Some(f.id.clone()),
            kind: UtteranceKind::Question,
            reaction: None,
            non_answer: false,
        });
    }
    present.first().map(|a| actor_line(a))
}

/// The reaction to a statement: the case's own (by kind, phase and `when`, the least used
/// first), else a plain default in character.
fn reaction_part(
    case: &Case,
    st: Classified,
    presence: &Presence,
    addressed: Option<&str>,
    ctx: &Context,
    fallback: Option<&str>,
) -> Option<Part> {
    for kind in st.reactions.iter().flatten() {
        let best = case
            .reactions
            .iter()
            .filter(|r| r.kind == *kind && r.applies(ctx.phase, ctx.holds))
            .filter_map(|r| Some((r, pick_speaker(&r.speakers, presence, addressed)?)))
            // The least used first; of those, one made for this phase or state.
            .min_by_key(|(r, _)| {
                (
                    ctx.reaction_uses.get(&r.id).copied().unwrap_or(0),
                    r.phase.is_none() && r.when.is_none(),
                )
            });
        if let Some((r, speaker)) = best {
            let uses = ctx.reaction_uses.get(&r.id).copied().unwrap_or(0) as usize;
            let text = match (uses, r.questions.get(uses)) {
                (0, Some(q)) => format!("{} {}", r.line.trim(), q.trim()),
                (_, Some(q)) => q.trim().to_string(),
                _ => r.line.trim().to_string(),
            };
            return Some(Part {
                speaker: speaker.to_string(),
                text,
                fact: None,
                kind: st.kind,
                reaction: Some(r.id.clone()),
                non_answer: false,
            });
        }
    }
    let speaker = fallback?;
    Some(Part {
        speaker: speaker.to_string(),
        text: default_reaction(st.kind, st.reactions[0]).to_string(),
        fact: None,
        kind: st.kind,
        reaction: None,
        non_answer: false,
    })
}

/// An in-character non-answer: the case's own wordings, else the defaults; `variant` picks.
fn non_answer<'a>(custom: &'a [String], defaults: &'a [&'a str], variant: u64) -> &'a str {
    if custom.is_empty() {
        defaults[(variant as usize) % defaults.len()]
    } else {
        &custom[(variant as usize) % custom.len()]
    }
}

fn pick_speaker<'a>(
    speakers: &'a [String],
    presence: &Presence,
    addressed: Option<&str>,
) -> Option<&'a str> {
    let available = |s: &str| {
        if s == PATIENT {
            presence.patient_can_answer
        } else {
            presence.actors_present.contains(s)
        }
    };
    if let Some(a) = addressed {
        if let Some(s) = speakers.iter().find(|s| s.as_str() == a) {
            return Some(s);
        }
    }
    speakers.iter().find(|s| available(s)).map(String::as_str)
}

fn push_line(lines: &mut Vec<SpokenLine>, p: Part) {
    if let Some(last) = lines.last_mut() {
        if last.speaker == p.speaker {
            last.text.push(' ');
            last.text.push_str(&p.text);
            last.facts.extend(p.fact);
            if p.reaction.is_some() {
                last.reaction = p.reaction;
                last.kind = Some(p.kind);
            }
            return;
        }
    }
    lines.push(SpokenLine {
        speaker: p.speaker,
        text: p.text,
        facts: p.fact.into_iter().collect(),
        kind: Some(p.kind),
        reaction: p.reaction,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_and_distinct() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn sentences_split_and_detect_questions() {
        let s = sentences("Hello. When did it start? Any fever; I'm going to examine you.");
        assert_eq!(s.len(), 4);
        assert!(!s[0].1);
        assert!(s[1].1);
        assert!(s[2].1, "starts with `any`");
        assert!(!s[3].1);
    }

    #[test]
    fn content_tokens_drop_filler_and_canonicalize() {
        assert_eq!(
            content_tokens("Do you have any trouble breathing?"),
            vec!["dyspnea"]
        );
        assert_eq!(content_tokens("When did it start?"), vec!["when", "start"]);
        assert_eq!(
            content_tokens("When did this begin?"),
            vec!["when", "start"]
        );
    }
}
