//! The browser transport (fetch + AbortController) in headless Chromium against the real
//! llama.cpp server with SmolLM2. Run by `scripts/test-wasm-llm`, which starts the server and
//! passes its URL as BEDSIDE_LLM_URL at build time.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use bedside::llm::client::Client;
use bedside::llm::error::ErrorKind;
use bedside::llm::settings::{ProviderKind, ProviderSettings};
use bedside::llm::transport::{BrowserTransport, Cancel, Transport};
use bedside::llm::{Chat, Message};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Set at build time by scripts/test-wasm-llm.
const URL: Option<&str> = option_env!("BEDSIDE_LLM_URL");

fn client(max_tokens: u32) -> Client<BrowserTransport> {
    let url = URL.expect("BEDSIDE_LLM_URL was not set at build time: run scripts/test-wasm-llm");
    let mut s = ProviderSettings::new(ProviderKind::OpenAi, url, "SmolLM2");
    s.temperature = 0.2;
    s.max_tokens = max_tokens;
    s.seed = Some(5);
    s.timeout_s = 120;
    Client::new(BrowserTransport::new(), s, 9)
}

fn chat(c: &Client<BrowserTransport>) -> Chat {
    Chat {
        system: "You are a helpful assistant. Answer in one short sentence.".into(),
        messages: vec![Message::user("What is the capital of France?")],
        params: c.params(),
        schema: None,
    }
}

#[wasm_bindgen_test]
async fn complete_stream_and_test_connection_in_the_browser() {
    let c = client(40);
    let done = c
        .complete(&chat(&c), &Cancel::new())
        .await
        .expect("completion");
    assert!(!done.text.trim().is_empty());
    assert!(done.usage.input_tokens > 10 && done.usage.output_tokens > 0);
    let mut pieces: Vec<String> = Vec::new();
    let s = c
        .stream(&chat(&c), &Cancel::new(), &mut |p| {
            pieces.push(p.to_string())
        })
        .await
        .expect("stream");
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert_eq!(pieces.concat(), s.text);
    let report = c.test_connection(&Cancel::new()).await;
    assert!(report.ok, "{}", report.summary());
    assert!(c.transport().in_browser());
}

#[wasm_bindgen_test]
async fn cancel_aborts_the_fetch_and_network_errors_explain_cors() {
    let c = client(200);
    let cancel = Cancel::new();
    let mut pieces = 0;
    let e = c
        .stream(&chat(&c), &cancel, &mut |_| {
            pieces += 1;
            if pieces == 2 {
                cancel.cancel();
            }
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");

    // A port with nothing behind it: a network error that explains CORS.
    let mut s = c.settings().clone();
    s.base_url = "http://127.0.0.1:9/v1".into();
    let dead = Client::new(BrowserTransport::new(), s, 1);
    let e = dead
        .complete(&chat(&dead), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.message().contains("CORS"), "{e}");

    // sleep and the clock work in the browser.
    let t = BrowserTransport::new();
    let before = t.now_ms();
    t.sleep(Duration::from_millis(120)).await;
    assert!(t.now_ms() >= before + 100);
}
