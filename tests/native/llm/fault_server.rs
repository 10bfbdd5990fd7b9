//! The scripted fault-injecting HTTP server and the helpers the tests over it share: one
//! response per request, in order (replies, hangs, SSE streams cut mid-way).

use super::*;

pub(crate) const KEY: &str = "sk-test-SECRET-0123456789abcdef";

// ---------------------------------------------------------------------------------------
// The scripted fault-injecting server.

pub(crate) enum Step {
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

pub(crate) fn reply(status: u16, body: &str) -> Step {
    Step::Reply {
        status,
        headers: vec![],
        body: body.to_string(),
    }
}

pub(crate) fn openai_body(content: &str) -> String {
    openai_body_ending(content, "stop")
}

/// A Chat Completions body whose `finish_reason` is `finish` ("length": cut at the limit).
pub(crate) fn openai_body_ending(content: &str, finish: &str) -> String {
    serde_json::json!({
        "id": "x", "object": "chat.completion", "model": "fault-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    })
    .to_string()
}

pub(crate) struct FaultServer {
    pub(crate) url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FaultServer {
    pub(crate) fn start(steps: Vec<Step>) -> FaultServer {
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

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub(crate) fn request(&self, i: usize) -> String {
        self.requests.lock().unwrap()[i].clone()
    }
}

pub(crate) fn read_request(conn: &mut TcpStream) -> String {
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

pub(crate) fn reason(status: u16) -> &'static str {
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

pub(crate) fn serve(conn: &mut TcpStream, step: Step) {
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

pub(crate) fn settings(url: &str, kind: ProviderKind) -> ProviderSettings {
    let mut s = ProviderSettings::new(kind, url, "test-model");
    s.key = ApiKey::new(KEY);
    s.timeout_s = 5;
    s.max_tokens = 64;
    s
}

pub(crate) fn fast_client(url: &str, kind: ProviderKind) -> Client<NativeTransport> {
    let mut c = Client::new(NativeTransport::new(), settings(url, kind), 7);
    c.retry.base_delay = Duration::from_millis(20);
    c
}

/// A driver whose roles call these fault servers, retrying fast.
pub(crate) fn fast_driver(
    clinician: &str,
    patient: Option<&str>,
    judge: Option<&str>,
) -> Driver<NativeTransport> {
    let players = Players {
        clinician: settings(clinician, ProviderKind::OpenAi),
        patient: patient.map(|u| settings(u, ProviderKind::OpenAi)),
        judge: judge.map(|u| settings(u, ProviderKind::OpenAi)),
    };
    Driver::new(&players, &fast_config(), NativeTransport::new)
}

pub(crate) fn fast_config() -> PlayConfig {
    let mut config = PlayConfig::default();
    config.retry.base_delay = Duration::from_millis(20);
    config
}

pub(crate) fn hello(params: bedside::llm::Params) -> Chat {
    Chat {
        system: "You are brief.".into(),
        messages: vec![Message::user("Say hello.")],
        params,
        schema: None,
    }
}

pub(crate) fn no_key_in(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(
        !text.contains("SECRET-0123"),
        "part of the key leaked: {text}"
    );
}

/// An IMF-fixdate for a Unix time (for Retry-After dates).
pub(crate) fn http_date(unix: u64) -> String {
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

pub(crate) fn sse(events: &[&str]) -> Vec<String> {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}
