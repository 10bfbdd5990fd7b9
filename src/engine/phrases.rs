//! Built-in phrase sets for `said` rules, and phrase matching over the clinician's speech.
//!
//! Phrases are matched on normalized words: a phrase matches when its words appear in order
//! and contiguously in the utterance (`"my name is"` in "Hi, my name is Sam"). Paraphrase
//! lists are deliberately broad: "introduces self" should not hinge on one wording.

use super::text::normalize;

/// (set name, phrases)
pub const PHRASE_SETS: &[(&str, &[&str])] = &[
    (
        "introduction",
        &[
            "my name is",
            "i am dr",
            "i m dr",
            "im dr",
            "i am doctor",
            "im doctor",
            "i m doctor",
            "i am the doctor",
            "im the doctor",
            "i am one of the",
            "im one of the",
            "i m one of the",
            "i am a medical student",
            "im a medical student",
            "i am the resident",
            "im the resident",
            "i am a doctor",
            "im a doctor",
            "i am your doctor",
            "im your doctor",
            "i ll be your doctor",
            "ill be your doctor",
            "i am the nurse practitioner",
            "i am a physician",
            "this is dr",
            "i am the registrar",
            "im the registrar",
            "i work here as",
            "i am the emergency",
            "im the emergency",
            "i am the attending",
            "im the attending",
        ],
    ),
    (
        "identity_check",
        &[
            "your full name",
            "confirm your name",
            "check your name",
            "what is your name",
            "whats your name",
            "your date of birth",
            "date of birth",
            "how old are you",
            "can you tell me your name",
            "confirm who you are",
        ],
    ),
    (
        "open_question",
        &[
            "what brings you",
            "what brought you",
            "how can i help",
            "what can i do for you",
            "tell me what happened",
            "tell me more",
            "what s been going on",
            "whats been going on",
            "what has been going on",
            "in your own words",
            "how are you feeling",
            "what seems to be",
            "what is the problem",
            "what s the problem",
            "whats the problem",
            "what happened",
        ],
    ),
    (
        "empathy",
        &[
            "sorry to hear",
            "i am sorry",
            "im sorry",
            "i m sorry",
            "that must be",
            "must be hard",
            "must be difficult",
            "must be frightening",
            "must be scary",
            "must be very",
            "i can see",
            "i can imagine",
            "i understand",
            "understandably",
            "that sounds",
            "sounds really",
            "sounds very",
            "it s okay to",
            "its okay to",
            "it is okay to",
            "take your time",
            "you re not alone",
            "youre not alone",
            "we re here",
            "were here to",
            "we are here",
            "i m here",
            "im here for",
            "thank you for telling me",
            "thank you for sharing",
            "that s a lot",
            "thats a lot",
            "frightening for you",
            "scary for you",
            "worried about",
            "i hear you",
        ],
    ),
    (
        "check_understanding",
        &[
            "does that make sense",
            "do you understand",
            "is that clear",
            "any questions",
            "can you tell me what you understand",
            "tell me in your own words",
            "what is your understanding",
            "what s your understanding",
            "whats your understanding",
            "can you repeat back",
            "explain it back",
            "have i explained",
            "make sense to you",
            "what do you understand",
            "so i know i explained",
        ],
    ),
    (
        "consent",
        &[
            "is it okay if",
            "is it ok if",
            "is that okay",
            "is that ok",
            "may i",
            "do i have your permission",
            "with your permission",
            "do you agree",
            "do you consent",
            "are you happy for",
            "would it be okay",
            "would it be ok",
            "would you be okay",
            "can i examine",
            "mind if i",
            "okay with you",
            "ok with you",
            "agree to",
        ],
    ),
    (
        "explain",
        &[
            "what we re going to do",
            "what we are going to do",
            "the plan is",
            "our plan",
            "i d like to",
            "id like to",
            "i would like to",
            "we need to",
            "we re going to",
            "were going to",
            "we are going to",
            "what this means",
            "this means",
            "the reason",
            "because",
            "i m going to",
            "im going to",
            "i am going to",
            "let me explain",
            "the test shows",
            "the results show",
            "the scan shows",
            "what is happening",
        ],
    ),
    (
        "summarize",
        &[
            "to summarize",
            "to summarise",
            "in summary",
            "let me summarize",
            "let me summarise",
            "so to recap",
            "to recap",
            "just to check i have",
            "let me make sure i have",
            "so what you re telling me",
            "so you ve had",
            "so youve had",
        ],
    ),
    (
        "safety_net",
        &[
            "come back",
            "return if",
            "return immediately",
            "call 911",
            "call 999",
            "call an ambulance",
            "if it gets worse",
            "if things get worse",
            "if you notice",
            "warning signs",
            "seek help",
            "seek urgent",
            "go to the emergency",
            "crisis line",
            "988",
        ],
    ),
    (
        "warning_shot",
        &[
            "i m afraid",
            "im afraid",
            "i am afraid",
            "i have some difficult news",
            "i have some bad news",
            "i have some serious news",
            "i m sorry to tell you",
            "im sorry to tell you",
            "i am sorry to tell you",
            "not the news",
            "not what we were hoping",
            "not as we hoped",
            "more serious than",
            "it is serious",
            "it s serious",
            "its serious",
            "i wish i had better news",
            "unfortunately",
            "difficult news",
            "bad news",
        ],
    ),
    (
        "ask_questions",
        &[
            "any questions",
            "what questions",
            "questions for me",
            "anything you d like to ask",
            "anything youd like to ask",
            "anything you want to ask",
            "anything else you",
            "is there anything",
            "what else",
        ],
    ),
];

/// The phrases of a built-in set.
pub fn phrase_set(name: &str) -> Option<&'static [&'static str]> {
    PHRASE_SETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
}

/// Whether `utterance` contains `phrase` as a contiguous run of normalized words.
pub fn says(utterance: &str, phrase: &str) -> bool {
    contains_words(&padded(utterance), normalize(phrase).trim())
}

/// Words after "I'm" that are not a name ("I'm one of the doctors", "I'm going to…",
/// "I'm so sorry").
const NOT_A_NAME: &[&str] = &[
    "a",
    "an",
    "the",
    "one",
    "your",
    "so",
    "sorry",
    "just",
    "not",
    "here",
    "afraid",
    "also",
    "really",
    "very",
    "glad",
    "worried",
    "concerned",
    "happy",
    "pleased",
    "on",
    "in",
    "with",
    "from",
    "at",
    "part",
    "sure",
    "able",
    "about",
    "back",
    "now",
    "only",
    "still",
    "this",
    "that",
    "what",
    "who",
    "here",
    "new",
    "working",
    "the",
    "looking",
    "going",
    "a",
];

/// Words that give a clinician's role.
const ROLE_WORDS: &[&str] = &[
    "doctor",
    "doctors",
    "nurse",
    "medical student",
    "registrar",
    "resident",
    "physician",
    "consultant",
    "attending",
    "intern",
    "house officer",
    "junior doctor",
    "practitioner",
];

/// Whether a padded normalized utterance names the speaker: "my name is", "this is Dr", or
/// "I'm"/"I am" followed by a name (or by Dr/Doctor and a name).
fn names_self(padded: &str) -> bool {
    if [" my name is ", " this is dr ", " this is doctor "]
        .iter()
        .any(|p| padded.contains(p))
    {
        return true;
    }
    let words: Vec<&str> = padded.split_whitespace().collect();
    words.iter().enumerate().any(|(i, w)| {
        let next = match (*w, words.get(i + 1)) {
            ("im", _) => i + 1,
            ("i", Some(&"am" | &"m")) => i + 2,
            _ => return false,
        };
        let next = match words.get(next) {
            Some(&"dr" | &"doctor") => next + 1,
            _ => next,
        };
        words
            .get(next)
            .is_some_and(|n| !NOT_A_NAME.contains(n) && !n.ends_with("ing"))
    })
}

/// The normalized utterance with a space on each side, for [`contains_words`].
fn padded(utterance: &str) -> String {
    format!(" {} ", normalize(utterance))
}

/// Whether a padded normalized utterance holds `phrase` (normalized) on word boundaries.
fn contains_words(padded: &str, phrase: &str) -> bool {
    !phrase.is_empty()
        && padded.match_indices(phrase).any(|(i, _)| {
            padded.as_bytes().get(i.wrapping_sub(1)) == Some(&b' ')
                && padded.as_bytes().get(i + phrase.len()) == Some(&b' ')
        })
}

/// The first phrase (of the set and the extra list) the utterance contains. The utterance is
/// normalized once; the built-in sets are stored normalized (a test checks this).
pub fn first_match(utterance: &str, set: Option<&str>, extra: &[String]) -> Option<String> {
    let u = padded(utterance);
    let builtin = set.and_then(phrase_set).unwrap_or(&[]);
    // An introduction gives a name as well as a role ("I'm one of the doctors" does not).
    let needs_name = set == Some("introduction");
    builtin
        .iter()
        .find(|p| contains_words(&u, p) && (!needs_name || names_self(&u)))
        .map(|p| p.to_string())
        .or_else(|| {
            // "Hi, I'm Sam, one of the doctors": a name and a role word anywhere.
            needs_name
                .then(|| ROLE_WORDS.iter().find(|r| contains_words(&u, r)))
                .flatten()
                .filter(|_| names_self(&u))
                .map(|r| r.to_string())
        })
        .or_else(|| {
            extra
                .iter()
                .find(|p| contains_words(&u, normalize(p).trim()))
                .cloned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_match_paraphrases() {
        let intro = Some("introduction");
        for s in [
            "Hi, I'm Dr Patel, one of the doctors.",
            "Hello, my name is Sam and I'm a medical student",
            "Good morning, I am Doctor Lee",
        ] {
            assert!(first_match(s, intro, &[]).is_some(), "{s}");
        }
        assert!(first_match("What brings you in?", intro, &[]).is_none());
        // A role without a name is not an introduction "by name and role".
        for s in [
            "Hi, I'm one of the emergency doctors. What happened to him?",
            "Hello, I'm the doctor looking after you today",
            "im the registrar on call",
        ] {
            assert!(first_match(s, intro, &[]).is_none(), "{s}");
        }
        for s in [
            "hi im sam, one of the doctors",
            "Hi, I am Priya, I'm one of the emergency doctors",
            "This is Dr Shah, the registrar",
        ] {
            assert!(first_match(s, intro, &[]).is_some(), "{s}");
        }
        assert!(first_match(
            "Does that make sense to you?",
            Some("check_understanding"),
            &[]
        )
        .is_some());
        assert!(first_match(
            "I'm so sorry, this must be frightening.",
            Some("empathy"),
            &[]
        )
        .is_some());
    }

    #[test]
    fn phrases_match_whole_words_only() {
        assert!(says("may I examine you", "may i"));
        assert!(!says("mayday", "may"));
        assert!(!says("anything", ""));
    }

    #[test]
    fn every_set_phrase_is_normalized() {
        for (name, phrases) in PHRASE_SETS {
            for p in *phrases {
                assert_eq!(&normalize(p), p, "set {name}");
            }
        }
    }
}
