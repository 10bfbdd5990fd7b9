//! A scripted OpenAI-compatible server for evaluation runs: it answers many connections at
//! once, each reply decided by the request alone (so concurrent and sharded runs get the
//! same answers as sequential ones), and counts what it was asked. The model name chooses
//! the behaviour:
//!
//! - any name: a clinician that asks a different question each turn, fills the end form,
//!   and as best-of's selector picks the first candidate;
//! - `down`: 503 with `Retry-After: 0` (the endpoint is down; retries are instant);
//! - `garbled`: 200 with a body that is not JSON;
//! - `flaky`: every other request is a 429 with `Retry-After: 0`, the others answer;
//! - `cut`: the patient voice's stream is cut mid-way (streamed requests only).
//!
//! `hang_on_first_turn(n)` makes the n-th job-opening request (a clinician call with no
//! earlier turn in it) hang until `release()`: the test kills the run while it waits.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::llm::fault_server::{openai_body, read_request, reply, serve, sse, Step};

/// The questions the scripted clinician asks, one per turn (never the same twice).
pub const QUESTIONS: &[&str] = &[
    "Hello, I'm Dr Lee, one of the emergency doctors. What brings you in today?",
    "When did this start, and has it changed since?",
    "Do you have any allergies to medicines?",
    "What medicines do you take at the moment?",
    "Have you had anything like this before?",
    "Is there anything else worrying you?",
    "Does anyone at home have the same symptoms?",
    "Have you travelled anywhere recently?",
    "How is your breathing right now?",
    "Do you smoke or drink alcohol?",
    "Who is at home with you?",
    "Is there anything you would like to ask me?",
];

pub const END_FORM: &str = r#"{"diagnosis": "Not yet clear", "differential": [], "plan": "Observe and reassess", "disposition": null}"#;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub model: String,
    pub seed: Option<u64>,
    /// The reply schema's name ("clinician_turn", "end_form", "judge_verdicts"), if any.
    pub schema: Option<String>,
    /// Assistant messages in the chat: the clinician's earlier turns.
    pub earlier_turns: usize,
    pub stream: bool,
    /// The Authorization header as sent.
    pub authorization: String,
}

impl Seen {
    /// A clinician call that opens a job (no earlier turn in its chat).
    pub fn opens_job(&self) -> bool {
        self.schema.as_deref() == Some("clinician_turn") && self.earlier_turns == 0
    }
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    openings: AtomicUsize,
    hang_at: AtomicUsize,
    hanging: AtomicBool,
    released: AtomicBool,
    /// Set: `down` and `garbled` answer like any model (the endpoint came back).
    healed: AtomicBool,
    /// Microseconds spent answering, from the request read to the reply written.
    busy_us: AtomicU64,
}

pub struct WardServer {
    pub url: String,
    shared: Arc<Shared>,
}

impl WardServer {
    pub fn start() -> WardServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let request = read_request(&mut conn);
                    let t0 = std::time::Instant::now();
                    let seen = parse(&request);
                    let step = answer(&s, &seen);
                    s.seen.lock().unwrap().push(seen);
                    if let Some(step) = step {
                        serve(&mut conn, step);
                        let us = t0.elapsed().as_micros() as u64;
                        s.busy_us.fetch_add(us, Ordering::SeqCst);
                    } else {
                        // Hanging: say nothing until released, then drop the connection.
                        while !s.released.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        let _ = conn.flush();
                    }
                });
            }
        });
        WardServer { url, shared }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn hang_on_first_turn(&self, n: usize) {
        self.shared.hang_at.store(n, Ordering::SeqCst);
    }

    pub fn is_hanging(&self) -> bool {
        self.shared.hanging.load(Ordering::SeqCst)
    }

    pub fn release(&self) {
        self.shared.released.store(true, Ordering::SeqCst);
    }

    /// The failing models answer from now on.
    pub fn heal(&self) {
        self.shared.healed.store(true, Ordering::SeqCst);
    }

    /// Time spent answering so far (all connections summed).
    pub fn busy(&self) -> Duration {
        Duration::from_micros(self.shared.busy_us.load(Ordering::SeqCst))
    }
}

fn parse(request: &str) -> Seen {
    let body = request
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("")
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let authorization = request
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("authorization")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    Seen {
        model: v["model"].as_str().unwrap_or("").to_string(),
        seed: v["seed"].as_u64(),
        schema: v["response_format"]["json_schema"]["name"]
            .as_str()
            .map(str::to_string),
        earlier_turns: v["messages"]
            .as_array()
            .map(|m| m.iter().filter(|m| m["role"] == "assistant").count())
            .unwrap_or(0),
        stream: v["stream"].as_bool().unwrap_or(false),
        authorization,
    }
}

/// The reply to a request, or `None` to hang.
fn answer(s: &Shared, seen: &Seen) -> Option<Step> {
    if seen.opens_job() {
        let n = s.openings.fetch_add(1, Ordering::SeqCst) + 1;
        if n == s.hang_at.load(Ordering::SeqCst) {
            s.hanging.store(true, Ordering::SeqCst);
            return None;
        }
    }
    let retry_now = |status| Step::Reply {
        status,
        headers: vec![("retry-after", "0".to_string())],
        body: r#"{"error":{"message":"try again"}}"#.to_string(),
    };
    let healed = s.healed.load(Ordering::SeqCst);
    match seen.model.as_str() {
        _ if healed => {}
        "down" => return Some(retry_now(503)),
        "garbled" => return Some(reply(200, "{\"choices\": [ this is not JSON")),
        "flaky" if s.seen.lock().unwrap().len().is_multiple_of(2) => return Some(retry_now(429)),
        _ => {}
    }
    if seen.stream {
        let text = "I feel awful, doctor.";
        let chunks = sse(&[
            &serde_json::json!({"choices": [{"delta": {"content": text}}]}).to_string(),
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]);
        return Some(Step::Stream {
            complete: seen.model != "cut",
            chunks: if seen.model == "cut" {
                chunks[..1].to_vec()
            } else {
                chunks
            },
        });
    }
    let content = match seen.schema.as_deref() {
        Some("end_form") => END_FORM.to_string(),
        Some("selector_choice") => r#"{"choice": 1}"#.to_string(),
        _ => serde_json::json!({
            "speak": QUESTIONS[seen.earlier_turns % QUESTIONS.len()],
            "actions": [],
            "eos": false,
        })
        .to_string(),
    };
    Some(reply(200, &openai_body(&content)))
}
