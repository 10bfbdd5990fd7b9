//! Shared vocabulary: lay and medical phrasings mapped to one canonical token, so that "any
//! trouble breathing?" and a trigger written as "shortness of breath" meet at `dyspnea`.
//!
//! Canonicalization runs on normalized words (see `text::normalize`): at each word the
//! longest multi-word phrase starting there is replaced first, then single words are mapped
//! (before and after stemming).

use std::sync::OnceLock;

use super::text::{normalize, stem, words, WordMap};

/// Multi-word phrases → canonical token (a few single words that split into two tokens).
const PHRASES: &[(&str, &str)] = &[
    // Sensitive questions asked gently: the normalising, indirect phrasings trainees are
    // taught meet the blunt keyword (suicide and self-harm, abuse and safety at home, sexual
    // history, alcohol and drugs, end-of-life wishes), once for all cases.
    ("ending their life", "suicide"),
    ("ending their own life", "suicide"),
    ("end their life", "suicide"),
    ("end their own life", "suicide"),
    ("ending his life", "suicide"),
    ("ending her life", "suicide"),
    ("ending your own life", "suicide"),
    ("end your own life", "suicide"),
    ("take their own life", "suicide"),
    ("taking their own life", "suicide"),
    ("take their life", "suicide"),
    ("taking their life", "suicide"),
    ("take your own life", "suicide"),
    ("taking your own life", "suicide"),
    ("killing themselves", "suicide"),
    ("kill themselves", "suicide"),
    ("ending it all", "suicide"),
    ("end it all", "suicide"),
    ("ending things", "suicide"),
    ("end things", "suicide"),
    ("not want to live", "suicide"),
    ("not wanting to live", "suicide"),
    ("dont want to live", "suicide"),
    ("no longer want to live", "suicide"),
    ("thoughts of dying", "suicide"),
    ("hurting themselves", "selfharm"),
    ("hurt themselves", "selfharm"),
    ("harming themselves", "selfharm"),
    ("harm themselves", "selfharm"),
    ("cut yourself", "selfharm"),
    ("cutting yourself", "selfharm"),
    ("burn yourself", "selfharm"),
    ("sleep and not wake up", "wish dead"),
    ("sleep and never wake up", "wish dead"),
    ("not wake up", "wish dead"),
    ("not to wake up", "wish dead"),
    ("never wake up", "wish dead"),
    ("not be here anymore", "wish dead"),
    ("not being here anymore", "wish dead"),
    ("not be around", "wish dead"),
    ("wished you were dead", "wish dead"),
    ("feel safe at home", "abuse"),
    ("safe at home", "abuse"),
    ("anyone hurting you", "abuse"),
    ("anyone hurt you", "abuse"),
    ("someone hurting you", "abuse"),
    ("anyone hit you", "abuse"),
    ("afraid of anyone", "abuse"),
    ("frightened of anyone", "abuse"),
    ("scared of anyone", "abuse"),
    ("domestic violence", "abuse"),
    ("sexual partners", "sex"),
    ("sexual partner", "sex"),
    ("sleeping with anyone", "sex"),
    ("having sex", "sex"),
    ("sex life", "sex"),
    ("sexual health", "sti"),
    ("sexually transmitted", "sti"),
    ("units of alcohol", "alcohol"),
    ("how many units", "alcohol"),
    ("party drugs", "drug"),
    ("taken anything recreationally", "drug"),
    ("what you would want", "wishes"),
    ("what he would want", "wishes"),
    ("what she would want", "wishes"),
    ("what they would want", "wishes"),
    ("end of life", "wishes"),
    ("not for resuscitation", "resuscitation"),
    ("blood in the phlegm", "hemoptysis"),
    ("blood in your phlegm", "hemoptysis"),
    ("blood in his phlegm", "hemoptysis"),
    ("blood in the sputum", "hemoptysis"),
    ("coughing up blood", "hemoptysis"),
    ("coughed up blood", "hemoptysis"),
    ("burning when you pass water", "dysuria"),
    ("burning when you pass urine", "dysuria"),
    ("pain when you pass water", "dysuria"),
    ("stinging when you pass water", "dysuria"),
    ("stinging when you pee", "dysuria"),
    // How the patient feels now (facts whose answer depends on the state).
    ("how are you feeling", "how wellbeing"),
    ("how is he feeling", "how wellbeing"),
    ("how is she feeling", "how wellbeing"),
    ("how are you doing", "how wellbeing"),
    ("how do you feel", "how wellbeing"),
    ("how does he feel", "how wellbeing"),
    ("how does she feel", "how wellbeing"),
    ("feel any better", "wellbeing"),
    ("feeling any better", "wellbeing"),
    ("feel better", "wellbeing"),
    ("feeling better", "wellbeing"),
    ("feel worse", "wellbeing"),
    ("feeling worse", "wellbeing"),
    ("blood pressure problems", "hypertension"),
    ("last menstrual period", "period"),
    ("myocardial infarction", "mi"),
    ("difficulty breathing", "dyspnea"),
    ("sick to your stomach", "nausea"),
    ("burning when you pee", "dysuria"),
    ("shortness of breath", "dyspnea"),
    ("runs in your family", "family"),
    ("high blood pressure", "hypertension"),
    ("problems breathing", "dyspnea"),
    ("sick to my stomach", "nausea"),
    ("lose consciousness", "syncope"),
    ("lost consciousness", "syncope"),
    ("burning when i pee", "dysuria"),
    ("pain passing urine", "dysuria"),
    ("recreational drugs", "drug"),
    ("runs in the family", "family"),
    ("trouble breathing", "dyspnea"),
    ("catch your breath", "dyspnea"),
    ("throwing up blood", "hematemesis"),
    ("pain when you pee", "dysuria"),
    ("run in the family", "family"),
    ("chest discomfort", "chest pain"),
    ("pins and needles", "numb"),
    ("killing yourself", "suicide"),
    ("ending your life", "suicide"),
    ("taking your life", "suicide"),
    ("hurting yourself", "selfharm"),
    ("harming yourself", "selfharm"),
    ("high cholesterol", "hyperlipidemia"),
    ("short of breath", "dyspnea"),
    ("hard to breathe", "dyspnea"),
    ("catch my breath", "dyspnea"),
    ("chest tightness", "chest pain"),
    ("sexually active", "sex"),
    ("better off dead", "suicide"),
    ("sodium chloride", "saline"),
    ("chest pressure", "chest pain"),
    ("vomiting blood", "hematemesis"),
    ("coffee grounds", "hematemesis"),
    ("heart pounding", "palpitation"),
    ("pounding heart", "palpitation"),
    ("family history", "family"),
    ("take your life", "suicide"),
    ("blood thinners", "anticoagulant"),
    ("sugar diabetes", "diabetes"),
    ("non rebreather", "nrb"),
    ("out of breath", "dyspnea"),
    ("vomited blood", "hematemesis"),
    ("skipped beats", "palpitation"),
    ("losing weight", "weightloss"),
    ("illicit drugs", "drug"),
    ("kill yourself", "suicide"),
    ("end your life", "suicide"),
    ("hurt yourself", "selfharm"),
    ("harm yourself", "selfharm"),
    ("move anywhere", "radiate"),
    ("blood thinner", "anticoagulant"),
    ("normal saline", "saline"),
    ("nonrebreather", "nrb"),
    ("black stools", "melena"),
    ("tarry stools", "melena"),
    ("loose stools", "diarrhea"),
    ("runny stools", "diarrhea"),
    ("light headed", "dizzy"),
    ("heart racing", "palpitation"),
    ("racing heart", "palpitation"),
    ("street drugs", "drug"),
    ("for a living", "work"),
    ("feeling down", "mood"),
    ("heart attack", "mi"),
    ("tight chest", "chest pain"),
    ("chest feel tight", "chest pain"),
    ("chest feels tight", "chest pain"),
    ("chest feeling tight", "chest pain"),
    ("would you like", "want"),
    ("would like", "want"),
    ("in the past", "before"),
    ("throwing up", "vomit"),
    ("vomit blood", "hematemesis"),
    ("black stool", "melena"),
    ("tarry stool", "melena"),
    ("blacked out", "syncope"),
    ("weight loss", "weightloss"),
    ("lost weight", "weightloss"),
    ("feeling low", "mood"),
    ("go anywhere", "radiate"),
    ("water pills", "diuretic"),
    ("twelve lead", "12 lead"),
    ("being sick", "vomit"),
    ("passed out", "syncope"),
    ("out of ten", "severity"),
    ("how severe", "severity"),
    ("water pill", "diuretic"),
    ("black poo", "melena"),
    ("head ache", "headache"),
    ("black out", "syncope"),
    ("use drugs", "drug"),
    ("self harm", "selfharm"),
    ("out of 10", "severity"),
    ("throw up", "vomit"),
    ("threw up", "vomit"),
    ("pass out", "syncope"),
    ("drug use", "drug"),
    ("do drugs", "drug"),
    ("low mood", "mood"),
    ("by mouth", "po"),
    ("how bad", "severity"),
    // one written word, two canonical tokens: "xray" meets "x-ray"
    ("xrays", "x ray"),
    ("xray", "x ray"),
    ("xr", "x ray"),
    // "IV push"
    ("ivp", "iv push"),
];

/// Single words (as typed, or as stemmed) → canonical token.
const WORDS: &[(&str, &str)] = &[
    ("overnight", "night"),
    ("previously", "before"),
    ("unwell", "ill"),
    ("react", "reaction"),
    ("reacted", "reaction"),
    ("reacting", "reaction"),
    ("recreational", "drug"),
    ("recreationally", "drug"),
    ("resuscitate", "resuscitation"),
    ("cpr", "resuscitation"),
    ("dnr", "resuscitation"),
    ("dnacpr", "resuscitation"),
    ("abused", "abuse"),
    ("breathless", "dyspnea"),
    ("breathlessness", "dyspnea"),
    ("sob", "dyspnea"),
    ("dyspnoea", "dyspnea"),
    ("dyspnea", "dyspnea"),
    ("winded", "dyspnea"),
    ("breathing", "dyspnea"),
    ("breath", "dyspnea"),
    ("breathe", "dyspnea"),
    ("discomfort", "pain"),
    ("ache", "pain"),
    ("aching", "pain"),
    ("achy", "pain"),
    ("hurt", "pain"),
    ("hurts", "pain"),
    ("hurting", "pain"),
    ("sore", "pain"),
    ("soreness", "pain"),
    ("painful", "pain"),
    ("febrile", "fever"),
    ("temperature", "fever"),
    ("temperatures", "fever"),
    ("feverish", "fever"),
    ("fevers", "fever"),
    ("rigors", "chills"),
    ("rigor", "chills"),
    ("shivering", "chills"),
    ("shivers", "chills"),
    ("shaking", "chills"),
    ("sweats", "sweat"),
    ("sweating", "sweat"),
    ("sweaty", "sweat"),
    ("diaphoresis", "sweat"),
    ("diaphoretic", "sweat"),
    ("clammy", "sweat"),
    ("nauseous", "nausea"),
    ("nauseated", "nausea"),
    ("queasy", "nausea"),
    ("vomiting", "vomit"),
    ("vomited", "vomit"),
    ("emesis", "vomit"),
    ("haematemesis", "hematemesis"),
    ("melaena", "melena"),
    ("tarry", "melena"),
    ("diarrhoea", "diarrhea"),
    ("constipated", "constipation"),
    ("coughing", "cough"),
    ("coughs", "cough"),
    ("phlegm", "sputum"),
    ("mucus", "sputum"),
    ("headaches", "headache"),
    ("dizziness", "dizzy"),
    ("lightheaded", "dizzy"),
    ("lightheadedness", "dizzy"),
    ("vertigo", "dizzy"),
    ("faint", "syncope"),
    ("fainted", "syncope"),
    ("fainting", "syncope"),
    ("palpitations", "palpitation"),
    ("fluttering", "palpitation"),
    ("urinary", "urine"),
    ("urination", "urine"),
    ("urinate", "urine"),
    ("urinating", "urine"),
    ("pee", "urine"),
    ("peeing", "urine"),
    ("wee", "urine"),
    ("dysuria", "dysuria"),
    ("bleed", "bleeding"),
    ("bleeds", "bleeding"),
    ("bled", "bleeding"),
    ("hives", "hives"),
    ("urticaria", "hives"),
    ("welts", "hives"),
    ("spots", "rash"),
    ("swollen", "swelling"),
    ("swell", "swelling"),
    ("oedema", "swelling"),
    ("edema", "swelling"),
    ("weak", "weakness"),
    ("numbness", "numb"),
    ("tingling", "numb"),
    ("tingly", "numb"),
    ("sight", "vision"),
    ("eyesight", "vision"),
    ("visual", "vision"),
    ("blurry", "vision"),
    ("blurred", "vision"),
    ("speaking", "speech"),
    ("slurred", "speech"),
    ("slurring", "speech"),
    ("confused", "confusion"),
    ("muddled", "confusion"),
    ("disoriented", "confusion"),
    ("allergies", "allergy"),
    ("allergic", "allergy"),
    ("medication", "medication"),
    ("medications", "medication"),
    ("medicine", "medication"),
    ("medicines", "medication"),
    ("meds", "medication"),
    ("pills", "medication"),
    ("tablets", "medication"),
    ("prescriptions", "medication"),
    ("prescription", "medication"),
    ("smoking", "smoke"),
    ("smoker", "smoke"),
    ("smoked", "smoke"),
    ("cigarettes", "smoke"),
    ("cigarette", "smoke"),
    ("tobacco", "smoke"),
    ("vape", "smoke"),
    ("vaping", "smoke"),
    ("booze", "alcohol"),
    ("beer", "alcohol"),
    ("wine", "alcohol"),
    ("drugs", "drug"),
    ("cannabis", "drug"),
    ("marijuana", "drug"),
    ("weed", "drug"),
    ("cocaine", "drug"),
    ("heroin", "drug"),
    ("job", "work"),
    ("occupation", "work"),
    ("working", "work"),
    ("relatives", "family"),
    ("pregnancy", "pregnant"),
    ("periods", "period"),
    ("menstrual", "period"),
    ("menses", "period"),
    ("menstruation", "period"),
    ("lmp", "period"),
    ("sexual", "sex"),
    ("insomnia", "sleep"),
    ("sleeping", "sleep"),
    ("depressed", "mood"),
    ("depression", "mood"),
    ("suicidal", "suicide"),
    ("radiating", "radiate"),
    ("radiates", "radiate"),
    ("spread", "radiate"),
    ("spreading", "radiate"),
    ("spreads", "radiate"),
    ("travel", "radiate"),
    ("severe", "severity"),
    ("began", "start"),
    ("took", "take"),
    ("taken", "take"),
    ("ate", "eat"),
    ("eaten", "eat"),
    ("felt", "feel"),
    ("fell", "fall"),
    ("came", "come"),
    ("went", "go"),
    ("gave", "give"),
    ("saw", "see"),
    ("begin", "start"),
    ("beginning", "start"),
    ("onset", "start"),
    ("commence", "start"),
    ("anticoagulants", "anticoagulant"),
    ("warfarin", "anticoagulant"),
    ("apixaban", "anticoagulant"),
    ("rivaroxaban", "anticoagulant"),
    ("hypertensive", "hypertension"),
    ("diabetic", "diabetes"),
    ("sugar", "diabetes"),
    ("abdominal", "abdomen"),
    ("belly", "abdomen"),
    ("tummy", "abdomen"),
    ("cardiac", "heart"),
    ("lungs", "lung"),
    ("pulmonary", "lung"),
    ("neurological", "neuro"),
    ("neurologic", "neuro"),
    ("examine", "exam"),
    ("examination", "exam"),
    ("assess", "exam"),
    ("assessment", "exam"),
    ("inspect", "exam"),
    ("auscultate", "exam"),
    ("auscultation", "exam"),
    ("listen", "exam"),
    ("ekg", "ecg"),
    ("electrocardiogram", "ecg"),
    ("nebulised", "neb"),
    ("nebulized", "neb"),
    ("nebuliser", "neb"),
    ("nebulizer", "neb"),
    ("nebulisation", "neb"),
    ("haemoglobin", "hemoglobin"),
    ("oesophagus", "esophagus"),
    ("paediatric", "pediatric"),
    ("anaemia", "anemia"),
    ("salbutamol", "albuterol"),
    ("paracetamol", "acetaminophen"),
    ("adrenaline", "epinephrine"),
    ("noradrenaline", "norepinephrine"),
    ("frusemide", "furosemide"),
    ("glyceryl", "nitroglycerin"),
    // "fasting" (nil by mouth) must not stem to "fast" (the FAST scan)
    ("fasting", "npo"),
    ("nbm", "npo"),
    // order shorthand
    ("o2", "oxygen"),
    ("poct", "poc"),
    ("uss", "ultrasound"),
    ("haem", "heme"),
    ("resus", "resuscitation"),
    ("min", "minute"),
    ("mins", "minute"),
    ("minutes", "minute"),
];

/// The negative reply a patient gives to an unscripted review-of-systems question, per
/// canonical symptom token.
pub const ROS_NEGATIVES: &[(&str, &str)] = &[
    ("fever", "No, I haven't had a fever."),
    ("chills", "No chills or shivering."),
    ("sweat", "No, I haven't been sweating."),
    ("dyspnea", "No, my breathing's been fine."),
    ("cough", "No, no cough."),
    ("sputum", "No, I'm not bringing anything up."),
    ("nausea", "No, I don't feel sick."),
    ("vomit", "No, I haven't been sick."),
    ("hematemesis", "No, no blood when I've been sick."),
    ("melena", "No, my stools have looked normal."),
    ("diarrhea", "No diarrhoea."),
    ("constipation", "No, I'm going normally."),
    ("headache", "No headache."),
    ("dizzy", "No, I haven't felt dizzy."),
    ("syncope", "No, I haven't passed out."),
    ("palpitation", "No, I haven't noticed my heart racing."),
    ("weightloss", "No, my weight's been steady."),
    ("dysuria", "No, no burning when I pee."),
    ("urine", "No, no problems with my waterworks."),
    ("rash", "No rash that I've seen."),
    ("hives", "No, no hives."),
    ("swelling", "No, no swelling."),
    ("numb", "No numbness or tingling."),
    ("weakness", "No, no weakness."),
    ("vision", "No, my eyesight's fine."),
    ("speech", "No, no trouble with my speech."),
    ("confusion", "No, I've been thinking clearly."),
    ("bleeding", "No, no bleeding."),
    ("chest pain", "No, no chest pain."),
    ("appetite", "My appetite's been normal."),
    ("sleep", "I've been sleeping all right."),
];

/// Multi-word phrases indexed by their first word: (phrase words, canonical words), longest
/// first. Built once.
/// (phrase words, canonical words)
type PhraseEntry = (Vec<&'static str>, Vec<&'static str>);

fn phrase_index() -> &'static WordMap<&'static str, Vec<PhraseEntry>> {
    static INDEX: OnceLock<WordMap<&'static str, Vec<PhraseEntry>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: WordMap<&'static str, Vec<PhraseEntry>> = WordMap::default();
        for (phrase, canon) in PHRASES {
            let words: Vec<&str> = phrase.split(' ').collect();
            index
                .entry(words[0])
                .or_default()
                .push((words, canon.split(' ').collect()));
        }
        for list in index.values_mut() {
            list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
        index
    })
}

/// Words for drinking: alcohol or fluids, depending on the rest of the text.
const DRINK_WORDS: &[&str] = &["drink", "drinks", "drinking", "drank", "drunk"];

/// Words that make "drinking" mean alcohol.
const ALCOHOL_CONTEXT: &[&str] = &[
    "alcohol",
    "alcoholic",
    "booze",
    "beer",
    "beers",
    "wine",
    "spirits",
    "vodka",
    "whisky",
    "whiskey",
    "gin",
    "rum",
    "lager",
    "cider",
    "pint",
    "pints",
    "unit",
    "units",
    "pub",
    "hangover",
    "binge",
];

/// Words that make "drinking" mean fluid intake ("eating and drinking", "drinking enough").
const FLUID_CONTEXT: &[&str] = &[
    "eat", "eats", "eating", "ate", "eaten", "food", "meal", "meals", "fluid", "fluids", "water",
    "thirst", "thirsty", "enough", "juice", "milk", "tea", "coffee", "squash", "feed", "feeds",
    "feeding", "appetite", "sips", "sip", "bottle",
];

/// What a drinking word means in a text: `alcohol` unless the text is about eating or
/// fluids (`fluid`); an alcohol word anywhere settles it as alcohol.
fn drink_sense(words: &[&str]) -> &'static str {
    if words.iter().any(|w| ALCOHOL_CONTEXT.contains(w)) {
        "alcohol"
    } else if words.iter().any(|w| FLUID_CONTEXT.contains(w)) {
        "fluid"
    } else {
        "alcohol"
    }
}

/// Words whose prepositional object is what they are about: in "allergic to any medicines"
/// the medicines qualify the allergy; the question is not about medicines.
const GOVERNORS: &[&str] = &[
    "allergy",
    "reaction",
    "reactions",
    "intolerant",
    "intolerance",
];

/// Words that end a governed object ("allergic to penicillin and what tablets do you take").
const OBJECT_ENDS: &[&str] = &[
    "and", "but", "also", "what", "which", "how", "when", "where", "why", "who", "do", "does",
    "did", "are", "is", "was", "were", "have", "has", "had", "can", "could", "would", "will",
];

/// One canonical token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// Part of the object of an allergy or reaction ("medicines" in "allergic to medicines"):
    /// it qualifies another word rather than naming what the text is about.
    pub qualifier: bool,
}

/// Canonical tokens for a text: normalized, phrases and words mapped to canonical tokens,
/// the rest stemmed. Multi-word canonical phrases ("chest pain") become two tokens.
pub fn canonical_tokens(text: &str) -> Vec<String> {
    canonical_tokens_except(text, &|_| false)
}

/// [`canonical_tokens`] without the words `skip` rejects, checked on each word as typed and
/// on its canonical form (so a filler word is dropped before stemming can disguise it).
pub fn canonical_tokens_except(text: &str, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
    tokens_marked(text, skip)
        .into_iter()
        .map(|t| t.text)
        .collect()
}

/// [`canonical_tokens_except`], with each token marked when it only qualifies another.
pub fn tokens_marked(text: &str, skip: &dyn Fn(&str) -> bool) -> Vec<Token> {
    let norm = normalize(text);
    let toks: Vec<&str> = words(&norm).collect();
    let index = phrase_index();
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut drink: Option<&'static str> = None;
    // Inside the object of an allergy or reaction.
    let mut governed = false;
    let mut i = 0;
    let push =
        |out: &mut Vec<Token>, text: String, qualifier: bool| out.push(Token { text, qualifier });
    'outer: while i < toks.len() {
        let w = toks[i];
        if governed && OBJECT_ENDS.contains(&w) {
            governed = false;
        }
        if let Some(candidates) = index.get(w) {
            for (phrase, canon) in candidates {
                if toks[i..].starts_with(phrase) {
                    for c in canon {
                        push(&mut out, c.to_string(), governed);
                    }
                    i += phrase.len();
                    continue 'outer;
                }
            }
        }
        let c = if DRINK_WORDS.contains(&w) {
            drink.get_or_insert_with(|| drink_sense(&toks)).to_string()
        } else {
            canonical_word(w)
        };
        if !governed
            && (GOVERNORS.contains(&w) || GOVERNORS.contains(&c.as_str()))
            && matches!(toks.get(i + 1), Some(&"to") | Some(&"with"))
        {
            // The words after "allergic to" qualify the allergy.
            if !skip(w) && !skip(&c) {
                push(&mut out, c, false);
            }
            governed = true;
            i += 1;
            continue;
        }
        if !skip(w) && !skip(&c) {
            push(&mut out, c, governed);
        }
        i += 1;
    }
    out
}

/// The canonical token for a single normalized word.
pub fn canonical_word(word: &str) -> String {
    if let Some(c) = lookup_word(word) {
        return c.to_string();
    }
    let s = stem(word);
    match lookup_word(&s) {
        Some(c) => c.to_string(),
        None => s,
    }
}

fn lookup_word(word: &str) -> Option<&'static str> {
    static INDEX: OnceLock<WordMap<&'static str, &'static str>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            // Every canonical token maps to itself, so "suicide" and "suicidal" meet at
            // "suicide" instead of the stem "suicid".
            let mut index: WordMap<&str, &str> = WordMap::default();
            for (_, canon) in WORDS.iter().chain(PHRASES) {
                if !canon.contains(' ') {
                    index.insert(canon, canon);
                }
            }
            index.extend(WORDS.iter().copied());
            index
        })
        .get(word)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lay_and_medical_terms_meet() {
        assert!(canonical_tokens("Any trouble breathing?").contains(&"dyspnea".to_string()));
        assert!(canonical_tokens("shortness of breath").contains(&"dyspnea".to_string()));
        assert!(canonical_tokens("Are you breathless?").contains(&"dyspnea".to_string()));
        let mut a = canonical_tokens("examine belly");
        let mut b = canonical_tokens("abdominal examination");
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert!(canonical_tokens("have you been throwing up blood")
            .contains(&"hematemesis".to_string()));
        assert_eq!(canonical_tokens("EKG"), vec!["ecg".to_string()]);
    }

    #[test]
    fn drinking_means_alcohol_unless_the_text_is_about_eating_or_fluids() {
        let has = |text: &str, token: &str| canonical_tokens(text).iter().any(|t| t == token);
        assert!(has("Do you drink?", "alcohol"));
        assert!(has("How much do you drink a week?", "alcohol"));
        assert!(has("Do you drink wine with your meals?", "alcohol"));
        assert!(has("How is your eating and drinking?", "fluid"));
        assert!(!has("How is your eating and drinking?", "alcohol"));
        assert!(has("Is he drinking enough fluids?", "fluid"));
        assert!(!has("Have you been drinking lots of water?", "alcohol"));
    }

    #[test]
    fn the_object_of_an_allergy_only_qualifies_it() {
        let marked = |text: &str| -> Vec<(String, bool)> {
            tokens_marked(text, &|w| {
                ["do", "you", "have", "any", "are", "to", "and"].contains(&w)
            })
            .into_iter()
            .map(|t| (t.text, t.qualifier))
            .collect()
        };
        assert_eq!(
            marked("do you have any allergies to medicines"),
            [
                ("allergy".to_string(), false),
                ("medication".to_string(), true)
            ]
        );
        assert_eq!(
            marked("are you allergic to any medicines and what medicines do you take"),
            [
                ("allergy".to_string(), false),
                ("medication".to_string(), true),
                ("what".to_string(), false),
                ("medication".to_string(), false),
                ("take".to_string(), false),
            ]
        );
        assert!(marked("what medicines do you take").iter().all(|(_, q)| !q));
    }

    #[test]
    fn phrases_are_listed_longest_first_where_they_overlap() {
        for (i, (a, _)) in PHRASES.iter().enumerate() {
            for (b, _) in &PHRASES[i + 1..] {
                assert!(
                    !(b.len() > a.len() && b.contains(a)),
                    "`{b}` contains `{a}` and must come before it"
                );
            }
        }
    }

    #[test]
    fn every_word_mapping_is_normalized() {
        for (w, _) in WORDS {
            assert_eq!(&normalize(w), w);
        }
        for (p, _) in PHRASES {
            assert_eq!(&normalize(p), p);
        }
    }
}
