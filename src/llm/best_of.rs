//! MedSP1000's best-of-N clinician turn (`bon`): N candidate turns sampled at a higher
//! temperature, each read and checked as a single turn is ([`roles::TurnCheck`]), then one
//! selector call picks among the usable ones, and the pick is the turn.
//!
//! The cost is fixed, so runs stay comparable: N + 1 calls per turn whenever the server
//! answers, the selector's included even when a single candidate is usable or all are the same.
//! No usable candidate: the turn is taken as nothing said (as a single turn unusable after its
//! re-ask), after N calls, with no selector call. A selector reply that cannot be read takes
//! the first usable candidate (noted on its exchange), never an error. A failed call fails the
//! turn, as in a single turn. The candidates are not re-asked; a chat too long for the model is
//! trimmed and sent again as in a single turn ([`roles::clinician_call`]).

use super::client::Client;
use super::prompts;
use super::protocol::{self, Fallback};
use super::roles::{self, ClinicianTurn, LlmExchange, TurnCheck, TurnStep};
use super::transport::{Cancel, Transport};
use super::Params;
use crate::engine::case::Case;
use crate::engine::encounter::{Input, Record, Turn};

/// The sampling parameters of candidate `k` (from 1): the strategy's temperature, and, when a
/// seed is set, the seed plus k − 1, so that seeded candidates differ.
fn candidate_params(base: &Params, temperature: f64, k: u32) -> Params {
    Params {
        temperature,
        seed: base.seed.map(|s| s.wrapping_add(u64::from(k - 1))),
        ..base.clone()
    }
}

/// One best-of-`n` clinician turn: `n` candidates at `temperature`, then the selector call at
/// the role's own sampling parameters. While the encounter is closing, the end form is asked
/// for once, as [`roles::clinician_turn`] does (the driver does not call this then).
pub async fn best_of_turn<T: Transport>(
    client: &Client<T>,
    case: &Case,
    record: &Record,
    n: u32,
    temperature: f64,
    cancel: &Cancel,
) -> ClinicianTurn {
    let check = TurnCheck::new(case, record);
    if check.closing {
        return roles::clinician_turn(client, case, record, cancel).await;
    }
    let base = client.params();
    let mut chat = prompts::clinician_chat(case, record, base.clone());
    let mut exchanges: Vec<LlmExchange> = Vec::new();
    // The usable candidates: (k, turn, fallback).
    let mut usable: Vec<(u32, Turn, Fallback)> = Vec::new();
    for k in 1..=n {
        chat.params = candidate_params(&base, temperature, k);
        let (mut ex, result) =
            roles::clinician_call(client, &mut chat, cancel, &mut exchanges, |ex| {
                ex.step = Some(TurnStep::Candidate(k))
            })
            .await;
        let c = match result {
            Ok(c) => c,
            Err(err) => return roles::call_failed(ex, err, exchanges),
        };
        let (input, fallback) = check.read(&mut ex, c);
        exchanges.push(ex);
        if let Some(Input::Turn(turn)) = input {
            usable.push((k, turn, fallback));
        }
    }
    if usable.is_empty() {
        return roles::nothing_said(
            exchanges,
            "no candidate was usable: the turn is taken as nothing said",
        );
    }
    let shown: Vec<&Turn> = usable.iter().map(|(_, t, _)| t).collect();
    let mut selector = prompts::selector_chat(&chat, &shown, base);
    let (mut ex, result) =
        roles::clinician_call(client, &mut selector, cancel, &mut exchanges, |ex| {
            ex.step = Some(TurnStep::Selector)
        })
        .await;
    let c = match result {
        Ok(c) => c,
        Err(err) => return roles::call_failed(ex, err, exchanges),
    };
    let pick = match protocol::parse_choice(&c.text, usable.len()) {
        Ok(i) => i,
        Err(why) => {
            ex.notes
                .push(format!("{why}: the first usable candidate is taken"));
            0
        }
    };
    ex.completion = Some(c);
    let (k, turn, fallback) = usable.swap_remove(pick);
    ex.notes.push(format!("candidate {k} of {n} is the turn"));
    exchanges.push(ex);
    ClinicianTurn {
        input: Ok(Input::Turn(turn)),
        fallback,
        exchanges,
    }
}
