//! Provider settings per role, the redacting API key, and validation with errors naming the
//! field.
//!
//! The serde form of [`ProviderSettings`] is the settings store's format and nothing else: it
//! carries the key, and the values of extra headers (a proxy token is a secret too), only when
//! the user chose to remember them ([`KeyMemory::Remember`]); otherwise the header names are
//! kept with empty values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Params;

/// An API key. Debug and Display print a redaction; it has no serde implementation of its own,
/// so it can only be written through [`ProviderSettings`]' store format.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into().trim().to_string())
    }

    /// The secret itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which wire protocol an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI Chat Completions and compatible servers (OpenRouter, vLLM, llama.cpp server,
    /// Ollama's /v1, LM Studio).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

impl ProviderKind {
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "OpenAI-compatible",
            ProviderKind::Anthropic => "Anthropic",
        }
    }
}

/// Whether the key (and the extra headers' values) are kept in browser storage or only in
/// memory for this tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMemory {
    /// In memory only: the store format carries no key.
    #[default]
    Session,
    /// The user ticked "remember": the key is written to the settings store.
    Remember,
}

/// Starting points for the settings form: the usual endpoints and what each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    OpenAi,
    OpenRouter,
    Anthropic,
    Ollama,
    LmStudio,
    LlamaCpp,
    Vllm,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::OpenAi,
        Preset::OpenRouter,
        Preset::Anthropic,
        Preset::Ollama,
        Preset::LmStudio,
        Preset::LlamaCpp,
        Preset::Vllm,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Preset::OpenAi => "OpenAI",
            Preset::OpenRouter => "OpenRouter",
            Preset::Anthropic => "Anthropic",
            Preset::Ollama => "Ollama (local)",
            Preset::LmStudio => "LM Studio (local)",
            Preset::LlamaCpp => "llama.cpp server (local)",
            Preset::Vllm => "vLLM (local)",
        }
    }

    /// Settings with this endpoint and a typical model (empty where only the user knows it).
    pub fn settings(self) -> ProviderSettings {
        let (kind, url, model) = match self {
            Preset::OpenAi => (
                ProviderKind::OpenAi,
                "https://api.openai.com/v1",
                "gpt-4o-mini",
            ),
            Preset::OpenRouter => (
                ProviderKind::OpenAi,
                "https://openrouter.ai/api/v1",
                "openai/gpt-4o-mini",
            ),
            Preset::Anthropic => (
                ProviderKind::Anthropic,
                "https://api.anthropic.com/v1",
                "claude-sonnet-4-5",
            ),
            Preset::Ollama => (
                ProviderKind::OpenAi,
                "http://localhost:11434/v1",
                "llama3.1",
            ),
            Preset::LmStudio => (ProviderKind::OpenAi, "http://localhost:1234/v1", ""),
            Preset::LlamaCpp => (ProviderKind::OpenAi, "http://127.0.0.1:8080/v1", ""),
            Preset::Vllm => (ProviderKind::OpenAi, "http://localhost:8000/v1", ""),
        };
        ProviderSettings::new(kind, url, model)
    }

    /// What the user must do for the browser to reach it.
    pub fn hint(self) -> &'static str {
        match self {
            Preset::OpenAi | Preset::OpenRouter => "Paste your API key.",
            Preset::Anthropic => {
                "Paste your API key. Bedside sends Anthropic's header for direct browser access."
            }
            Preset::Ollama => {
                "No key needed. Allow this page's origin: set OLLAMA_ORIGINS to it (or *) and restart Ollama."
            }
            Preset::LmStudio => "No key needed. Turn on CORS in LM Studio's server settings.",
            Preset::LlamaCpp => "No key needed; the server allows any origin.",
            Preset::Vllm => {
                "Start vLLM with --allowed-origins including this page's origin; a key only if you set --api-key."
            }
        }
    }
}

/// Which model role the settings are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Patient,
    Clinician,
    Judge,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Patient, Role::Clinician, Role::Judge];

    pub fn label(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Clinician => "clinician",
            Role::Judge => "judge",
        }
    }
}

/// One role's endpoint and sampling settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    /// E.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub key: ApiKey,
    pub key_memory: KeyMemory,
    pub model: String,
    /// Extra request headers (e.g. OpenRouter's `HTTP-Referer`, a proxy's token). Their values
    /// are treated as secrets: redacted from errors, stored only with [`KeyMemory::Remember`].
    pub extra_headers: Vec<(String, String)>,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Sent to OpenAI-compatible servers; Anthropic has none.
    pub seed: Option<u64>,
    pub timeout_s: u32,
}

impl ProviderSettings {
    pub fn new(kind: ProviderKind, base_url: &str, model: &str) -> ProviderSettings {
        ProviderSettings {
            kind,
            base_url: base_url.to_string(),
            key: ApiKey::default(),
            key_memory: KeyMemory::Session,
            model: model.to_string(),
            extra_headers: Vec::new(),
            temperature: 0.7,
            max_tokens: 512,
            seed: None,
            timeout_s: 60,
        }
    }

    /// The sampling parameters of a call with these settings.
    pub fn params(&self) -> Params {
        Params {
            model: self.model.trim().to_string(),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: match self.kind {
                ProviderKind::OpenAi => self.seed,
                ProviderKind::Anthropic => None,
            },
        }
    }

    /// The base URL without trailing slashes.
    pub fn base(&self) -> &str {
        let url = self.base_url.trim();
        let stripped = url.trim_end_matches('/');
        if stripped.ends_with(':') {
            url
        } else {
            stripped
        }
    }

    /// Checks every field; returns all problems at once.
    pub fn validate(&self, context: Context) -> Result<(), Vec<SettingsError>> {
        let mut errors = Vec::new();
        let mut err = |field: Field, message: String| {
            errors.push(SettingsError {
                role: None,
                field,
                message,
            })
        };
        if let Err(m) = check_url(self.base(), context) {
            err(Field::BaseUrl, m);
        }
        if self.model.trim().is_empty() {
            err(
                Field::Model,
                "the model name is empty (e.g. gpt-4o-mini, claude-sonnet-4-5, llama3.1)".into(),
            );
        } else if self.model.trim().chars().any(char::is_control) {
            err(
                Field::Model,
                "the model name contains control characters".into(),
            );
        }
        let max_temp = match self.kind {
            ProviderKind::OpenAi => 2.0,
            ProviderKind::Anthropic => 1.0,
        };
        if !self.temperature.is_finite() || self.temperature < 0.0 || self.temperature > max_temp {
            err(
                Field::Temperature,
                format!(
                    "must be between 0 and {max_temp} for {} endpoints (got {})",
                    self.kind.label(),
                    self.temperature
                ),
            );
        }
        if self.max_tokens == 0 || self.max_tokens > 200_000 {
            err(
                Field::MaxTokens,
                format!("must be between 1 and 200000 (got {})", self.max_tokens),
            );
        }
        if self.seed.is_some() && self.kind == ProviderKind::Anthropic {
            err(
                Field::Seed,
                "Anthropic's API has no seed; leave it empty".into(),
            );
        }
        if self.timeout_s == 0 || self.timeout_s > 600 {
            err(
                Field::TimeoutS,
                format!("must be between 1 and 600 seconds (got {})", self.timeout_s),
            );
        }
        if self.kind == ProviderKind::Anthropic && self.key.is_empty() {
            err(Field::Key, "Anthropic needs an API key".into());
        }
        if self
            .key
            .expose()
            .chars()
            .any(|c| c.is_control() || c == ' ')
        {
            err(
                Field::Key,
                "the key contains spaces or control characters; paste it again".into(),
            );
        }
        for (i, (name, value)) in self.extra_headers.iter().enumerate() {
            let field = Field::ExtraHeader(i);
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                err(
                    field,
                    format!("`{name}` is not a valid header name (letters, digits and - only)"),
                );
            } else if value.chars().any(|c| c == '\r' || c == '\n') {
                err(
                    field,
                    format!("the value of `{name}` contains a line break"),
                );
            } else if value.trim().is_empty() {
                err(
                    field,
                    format!(
                        "the value of `{name}` is empty (values are kept only with \"remember\"): enter it again"
                    ),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Where the settings will be used: the browser refuses plain http to other machines (the
/// page's Content-Security-Policy and mixed-content rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Browser,
    Native,
}

/// A field of one role's settings: what validation names and the Settings page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// Which endpoint, or off (the Settings page's preset choice).
    Provider,
    BaseUrl,
    Model,
    Key,
    Temperature,
    MaxTokens,
    Seed,
    TimeoutS,
    /// The extra headers as a whole (the Settings page has one box, a header a line).
    ExtraHeaders,
    /// One extra header, by its index.
    ExtraHeader(usize),
}

impl Field {
    /// The field's name: "base_url", "timeout_s"; "extra_headers" for one header or all.
    /// The Settings page's element ids use it ("clinician-base_url").
    pub fn name(self) -> &'static str {
        match self {
            Field::Provider => "provider",
            Field::BaseUrl => "base_url",
            Field::Model => "model",
            Field::Key => "key",
            Field::Temperature => "temperature",
            Field::MaxTokens => "max_tokens",
            Field::Seed => "seed",
            Field::TimeoutS => "timeout_s",
            Field::ExtraHeaders | Field::ExtraHeader(_) => "extra_headers",
        }
    }

    /// Where a form shows it: one header's problem goes with all of them.
    pub fn shown_at(self) -> Field {
        match self {
            Field::ExtraHeader(_) => Field::ExtraHeaders,
            other => other,
        }
    }
}

/// The name, and the index of one header: "model", "extra_headers[0]".
impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::ExtraHeader(i) => write!(f, "extra_headers[{i}]"),
            other => f.write_str(other.name()),
        }
    }
}

/// One invalid field (of the role's settings, when checked among all three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub role: Option<Role>,
    pub field: Field,
    pub message: String,
}

impl SettingsError {
    /// The field with its role: "judge.model", "extra_headers[1]".
    pub fn path(&self) -> String {
        match self.role {
            Some(r) => format!("{}.{}", r.label(), self.field),
            None => self.field.to_string(),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path(), self.message)
    }
}

/// The host part of an http(s) URL, if the URL has the right shape.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    Some(host)
}

pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host.starts_with("127.")
        || host.to_ascii_lowercase().ends_with(".localhost")
}

fn check_url(url: &str, context: Context) -> Result<(), String> {
    if url.is_empty() {
        return Err("the base URL is empty (e.g. https://api.openai.com/v1)".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{url}` contains spaces"));
    }
    let Some(host) = url_host(url) else {
        return Err(format!("`{url}` must start with https:// or http://"));
    };
    let rest = url.split_once("://").map(|x| x.1).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("put the key in the key field, not in the URL".into());
    }
    if url.contains('?') || url.contains('#') {
        return Err(
            "the base URL must not have a query or fragment (keys never go in URLs)".into(),
        );
    }
    if host.is_empty() {
        return Err(format!("`{url}` has no host name"));
    }
    if let Some(port) = authority.rsplit_once(':').map(|x| x.1) {
        if !authority.ends_with(']') && port.parse::<u16>().is_err() {
            return Err(format!("`{port}` is not a valid port"));
        }
    }
    if context == Context::Browser && url.starts_with("http://") && !is_loopback_host(host) {
        return Err(format!(
            "the browser allows plain http only to this machine (localhost, 127.0.0.1); use https:// for {host}"
        ));
    }
    Ok(())
}

/// The settings store's form of [`ProviderSettings`].
#[derive(Serialize, Deserialize)]
struct Stored {
    kind: ProviderKind,
    base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default)]
    key_memory: KeyMemory,
    model: String,
    #[serde(default)]
    extra_headers: Vec<(String, String)>,
    temperature: f64,
    max_tokens: u32,
    #[serde(default)]
    seed: Option<u64>,
    timeout_s: u32,
}

impl Serialize for ProviderSettings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let remember = self.key_memory == KeyMemory::Remember;
        Stored {
            kind: self.kind,
            base_url: self.base_url.clone(),
            key: (remember && !self.key.is_empty()).then(|| self.key.expose().to_string()),
            key_memory: self.key_memory,
            model: self.model.clone(),
            // Names always (the form shows them); values only when remembered.
            extra_headers: self
                .extra_headers
                .iter()
                .map(|(n, v)| (n.clone(), if remember { v.clone() } else { String::new() }))
                .collect(),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: self.seed,
            timeout_s: self.timeout_s,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ProviderSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Stored::deserialize(d)?;
        Ok(ProviderSettings {
            kind: s.kind,
            base_url: s.base_url,
            key: ApiKey::new(s.key.unwrap_or_default()),
            key_memory: s.key_memory,
            model: s.model,
            extra_headers: s.extra_headers,
            temperature: s.temperature,
            max_tokens: s.max_tokens,
            seed: s.seed,
            timeout_s: s.timeout_s,
        })
    }
}

/// The settings of all three roles (each may be unset: the built-in alternative is used).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub patient: Option<ProviderSettings>,
    #[serde(default)]
    pub clinician: Option<ProviderSettings>,
    #[serde(default)]
    pub judge: Option<ProviderSettings>,
}

impl Settings {
    pub fn role(&self, role: Role) -> Option<&ProviderSettings> {
        match role {
            Role::Patient => self.patient.as_ref(),
            Role::Clinician => self.clinician.as_ref(),
            Role::Judge => self.judge.as_ref(),
        }
    }

    /// Validates every configured role; each error names its role.
    pub fn validate(&self, context: Context) -> Result<(), Vec<SettingsError>> {
        let mut all = Vec::new();
        for role in Role::ALL {
            if let Some(Err(errors)) = self.role(role).map(|p| p.validate(context)) {
                all.extend(errors.into_iter().map(|e| SettingsError {
                    role: Some(role),
                    ..e
                }));
            }
        }
        if all.is_empty() {
            Ok(())
        } else {
            Err(all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai() -> ProviderSettings {
        let mut p = ProviderSettings::new(
            ProviderKind::OpenAi,
            "https://api.openai.com/v1",
            "gpt-4o-mini",
        );
        p.key = ApiKey::new("sk-test-1234567890abcdef");
        p
    }

    fn fields(r: Result<(), Vec<SettingsError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(SettingsError::path)
            .collect()
    }

    #[test]
    fn key_debug_and_display_are_redacted() {
        let p = openai();
        let debug = format!("{p:?}");
        assert!(!debug.contains("sk-test"), "{debug}");
        assert!(debug.contains("[redacted]"));
        assert_eq!(p.key.to_string(), "[redacted]");
    }

    #[test]
    fn stored_form_carries_the_key_only_when_remembered() {
        let mut p = openai();
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("sk-test"), "{json}");
        let back: ProviderSettings = serde_json::from_str(&json).unwrap();
        assert!(back.key.is_empty());
        assert_eq!(back.model, "gpt-4o-mini");

        p.key_memory = KeyMemory::Remember;
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("sk-test-1234567890abcdef"));
        let back: ProviderSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn stored_form_carries_extra_header_values_only_when_remembered() {
        let mut p = openai();
        p.extra_headers = vec![("X-Proxy-Token".into(), "proxy-secret-778".into())];
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("proxy-secret-778"), "{json}");
        let back: ProviderSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.extra_headers,
            [("X-Proxy-Token".to_string(), String::new())],
            "the name stays, the value is gone"
        );
        // A header without its value is not sent as empty: the settings ask for it again.
        let errors = back.validate(Context::Browser).unwrap_err();
        assert_eq!(errors[0].field, Field::ExtraHeader(0));
        assert!(errors[0].message.contains("empty"), "{}", errors[0].message);

        p.key_memory = KeyMemory::Remember;
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("proxy-secret-778"));
        assert_eq!(serde_json::from_str::<ProviderSettings>(&json).unwrap(), p);
    }

    #[test]
    fn valid_settings_pass() {
        assert_eq!(openai().validate(Context::Browser), Ok(()));
        let local = ProviderSettings::new(
            ProviderKind::OpenAi,
            "http://127.0.0.1:11434/v1/",
            "llama3.1",
        );
        assert_eq!(local.validate(Context::Browser), Ok(()));
        assert_eq!(local.base(), "http://127.0.0.1:11434/v1");
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut p = openai();
        p.base_url = "api.openai.com".into();
        p.model = " ".into();
        p.temperature = 2.5;
        p.max_tokens = 0;
        p.timeout_s = 0;
        p.extra_headers = vec![
            ("Bad Header".into(), "x".into()),
            ("X-Ok".into(), "a\nb".into()),
        ];
        assert_eq!(
            fields(p.validate(Context::Native)),
            [
                "base_url",
                "model",
                "temperature",
                "max_tokens",
                "timeout_s",
                "extra_headers[0]",
                "extra_headers[1]"
            ]
        );
    }

    #[test]
    fn urls_are_checked() {
        let cases = [
            ("", "empty"),
            ("ftp://x", "https://"),
            ("https://", "no host"),
            ("https://user:pw@host/v1", "key field"),
            ("https://host/v1?key=abc", "query"),
            ("https://host:99999/v1", "port"),
            ("http://example.com/v1", "plain http"),
        ];
        for (url, needle) in cases {
            let mut p = openai();
            p.base_url = url.into();
            let errs = p.validate(Context::Browser).unwrap_err();
            assert_eq!(errs[0].field, Field::BaseUrl);
            assert!(
                errs[0].message.contains(needle),
                "{url}: {}",
                errs[0].message
            );
        }
        let mut p = openai();
        p.base_url = "http://gpu-box.lan:8000/v1".into();
        assert_eq!(p.validate(Context::Native), Ok(()));
        p.base_url = "http://[::1]:8000/v1".into();
        assert_eq!(p.validate(Context::Browser), Ok(()));
    }

    #[test]
    fn anthropic_rules() {
        let mut p = ProviderSettings::new(
            ProviderKind::Anthropic,
            "https://api.anthropic.com/v1",
            "claude-sonnet-4-5",
        );
        p.temperature = 1.5;
        p.seed = Some(3);
        assert_eq!(
            fields(p.validate(Context::Browser)),
            ["temperature", "seed", "key"]
        );
        assert_eq!(p.params().seed, None);
    }

    #[test]
    fn presets_validate_once_the_user_fills_in_what_only_they_know() {
        for preset in Preset::ALL {
            let mut p = preset.settings();
            if p.model.is_empty() {
                assert_eq!(
                    fields(p.validate(Context::Browser)),
                    ["model"],
                    "{preset:?}"
                );
                p.model = "local-model".into();
            }
            if p.kind == ProviderKind::Anthropic {
                p.key = ApiKey::new("ant-key");
            }
            assert_eq!(p.validate(Context::Browser), Ok(()), "{preset:?}");
            assert!(!preset.hint().is_empty() && !preset.label().is_empty());
        }
        assert!(Preset::Ollama.hint().contains("OLLAMA_ORIGINS"));
    }

    #[test]
    fn settings_prefix_the_role() {
        let mut bad = openai();
        bad.model.clear();
        let s = Settings {
            judge: Some(bad),
            patient: Some(openai()),
            clinician: None,
        };
        assert_eq!(fields(s.validate(Context::Browser)), ["judge.model"]);
        assert!(s.role(Role::Clinician).is_none());
    }
}
