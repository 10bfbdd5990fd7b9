//! The static play: the whole case given at once as a written vignette
//! ([`crate::engine::vignette`]) and one call asking for the diagnosis and the management as
//! actions, the model's answer to "what would you do?" without a conversation.
//!
//! The encounter is one turn long ([`STATIC_TURN_LIMIT`]) and marked static
//! ([`crate::engine::encounter::Config::vignette`]): the answer's actions are that turn, all
//! placed at time zero (the clock does not move in a static play), any disposition last so
//! that none is cut off by the closing it starts; the answer's diagnosis, differential, plan
//! and disposition are the end form. Scoring then marks the items that need the dialogue or
//! the clock not applicable. An answer still unusable after one re-ask is a turn in which
//! nothing is done, and the encounter closes without a diagnosis (scored as none given).

use super::client::Client;
use super::prompts;
use super::protocol::{self, Fallback};
use super::roles::{self, ClinicianTurn, LlmExchange};
use super::transport::{Cancel, Transport};
use super::Message;
use crate::engine::action::interpret;
use crate::engine::catalog::{Catalog, Category};
use crate::engine::encounter::{Encounter, Input, Turn};

/// A static play's turn limit: its one turn, then the end form.
pub const STATIC_TURN_LIMIT: u32 = 1;

/// The static call's outcome: the turn of actions and the end form to give once the encounter
/// closes (`None`: no usable answer, the encounter closes without one).
pub struct StaticTurn {
    pub turn: ClinicianTurn,
    pub end: Option<Input>,
}

/// `actions` with the dispositions moved last, each group in its own order.
pub fn dispositions_last(actions: Vec<String>, catalog: &Catalog) -> Vec<String> {
    let is_disposition = |raw: &String| {
        interpret(raw, catalog)
            .order
            .and_then(|o| catalog.get(&o.id))
            .is_some_and(|o| o.category == Category::Disposition)
    };
    let (dispositions, others): (Vec<String>, Vec<String>) =
        actions.into_iter().partition(is_disposition);
    others.into_iter().chain(dispositions).collect()
}

/// The one static call (and its one re-ask) on a new `encounter`.
pub async fn static_turn<T: Transport>(
    client: &Client<T>,
    encounter: &Encounter,
    cancel: &Cancel,
) -> StaticTurn {
    let case = encounter.case();
    let mut chat = prompts::static_chat(case, &encounter.vignette(), client.params());
    let mut exchanges: Vec<LlmExchange> = Vec::new();
    for attempt in 0..2 {
        let (mut ex, result) =
            roles::clinician_call(client, &mut chat, cancel, &mut exchanges, |ex| {
                ex.correction = attempt == 1
            })
            .await;
        let c = match result {
            Ok(c) => c,
            Err(err) => {
                return StaticTurn {
                    turn: roles::call_failed(ex, err, exchanges),
                    end: None,
                }
            }
        };
        let raw = c.text.clone();
        let parsed = protocol::parse_static(&raw);
        ex.completion = Some(c);
        ex.fallback = Some(parsed.fallback);
        ex.notes = parsed.notes.clone();
        ex.fault = parsed.fault;
        exchanges.push(ex);
        if let Some((form, actions)) = parsed.answer {
            let actions = dispositions_last(actions, encounter.catalog());
            return StaticTurn {
                turn: ClinicianTurn {
                    input: Ok(Input::Turn(Turn {
                        speak: String::new(),
                        actions,
                        eos: false,
                    })),
                    fallback: parsed.fallback,
                    exchanges,
                },
                end: Some(Input::End(form)),
            };
        }
        if attempt == 0 {
            chat.messages.push(Message::assistant(raw));
            chat.messages
                .push(Message::user(protocol::static_correction(
                    &parsed.notes.join("; "),
                )));
        }
    }
    StaticTurn {
        turn: roles::nothing_said(
            exchanges,
            "unusable after asking again: nothing is done and no diagnosis is given",
        ),
        end: None,
    }
}

/// The end form's step of a static play: the answer's end form, or closing without one.
pub fn static_end(end: Option<Input>, fallback: Fallback) -> ClinicianTurn {
    match end {
        Some(input) => ClinicianTurn {
            input: Ok(input),
            fallback,
            exchanges: Vec::new(),
        },
        None => ClinicianTurn {
            input: Ok(Input::Close),
            fallback: Fallback::Unusable,
            exchanges: Vec::new(),
        },
    }
}
