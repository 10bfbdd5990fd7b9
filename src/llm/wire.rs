//! The neutral side of the providers' wire formats: the decoded reply, a stream's fault, and
//! what an endpoint was found to refuse. `openai` and `anthropic` build on these; `provider`
//! picks between them.

use super::settings::ProviderKind;
use super::{FinishReason, StructuredForm, Usage};

/// Adjustments for servers that reject the classic parameters (OpenAI's reasoning models
/// want `max_completion_tokens` and only their default temperature).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compat {
    pub max_completion_tokens: bool,
    pub no_temperature: bool,
    /// How far down the structured forms this endpoint was stepped: `json_schema` first, then
    /// llama-cpp-python's `json_object` with a schema, then the prompt alone.
    pub structured: Structured,
}

/// The `response_format` an endpoint takes, learnt from its refusals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Structured {
    #[default]
    JsonSchema,
    JsonObject,
    PromptOnly,
}

impl Structured {
    pub fn form(self) -> StructuredForm {
        match self {
            Structured::JsonSchema => StructuredForm::JsonSchema,
            Structured::JsonObject => StructuredForm::JsonObject,
            Structured::PromptOnly => StructuredForm::PromptOnly,
        }
    }
}

impl Compat {
    /// The adjustment a refused request's message (400 or 422) asks for, if any.
    pub fn adjust(self, kind: ProviderKind, message: &str) -> Option<Compat> {
        let m = message.to_ascii_lowercase();
        if kind == ProviderKind::Anthropic {
            // The forced tool refused: the prompt alone states the shape.
            let refused = m.contains("tool_choice") || m.contains("tools");
            return (refused && self.structured != Structured::PromptOnly).then_some(Compat {
                structured: Structured::PromptOnly,
                ..self
            });
        }
        if !self.max_completion_tokens && m.contains("max_completion_tokens") {
            return Some(Compat {
                max_completion_tokens: true,
                ..self
            });
        }
        let temperature_refused = m.contains("temperature")
            && ["unsupported", "does not support", "only the default"]
                .iter()
                .any(|n| m.contains(n));
        if !self.no_temperature && temperature_refused {
            return Some(Compat {
                no_temperature: true,
                ..self
            });
        }
        let format_refused = ["response_format", "json_schema", "json_object"]
            .iter()
            .any(|n| m.contains(n));
        if format_refused {
            let next = match self.structured {
                Structured::JsonSchema => Structured::JsonObject,
                Structured::JsonObject | Structured::PromptOnly => Structured::PromptOnly,
            };
            if next != self.structured {
                return Some(Compat {
                    structured: next,
                    ..self
                });
            }
        }
        None
    }
}

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
