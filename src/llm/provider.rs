//! The one place that chooses between providers: the request, the whole reply and the stream
//! decoder for a [`ProviderKind`], over the neutral [`Reply`]. The wire formats themselves stay
//! private to `openai` and `anthropic`.

use super::settings::{ProviderKind, ProviderSettings};
use super::sse::SseEvent;
use super::transport::HttpRequest;
use super::{anthropic, openai};
use super::{Chat, StructuredForm};

pub use super::wire::{Compat, Reply, StreamFault, Structured};

/// The chat request for `chat`, with what the endpoint was found to take (`compat`).
pub fn request(
    settings: &ProviderSettings,
    chat: &Chat,
    stream: bool,
    compat: Compat,
) -> HttpRequest {
    match settings.kind {
        ProviderKind::OpenAi => openai::request_with(settings, chat, stream, compat),
        ProviderKind::Anthropic => anthropic::request(
            settings,
            chat,
            stream,
            compat.structured != Structured::PromptOnly,
        ),
    }
}

/// How the reply's shape is asked for in a request for `chat` (`None`: the chat has no schema).
pub fn structured_form(kind: ProviderKind, chat: &Chat, compat: Compat) -> Option<StructuredForm> {
    chat.schema.as_ref()?;
    Some(match (kind, compat.structured) {
        (_, Structured::PromptOnly) => StructuredForm::PromptOnly,
        (ProviderKind::Anthropic, _) => StructuredForm::ToolUse,
        (ProviderKind::OpenAi, s) => s.form(),
    })
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
