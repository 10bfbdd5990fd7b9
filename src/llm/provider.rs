//! The one place that chooses between providers: the request, the whole reply and the stream
//! decoder for a [`ProviderKind`], over the neutral [`Reply`]. The wire formats themselves stay
//! private to `openai` and `anthropic`.

use super::settings::{ProviderKind, ProviderSettings};
use super::sse::SseEvent;
use super::transport::HttpRequest;
use super::{anthropic, openai};
use super::{Chat, FinishReason, Usage};

pub use openai::Compat;

/// A decoded reply, whichever provider sent it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    pub text: String,
    pub usage: Usage,
    /// Whether the provider reported usage (some servers omit it when streaming).
    pub usage_reported: bool,
    pub finish: Option<FinishReason>,
    pub model: Option<String>,
}

/// Why a stream event could not be used: the provider reported a failure inside the stream, or
/// what came was not the provider's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFault {
    /// An error event from the provider (its message).
    Provider(String),
    /// An event that is not the provider's format (what was wrong, with a preview).
    Malformed(String),
}

/// The first 120 characters of `s`, with an ellipsis when cut.
pub(crate) fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(120).collect();
    if s.chars().count() > 120 {
        p.push('…');
    }
    p
}

/// The chat request for `chat` (`compat` applies to OpenAI-compatible servers only).
pub fn request(
    settings: &ProviderSettings,
    chat: &Chat,
    stream: bool,
    compat: Compat,
) -> HttpRequest {
    match settings.kind {
        ProviderKind::OpenAi => openai::request_with(settings, chat, stream, compat),
        ProviderKind::Anthropic => anthropic::request(settings, chat, stream),
    }
}

/// Decodes a whole (non-streamed) reply; the error says what was wrong with the body.
pub fn parse_response(kind: ProviderKind, body: &str) -> Result<Reply, String> {
    match kind {
        ProviderKind::OpenAi => openai::parse_response(body),
        ProviderKind::Anthropic => anthropic::parse_response(body),
    }
}

/// Accumulates a streamed reply event by event.
#[derive(Debug)]
pub enum Decoder {
    OpenAi(openai::StreamDecoder),
    Anthropic(anthropic::StreamDecoder),
}

impl Decoder {
    pub fn new(kind: ProviderKind) -> Decoder {
        match kind {
            ProviderKind::OpenAi => Decoder::OpenAi(Default::default()),
            ProviderKind::Anthropic => Decoder::Anthropic(Default::default()),
        }
    }

    /// Handles one event; returns the text it added.
    pub fn on_event(&mut self, ev: &SseEvent) -> Result<String, StreamFault> {
        match self {
            Decoder::OpenAi(d) => d.on_event(ev),
            Decoder::Anthropic(d) => d.on_event(ev),
        }
    }

    /// Whether the stream ended properly.
    pub fn complete(&self) -> bool {
        match self {
            Decoder::OpenAi(d) => d.complete(),
            Decoder::Anthropic(d) => d.complete(),
        }
    }

    pub fn into_reply(self) -> Reply {
        match self {
            Decoder::OpenAi(d) => d.reply,
            Decoder::Anthropic(d) => d.reply,
        }
    }
}
