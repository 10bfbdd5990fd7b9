//! The client: one role's settings over a transport, with retries (exponential backoff,
//! jitter, Retry-After), timeouts, streaming, usage accounting and "test connection".

use std::cell::{Cell, RefCell};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{self, Endpoint, ErrorKind, LlmError, Redactor};
use super::openai;
use super::provider::{self, Compat, Decoder, Reply, StreamFault};
use super::settings::{Context, ProviderKind, ProviderSettings};
use super::sse::{SseEvent, SseParser};
use super::transport::{
    Cancel, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
use super::{Chat, Completion, FinishReason, Message, Params};

/// How failed calls are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// The first backoff; it doubles each retry.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A longer Retry-After than this is not waited for: the error is returned.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Usage summed over calls (per encounter, per role).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub calls: u32,
    pub failed_calls: u32,
    pub retries: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The part of `input_tokens` read from the provider's prompt cache, where it says so.
    #[serde(default)]
    pub cached_input_tokens: u64,
    pub latency_ms: u64,
    /// Successful calls whose provider reported no token counts (not in the sums).
    #[serde(default)]
    pub unreported_usage: u32,
}

impl UsageTotals {
    pub fn add(&mut self, other: &UsageTotals) {
        self.calls += other.calls;
        self.failed_calls += other.failed_calls;
        self.retries += other.retries;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.latency_ms += other.latency_ms;
        self.unreported_usage += other.unreported_usage;
    }
}

/// xorshift64*: jitter without a `rand` dependency, seeded by the caller.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The wait before retry number `retry` (1-based): Retry-After if the server gave one,
/// otherwise `base * 2^(retry-1)` capped, with "equal jitter" (half fixed, half random).
pub fn backoff(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
    random: u64,
) -> Duration {
    if let Some(ra) = retry_after {
        return ra;
    }
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16))
        .min(policy.max_delay);
    let half = exp / 2;
    let jitter_ms = half.as_millis() as u64;
    let extra = if jitter_ms == 0 {
        0
    } else {
        random % (jitter_ms + 1)
    };
    half + Duration::from_millis(extra)
}

/// A plain-words report from "test connection".
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionReport {
    pub ok: bool,
    /// What was checked, one finding per line.
    pub lines: Vec<String>,
    pub error: Option<LlmError>,
}

impl ConnectionReport {
    /// The findings and the error's short message: what the page shows in full.
    pub fn short(&self) -> String {
        let mut s = self.lines.join("\n");
        if let Some(e) = &self.error {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(e.message());
        }
        s
    }

    /// What the page keeps behind "Details": the error's help and what the server said.
    pub fn details(&self) -> String {
        let Some(e) = &self.error else {
            return String::new();
        };
        let mut parts = Vec::new();
        if !e.help().is_empty() {
            parts.push(e.help().to_string());
        }
        if !e.detail().is_empty() {
            parts.push(format!("The server said: {}", e.detail()));
        }
        parts.join("\n")
    }

    pub fn summary(&self) -> String {
        let mut s = self.lines.join("\n");
        if let Some(e) = &self.error {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(&e.to_string());
        }
        s
    }
}

pub struct Client<T: Transport> {
    transport: T,
    settings: ProviderSettings,
    pub retry: RetryPolicy,
    rng: Cell<u64>,
    totals: Cell<UsageTotals>,
    waits: RefCell<Vec<Duration>>,
    redactor: Redactor,
    compat: Cell<Compat>,
}

impl<T: Transport> Client<T> {
    /// `seed` drives the backoff jitter.
    pub fn new(transport: T, settings: ProviderSettings, seed: u64) -> Client<T> {
        // Extra headers may carry credentials of their own (a proxy token): their values are
        // secrets too.
        let redactor = Redactor::new(
            std::iter::once(settings.key.expose())
                .chain(settings.extra_headers.iter().map(|(_, v)| v.as_str())),
        );
        Client {
            transport,
            settings,
            retry: RetryPolicy::default(),
            rng: Cell::new(seed | 1),
            totals: Cell::new(UsageTotals::default()),
            waits: RefCell::new(Vec::new()),
            redactor,
            compat: Cell::new(Compat::default()),
        }
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The sampling parameters from the settings.
    pub fn params(&self) -> Params {
        self.settings.params()
    }

    /// Usage summed over this client's calls.
    pub fn totals(&self) -> UsageTotals {
        self.totals.get()
    }

    /// The backoff waits taken so far (for display and tests).
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.borrow().clone()
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn context(&self) -> Context {
        if self.transport.in_browser() {
            Context::Browser
        } else {
            Context::Native
        }
    }

    fn check_settings(&self) -> Result<(), LlmError> {
        self.settings.validate(self.context()).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            let message = format!("The settings are not valid: {}", list.join("; "));
            LlmError::new(ErrorKind::Settings, self.redactor.redact(&message))
        })
    }

    fn build(&self, chat: &Chat, stream: bool) -> HttpRequest {
        provider::request(&self.settings, chat, stream, self.compat.get())
    }

    fn transport_error(&self, e: TransportError) -> LlmError {
        let r = &self.redactor;
        match e.kind {
            TransportErrorKind::Timeout => {
                LlmError::timeout(self.settings.timeout_s, &e.message, r)
            }
            TransportErrorKind::Cancelled => LlmError::new(ErrorKind::Cancelled, "Stopped."),
            TransportErrorKind::Network => LlmError::network(
                self.settings.base(),
                &e.message,
                self.transport.in_browser(),
                r,
            ),
        }
    }

    fn status_error(&self, resp: &HttpResponse) -> LlmError {
        let now_s = self.transport.now_ms() / 1000;
        let retry_after = resp
            .header("retry-after")
            .and_then(|v| error::parse_retry_after(v, now_s));
        LlmError::from_status(
            resp.status,
            &resp.body,
            retry_after,
            Endpoint {
                kind: self.settings.kind,
                base_url: self.settings.base(),
                model: self.settings.model.trim(),
            },
            &self.redactor,
        )
    }

    fn malformed(&self, what: String) -> LlmError {
        LlmError::new(
            ErrorKind::Malformed,
            format!(
                "The {} endpoint answered, but not in the expected format.",
                self.settings.kind.label()
            ),
        )
        .with_detail(what, &self.redactor)
    }

    fn random(&self) -> u64 {
        let mut r = XorShift(self.rng.get());
        let v = r.next();
        self.rng.set(r.0);
        v
    }

    fn record(&self, f: impl FnOnce(&mut UsageTotals)) {
        let mut t = self.totals.get();
        f(&mut t);
        self.totals.set(t);
    }

    /// Decides whether to retry `err` after attempt `attempt`; sleeps if so. A refusal that
    /// names a parameter the endpoint does not take (the token limit's name, the temperature,
    /// a structured-output form) is retried at once without it, and remembered for the
    /// client's later calls. Servers word these as 400 or 422, and llama-cpp-python as 500.
    async fn should_retry(&self, err: &LlmError, attempt: u32, cancel: &Cancel) -> bool {
        if matches!(err.status(), Some(400 | 422 | 500)) && attempt < self.retry.max_attempts.max(4)
        {
            if let Some(c) = self.compat.get().adjust(self.settings.kind, err.detail()) {
                self.compat.set(c);
                return !cancel.is_cancelled();
            }
        }
        if !err.retryable() || attempt >= self.retry.max_attempts || cancel.is_cancelled() {
            return false;
        }
        if err
            .retry_after()
            .is_some_and(|ra| ra > self.retry.max_retry_after)
        {
            return false;
        }
        let wait = backoff(&self.retry, attempt, err.retry_after(), self.random());
        self.waits.borrow_mut().push(wait);
        self.record(|t| t.retries += 1);
        self.transport.sleep(wait).await;
        !cancel.is_cancelled()
    }

    fn finish(&self, chat: &Chat, reply: Reply, start_ms: u64, attempts: u32) -> Completion {
        let latency_ms = self.transport.now_ms().saturating_sub(start_ms);
        self.record(|t| {
            t.calls += 1;
            t.input_tokens += reply.usage.input_tokens;
            t.output_tokens += reply.usage.output_tokens;
            t.cached_input_tokens += reply.usage.cached_input_tokens;
            t.latency_ms += latency_ms;
            t.unreported_usage += u32::from(!reply.usage_reported);
        });
        Completion {
            text: reply.text,
            usage: reply.usage,
            usage_reported: reply.usage_reported,
            finish: reply.finish.unwrap_or(FinishReason::Unknown),
            model: reply.model,
            latency_ms,
            attempts,
            structured: provider::structured_form(self.settings.kind, chat, self.compat.get()),
        }
    }

    fn fail(&self, err: LlmError) -> LlmError {
        self.record(|t| t.failed_calls += 1);
        err
    }

    /// One chat call, whole reply at once.
    pub async fn complete(&self, chat: &Chat, cancel: &Cancel) -> Result<Completion, LlmError> {
        self.check_settings().map_err(|e| self.fail(e))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self.build(chat, false);
            let start = self.transport.now_ms();
            let outcome = match self.transport.send(&req, cancel).await {
                Err(e) => Err(self.transport_error(e)),
                Ok(resp) if !resp.is_success() => Err(self.status_error(&resp)),
                Ok(resp) => provider::parse_response(self.settings.kind, &resp.body)
                    .map_err(|m| self.malformed(m)),
            };
            match outcome {
                Ok(reply) => return Ok(self.finish(chat, reply, start, attempt)),
                Err(err) => {
                    if !self.should_retry(&err, attempt, cancel).await {
                        return Err(self.fail(err));
                    }
                }
            }
        }
    }

    /// One chat call whose text arrives piece by piece through `on_text`. Retries happen only
    /// before any text was delivered.
    pub async fn stream(
        &self,
        chat: &Chat,
        cancel: &Cancel,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        self.check_settings().map_err(|e| self.fail(e))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self.build(chat, true);
            let start = self.transport.now_ms();
            let mut parser = SseParser::new();
            let mut decoder = Decoder::new(self.settings.kind);
            let mut problem: Option<StreamFault> = None;
            let mut delivered = false;
            let result = {
                let mut handle = |events: Vec<SseEvent>| {
                    for ev in events {
                        if problem.is_some() {
                            return;
                        }
                        match decoder.on_event(&ev) {
                            Ok(t) if !t.is_empty() => {
                                delivered = true;
                                on_text(&t);
                            }
                            Ok(_) => {}
                            Err(m) => problem = Some(m),
                        }
                    }
                };
                let mut sink = |chunk: &[u8]| {
                    let events = parser.push(chunk);
                    handle(events);
                };
                let r = self.transport.stream(&req, cancel, &mut sink).await;
                let tail = parser.finish();
                handle(tail);
                r
            };
            let outcome = match result {
                Err(e) => Err(self.transport_error(e)),
                Ok(resp) if !resp.is_success() => Err(self.status_error(&resp)),
                Ok(_) => match problem.take() {
                    Some(StreamFault::Provider(m)) => Err(LlmError::new(
                        ErrorKind::Server,
                        "The provider reported a failure in the middle of the reply stream.",
                    )
                    .with_detail(m, &self.redactor)),
                    Some(StreamFault::Malformed(m)) => Err(self.malformed(m)),
                    None if !decoder.complete() => Err(LlmError::new(
                        ErrorKind::Network,
                        "The reply stream was cut off before it finished.",
                    )),
                    None => Ok(decoder.into_reply()),
                },
            };
            match outcome {
                Ok(reply) => return Ok(self.finish(chat, reply, start, attempt)),
                Err(err) => {
                    if delivered || !self.should_retry(&err, attempt, cancel).await {
                        return Err(self.fail(err));
                    }
                }
            }
        }
    }

    /// Checks the settings, the URL and key (`/models` where the provider has it) and the
    /// model (a tiny completion); reports each finding in plain words.
    pub async fn test_connection(&self, cancel: &Cancel) -> ConnectionReport {
        let mut lines = Vec::new();
        if let Err(e) = self.check_settings() {
            return ConnectionReport {
                ok: false,
                lines,
                error: Some(e),
            };
        }
        lines.push(format!(
            "Settings are valid ({} at {}).",
            self.settings.kind.label(),
            self.settings.base()
        ));
        let model = self.settings.model.trim().to_string();
        if self.settings.kind == ProviderKind::OpenAi {
            match self
                .transport
                .send(&openai::models_request(&self.settings), cancel)
                .await
            {
                Err(e) => {
                    return ConnectionReport {
                        ok: false,
                        lines,
                        error: Some(self.transport_error(e)),
                    }
                }
                Ok(resp) if resp.is_success() => match openai::parse_models(&resp.body) {
                    Ok(ids) if ids.contains(&model) => lines.push(format!(
                        "The server answers and lists {} model(s), including `{model}`.",
                        ids.len()
                    )),
                    Ok(ids) => lines.push(format!(
                        "The server answers and lists {} model(s), but not `{model}` (some servers list only part of what they serve): {}.",
                        ids.len(),
                        ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                    )),
                    Err(_) => lines.push("The server answers (its model list has an unusual format).".into()),
                },
                Ok(resp) if matches!(resp.status, 401 | 403) => {
                    return ConnectionReport {
                        ok: false,
                        lines,
                        error: Some(self.status_error(&resp)),
                    }
                }
                Ok(resp) => lines.push(format!(
                    "The server answers, but has no model list ({}); trying the model directly.",
                    resp.status
                )),
            }
        }
        let chat = Chat {
            system: String::new(),
            messages: vec![Message::user("Reply with the single word: ready")],
            params: Params {
                max_tokens: 8,
                ..self.params()
            },
            schema: None,
        };
        match self.complete(&chat, cancel).await {
            Ok(c) => {
                lines.push(format!(
                    "The model `{model}` answered in {} ms ({} tokens in, {} out): \"{}\".",
                    c.latency_ms,
                    c.usage.input_tokens,
                    c.usage.output_tokens,
                    super::wire::preview(c.text.trim())
                ));
                ConnectionReport {
                    ok: true,
                    lines,
                    error: None,
                }
            }
            Err(e) => ConnectionReport {
                ok: false,
                lines,
                error: Some(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn extra_header_values_are_redacted_like_the_key() {
        use crate::llm::settings::ApiKey;
        let mut settings =
            ProviderSettings::new(ProviderKind::OpenAi, "http://127.0.0.1:1/v1", "m");
        settings.key = ApiKey::new("sk-main-key-0001");
        settings.extra_headers = vec![("X-Proxy-Token".into(), "proxy-secret-778".into())];
        let client = Client::new(crate::llm::transport::NativeTransport::new(), settings, 1);
        let text = client
            .redactor()
            .redact("refused: X-Proxy-Token proxy-secret-778 with sk-main-key-0001");
        assert!(
            !text.contains("proxy-secret-778") && !text.contains("sk-main-key-0001"),
            "{text}"
        );
        assert!(text.contains("X-Proxy-Token"), "names stay: {text}");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let mut rng = XorShift(42);
        for retry in 1..=6 {
            let exp = (p.base_delay * (1 << (retry - 1))).min(p.max_delay);
            for _ in 0..50 {
                let d = backoff(&p, retry, None, rng.next());
                assert!(d >= exp / 2 && d <= exp, "retry {retry}: {d:?} vs {exp:?}");
            }
        }
        assert_eq!(
            backoff(&p, 1, Some(Duration::from_secs(7)), 3),
            Duration::from_secs(7)
        );
        // Jitter actually varies.
        let a: Vec<Duration> = (0..10).map(|_| backoff(&p, 3, None, rng.next())).collect();
        assert!(a.iter().any(|d| *d != a[0]));
    }

    #[test]
    fn xorshift_is_deterministic() {
        let (mut a, mut b) = (XorShift(9), XorShift(9));
        for _ in 0..5 {
            assert_eq!(a.next(), b.next());
        }
    }

    #[test]
    fn totals_add() {
        let mut t = UsageTotals {
            calls: 1,
            input_tokens: 5,
            ..Default::default()
        };
        t.add(&UsageTotals {
            calls: 2,
            output_tokens: 3,
            latency_ms: 10,
            ..Default::default()
        });
        assert_eq!(
            (t.calls, t.input_tokens, t.output_tokens, t.latency_ms),
            (3, 5, 3, 10)
        );
    }
}
