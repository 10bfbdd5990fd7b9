//! The typed LLM error with plain-words messages, `retryable`, Retry-After parsing, and the
//! redactor every error text passes through.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{is_loopback_host, url_host, ProviderKind};

/// What went wrong, in categories the UI and the retry loop act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401/403: the key is missing, wrong or lacks access.
    Key,
    /// 404: the model name or the URL is wrong.
    NotFound,
    /// 429: too many requests or out of quota.
    RateLimited,
    /// 5xx: the provider failed.
    Server,
    /// No answer within the timeout.
    Timeout,
    /// The request never got an HTTP answer (network down, refused, or blocked by CORS).
    Network,
    /// The prompt is longer than the model's context window.
    ContextLength,
    /// 400 or another 4xx the provider explained.
    BadRequest,
    /// The answer was not the JSON the provider's format promises.
    Malformed,
    /// The user stopped the call.
    Cancelled,
    /// The settings are invalid.
    Settings,
    /// The model's reply did not follow the role's protocol (after one corrective re-ask).
    Protocol,
}

/// An error from an LLM call. `message` is plain words for the user; `detail` is what the
/// provider, the connection or the reply said. Built only through the constructors below, each
/// of which passes every text through a [`Redactor`] (the configured key and extra-header
/// values where the caller has them, and key-shaped words always); the fields are read
/// through accessors. A stored error (serde) was redacted when it was built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmError {
    kind: ErrorKind,
    #[serde(default)]
    status: Option<u16>,
    message: String,
    #[serde(default)]
    detail: String,
    /// What to do about it, when that takes more than the message's two short sentences (the
    /// CORS explanation): shown behind a "Details" disclosure, never in `Display`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    help: String,
    /// The wait the server asked for (Retry-After).
    #[serde(skip)]
    retry_after: Option<Duration>,
}

impl LlmError {
    /// An error in the app's own words. Key-shaped words are still removed, in case a caller
    /// formats outside text into the message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> LlmError {
        LlmError {
            kind,
            status: None,
            message: Redactor::default().redact(&message.into()),
            detail: String::new(),
            help: String::new(),
            retry_after: None,
        }
    }

    /// The same error with what the provider, the connection or the reply said, redacted by
    /// `r` (the client's redactor knows the key and the extra-header values).
    pub fn with_detail(mut self, detail: impl Into<String>, r: &Redactor) -> LlmError {
        self.detail = r.redact(&detail.into());
        self
    }

    /// No answer within the timeout (`cause`: what the transport said).
    pub fn timeout(timeout_s: u32, cause: &str, r: &Redactor) -> LlmError {
        LlmError::new(
            ErrorKind::Timeout,
            format!(
                "No answer within {timeout_s} s: the model may be slow or overloaded. Raise the timeout or try a smaller model."
            ),
        )
        .with_detail(cause, r)
    }

    /// The error for an HTTP response that was not a success.
    pub fn from_status(
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        endpoint: Endpoint<'_>,
        r: &Redactor,
    ) -> LlmError {
        from_status(status, body, retry_after, endpoint).redacted(r)
    }

    /// The error for a request that got no HTTP answer at all.
    pub fn network(base_url: &str, cause: &str, in_browser: bool, r: &Redactor) -> LlmError {
        network_error(base_url, cause, in_browser).redacted(r)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Plain words for the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the provider, the connection or the reply said (empty: nothing more).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// What to do about it, for a "Details" disclosure (empty: nothing more).
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The wait the server asked for (Retry-After).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether trying again may help. By status: 408, 409, 425 and 429 and the 5xx failures are
    /// temporary; 501 and 505 (the server cannot do this at all), every other 4xx and a prompt
    /// too long for the context are final. Without a status: a failure the provider reported
    /// inside a stream is temporary; a timeout, a refused connection or a malformed reply is not
    /// retried (a hanging endpoint would cost the timeout again and again).
    pub fn retryable(&self) -> bool {
        if self.kind == ErrorKind::ContextLength {
            return false;
        }
        match self.status {
            Some(408 | 409 | 425 | 429) => true,
            Some(501 | 505) => false,
            Some(status) => (500..=599).contains(&status),
            None => self.kind == ErrorKind::Server,
        }
    }

    /// Who failed: the server (an HTTP status, or an error it sent inside a stream), the
    /// connection, the reply's content, or this app (settings, cancelling).
    pub fn origin(&self) -> Origin {
        if self.status.is_some() {
            return Origin::Server;
        }
        match self.kind {
            ErrorKind::Server | ErrorKind::RateLimited | ErrorKind::Key | ErrorKind::NotFound => {
                Origin::Server
            }
            ErrorKind::Network | ErrorKind::Timeout => Origin::Connection,
            ErrorKind::Malformed | ErrorKind::Protocol => Origin::Reply,
            ErrorKind::ContextLength
            | ErrorKind::BadRequest
            | ErrorKind::Cancelled
            | ErrorKind::Settings => Origin::App,
        }
    }

    /// Removes secrets from every text.
    fn redacted(mut self, r: &Redactor) -> LlmError {
        self.message = r.redact(&self.message);
        self.detail = r.redact(&self.detail);
        self.help = r.redact(&self.help);
        self
    }
}

/// The endpoint a failed request went to, for the wording of its error.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub kind: ProviderKind,
    pub base_url: &'a str,
    pub model: &'a str,
}

/// Who failed, for the wording of an error's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The server answered with a failure.
    Server,
    /// No answer: the connection failed or timed out.
    Connection,
    /// The server answered, but what came back could not be used.
    Reply,
    /// The app itself: the settings, a stop, or what it asked for.
    App,
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.detail.is_empty() {
            let label = match self.origin() {
                Origin::Server => "the server said",
                Origin::Connection => "the connection reported",
                Origin::Reply => "what came back",
                Origin::App => "detail",
            };
            write!(f, " ({label}: {})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for LlmError {}

/// Removes API keys from text: the configured secrets, `Bearer ...` tokens, `x-api-key`
/// values, and anything shaped like a provider key (`sk-...`).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

const REDACTED: &str = "[redacted]";

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        Redactor {
            secrets: secrets
                .into_iter()
                .map(str::trim)
                .filter(|s| s.len() >= 4)
                .map(str::to_string)
                .collect(),
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), REDACTED);
        }
        let out = redact_after(&out, "bearer ");
        let out = redact_after(&out, "x-api-key");
        redact_key_shapes(&out)
    }
}

/// Replaces the token that follows `marker` (case-insensitive; skipping `:`, `=`, quotes and
/// spaces) with the redaction.
fn redact_after(text: &str, marker: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(marker) {
        let start = i + pos + marker.len();
        out.push_str(&text[i..start]);
        let bytes = text.as_bytes();
        let mut j = start;
        while j < bytes.len() && matches!(bytes[j], b' ' | b':' | b'=' | b'"' | b'\'' | b'\\') {
            j += 1;
        }
        out.push_str(&text[start..j]);
        let mut k = j;
        while k < bytes.len() && is_secret_byte(bytes[k]) {
            k += 1;
        }
        if k > j {
            out.push_str(REDACTED);
        }
        i = k;
    }
    out.push_str(&text[i..]);
    out
}

fn is_secret_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Replaces words shaped like provider keys: `sk-` or `sk_` followed by 16+ key characters.
fn redact_key_shapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i + 3 <= bytes.len() {
        let boundary = i == 0 || !is_secret_byte(bytes[i - 1]);
        if boundary && (bytes[i..].starts_with(b"sk-") || bytes[i..].starts_with(b"sk_")) {
            let mut k = i + 3;
            while k < bytes.len() && is_secret_byte(bytes[k]) {
                k += 1;
            }
            if k - i - 3 >= 16 {
                out.push_str(&text[last..i]);
                out.push_str(REDACTED);
                last = k;
                i = k;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    out
}

/// Parses a Retry-After value: delay seconds, or an HTTP date compared with `now_unix_s`.
pub fn parse_retry_after(value: &str, now_unix_s: u64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs));
        }
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs(at.saturating_sub(now_unix_s)))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
pub fn parse_http_date(v: &str) -> Option<u64> {
    let rest = v.split_once(',').map(|x| x.1).unwrap_or(v).trim();
    let parts: Vec<&str> = rest.split_whitespace().collect();
    if parts.len() != 5 || !parts[4].eq_ignore_ascii_case("GMT") {
        return None;
    }
    let day: u32 = parts[0].parse().ok()?;
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| parts[1].eq_ignore_ascii_case(m))? as u32
        + 1;
    let year: i64 = parts[2].parse().ok()?;
    let hms: Vec<u64> = parts[3]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if days < 0 {
        return None;
    }
    Some(days as u64 * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether a provider message says the prompt exceeded the context window.
pub fn is_context_length_message(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "context_length_exceeded",
        "context length",
        "context window",
        "maximum context",
        "prompt is too long",
        "too many tokens",
        "exceeds the context",
        "exceed context",
        "requested tokens",
        "input is too long",
        "reduce the length",
    ]
    .iter()
    .any(|n| t.contains(n))
}

/// Pulls the human-readable message out of an error body (OpenAI, Anthropic, Ollama, plain).
pub fn provider_message(body: &str) -> String {
    let trimmed = body.trim();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let m = v
            .pointer("/error/message")
            .or_else(|| v.pointer("/error"))
            .or_else(|| v.pointer("/message"))
            .or_else(|| v.pointer("/detail"));
        if let Some(m) = m {
            return match m {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    let mut s: String = trimmed.chars().take(300).collect();
    if trimmed.chars().count() > 300 {
        s.push('…');
    }
    s
}

fn from_status(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    endpoint: Endpoint<'_>,
) -> LlmError {
    let Endpoint {
        kind,
        base_url,
        model,
    } = endpoint;
    let detail = provider_message(body);
    let (ek, message) = match status {
        401 => (
            ErrorKind::Key,
            format!("The {} endpoint refused the API key (401): check that the key is correct and belongs to this provider.", kind.label()),
        ),
        403 => (
            ErrorKind::Key,
            "The endpoint refused access (403): the key is valid but not allowed to use this model or endpoint, or the account lacks credit.".to_string(),
        ),
        404 => (
            ErrorKind::NotFound,
            format!("Not found (404): check the model name `{model}` and the base URL {base_url} (it usually ends in /v1)."),
        ),
        408 => (ErrorKind::Timeout, "The server gave up waiting (408).".to_string()),
        409 | 425 => (
            ErrorKind::Server,
            format!("The server could not take the request just then ({status}); this is usually temporary."),
        ),
        429 => (
            ErrorKind::RateLimited,
            "Too many requests or quota exhausted (429): wait a moment, or check the plan's limits.".to_string(),
        ),
        501 | 505 => (
            ErrorKind::BadRequest,
            format!("The server does not support this request ({status}): check the base URL and the provider type."),
        ),
        500..=599 => (
            ErrorKind::Server,
            format!("The provider failed ({status}); this is usually temporary."),
        ),
        _ if is_context_length_message(&detail) => (
            ErrorKind::ContextLength,
            "The conversation is longer than the model's context window: use a model with a larger context, or lower max tokens.".to_string(),
        ),
        _ => (
            ErrorKind::BadRequest,
            format!("The endpoint rejected the request ({status})."),
        ),
    };
    // Some servers report context overflow with 413 or 500.
    let ek = if ek != ErrorKind::Key && is_context_length_message(&detail) {
        ErrorKind::ContextLength
    } else {
        ek
    };
    let message = if ek == ErrorKind::ContextLength {
        "The conversation is longer than the model's context window: use a model with a larger context, or lower max tokens.".to_string()
    } else {
        message
    };
    LlmError {
        kind: ek,
        status: Some(status),
        message,
        detail,
        help: String::new(),
        retry_after,
    }
}

fn network_error(base_url: &str, cause: &str, in_browser: bool) -> LlmError {
    let host = url_host(base_url).unwrap_or("");
    let (message, help) = if in_browser {
        let mut help = String::from(
            "Browsers only let a page call another origin if that server allows it: it must \
             answer with an Access-Control-Allow-Origin header that includes this page's origin. ",
        );
        if is_loopback_host(host) {
            help.push_str(
                "For a local server: make sure it is running, and allow this page's origin — for \
                 Ollama set OLLAMA_ORIGINS to this page's origin (or *) and restart it; for LM \
                 Studio enable CORS in the server settings; llama.cpp's server allows all origins.",
            );
        } else {
            help.push_str(
                "Hosted APIs such as OpenAI and OpenRouter allow it; for your own server, add this \
                 page's origin to its allowed origins.",
            );
        }
        (
            format!(
                "Could not reach {base_url}. The server is not running, or it does not allow \
                 this page (CORS)."
            ),
            help,
        )
    } else {
        (
            format!("Could not reach {base_url}. Check the URL and that the server is running."),
            String::new(),
        )
    };
    LlmError {
        kind: ErrorKind::Network,
        status: None,
        message,
        detail: cause.to_string(),
        help,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep<'a>(base_url: &'a str, model: &'a str) -> Endpoint<'a> {
        Endpoint {
            kind: ProviderKind::OpenAi,
            base_url,
            model,
        }
    }

    fn net(base_url: &str, cause: &str, in_browser: bool) -> LlmError {
        LlmError::network(base_url, cause, in_browser, &Redactor::default())
    }

    #[test]
    fn redactor_removes_configured_keys_bearer_and_x_api_key() {
        let r = Redactor::new(["my-secret-key-42"]);
        let text = "failed with my-secret-key-42; headers: Authorization: Bearer abc.DEF-123_x \
                    x-api-key: anthropic-XYZ and {\"x-api-key\":\"zzz999\"} and sk-proj-ABCDEFGHIJKLMNOPQRST";
        let out = r.redact(text);
        for secret in [
            "my-secret-key-42",
            "abc.DEF-123_x",
            "anthropic-XYZ",
            "zzz999",
            "sk-proj-ABCDEFGHIJKLMNOPQRST",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("Bearer [redacted]"), "{out}");
        assert!(out.contains("failed with [redacted];"), "{out}");
        // Ordinary words survive, and redaction is idempotent.
        assert!(out.contains("headers: Authorization:"));
        assert_eq!(r.redact(&out), out);
        assert_eq!(
            Redactor::default().redact("sk-short and ask-me"),
            "sk-short and ask-me"
        );
    }

    #[test]
    fn errors_are_redacted() {
        let r = Redactor::new(["sekrit-value"]);
        let e = LlmError::from_status(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sekrit-value"}}"#,
            None,
            ep("https://x/v1", "m"),
            &r,
        );
        assert_eq!(e.kind(), ErrorKind::Key);
        assert!(!e.to_string().contains("sekrit"), "{e}");
        assert!(e
            .detail()
            .contains("Incorrect API key provided: [redacted]"));
        // Every constructor redacts: the detail of an app error, the cause of a timeout or of
        // a network failure, and key shapes even in the app's own words.
        let texts = [
            LlmError::new(ErrorKind::Protocol, "x")
                .with_detail("echoed sekrit-value", &r)
                .to_string(),
            LlmError::timeout(5, "waiting on sekrit-value", &r).to_string(),
            LlmError::network("http://127.0.0.1:1/v1", "sekrit-value refused", false, &r)
                .to_string(),
            LlmError::new(ErrorKind::Protocol, "leaked sk-proj-ABCDEFGHIJKLMNOPQRST").to_string(),
        ];
        for text in texts {
            assert!(
                !text.contains("sekrit") && !text.contains("ABCDEFGHIJ"),
                "{text}"
            );
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let k = |s, body: &str| {
            LlmError::from_status(s, body, None, ep("https://x/v1", "m"), &Redactor::default())
                .kind()
        };
        assert_eq!(k(401, ""), ErrorKind::Key);
        assert_eq!(k(403, ""), ErrorKind::Key);
        assert_eq!(k(404, ""), ErrorKind::NotFound);
        assert_eq!(k(429, ""), ErrorKind::RateLimited);
        assert_eq!(k(500, ""), ErrorKind::Server);
        assert_eq!(k(503, "overloaded"), ErrorKind::Server);
        assert_eq!(k(422, "bad field"), ErrorKind::BadRequest);
        for body in [
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","code":"context_length_exceeded"}}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            r#"{"error":{"message":"Requested tokens (2100) exceed context window of 2048"}}"#,
        ] {
            assert_eq!(k(400, body), ErrorKind::ContextLength, "{body}");
        }
        assert_eq!(
            k(
                500,
                r#"{"error":"input is too long for the context window"}"#
            ),
            ErrorKind::ContextLength
        );
        assert!(
            LlmError::from_status(429, "", None, ep("u", "m"), &Redactor::default()).retryable()
        );
        assert!(
            LlmError::from_status(502, "", None, ep("u", "m"), &Redactor::default()).retryable()
        );
        assert!(
            !LlmError::from_status(401, "", None, ep("u", "m"), &Redactor::default()).retryable()
        );
        assert!(
            LlmError::from_status(404, "", None, ep("u", "gpt-x"), &Redactor::default())
                .message()
                .contains("gpt-x")
        );
    }

    #[test]
    fn only_temporary_failures_are_retried() {
        let retry = |status| {
            LlmError::from_status(
                status,
                "",
                None,
                ep("https://x/v1", "m"),
                &Redactor::default(),
            )
            .retryable()
        };
        for status in [408, 409, 425, 429, 500, 502, 503, 504, 529] {
            assert!(retry(status), "{status} is temporary");
        }
        for status in [400, 401, 403, 404, 405, 413, 422, 501, 505] {
            assert!(!retry(status), "{status} is final");
        }
        let too_long = LlmError::from_status(
            500,
            r#"{"error":"input is too long for the context window"}"#,
            None,
            ep("u", "m"),
            &Redactor::default(),
        );
        assert!(!too_long.retryable(), "a retry cannot shorten the prompt");
        assert!(!net("http://127.0.0.1:1/v1", "refused", false).retryable());
        assert!(!LlmError::new(ErrorKind::Malformed, "x").retryable());
        assert!(LlmError::new(ErrorKind::Server, "failed mid-stream").retryable());
    }

    #[test]
    fn the_detail_says_who_failed() {
        let server = LlmError::from_status(
            503,
            r#"{"error":{"message":"overloaded"}}"#,
            None,
            ep("u", "m"),
            &Redactor::default(),
        );
        assert!(
            server
                .to_string()
                .ends_with("(the server said: overloaded)"),
            "{server}"
        );
        let refused = net("http://127.0.0.1:1/v1", "Connection refused", false);
        assert!(
            refused
                .to_string()
                .ends_with("(the connection reported: Connection refused)"),
            "{refused}"
        );
        let parse = LlmError::new(
            ErrorKind::Malformed,
            "The endpoint answered, but not in the expected format.",
        )
        .with_detail(
            "not a Chat Completions answer: expected value at line 1",
            &Redactor::default(),
        );
        let text = parse.to_string();
        assert!(
            text.contains("(what came back: not a Chat Completions answer"),
            "{text}"
        );
        for e in [&refused, &parse] {
            assert!(!e.to_string().contains("the server said"), "{e}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3", 0), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", 0),
            Some(Duration::from_millis(500))
        );
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t, 784_111_777);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", t),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", t + 100),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_http_date("Tue, 24 Nov 2026 20:03:32 GMT"),
            Some(1_795_550_612)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-1", 0), None);
    }

    #[test]
    fn network_errors_explain_cors() {
        let e = net(
            "http://localhost:11434/v1",
            "TypeError: Failed to fetch",
            true,
        );
        assert_eq!(e.kind(), ErrorKind::Network);
        assert!(e.message().contains("CORS"));
        assert!(e.help().contains("OLLAMA_ORIGINS"));
        // The message: at most two short sentences; the rest is behind "Details".
        assert!(e.message().matches(". ").count() <= 1, "{}", e.message());
        assert!(
            e.message().split_whitespace().count() <= 25,
            "{}",
            e.message()
        );
        assert!(!e.to_string().contains("OLLAMA_ORIGINS"));
        let e = net("https://api.example.com/v1", "x", true);
        assert!(e.help().contains("Access-Control-Allow-Origin"));
        assert!(!net("http://127.0.0.1:1/v1", "refused", false)
            .message()
            .contains("CORS"));
    }

    #[test]
    fn provider_message_extraction() {
        assert_eq!(
            provider_message(r#"{"error":{"message":"no such model"}}"#),
            "no such model"
        );
        assert_eq!(
            provider_message(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(provider_message(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(
            provider_message("<html>502 Bad Gateway</html>"),
            "<html>502 Bad Gateway</html>"
        );
        assert_eq!(provider_message(&"x".repeat(400)).chars().count(), 301);
    }
}
