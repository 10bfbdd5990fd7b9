//! Figures for the record, not checks: SmolLM2 plays three cases as the clinician with the
//! patient voiced by SmolLM2 and the judge called at the end, and the run prints the clean-turn
//! share, the protocol faults per kind, the judge's outcome, and the tokens per encounter
//! (prompt, completion, and what llama.cpp took from its prompt cache). Ignored by default:
//! `cargo test --test native smollm2_figures -- --ignored --nocapture`. Nothing is asserted on
//! the figures (a tiny model and wall-clock time vary); the patient has its own server so that
//! its prompt cache is not overwritten by the clinician's calls, as a provider's cache would
//! not be.

use super::*;

/// What one llama.cpp server's log says about the calls since a byte offset: prompt tokens
/// evaluated, prompt tokens reused from its cache ("prefix-match hit"), tokens generated.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ServerTokens {
    pub(super) evaluated: u64,
    pub(super) cached: u64,
    pub(super) generated: u64,
    pub(super) calls: u64,
}

pub(super) fn log_len(server: &Smol) -> usize {
    std::fs::read(&server.log).map(|b| b.len()).unwrap_or(0)
}

/// The number just before `unit` in `line` ("… /    50 tokens" → 50).
fn number_before(line: &str, unit: &str) -> Option<u64> {
    let head = &line[..line.find(unit)?];
    head.split(|c: char| !c.is_ascii_digit())
        .rfind(|w| !w.is_empty())?
        .parse()
        .ok()
}

pub(super) fn server_tokens(server: &Smol, from: usize) -> ServerTokens {
    let log = std::fs::read(&server.log).unwrap_or_default();
    let text = String::from_utf8_lossy(&log[from.min(log.len())..]).into_owned();
    let mut t = ServerTokens::default();
    for line in text.lines() {
        if line.contains("prefix-match hit") {
            t.cached += number_before(line, "prefix-match hit").unwrap_or(0);
        } else if line.contains("prompt eval time") {
            t.evaluated += number_before(line, " tokens").unwrap_or(0);
            t.calls += 1;
        } else if line.contains(" eval time") {
            t.generated += number_before(line, " runs").unwrap_or(0);
        }
    }
    t
}

/// Prompt and completion tokens the provider reported for one role, and its calls without
/// counts.
fn reported(exchanges: &[LlmExchange], role: Role) -> (u64, u64, usize) {
    let mut sums = (0, 0, 0);
    for c in exchanges
        .iter()
        .filter(|x| x.role == role)
        .filter_map(|x| x.completion.as_ref())
    {
        if c.usage_reported {
            sums.0 += c.usage.input_tokens;
            sums.1 += c.usage.output_tokens;
        } else {
            sums.2 += 1;
        }
    }
    sums
}

pub(super) const FIGURE_CASES: [&str; 3] = [
    "sepsis-pneumonia",
    "acs-inferior-stemi",
    "breaking-bad-news",
];

/// One case's figures.
pub(super) struct Figures<'a> {
    pub(super) id: &'a str,
    pub(super) enc: &'a Encounter,
    pub(super) turns: &'a [Fallback],
    pub(super) exchanges: &'a [LlmExchange],
    pub(super) judge: String,
    pub(super) clinician_log: ServerTokens,
    pub(super) patient_log: ServerTokens,
    pub(super) seconds: f64,
}

impl Figures<'_> {
    pub(super) fn print(&self) {
        let (id, turns, exchanges) = (self.id, self.turns, self.exchanges);
        let (c, p) = (self.clinician_log, self.patient_log);
        let clean = turns.iter().filter(|f| **f == Fallback::Clean).count();
        let faults = roles::fault_counts(exchanges);
        let (cp, cc, cu) = reported(exchanges, Role::Clinician);
        let (pp, pc, pu) = reported(exchanges, Role::Patient);
        let (jp, jc, ju) = reported(exchanges, Role::Judge);
        let _ = writeln!(
            std::io::stderr().lock(),
            "FIGURES {id}: {} turns (ended: {:?}), clean {clean}/{} = {:.0}%, faults {faults:?}, judge {}\n  \
             reported tokens (prompt+completion): clinician {cp}+{cc} ({cu} calls without counts), patient {pp}+{pc} ({pu} without), judge {jp}+{jc} ({ju} without)\n  \
             llama.cpp logs: clinician+judge server {} calls, prompt {} (of which cached {}), generated {}; patient server {} calls, prompt {} (cached {}), generated {}\n  \
             {:.0} s",
            self.enc.state().turn,
            self.enc.state().ended.as_ref().map(|e| e.reason),
            turns.len(),
            100.0 * clean as f64 / turns.len().max(1) as f64,
            self.judge,
            c.calls,
            c.evaluated + c.cached,
            c.cached,
            c.generated,
            p.calls,
            p.evaluated + p.cached,
            p.cached,
            p.generated,
            self.seconds,
        );
    }
}

#[test]
#[ignore = "prints figures for the record; needs SmolLM2 and minutes"]
fn smollm2_figures() {
    // Only to know whether SmolLM2 is installed; the figures use servers of their own with
    // the browser tests' context window (8192), so that no chat is trimmed to fit.
    let Some((_, _guard)) = smol("smollm2_figures") else {
        return;
    };
    let server = &start_smol(8192);
    let patient_server = start_smol(8192);
    for id in FIGURE_CASES {
        let started = Instant::now();
        let marks = (log_len(server), log_len(&patient_server));
        let players = Players {
            clinician: smol_settings(&server.url, 160),
            patient: Some(smol_settings(&patient_server.url, 60)),
            judge: Some(smol_settings(&server.url, 600)),
        };
        let driver = Driver::new(&players, &PlayConfig::default(), NativeTransport::new);
        let play = block_on(driver.play(
            model_encounter(id, 12),
            BTreeMap::new(),
            &Cancel::new(),
            &mut (),
        ));
        let judge = match &play.judge {
            Some(Ok(run)) => format!("scored {} item(s)", run.verdicts.len()),
            Some(Err(e)) => format!("failed: {e}"),
            None => format!("not called ({:?})", play.state),
        };
        Figures {
            id,
            enc: &play.encounter,
            turns: &play.turns,
            exchanges: &play.exchanges,
            judge,
            clinician_log: server_tokens(server, marks.0),
            patient_log: server_tokens(&patient_server, marks.1),
            seconds: started.elapsed().as_secs_f64(),
        }
        .print();
    }
}

/// The patient's prompt cache over the strong plays (the engine matching facts turn after turn,
/// unlike a tiny clinician model's questions): each patient-side line of the three cases' strong
/// plays is asked of llama.cpp with one token to generate, and its log says how much of each
/// prompt it took from the previous one.
#[test]
#[ignore = "prints figures for the record; needs SmolLM2"]
fn smollm2_patient_cache_over_strong_plays() {
    let Some((_, _guard)) = smol("smollm2_patient_cache_over_strong_plays") else {
        return;
    };
    let server = start_smol(8192);
    let client = smol_client(&server.url, 1);
    for id in FIGURE_CASES {
        let mark = log_len(&server);
        let (chats, _) = super::prompt_guarantees::strong_play_chats(id, &client.params());
        let mut chars = 0;
        for chat in &chats {
            chars += chat.system.len() + chat.messages.iter().map(|m| m.text.len()).sum::<usize>();
            block_on(client.complete(chat, &Cancel::new())).expect("one token");
        }
        let t = server_tokens(&server, mark);
        let _ = writeln!(
            std::io::stderr().lock(),
            "PATIENT CACHE {id}: {} calls ({chars} prompt characters), prompt {} tokens, of which cached {} ({:.0}%), evaluated {}",
            t.calls,
            t.evaluated + t.cached,
            t.cached,
            100.0 * t.cached as f64 / (t.evaluated + t.cached).max(1) as f64,
            t.evaluated
        );
    }
}
