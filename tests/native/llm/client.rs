//! The client over the fault server: retries, Retry-After, backoff, timeouts, cancelling,
//! streaming over odd chunks, provider shapes, and errors that never show the key.

use super::*;

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
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert!(e.detail().contains("quota exceeded"));
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
    assert_eq!(e.kind(), ErrorKind::Cancelled);
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
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.status(), Some(502));
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

/// 501 (the server cannot do this at all) is final; 409 and 425 are worth one more try.
#[test]
fn not_implemented_is_final_and_conflict_is_retried() {
    let server = FaultServer::start(vec![
        reply(501, r#"{"error":{"message":"streaming not implemented"}}"#),
        reply(200, &openai_body("never reached")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(
        (e.status(), server.hits()),
        (Some(501), 1),
        "no retry after 501"
    );
    assert!(
        e.to_string()
            .contains("(the server said: streaming not implemented)"),
        "{e}"
    );

    let server = FaultServer::start(vec![
        reply(409, "busy"),
        reply(425, "too early"),
        reply(200, &openai_body("ok")),
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new())).expect("retried");
    assert_eq!((c.text.as_str(), server.hits()), ("ok", 3));
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
    assert_eq!(e.kind(), ErrorKind::Key);
    assert!(!e.retryable());
    assert_eq!(server.hits(), 1);
    assert!(e.message().contains("refused the API key"), "{e}");
    no_key_in(&e.to_string());
    no_key_in(&format!("{e:?}"));
    no_key_in(&serde_json::to_string(&e).unwrap());

    let server = FaultServer::start(vec![reply(
        404,
        r#"{"error":{"message":"The model `test-model` does not exist"}}"#,
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.message().contains("test-model") && e.message().contains("/v1"),
        "{e}"
    );
    assert_eq!(server.hits(), 1);

    let server = FaultServer::start(vec![reply(
        400,
        r#"{"error":{"message":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens.","code":"context_length_exceeded"}}"#,
    )]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContextLength);
    assert!(e.message().contains("context window"));
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
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("1 s"), "{e}");
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
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert!(e.detail().contains("not a Chat Completions answer"), "{e}");

    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = fast_client(&format!("http://127.0.0.1:{port}/v1"), ProviderKind::OpenAi);
    let e = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert!(e.message().contains("Could not reach"), "{e}");

    // Cancelled before it starts.
    let cancel = Cancel::new();
    cancel.cancel();
    let e = block_on(client.complete(&hello(client.params()), &cancel)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
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
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
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
    assert!(
        req.contains(r#""system":[{"type":"text","text":"you are brief.","cache_control":{"type":"ephemeral"}}]"#),
        "{req}"
    );
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
    assert_eq!(r.error.as_ref().map(|e| e.kind()), Some(ErrorKind::Key));
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

/// Cached prompt tokens, where the provider reports them, reach the completion, the client's
/// totals and (through the exchanges) the export: OpenAI's `prompt_tokens_details`, plain and
/// streamed; Anthropic's cache reads and writes, plain and streamed, summed into the prompt.
/// An Anthropic request marks its stable system part (and the conversation before the last
/// message) with `cache_control`.
#[test]
fn cached_tokens_are_parsed_and_anthropic_requests_mark_the_cache() {
    let openai = r#"{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}],"usage":{"prompt_tokens":2006,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1920}}}"#;
    let server = FaultServer::start(vec![
        reply(200, openai),
        Step::Stream {
            chunks: sse(&[
                r#"{"choices":[{"delta":{"content":"Hi."},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":2010,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":1984}}}"#,
                "[DONE]",
            ]),
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::OpenAi);
    let c = block_on(client.complete(&hello(client.params()), &Cancel::new())).unwrap();
    assert_eq!(
        (c.usage.input_tokens, c.usage.cached_input_tokens),
        (2006, 1920)
    );
    let s = block_on(client.stream(&hello(client.params()), &Cancel::new(), &mut |_| {})).unwrap();
    assert_eq!(
        (s.usage.input_tokens, s.usage.cached_input_tokens),
        (2010, 1984)
    );
    let t = client.totals();
    assert_eq!((t.input_tokens, t.cached_input_tokens), (4016, 3904));

    let anthropic = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","usage":{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":3}}"#;
    let events = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"model":"claude-test","usage":{"input_tokens":9,"cache_creation_input_tokens":120,"cache_read_input_tokens":1800,"output_tokens":1}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello."}}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let server = FaultServer::start(vec![
        reply(200, anthropic),
        Step::Stream {
            chunks: events
                .iter()
                .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
                .collect(),
            complete: true,
        },
    ]);
    let client = fast_client(&server.url, ProviderKind::Anthropic);
    let chat = Chat {
        system: "The stable part: persona, facts, rules.".into(),
        messages: vec![
            Message::user("Hello, what brings you in?"),
            Message::assistant("My chest hurts."),
            Message::user("When did it start?\n\n[Note for this reply]"),
        ],
        params: client.params(),
        schema: None,
    };
    let c = block_on(client.complete(&chat, &Cancel::new())).unwrap();
    assert_eq!(
        (c.usage.input_tokens, c.usage.cached_input_tokens),
        (1814, 1800)
    );
    let s = block_on(client.stream(&chat, &Cancel::new(), &mut |_| {})).unwrap();
    assert_eq!(
        (
            s.usage.input_tokens,
            s.usage.cached_input_tokens,
            s.usage.output_tokens
        ),
        (1929, 1800, 4)
    );
    assert_eq!(client.totals().cached_input_tokens, 3600);
    for i in 0..2 {
        let request = server.request(i);
        let body: serde_json::Value =
            serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        let ephemeral = serde_json::json!({"type": "ephemeral"});
        assert_eq!(body["system"][0]["text"], chat.system.as_str());
        assert_eq!(body["system"][0]["cache_control"], ephemeral, "{body}");
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages[1]["content"][0]["text"], "My chest hurts.");
        assert_eq!(messages[1]["content"][0]["cache_control"], ephemeral);
        assert!(
            messages[2]["content"].is_string(),
            "the per-reply message is not cached: {body}"
        );
    }
}
