//! Text normalization shared by action matching, the scripted patient and phrase rules:
//! lower-casing, folding punctuation and common accents, tokenizing, light stemming, and a
//! small fuzzy index for typos (one edit).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Lower-case, fold a few accented letters, turn punctuation into spaces (keeping `.` inside
/// numbers and `/` inside units such as mg/kg), and collapse whitespace.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(raw) = chars.next() {
        let next = chars.peek().copied();
        let c = fold(raw);
        let keep = c.is_ascii_alphanumeric()
            || (c == '.'
                && prev.is_some_and(|p| p.is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit()))
            || (c == '/'
                && prev.is_some_and(|p| p.is_ascii_alphabetic())
                && next.is_some_and(|n| n.is_ascii_alphabetic()))
            || c == '%'
            || c == '\'';
        if keep {
            // Kept characters are ASCII; an apostrophe joins ("don't" -> "dont").
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        prev = Some(raw);
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A small, fast, deterministic hasher (the multiply-rotate scheme of rustc's FxHash) for
/// the engine's static word tables, which are probed for every word of every question and
/// order. Lookups only: nothing iterates these maps, so their order never shows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by words, with [`WordHasher`].
pub(crate) type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// A set of words, with [`WordHasher`].
type WordSet = HashSet<String, BuildHasherDefault<WordHasher>>;

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'µ' | 'μ' => 'u',
        '’' | '‘' | '`' => '\'',
        '–' | '—' => '-',
        other => other,
    }
}

/// The words of a normalized text.
pub fn words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split(' ').filter(|w| !w.is_empty())
}

/// A light, deterministic stemmer for English clinical questions: strips common inflections
/// so that "started", "starting" and "starts" meet at "start". Not Porter; good enough for
/// matching short triggers, and predictable.
pub fn stem(word: &str) -> String {
    let w = word;
    if w.len() <= 3 || w.chars().any(|c| c.is_ascii_digit()) {
        return w.to_string();
    }
    for (suffix, replacement) in [
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("ly", ""),
    ] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base.len() >= 3
                && !(suffix == "s"
                    && (base.ends_with('s') || base.ends_with('u') || base.ends_with('i')))
            {
                let mut b = format!("{base}{replacement}");
                // "stopped" -> "stopp" -> "stop"
                let bytes = b.as_bytes();
                if replacement.is_empty()
                    && bytes.len() >= 4
                    && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
                    && !matches!(bytes[bytes.len() - 1], b'l' | b's' | b'z')
                {
                    b.pop();
                } else if matches!(suffix, "ing" | "ed" | "es") && is_short_cvc(&b) {
                    // "taking", "makes", "saved" -> "take", "make", "save", as the bare
                    // word stems ("take" stays "take").
                    b.push('e');
                }
                return strip_final_e(b);
            }
        }
    }
    strip_final_e(w.to_string())
}

/// A three-letter consonant-vowel-consonant stem ("tak", "sav"; not "fix", "row", "eat"),
/// the shape an inflection leaves after dropping a silent e.
fn is_short_cvc(w: &str) -> bool {
    let b = w.as_bytes();
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    b.len() == 3
        && !vowel(b[0])
        && vowel(b[1])
        && !vowel(b[2])
        && !matches!(b[2], b'w' | b'x' | b'y' | b's' | b'z')
}

fn strip_final_e(mut w: String) -> String {
    if w.len() > 4 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// Words of a text, normalized and stemmed.
pub fn stems(text: &str) -> Vec<String> {
    words(&normalize(text)).map(stem).collect()
}

/// Levenshtein distance, capped: returns `None` when above `max`.
pub fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            // Transposition of two neighbours counts as one edit.
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev[j - 1]);
            }
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// A vocabulary with typo-tolerant lookup: a word matches itself, or a vocabulary word within
/// one edit (two for words of 8 letters or more). Candidates come from a deletion index, so a
/// lookup costs a few map probes, not a scan.
#[derive(Debug, Clone, Default)]
pub struct FuzzyVocab {
    words: WordSet,
    deletions: WordMap<String, Vec<String>>,
}

impl FuzzyVocab {
    pub fn new<I: IntoIterator<Item = String>>(words: I) -> Self {
        let mut vocab = FuzzyVocab::default();
        for w in words {
            vocab.insert(w);
        }
        vocab
    }

    pub fn insert(&mut self, word: String) {
        if self.words.contains(&word) {
            return;
        }
        if word.chars().count() >= 4 {
            for d in deletions(&word) {
                self.deletions.entry(d).or_default().push(word.clone());
            }
            self.deletions
                .entry(word.clone())
                .or_default()
                .push(word.clone());
        }
        self.words.insert(word);
    }

    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    /// The vocabulary word `word` most likely means: itself if known; else the closest word
    /// within the edit budget (ties broken alphabetically, so the answer is deterministic).
    /// Words shorter than 4 letters and numbers are never corrected.
    pub fn correct(&self, word: &str) -> Option<&str> {
        if let Some(w) = self.words.get(word) {
            return Some(w.as_str());
        }
        let len = word.chars().count();
        if len < 4 || word.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let max = if len >= 8 { 2 } else { 1 };
        let mut keys = vec![word.to_string()];
        keys.extend(deletions(word));
        let mut best: Option<(usize, &str)> = None;
        for key in &keys {
            for cand in self.deletions.get(key).into_iter().flatten() {
                if let Some(d) = bounded_distance(word, cand, max) {
                    let better = match best {
                        None => true,
                        Some((bd, bw)) => d < bd || (d == bd && cand.as_str() < bw),
                    };
                    if better {
                        best = Some((d, cand.as_str()));
                    }
                }
            }
        }
        best.map(|(_, w)| w)
    }
}

impl FuzzyVocab {
    /// [`FuzzyVocab::correct`] for conversational text, where many real words sit one edit
    /// from a vocabulary word ("sorry"/"worry", "hard"/"harm"): only words of 5 letters or
    /// more, keeping their first letter, are corrected.
    pub fn correct_strict(&self, word: &str) -> Option<&str> {
        if let Some(w) = self.words.get(word) {
            return Some(w.as_str());
        }
        if word.chars().count() < 5 {
            return None;
        }
        self.correct(word)
            .filter(|c| c.chars().next() == word.chars().next())
    }
}

fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|i| {
            chars
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, c)| c)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_punctuation_and_keeps_numbers() {
        assert_eq!(normalize("Give ASA 325mg P.O.!"), "give asa 325mg p o");
        assert_eq!(normalize("12-lead  ECG"), "12 lead ecg");
        assert_eq!(normalize("0.5 mg/kg IV"), "0.5 mg/kg iv");
        assert_eq!(normalize("Don’t you feel well?"), "dont you feel well");
        assert_eq!(normalize("Ringer’s lactate 1 L"), "ringers lactate 1 l");
    }

    #[test]
    fn stem_meets_inflections() {
        for (a, b) in [
            ("started", "start"),
            ("starting", "start"),
            ("starts", "start"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} vs {b}");
        }
        assert_eq!(stem("stopped"), "stop");
        assert_eq!(stem("worries"), "worry");
        assert_eq!(stem("breathing"), stem("breathe"));
        assert_eq!(stem("pains"), "pain");
        assert_eq!(stem("ecg"), "ecg");
        assert_eq!(stem("dizziness"), "dizziness");
        // A short stem that dropped a silent e gets it back, so it meets the bare word.
        for (a, b) in [
            ("taking", "take"),
            ("makes", "make"),
            ("saved", "save"),
            ("hoping", "hope"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} vs {b}");
        }
        for (a, b) in [
            ("guns", "gun"),
            ("fixed", "fix"),
            ("gases", "gas"),
            ("hopping", "hop"),
        ] {
            assert_eq!(stem(a), b, "{a}");
        }
    }

    #[test]
    fn fuzzy_vocab_corrects_one_typo_and_not_short_words() {
        let v = FuzzyVocab::new(["troponin", "lipase", "lactate", "ecg"].map(String::from));
        assert_eq!(v.correct("trponin"), Some("troponin"));
        assert_eq!(v.correct("troponni"), Some("troponin"));
        assert_eq!(v.correct("lipaes"), Some("lipase"));
        assert_eq!(v.correct("lactat"), Some("lactate"));
        assert_eq!(v.correct("ekg"), None);
        assert_eq!(v.correct("banana"), None);
    }

    #[test]
    fn bounded_distance_respects_the_cap() {
        assert_eq!(bounded_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_distance("kitten", "sitting", 2), None);
        assert_eq!(bounded_distance("ab", "ba", 1), Some(1));
    }
}
