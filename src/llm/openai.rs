//! OpenAI Chat Completions (and compatible servers): the wire format, private to this module.

use serde::{Deserialize, Serialize};

use super::settings::ProviderSettings;
use super::sse::SseEvent;
use super::transport::HttpRequest;
use super::wire::{preview, Compat, Reply, StreamFault, Structured};
use super::{Chat, FinishReason, Speaker, Usage};

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    message: Option<WireContent>,
    #[serde(default)]
    delta: Option<WireContent>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireContent {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<WirePromptDetails>,
}

#[derive(Deserialize, Clone, Copy)]
struct WirePromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

pub fn headers(settings: &ProviderSettings) -> Vec<(String, String)> {
    let mut h = vec![("content-type".to_string(), "application/json".to_string())];
    if !settings.key.is_empty() {
        h.push((
            "authorization".into(),
            format!("Bearer {}", settings.key.expose()),
        ));
    }
    h.extend(settings.extra_headers.iter().cloned());
    h
}

/// The Chat Completions request for `chat`.
pub fn request(settings: &ProviderSettings, chat: &Chat, stream: bool) -> HttpRequest {
    request_with(settings, chat, stream, Compat::default())
}

/// The request with compatibility adjustments.
pub fn request_with(
    settings: &ProviderSettings,
    chat: &Chat,
    stream: bool,
    compat: Compat,
) -> HttpRequest {
    let mut messages = Vec::with_capacity(chat.messages.len() + 1);
    if !chat.system.is_empty() {
        messages.push(WireMessage {
            role: "system",
            content: &chat.system,
        });
    }
    messages.extend(chat.messages.iter().map(|m| WireMessage {
        role: match m.speaker {
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        },
        content: &m.text,
    }));
    let wire = WireRequest {
        model: &chat.params.model,
        messages,
        temperature: (!compat.no_temperature).then_some(chat.params.temperature),
        max_tokens: (!compat.max_completion_tokens).then_some(chat.params.max_tokens),
        max_completion_tokens: compat
            .max_completion_tokens
            .then_some(chat.params.max_tokens),
        seed: chat.params.seed,
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
        response_format: chat.schema.as_ref().and_then(|s| match compat.structured {
            Structured::JsonSchema => Some(serde_json::json!({
                "type": "json_schema",
                "json_schema": {"name": s.name, "schema": s.schema, "strict": true},
            })),
            Structured::JsonObject => Some(serde_json::json!({
                "type": "json_object",
                "schema": s.schema,
            })),
            Structured::PromptOnly => None,
        }),
    };
    HttpRequest {
        url: format!("{}/chat/completions", settings.base()),
        headers: headers(settings),
        body: Some(serde_json::to_string(&wire).unwrap_or_default()),
        timeout: std::time::Duration::from_secs(settings.timeout_s.into()),
    }
}

/// `GET /models`, to check the URL and key.
pub fn models_request(settings: &ProviderSettings) -> HttpRequest {
    HttpRequest {
        url: format!("{}/models", settings.base()),
        headers: headers(settings)
            .into_iter()
            .filter(|(k, _)| k != "content-type")
            .collect(),
        body: None,
        timeout: std::time::Duration::from_secs(settings.timeout_s.into()),
    }
}

/// Model ids from a `/models` answer.
pub fn parse_models(body: &str) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct List {
        data: Vec<Item>,
    }
    #[derive(Deserialize)]
    struct Item {
        id: String,
    }
    let list: List = serde_json::from_str(body).map_err(|e| format!("not a model list: {e}"))?;
    Ok(list.data.into_iter().map(|i| i.id).collect())
}

/// Decodes a non-streaming answer.
pub fn parse_response(body: &str) -> Result<Reply, String> {
    let wire: WireResponse =
        serde_json::from_str(body).map_err(|e| format!("not a Chat Completions answer: {e}"))?;
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or("the answer has no choices")?;
    let text = choice.message.and_then(|m| m.content).unwrap_or_default();
    Ok(Reply {
        text,
        usage_reported: wire.usage.is_some(),
        usage: wire.usage.map(usage).unwrap_or_default(),
        finish: Some(FinishReason::from_wire(choice.finish_reason.as_deref())),
        model: wire.model,
    })
}

fn usage(u: WireUsage) -> Usage {
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cached_input_tokens: u
            .prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0),
    }
}

/// Accumulates a streamed answer event by event.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    pub reply: Reply,
    pub done: bool,
}

impl StreamDecoder {
    /// Handles one event; returns the text it added.
    pub fn on_event(&mut self, ev: &SseEvent) -> Result<String, StreamFault> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(String::new());
        }
        let v: serde_json::Value = serde_json::from_str(data).map_err(|e| {
            StreamFault::Malformed(format!(
                "a stream event is not JSON ({e}): {}",
                preview(data)
            ))
        })?;
        if let Some(err) = v.get("error") {
            let msg = err
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| err.to_string());
            return Err(StreamFault::Provider(msg));
        }
        let wire: WireResponse = serde_json::from_value(v).map_err(|e| {
            StreamFault::Malformed(format!("a stream event has an unexpected shape: {e}"))
        })?;
        if wire.model.is_some() {
            self.reply.model = wire.model;
        }
        if let Some(u) = wire.usage {
            self.reply.usage = usage(u);
            self.reply.usage_reported = true;
        }
        let mut added = String::new();
        for c in wire.choices {
            if let Some(t) = c.delta.and_then(|d| d.content) {
                added.push_str(&t);
            }
            if c.finish_reason.is_some() {
                self.reply.finish = Some(FinishReason::from_wire(c.finish_reason.as_deref()));
            }
        }
        self.reply.text.push_str(&added);
        Ok(added)
    }

    /// Whether the stream ended properly (`[DONE]` or a finish reason).
    pub fn complete(&self) -> bool {
        self.done || self.reply.finish.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::{ApiKey, ProviderKind};
    use super::super::sse::parse_chunks;
    use super::super::{Message, Params};
    use super::*;

    fn settings() -> ProviderSettings {
        let mut s = ProviderSettings::new(ProviderKind::OpenAi, "http://127.0.0.1:8080/v1/", "m1");
        s.key = ApiKey::new("sk-abc");
        s.extra_headers = vec![("HTTP-Referer".into(), "https://bedside.example".into())];
        s
    }

    fn chat() -> Chat {
        Chat {
            system: "be brief".into(),
            messages: vec![
                Message::user("hi"),
                Message::assistant("hello"),
                Message::user("bye"),
            ],
            params: Params {
                model: "m1".into(),
                temperature: 0.2,
                max_tokens: 50,
                seed: Some(7),
            },
            schema: None,
        }
    }

    #[test]
    fn request_shape() {
        let r = request(&settings(), &chat(), false);
        assert_eq!(r.url, "http://127.0.0.1:8080/v1/chat/completions");
        assert!(r
            .headers
            .contains(&("authorization".into(), "Bearer sk-abc".into())));
        assert!(r
            .headers
            .contains(&("HTTP-Referer".into(), "https://bedside.example".into())));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "m1",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "bye"}
                ],
                "temperature": 0.2, "max_tokens": 50, "seed": 7, "stream": false
            })
        );
        let s = request(&settings(), &chat(), true);
        assert!(s
            .body
            .unwrap()
            .contains(r#""stream":true,"stream_options":{"include_usage":true}"#));
        assert!(!format!("{r:?}").contains("sk-abc"));
    }

    #[test]
    fn compat_follows_the_error_message() {
        let c = Compat::default();
        let c1 = c
            .adjust(ProviderKind::OpenAi, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
            .unwrap();
        assert!(c1.max_completion_tokens);
        assert_eq!(
            c1.adjust(ProviderKind::OpenAi, "Use 'max_completion_tokens' instead."),
            None
        );
        let c2 = c1
            .adjust(ProviderKind::OpenAi, "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.")
            .unwrap();
        assert!(c2.no_temperature);
        assert_eq!(
            c.adjust(ProviderKind::OpenAi, "messages must not be empty"),
            None
        );
        let body = request_with(&settings(), &chat(), false, c2).body.unwrap();
        assert!(body.contains(r#""max_completion_tokens":50"#), "{body}");
        assert!(
            !body.contains("temperature") && !body.contains(r#""max_tokens""#),
            "{body}"
        );
    }

    #[test]
    fn response_parsing() {
        let body = r#"{"id":"x","model":"SmolLM2","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        let r = parse_response(body).unwrap();
        assert_eq!(r.text, "Hello!");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 3,
                cached_input_tokens: 0
            }
        );
        assert_eq!(r.finish, Some(FinishReason::Length));
        assert_eq!(r.model.as_deref(), Some("SmolLM2"));
        assert!(parse_response(r#"{"choices":[]}"#)
            .unwrap_err()
            .contains("no choices"));
        assert!(parse_response("<html>")
            .unwrap_err()
            .contains("not a Chat Completions answer"));
        assert_eq!(
            parse_models(r#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#).unwrap(),
            ["a", "b"]
        );
    }

    #[test]
    fn stream_decoding() {
        let raw = "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
                   data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
                   data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n\
                   data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                   data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n\
                   data: [DONE]\n\n";
        let mut d = StreamDecoder::default();
        let mut pieces = Vec::new();
        for ev in parse_chunks(raw.as_bytes().chunks(7)) {
            pieces.push(d.on_event(&ev).unwrap());
        }
        assert_eq!(pieces.concat(), "Hello");
        assert_eq!(d.reply.text, "Hello");
        assert_eq!(
            d.reply.usage,
            Usage {
                input_tokens: 5,
                output_tokens: 2,
                cached_input_tokens: 0
            }
        );
        assert_eq!(d.reply.finish, Some(FinishReason::Stop));
        assert!(d.reply.usage_reported);
        assert!(d.done && d.complete());

        let mut bad = StreamDecoder::default();
        let err = bad.on_event(&SseEvent {
            event: None,
            data: "{\"error\":{\"message\":\"overloaded\"}}".into(),
        });
        assert_eq!(err, Err(StreamFault::Provider("overloaded".into())));
        assert!(!bad.complete());
        assert!(bad
            .on_event(&SseEvent {
                event: None,
                data: "{oops".into()
            })
            .is_err());
    }
}
