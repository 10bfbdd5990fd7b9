//! Anthropic Messages: the wire format, private to this module.

use serde::{Deserialize, Serialize};

use super::settings::ProviderSettings;
use super::sse::SseEvent;
use super::transport::HttpRequest;
use super::wire::{preview, Reply, StreamFault};
use super::{Chat, FinishReason, Speaker, Usage};

pub const API_VERSION: &str = "2023-06-01";

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    /// The system prompt as one text block marked for the prompt cache (it is the stable part
    /// of every role's prompt).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<TextBlock>,
    messages: Vec<WireMessage>,
    max_tokens: u32,
    temperature: f64,
    stream: bool,
    /// A forced tool whose input is the reply, when the chat has a schema.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct WireMessage {
    role: &'static str,
    content: Content,
}

/// A message's content: plain text, or one text block carrying a cache breakpoint.
#[derive(Serialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Blocks(Vec<TextBlock>),
}

#[derive(Serialize)]
struct TextBlock {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<serde_json::Value>,
}

impl TextBlock {
    /// A text block that ends a cacheable prefix (`cache_control: {type: ephemeral}`).
    fn cached(text: String) -> TextBlock {
        TextBlock {
            kind: "text",
            text,
            cache_control: Some(serde_json::json!({"type": "ephemeral"})),
        }
    }
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    /// A `tool_use` block's input: the structured reply.
    #[serde(default)]
    input: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
struct WireUsage {
    /// The prompt tokens after the last cache breakpoint (neither written nor read).
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Counts a later event gives replace the earlier ones (a stream's `message_delta`).
    fn merge(&mut self, later: WireUsage) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = later
            .cache_creation_input_tokens
            .or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = later
            .cache_read_input_tokens
            .or(self.cache_read_input_tokens);
    }
}

pub fn headers(settings: &ProviderSettings) -> Vec<(String, String)> {
    let mut h = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-api-key".to_string(), settings.key.expose().to_string()),
        ("anthropic-version".to_string(), API_VERSION.to_string()),
        (
            "anthropic-dangerous-direct-browser-access".to_string(),
            "true".to_string(),
        ),
    ];
    h.extend(settings.extra_headers.iter().cloned());
    h
}

/// Anthropic wants alternating turns starting with the user: consecutive messages of one
/// speaker are joined, and a conversation opening with the assistant gets a user stub. The
/// message before the last carries a cache breakpoint: every message but the last is the same
/// in the role's next call (the per-turn part is in the last one), so that call reads the
/// conversation so far from the cache.
fn messages(chat: &Chat) -> Vec<WireMessage> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for m in &chat.messages {
        let role = match m.speaker {
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        };
        match out.last_mut() {
            Some((last, text)) if *last == role => {
                text.push_str("\n\n");
                text.push_str(&m.text);
            }
            _ => {
                if out.is_empty() && role == "assistant" {
                    out.push(("user", "(The conversation begins.)".into()));
                }
                out.push((role, m.text.clone()));
            }
        }
    }
    if out.is_empty() {
        out.push(("user", "(The conversation begins.)".into()));
    }
    let breakpoint = out.len().checked_sub(2);
    out.into_iter()
        .enumerate()
        .map(|(i, (role, text))| WireMessage {
            role,
            content: if Some(i) == breakpoint {
                Content::Blocks(vec![TextBlock::cached(text)])
            } else {
                Content::Text(text)
            },
        })
        .collect()
}

/// The Messages request; `tools` false leaves out the forced tool (an endpoint that refused it).
pub fn request(settings: &ProviderSettings, chat: &Chat, stream: bool, tools: bool) -> HttpRequest {
    let schema = chat.schema.as_ref().filter(|_| tools);
    let wire = WireRequest {
        model: &chat.params.model,
        system: if chat.system.is_empty() {
            Vec::new()
        } else {
            vec![TextBlock::cached(chat.system.clone())]
        },
        messages: messages(chat),
        max_tokens: chat.params.max_tokens,
        temperature: chat.params.temperature,
        stream,
        tools: schema
            .map(|s| {
                vec![serde_json::json!({
                    "name": s.name,
                    "description": "Your reply, as this structure.",
                    "input_schema": s.schema,
                })]
            })
            .unwrap_or_default(),
        tool_choice: schema.map(|s| serde_json::json!({"type": "tool", "name": s.name})),
    };
    HttpRequest {
        url: format!("{}/messages", settings.base()),
        headers: headers(settings),
        body: Some(serde_json::to_string(&wire).unwrap_or_default()),
        timeout: std::time::Duration::from_secs(settings.timeout_s.into()),
    }
}

/// Anthropic counts the uncached prompt tokens, the cache writes and the cache reads apart:
/// their sum is the prompt, as OpenAI's `prompt_tokens` counts it.
fn usage(u: WireUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: u.input_tokens.unwrap_or(0)
            + u.cache_creation_input_tokens.unwrap_or(0)
            + read,
        output_tokens: u.output_tokens.unwrap_or(0),
        cached_input_tokens: read,
    }
}

pub fn parse_response(body: &str) -> Result<Reply, String> {
    let wire: WireResponse =
        serde_json::from_str(body).map_err(|e| format!("not a Messages answer: {e}"))?;
    if wire.content.is_empty() && wire.stop_reason.is_none() {
        return Err("the answer has no content".into());
    }
    // A forced tool's input is the reply; otherwise the text blocks are.
    let tool_input = wire
        .content
        .iter()
        .find(|b| b.kind == "tool_use")
        .and_then(|b| b.input.as_ref());
    let text = match tool_input {
        Some(input) => input.to_string(),
        None => wire
            .content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect::<Vec<_>>()
            .concat(),
    };
    Ok(Reply {
        text,
        usage_reported: wire.usage.is_some(),
        usage: wire.usage.map(usage).unwrap_or_default(),
        finish: Some(FinishReason::from_wire(wire.stop_reason.as_deref())),
        model: wire.model,
    })
}

/// Accumulates a streamed answer (message_start, content_block_delta, message_delta,
/// message_stop; ping ignored; error reported).
#[derive(Debug, Default)]
pub struct StreamDecoder {
    pub reply: Reply,
    pub done: bool,
    /// The counts so far: `message_start` gives them all, `message_delta` updates some.
    counts: WireUsage,
}

impl StreamDecoder {
    fn count(&mut self, v: &serde_json::Value) {
        let later: WireUsage = serde_json::from_value(v.clone()).unwrap_or_default();
        self.counts.merge(later);
        self.reply.usage = usage(self.counts);
        self.reply.usage_reported = true;
    }

    pub fn on_event(&mut self, ev: &SseEvent) -> Result<String, StreamFault> {
        let v: serde_json::Value = serde_json::from_str(ev.data.trim()).map_err(|e| {
            StreamFault::Malformed(format!(
                "a stream event is not JSON ({e}): {}",
                preview(&ev.data)
            ))
        })?;
        let kind = ev
            .event
            .clone()
            .or_else(|| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_default();
        match kind.as_str() {
            "message_start" => {
                if let Some(m) = v.get("message") {
                    self.reply.model = m.get("model").and_then(|x| x.as_str()).map(str::to_string);
                    if let Some(u) = m.get("usage") {
                        self.count(u);
                    }
                }
                Ok(String::new())
            }
            "content_block_delta" => {
                // Text, or a forced tool's input arriving as partial JSON.
                let text = v
                    .pointer("/delta/text")
                    .or_else(|| v.pointer("/delta/partial_json"))
                    .and_then(|t| t.as_str())
                    .unwrap_or("")
                    .to_string();
                self.reply.text.push_str(&text);
                Ok(text)
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(|r| r.as_str()) {
                    self.reply.finish = Some(FinishReason::from_wire(Some(r)));
                }
                if let Some(u) = v.get("usage") {
                    self.count(u);
                }
                Ok(String::new())
            }
            "message_stop" => {
                self.done = true;
                Ok(String::new())
            }
            "error" => Err(StreamFault::Provider(
                v.pointer("/error/message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("unknown error")
                    .to_string(),
            )),
            _ => Ok(String::new()),
        }
    }

    pub fn complete(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::{ApiKey, ProviderKind};
    use super::super::sse::parse_chunks;
    use super::super::{Message, Params};
    use super::*;

    fn settings() -> ProviderSettings {
        let mut s = ProviderSettings::new(
            ProviderKind::Anthropic,
            "https://api.anthropic.com/v1",
            "claude-x",
        );
        s.key = ApiKey::new("ant-key-123");
        s
    }

    #[test]
    fn request_shape_and_headers() {
        let chat = Chat {
            system: "sys".into(),
            messages: vec![
                Message::assistant("Hi, I'm Ann."),
                Message::user("a"),
                Message::user("b"),
            ],
            params: Params {
                model: "claude-x".into(),
                temperature: 0.5,
                max_tokens: 99,
                seed: Some(1),
            },
            schema: None,
        };
        let r = request(&settings(), &chat, true, true);
        assert_eq!(r.url, "https://api.anthropic.com/v1/messages");
        for h in [
            ("x-api-key", "ant-key-123"),
            ("anthropic-version", API_VERSION),
            ("anthropic-dangerous-direct-browser-access", "true"),
        ] {
            assert!(r.headers.contains(&(h.0.into(), h.1.into())), "{h:?}");
        }
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        // The system part and the conversation before the last message are marked for the
        // prompt cache.
        let cached = serde_json::json!({"type": "ephemeral"});
        assert_eq!(
            body,
            serde_json::json!({
                "model": "claude-x",
                "system": [{"type": "text", "text": "sys", "cache_control": cached}],
                "messages": [
                    {"role": "user", "content": "(The conversation begins.)"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Hi, I'm Ann.", "cache_control": cached}
                    ]},
                    {"role": "user", "content": "a\n\nb"}
                ],
                "max_tokens": 99, "temperature": 0.5, "stream": true
            })
        );
        // One message and no system: no breakpoint.
        let one = Chat {
            system: String::new(),
            messages: vec![Message::user("hi")],
            ..chat
        };
        let body: serde_json::Value = serde_json::from_str(
            request(&settings(), &one, false, true)
                .body
                .as_deref()
                .unwrap(),
        )
        .unwrap();
        assert!(body.get("system").is_none(), "{body}");
        assert_eq!(
            body["messages"],
            serde_json::json!([{"role": "user", "content": "hi"}])
        );
    }

    #[test]
    fn response_parsing() {
        let body = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"{\"speak\":\"Hi\"}"}],"stop_reason":"end_turn","usage":{"input_tokens":20,"output_tokens":6}}"#;
        let r = parse_response(body).unwrap();
        assert_eq!(r.text, r#"{"speak":"Hi"}"#);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 20,
                output_tokens: 6,
                cached_input_tokens: 0
            }
        );
        // Cache writes and reads are counted apart by Anthropic: all of it is prompt.
        let cached = r#"{"content":[{"type":"text","text":"x"}],"stop_reason":"end_turn","usage":{"input_tokens":20,"cache_creation_input_tokens":300,"cache_read_input_tokens":1200,"output_tokens":6}}"#;
        assert_eq!(
            parse_response(cached).unwrap().usage,
            Usage {
                input_tokens: 1520,
                output_tokens: 6,
                cached_input_tokens: 1200
            }
        );
        assert_eq!(r.finish, Some(FinishReason::Stop));
        assert!(parse_response("{}").is_err());
        assert!(parse_response("nope").is_err());
    }

    #[test]
    fn stream_decoding() {
        let raw = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n\
            event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
            event: ping\ndata: {\"type\": \"ping\"}\n\n\
            event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Chest \"}}\n\n\
            event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"pain.\"}}\n\n\
            event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
            event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":15}}\n\n\
            event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let mut d = StreamDecoder::default();
        let text: String = parse_chunks(raw.as_bytes().chunks(5))
            .iter()
            .map(|e| d.on_event(e).unwrap())
            .collect();
        assert_eq!(text, "Chest pain.");
        assert_eq!(
            d.reply.usage,
            Usage {
                input_tokens: 25,
                output_tokens: 15,
                cached_input_tokens: 0
            }
        );
        assert_eq!(d.reply.finish, Some(FinishReason::Length));
        assert!(d.complete());
        let mut e = StreamDecoder::default();
        let err = e
            .on_event(&SseEvent {
                event: Some("error".into()),
                data:
                    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                        .into(),
            })
            .unwrap_err();
        assert_eq!(err, StreamFault::Provider("Overloaded".into()));
    }
}
