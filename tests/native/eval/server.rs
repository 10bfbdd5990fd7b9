//! A scripted OpenAI-compatible server for evaluation runs: it answers many connections at
//! once, each reply decided by the request alone (so concurrent and sharded runs get the
//! same answers as sequential ones), and counts what it was asked. The model name chooses
//! the behaviour:
//!
//! - any name: a clinician that asks a different question each turn, fills the end form,
//!   and as best-of's selector picks the first candidate;
//! - `down`: 503 with `Retry-After: 0` (the endpoint is down; retries are instant);
//! - `garbled`: 200 with a body that is not JSON;
//! - `flaky`: every request is first refused with a 429 and `Retry-After: 0`, and its retry
//!   (the same body again) answers — decided per request, so concurrent jobs cannot make one
//!   call meet more 429s than the client retries;
//! - `cut`: the patient voice's stream is cut mid-way (streamed requests only);
//! - a static answer (a request whose reply schema is `static_answer`): [`STATIC_ANSWER`];
//!   prose instead for `static-prose`, and for `static-prose-once` on the first ask only;
//! - as a judge (a request whose reply schema is `judge_verdicts`): a verdict for every judge
//!   item id the request names, all met for `judge-yes`, none met for any other name.
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

/// The scripted static answer: the management of an inferior STEMI (the ACS case), with the
/// disposition among the actions first (it must still be carried out last) and one harm
/// (sublingual nitrate in a right-ventricular infarct) that must be scored as done.
pub const STATIC_ANSWER: &str = r#"{"diagnosis": "Inferior ST-elevation myocardial infarction", "differential": ["Aortic dissection"], "plan": "Primary PCI", "disposition": "transfer to the cath lab", "actions": ["transfer to the cath lab", "12-lead ECG", "right-sided ECG", "IV access", "aspirin 300 mg PO", "ticagrelor 180 mg PO", "heparin bolus 70 units/kg IV", "activate the cath lab", "sublingual nitroglycerin 400 mcg"]}"#;

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
    /// A judge's request: the item ids it asks about (its reply schema's enum, else the
    /// prompt's "- id: …" lines).
    pub judge_ids: Vec<String>,
    /// A hash of the request's body (a retry sends the same body).
    pub body_hash: u64,
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
    /// Bodies `flaky` has refused once.
    refused: Mutex<std::collections::HashSet<u64>>,
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
        judge_ids: judge_ids(&v),
        body_hash: {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            body.hash(&mut h);
            h.finish()
        },
    }
}

/// The item ids a judge's request asks about: its reply schema's enum of ids, or, for a
/// provider without structured replies, the rubric lines of the prompt ("- id: X [...] ...").
fn judge_ids(v: &serde_json::Value) -> Vec<String> {
    let schema = &v["response_format"]["json_schema"];
    if schema["name"] != "judge_verdicts" {
        return Vec::new();
    }
    let from_schema: Vec<String> = schema["schema"]["properties"]["verdicts"]["items"]
        ["properties"]["id"]["enum"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !from_schema.is_empty() {
        return from_schema;
    }
    let prompt: String = v["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["content"].as_str()).collect())
        .unwrap_or_default();
    prompt
        .lines()
        .filter_map(|l| l.strip_prefix("- id: "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
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
        "flaky" if s.refused.lock().unwrap().insert(seen.body_hash) => return Some(retry_now(429)),
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
        Some("static_answer")
            if seen.model == "static-prose"
                || seen.model == "static-prose-once" && seen.earlier_turns == 0 =>
        {
            "I would treat this patient for a heart attack.".to_string()
        }
        Some("static_answer") => STATIC_ANSWER.to_string(),
        Some("judge_verdicts") => {
            let met = seen.model == "judge-yes";
            // A met item quotes its evidence: the scripted clinician's first words.
            let evidence = if met { QUESTIONS[0] } else { "" };
            let verdicts: Vec<serde_json::Value> = seen
                .judge_ids
                .iter()
                .map(|id| serde_json::json!({"id": id, "met": met, "evidence": evidence}))
                .collect();
            serde_json::json!({ "verdicts": verdicts }).to_string()
        }
        _ => serde_json::json!({
            "speak": QUESTIONS[seen.earlier_turns % QUESTIONS.len()],
            "actions": [],
            "eos": false,
        })
        .to_string(),
    };
    Some(reply(200, &openai_body(&content)))
}
