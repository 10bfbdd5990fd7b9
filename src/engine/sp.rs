//! The scripted standardized patient: answers the clinician's utterance from the case script.
//!
//! Each sentence of the utterance is matched against the facts' triggers on canonical content
//! words (see `lexicon`), so several questions in one utterance each get their answer, and lay
//! and medical wordings meet. Unscripted review-of-systems questions get a natural negative;
//! anything else an in-character non-answer. Which facts were elicited is decided here, the
//! same way whoever voices the patient.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::case::{Case, PATIENT};
use super::lexicon::{canonical_tokens_except, tokens_marked, ROS_NEGATIVES};
use super::text::{FuzzyVocab, WordMap};

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
    vocab: FuzzyVocab,
}

impl ScriptIndex {
    pub fn new(case: &Case) -> ScriptIndex {
        let mut index = ScriptIndex {
            ids: WordMap::default(),
            triggers: Vec::with_capacity(case.facts.len()),
            postings: Vec::new(),
            ros: Vec::with_capacity(ROS_NEGATIVES.len()),
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
        index
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
}

impl SentenceWords {
    fn new(index: &ScriptIndex, sentence: &str) -> SentenceWords {
        let tokens = tokens_marked(sentence, &is_stopword);
        let mut words = SentenceWords {
            any: !tokens.is_empty(),
            all: Vec::with_capacity(tokens.len()),
            heads: Vec::with_capacity(tokens.len()),
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
            let first = s.split_whitespace().next().unwrap_or("").to_lowercase();
            let first: String = first.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            let q = q || QUESTION_STARTS.contains(&first.as_str());
            (s, q)
        })
        .collect()
}

/// The scripted patient's (and present actors') reply to one clinician utterance.
/// `variant` picks among in-character non-answers deterministically (pass the turn number).
pub fn respond(
    case: &Case,
    index: &ScriptIndex,
    utterance: &str,
    presence: &Presence,
    variant: u64,
) -> Vec<SpokenLine> {
    let mut lines: Vec<SpokenLine> = Vec::new();
    let mut said_facts: BTreeSet<usize> = BTreeSet::new();
    let mut fallback_used = false;
    let utterance_lower = utterance.to_lowercase();
    let addressed: Option<&str> = case
        .actors
        .iter()
        .filter(|a| presence.actors_present.contains(&a.id))
        .find(|a| {
            utterance_lower.contains(&a.role.to_lowercase())
                || a.name
                    .split_whitespace()
                    .next()
                    .is_some_and(|n| utterance_lower.contains(&n.to_lowercase()))
        })
        .map(|a| a.id.as_str());

    for (sentence, is_question) in sentences(utterance) {
        let words = SentenceWords::new(index, &sentence);
        if !words.any {
            continue;
        }
        if !is_question {
            // Statements ("I'm going to examine you", an explanation) disclose nothing; the
            // patient at most acknowledges them once.
            if !fallback_used && presence.patient_can_answer && lines.is_empty() {
                fallback_used = true;
                push_line(&mut lines, PATIENT, "Okay.", None);
            }
            continue;
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
        let specific: Vec<usize> = matches
            .iter()
            .filter(|(_, t)| {
                !matches
                    .iter()
                    .any(|(_, o)| t.len() < o.len() && is_subset(t, o))
            })
            .map(|(fi, _)| *fi)
            .collect();
        let mut answered = false;
        for fi in specific {
            let fact = &case.facts[fi];
            let Some(speaker) = pick_speaker(&fact.speakers, presence, addressed) else {
                continue;
            };
            answered = true;
            if said_facts.insert(fi) {
                push_line(&mut lines, speaker, &fact.answer, Some(&fact.id));
            }
        }
        if answered {
            continue;
        }
        if let Some((_, (_, negative))) = index
            .ros
            .iter()
            .zip(ROS_NEGATIVES)
            .find(|(ids, _)| words.has_all(ids) && words.has_head(ids))
        {
            if presence.patient_can_answer {
                push_line(&mut lines, PATIENT, negative, None);
            } else if let Some(actor) =
                addressed.or_else(|| presence.actors_present.iter().next().map(String::as_str))
            {
                push_line(&mut lines, actor, "Not that I know of.", None);
            }
            continue;
        }
        if fallback_used {
            continue;
        }
        fallback_used = true;
        // Only questions reach here: statements were acknowledged above.
        let (speaker, text) = if addressed.is_some() || !presence.patient_can_answer {
            let actor =
                addressed.or_else(|| presence.actors_present.iter().next().map(String::as_str));
            let custom = actor
                .and_then(|id| case.actors.iter().find(|a| a.id == id))
                .map_or(&[][..], |a| &a.non_answers[..]);
            (
                actor,
                non_answer(custom, DEFAULT_ACTOR_NON_ANSWERS, variant),
            )
        } else {
            (
                Some(PATIENT),
                non_answer(&case.patient.non_answers, DEFAULT_NON_ANSWERS, variant),
            )
        };
        let Some(speaker) = speaker else { continue };
        push_line(&mut lines, speaker, text, None);
    }
    if lines.is_empty() && presence.patient_can_answer {
        // A greeting, or a question with no content words ("Sorry?").
        let greeting = [
            "hello",
            "hi",
            "hey",
            "good morning",
            "good afternoon",
            "good evening",
        ]
        .iter()
        .any(|g| super::phrases::says(utterance, g));
        if greeting {
            push_line(&mut lines, PATIENT, "Hello.", None);
        } else if utterance.contains('?') {
            push_line(
                &mut lines,
                PATIENT,
                non_answer(&case.patient.non_answers, DEFAULT_NON_ANSWERS, variant),
                None,
            );
        }
    }
    lines
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

fn push_line(lines: &mut Vec<SpokenLine>, speaker: &str, text: &str, fact: Option<&str>) {
    if let Some(last) = lines.last_mut() {
        if last.speaker == speaker {
            last.text.push(' ');
            last.text.push_str(text);
            last.facts.extend(fact.map(str::to_string));
            return;
        }
    }
    lines.push(SpokenLine {
        speaker: speaker.to_string(),
        text: text.to_string(),
        facts: fact.map(str::to_string).into_iter().collect(),
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
