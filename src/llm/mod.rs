//! The LLM layer: providers, robust calls, tolerant JSON, prompts and the three model roles
//! (patient voice, clinician, judge).
//!
//! The engine never depends on this module; this module depends on the engine's public API.
//!
//! - [`settings`]: per-role provider settings, the redacting [`settings::ApiKey`], validation.
//! - [`openai`], [`anthropic`]: each provider's private wire format, converted by hand;
//!   [`provider`]: the one place that picks between them; [`wire`]: the neutral reply and
//!   what an endpoint refused.
//! - [`sse`]: server-sent events parsing over arbitrary byte chunks.
//! - [`error`]: the typed error with plain-words messages, `retryable`, and the key redactor.
//! - [`transport`]: the one small HTTP trait, with a browser (fetch) and a native (ureq) side.
//! - [`client`]: retries with backoff and jitter, timeouts, usage accounting, test connection.
//! - [`json`]: tolerant JSON extraction from model replies.
//! - [`protocol`]: the clinician turn protocol and the judge reply, parsed strictly with
//!   recorded fallbacks.
//! - [`prompts`]: pure prompt builders for the three roles.
//! - [`roles`]: one call per role, recorded as an [`roles::LlmExchange`]; the judge's checked
//!   [`crate::engine::score::JudgeRun`] (its one builder) and the export's LLM record.
//! - [`best_of`]: MedSP1000's best-of-N clinician turn (N candidates, one selector call).
//! - [`static_play`]: the static play (the whole case as a vignette, one answer, scored on
//!   the items that apply without a conversation).
//! - [`driver`]: the one driver of a model-clinician encounter (app, CLI and tests), with the
//!   clinician's [`driver::Strategy`].

pub mod anthropic;
pub mod best_of;
pub mod client;
pub mod driver;
pub mod error;
pub mod json;
pub mod openai;
pub mod prompts;
pub mod protocol;
pub mod provider;
pub mod roles;
pub mod settings;
pub mod sse;
pub mod static_play;
pub mod transport;
pub mod wire;

use serde::{Deserialize, Serialize};

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    User,
    Assistant,
}

/// One message of a chat (the system prompt is kept apart, as Anthropic requires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub speaker: Speaker,
    pub text: String,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            speaker: Speaker::User,
            text: text.into(),
        }
    }

    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            speaker: Speaker::Assistant,
            text: text.into(),
        }
    }
}

/// Sampling parameters of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Sent where the provider supports it (OpenAI-compatible servers).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A chat request in our own terms; each provider converts it to its wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub system: String,
    pub messages: Vec<Message>,
    pub params: Params,
    /// The JSON shape the reply must have, when the role has a protocol (the clinician's
    /// turn and end form, the judge's verdicts): asked for in the provider's native structured
    /// form where the endpoint takes it, and always stated in the prompt too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<ReplySchema>,
}

/// A reply's JSON Schema and the name providers file it under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplySchema {
    pub name: String,
    pub schema: serde_json::Value,
}

/// How a reply's shape was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredForm {
    /// OpenAI-compatible `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM, the
    /// llama.cpp server: enforced by a grammar where the server has one).
    JsonSchema,
    /// `response_format: {"type": "json_object", "schema": ...}` (llama-cpp-python, the older
    /// llama.cpp form), for servers that refuse `json_schema`.
    JsonObject,
    /// Anthropic: a forced tool whose input is the reply.
    ToolUse,
    /// The endpoint took no structured form: the prompt alone states the shape.
    PromptOnly,
}

/// Tokens counted by the provider for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Every prompt token, cached or not (Anthropic's uncached, cache-write and cache-read
    /// counts summed, as OpenAI's `prompt_tokens` already is).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The part of `input_tokens` the provider read from its prompt cache, where it says so
    /// (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_input_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The max-tokens limit cut the reply.
    Length,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Anything else the provider reported.
    Other(String),
    /// The provider did not say.
    Unknown,
}

impl FinishReason {
    /// Maps OpenAI's `finish_reason` and Anthropic's `stop_reason` values.
    pub fn from_wire(reason: Option<&str>) -> FinishReason {
        match reason {
            None => FinishReason::Unknown,
            Some("stop" | "end_turn" | "stop_sequence") => FinishReason::Stop,
            Some("length" | "max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
            Some("content_filter" | "refusal") => FinishReason::ContentFilter,
            Some(other) => FinishReason::Other(other.to_string()),
        }
    }
}

/// A finished call: the text, usage and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
    /// False when the provider sent no token counts (some servers omit them when
    /// streaming): `usage` is then zero, not a measurement.
    #[serde(default)]
    pub usage_reported: bool,
    pub finish: FinishReason,
    /// The model name the server reported, when it did.
    #[serde(default)]
    pub model: Option<String>,
    /// Wall-clock time of the successful attempt, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Attempts made (1 without retries).
    #[serde(default)]
    pub attempts: u32,
    /// How the reply's shape was asked for, when the chat had a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<StructuredForm>,
}
