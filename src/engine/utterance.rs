//! What kind of thing the clinician said, sentence by sentence: a question, a request to
//! examine, news, an explanation, empathy, reassurance, a greeting, a closing, an instruction.
//!
//! Deterministic and word-based: contractions are expanded ("we'll" → "we will") and the
//! sentence is normalized, then phrase lists are checked in a fixed order (a request to examine
//! before a question, so "can I listen to your chest?" asks for consent; news before empathy,
//! so "I'm sorry to tell you it's cancer" is news). The scripted patient answers each kind as a
//! trained standardized patient does (see `sp`).

use serde::{Deserialize, Serialize};

use super::case::ReactionKind;
use super::text::normalize;

/// The kind of one sentence the clinician said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtteranceKind {
    /// Asks for information.
    Question,
    /// Asks to examine or do something to the patient ("can I listen to your chest?").
    ExamRequest,
    /// Explains a plan or a treatment.
    Explanation,
    /// Tells a diagnosis or bad news.
    News,
    /// Empathy or an apology.
    Empathy,
    Reassurance,
    /// A greeting or an introduction.
    Greeting,
    /// Ends the conversation for now ("I'll be back shortly").
    Closing,
    /// Tells the patient to do something ("keep the mask on").
    Instruction,
    /// Any other statement.
    Statement,
}

impl UtteranceKind {
    /// How strongly this kind calls for a reaction when a turn has several sentences: the
    /// highest is answered (news before an explanation before reassurance...).
    pub fn weight(self) -> u8 {
        match self {
            UtteranceKind::ExamRequest => 9,
            UtteranceKind::News => 8,
            UtteranceKind::Explanation => 7,
            UtteranceKind::Reassurance => 6,
            UtteranceKind::Empathy => 5,
            UtteranceKind::Instruction => 4,
            UtteranceKind::Closing => 3,
            UtteranceKind::Greeting => 2,
            UtteranceKind::Statement => 1,
            UtteranceKind::Question => 0,
        }
    }
}

/// A classified sentence: its kind and, for news and explanations, which reaction fits
/// best (bad news or a diagnosis; a plan or a treatment), with the other as a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    pub kind: UtteranceKind,
    /// The reactions that fit, best first (empty for questions, greetings...).
    pub reactions: [Option<ReactionKind>; 2],
}

const CONTRACTIONS: &[(&str, &str)] = &[
    ("i'm", "i am"),
    ("im", "i am"),
    ("i've", "i have"),
    ("i'll", "i will"),
    ("i'd", "i would"),
    ("we're", "we are"),
    ("we've", "we have"),
    ("we'll", "we will"),
    ("we'd", "we would"),
    ("you're", "you are"),
    ("youre", "you are"),
    ("you've", "you have"),
    ("you'll", "you will"),
    ("you'd", "you would"),
    ("he's", "he is"),
    ("she's", "she is"),
    ("he'll", "he will"),
    ("she'll", "she will"),
    ("he'd", "he would"),
    ("she'd", "she would"),
    ("it's", "it is"),
    ("its", "it is"),
    ("it'll", "it will"),
    ("that's", "that is"),
    ("thats", "that is"),
    ("there's", "there is"),
    ("what's", "what is"),
    ("whats", "what is"),
    ("how's", "how is"),
    ("hows", "how is"),
    ("who's", "who is"),
    ("let's", "let us"),
    ("name's", "name is"),
    ("they're", "they are"),
    ("don't", "do not"),
    ("dont", "do not"),
    ("doesn't", "does not"),
    ("didn't", "did not"),
    ("can't", "cannot"),
    ("cant", "cannot"),
    ("won't", "will not"),
    ("isn't", "is not"),
    ("aren't", "are not"),
    ("wasn't", "was not"),
    ("haven't", "have not"),
    ("hasn't", "has not"),
    ("shouldn't", "should not"),
    ("wouldn't", "would not"),
    ("couldn't", "could not"),
];

/// The sentence lower-cased with contractions expanded and normalized, padded with spaces so
/// phrases match on word boundaries.
pub fn expand(sentence: &str) -> String {
    let lower = sentence.to_lowercase().replace(['’', '‘', '`'], "'");
    let mut out = String::with_capacity(lower.len() + 16);
    for w in lower.split_whitespace() {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let bare = bare.trim_matches('\'');
        let expanded = CONTRACTIONS
            .iter()
            .find(|(c, _)| *c == bare)
            .map(|(_, e)| *e);
        out.push(' ');
        match expanded {
            Some(e) => out.push_str(e),
            None => out.push_str(w),
        }
    }
    format!(" {} ", normalize(&out))
}

/// Whether padded, expanded text `s` (see [`expand`]) holds one of `phrases` on word
/// boundaries.
pub fn has(s: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| {
        s.match_indices(p).any(|(i, _)| {
            s.as_bytes().get(i.wrapping_sub(1)) == Some(&b' ')
                && s.as_bytes().get(i + p.len()) == Some(&b' ')
        })
    })
}

fn count(s: &str, phrases: &[&str]) -> usize {
    phrases.iter().filter(|p| has(s, &[p])).count()
}

/// The first `n` words.
fn first_words(s: &str, n: usize) -> Vec<&str> {
    s.split_whitespace().take(n).collect()
}

const EXAM_ACTS: &[&str] = &[
    "examine",
    "examined",
    "examining",
    "examination",
    "listen to your",
    "listen to his",
    "listen to her",
    "listen to the",
    "listen to heart",
    "listen to chest",
    "listen to lungs",
    "have a listen",
    "a look at you",
    "look at your",
    "look at his",
    "look at her",
    "look in your",
    "look in his",
    "look in her",
    "have a look",
    "take a look",
    "a quick look",
    "feel your",
    "feel his",
    "feel her",
    "a feel of",
    "feel of your",
    "press on your",
    "press on his",
    "press on her",
    "check your",
    "check his",
    "check her",
    "test your",
    "take your blood pressure",
    "take some blood",
    "take a blood",
    "a blood test",
    "blood test",
    "blood tests",
    "blood cultures",
    "a cannula",
    "put a drip",
    "put in a drip",
    "shine a light",
    "stethoscope",
    "pupils",
    "rectal",
    "internal",
    "swab",
    "an ecg",
    "a tracing of your heart",
];

/// Words that make an exam phrase a request: first person, permission, intent.
const EXAM_FRAMES: &[&str] = &[
    "i am going to",
    "i am just going to",
    "i will",
    "i would like to",
    "i would also like to",
    "i want to",
    "i need to",
    "i have to",
    "can i",
    "could i",
    "may i",
    "let me",
    "is it ok",
    "is it okay",
    "is it alright",
    "is it all right",
    "is that ok",
    "is that okay",
    "is that alright",
    "would it be",
    "would that be",
    "do you mind",
    "with your permission",
    "if that is ok",
    "if that is okay",
    "if that is alright",
    "we need to",
    "we would like to",
    "i am going to have",
    "can we",
    "are you happy for me",
];

/// Verbs that start a bare order typed into the chat ("listen to heart", "examine chest").
const EXAM_VERBS: &[&str] = &[
    "examine",
    "listen",
    "auscultate",
    "palpate",
    "inspect",
    "percuss",
    "check",
    "feel",
    "look",
];

const GREETING_STARTS: &[&str] = &[
    "hello",
    "hi",
    "hey",
    "hiya",
    "morning",
    "afternoon",
    "evening",
    "good morning",
    "good afternoon",
    "good evening",
    "nice to meet",
];

const INTRODUCTIONS: &[&str] = &[
    "my name is",
    "i am dr",
    "i am doctor",
    "i am one of the",
    "i am the",
    "i am a",
    "i am from",
    "nice to meet you",
    "this is dr",
];

const CLOSINGS: &[&str] = &[
    "that is all",
    "that is everything",
    "all my questions",
    "i will be back",
    "i will come back",
    "i will be right back",
    "be back shortly",
    "back in a few",
    "come back and",
    "come back as soon",
    "see you later",
    "see you soon",
    "see you again",
    "goodbye",
    "bye",
    "take care",
    "thank you for your time",
    "thanks for your time",
    "thanks for talking",
    "thank you for talking",
    "update you",
    "thank you both for coming",
    "thank you for coming",
    "check on you",
];

/// Empathy that must win over news-like wording ("this is a lot to take in").
const EMPATHY_STRONG: &[&str] = &[
    "a lot to take in",
    "lot to take in",
    "take your time",
    "a terrible shock",
    "a huge shock",
    "a big shock",
    "must be",
    "must have been",
    "sounds like",
    "sounds really",
    "sounds very",
    "sounds so",
    "that sounds",
    "i can see how",
    "i can see that",
    "i can see this",
    "i can imagine",
    "i understand",
    "thank you for telling me",
    "thank you for sharing",
    "thanks for telling me",
    "that is understandable",
    "it is understandable",
    "carrying a lot",
];

const EMPATHY: &[&str] = &[
    "sorry",
    "upsetting",
    "frightening",
    "scary",
    "hard for",
    "difficult for",
    "this is hard",
    "know it is hard",
];

const NEWS_FRAMES: &[&str] = &[
    "shows",
    "show",
    "showed",
    "shown",
    "it looks like",
    "this looks like",
    "looks like",
    "it seems",
    "i think you",
    "i think he",
    "i think she",
    "i am afraid",
    "unfortunately",
    "sorry to tell",
    "sorry to say",
    "bad news",
    "diagnosis",
    "is called",
    "what we call",
    "you have",
    "you are having",
    "you have had",
    "he has",
    "he is having",
    "he has had",
    "she has",
    "she is having",
    "she has had",
    "you had",
    "he had",
    "she had",
    "this is a",
    "this is an",
    "it is a",
    "it is an",
    "is positive",
    "confirmed",
    "confirms",
];

/// How bad news is framed.
const BAD_FRAMES: &[&str] = &[
    "i am afraid",
    "bad news",
    "unfortunately",
    "sorry to",
    "so sorry",
    "i am sorry",
];

/// What bad news is about.
const BAD_TERMS: &[&str] = &[
    "cancer",
    "tumour",
    "tumor",
    "growth",
    "malignant",
    "spread",
    "months to live",
    "weeks to live",
    "talking about months",
    "talking about weeks",
    "a matter of months",
    "a matter of weeks",
    "rather than years",
    "cannot continue",
    "cannot be cured",
    "incurable",
    "not curable",
    "terminal",
    "prognosis",
    "not survive",
];

const REASSURANCE: &[&str] = &[
    "right place",
    "good hands",
    "safe hands",
    "look after you",
    "look after him",
    "look after her",
    "take care of you",
    "take care of him",
    "take care of her",
    "do not worry",
    "try not to worry",
    "nothing to worry",
    "you are safe",
    "he is safe",
    "she is safe",
    "every step of the way",
    "did the right thing",
    "did absolutely the right thing",
    "everything we can",
    "going to be ok",
    "going to be okay",
    "going to be alright",
    "going to be all right",
    "going to be fine",
    "get you feeling better",
    "of course you can",
    "do not be embarrassed",
    "no need to be embarrassed",
    "as fast as we can",
    "we know exactly",
    "should start to",
    "we are here for you",
    "we are here with you",
    "you are not alone",
];

const EXPLANATION: &[&str] = &[
    "we are going to",
    "we will",
    "i will",
    "i am going to",
    "we would like to",
    "i would like to",
    "we need to",
    "we have to",
    "we had to",
    "we can",
    "we could",
    "we would recommend",
    "i would recommend",
    "recommend",
    "the plan",
    "next step",
    "what happens next",
    "you will need",
    "he will need",
    "she will need",
    "you will",
    "he will",
    "she will",
    "you need",
    "he needs",
    "she needs",
    "we are giving",
    "i am giving",
    "i have given",
    "we have given",
    "we are starting",
    "we have started",
    "this medicine",
    "this drug",
    "you should stop",
    "should stop",
    "is going to",
    "are going to",
    "we are also",
    "we will also",
    "let us",
];

const PLAN_WORDS: &[&str] = &[
    "stay",
    "keep you in",
    "keep him in",
    "keep her in",
    "admit",
    "admitted",
    "ward",
    "unit",
    "clinic",
    "referral",
    "refer",
    "observation",
    "monitoring",
    "theatre",
    "surgery",
    "operation",
    "cath lab",
    "team",
    "biopsy",
    "scan",
    "camera test",
    "next step",
    "plan",
    "home",
    "follow up",
    "hospital",
    "safety plan",
];

const TREATMENT_WORDS: &[&str] = &[
    "give",
    "giving",
    "given",
    "start",
    "medicine",
    "medication",
    "drug",
    "injection",
    "drip",
    "fluids",
    "tablet",
    "tablets",
    "antibiotic",
    "antibiotics",
    "insulin",
    "morphine",
    "adrenaline",
    "epinephrine",
    "naloxone",
    "salbutamol",
    "nebuliser",
    "nebulizer",
    "steroid",
    "steroids",
    "aspirin",
    "chemotherapy",
    "chemo",
    "treatment",
    "transfusion",
    "oxygen",
    "alteplase",
    "clot busting",
    "painkiller",
    "painkillers",
    "pain relief",
    "infusion",
    "thins the blood",
];

const INSTRUCTION_VERBS: &[&str] = &[
    "sit", "lie", "keep", "take", "breathe", "try", "please", "stay", "wait", "stand", "open",
    "close", "squeeze", "follow", "relax", "hold", "roll", "give", "move", "press", "put", "turn",
    "bend", "lift", "push", "pull", "look", "tell", "do",
];

/// Verbs that start an instruction even when it also explains ("please don't get up, you
/// need...").
const INSTRUCTION_EARLY: &[&str] = &[
    "please", "sit", "lie", "keep", "breathe", "stay", "wait", "stand", "squeeze", "follow",
    "relax", "hold", "roll", "open", "try",
];

const ASK_TO: &[&str] = &[
    "can you",
    "could you",
    "would you",
    "will you",
    "can he",
    "can she",
];

/// Questions by their first words ("can you tell me...", "do you...").
const QUESTION_ONLY_VERBS: &[&str] =
    &["tell", "describe", "remember", "think", "recall", "explain"];

/// Classifies one sentence; `is_question` is whether it ended with `?` or began like a
/// question.
pub fn classify(sentence: &str, is_question: bool) -> Classified {
    let s = expand(sentence);
    let kind = kind_of(&s, is_question);
    let reactions = match kind {
        UtteranceKind::News => {
            if has(&s, BAD_FRAMES) || has(&s, BAD_TERMS) {
                [Some(ReactionKind::BadNews), Some(ReactionKind::Diagnosis)]
            } else {
                [Some(ReactionKind::Diagnosis), Some(ReactionKind::BadNews)]
            }
        }
        UtteranceKind::Explanation => {
            if count(&s, TREATMENT_WORDS) > count(&s, PLAN_WORDS) {
                [Some(ReactionKind::Treatment), Some(ReactionKind::Plan)]
            } else {
                [Some(ReactionKind::Plan), Some(ReactionKind::Treatment)]
            }
        }
        UtteranceKind::Empathy => [Some(ReactionKind::Empathy), Some(ReactionKind::Reassurance)],
        UtteranceKind::Reassurance => {
            [Some(ReactionKind::Reassurance), Some(ReactionKind::Empathy)]
        }
        UtteranceKind::ExamRequest => [Some(ReactionKind::Examination), None],
        _ => [None, None],
    };
    Classified { kind, reactions }
}

fn kind_of(s: &str, is_question: bool) -> UtteranceKind {
    let first = first_words(s, 3);
    let lead = |list: &[&str]| {
        // The first word, or the second after a name ("Leo, keep the mask on").
        first.first().is_some_and(|w| list.contains(w))
            || first.get(1).is_some_and(|w| list.contains(w))
    };
    if has(s, EXAM_ACTS) && (has(s, EXAM_FRAMES) || lead(EXAM_VERBS)) {
        return UtteranceKind::ExamRequest;
    }
    if is_question {
        // "Can you stand back a little?" asks the patient to do something.
        let asks_to = ASK_TO.iter().find_map(|a| {
            let a = format!(" {a} ");
            s.find(&a).map(|i| &s[i + a.len()..])
        });
        if let Some(rest) = asks_to {
            let verb = rest.split_whitespace().next().unwrap_or("");
            if INSTRUCTION_VERBS.contains(&verb) && !QUESTION_ONLY_VERBS.contains(&verb) {
                return UtteranceKind::Instruction;
            }
        }
        return UtteranceKind::Question;
    }
    let greets = GREETING_STARTS
        .iter()
        .any(|g| s.starts_with(&format!(" {g} ")));
    if has(s, CLOSINGS) {
        return UtteranceKind::Closing;
    }
    if greets || has(s, INTRODUCTIONS) {
        return UtteranceKind::Greeting;
    }
    if has(s, EMPATHY_STRONG) && !(has(s, NEWS_FRAMES) && has(s, BAD_TERMS)) {
        return UtteranceKind::Empathy;
    }
    if has(s, REASSURANCE) {
        return UtteranceKind::Reassurance;
    }
    if lead(INSTRUCTION_EARLY) && !has(s, NEWS_FRAMES) && !has(s, BAD_TERMS) {
        return UtteranceKind::Instruction;
    }
    // "This is anaphylaxis" names a diagnosis; "this is hard" does not.
    let this_is = has(s, &["this is", "this looks"])
        && !has(s, EMPATHY)
        && !has(s, EMPATHY_STRONG)
        && !has(s, &["this is a lot"]);
    let news_frame = has(s, NEWS_FRAMES) || this_is || has(s, &["most likely", "is likely"]);
    let bad = has(s, BAD_TERMS);
    if (news_frame || bad) && !has(s, EXPLANATION) {
        return UtteranceKind::News;
    }
    if has(s, EXPLANATION) {
        if bad && news_frame {
            return UtteranceKind::News;
        }
        return UtteranceKind::Explanation;
    }
    if has(s, EMPATHY) || has(s, EMPATHY_STRONG) {
        return UtteranceKind::Empathy;
    }
    if lead(INSTRUCTION_VERBS) {
        return UtteranceKind::Instruction;
    }
    UtteranceKind::Statement
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> UtteranceKind {
        classify(s, s.ends_with('?')).kind
    }

    #[test]
    fn contractions_expand() {
        assert_eq!(expand("We'll see, I'm here"), " we will see i am here ");
    }

    #[test]
    fn kinds() {
        assert_eq!(
            k("I'm going to listen to your heart now, is that ok?"),
            UtteranceKind::ExamRequest
        );
        assert_eq!(k("listen to heart"), UtteranceKind::ExamRequest);
        assert_eq!(k("It looks like cancer."), UtteranceKind::News);
        assert_eq!(
            k("I'm sorry you're going through this"),
            UtteranceKind::Empathy
        );
        assert_eq!(k("This is a lot to take in."), UtteranceKind::Empathy);
        assert_eq!(
            k("You're in the right place, we're going to look after you."),
            UtteranceKind::Reassurance
        );
        assert_eq!(
            k("We're going to take you to the cath lab."),
            UtteranceKind::Explanation
        );
        assert_eq!(
            k("Hi Gary, I'm one of the doctors"),
            UtteranceKind::Greeting
        );
        assert_eq!(
            k("Can you tell me what's been going on?"),
            UtteranceKind::Question
        );
        assert_eq!(k("Please lie back on the bed."), UtteranceKind::Instruction);
        assert_eq!(k("I'll be back shortly."), UtteranceKind::Closing);
    }
}
