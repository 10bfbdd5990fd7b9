//! The Settings page's logic and the model roles' glue, without UI or browser: the form of one
//! role as typed (text fields), its conversion to [`ProviderSettings`] with errors per field,
//! what the settings store keeps (keys only when "remember" is ticked), how keys held in
//! memory for the tab are merged back, the line saying who plays which role, and the usage
//! line.

use std::collections::BTreeMap;

use crate::engine::encounter::{Clinician, Config};
use crate::llm::settings::{
    ApiKey, Context, Field, KeyMemory, Preset, ProviderKind, ProviderSettings, Role, Settings,
};

/// Where keys are kept, in plain words (shown next to the "remember key" box).
pub const KEY_STORAGE_NOTE: &str = "Keys are sent only to the endpoint you enter here. \
Without \"remember\", a key, like the values of extra headers, stays in this tab's memory only and is gone when you close or reload the tab. \
With \"remember\" ticked, they are kept in this browser's local storage on this computer, until you untick it or clear the site's data. \
Keys are never put in saved encounters, exports or error messages.";

/// One role's form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleForm {
    /// None: off / built-in (scripted patient, no clinician model, rules only).
    pub preset: Option<Preset>,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub key: String,
    pub remember: bool,
    pub temperature: String,
    pub max_tokens: String,
    pub seed: String,
    pub timeout_s: String,
    /// One `Name: value` per line.
    pub extra_headers: String,
}

/// One invalid field of a role form (`field` is where the form shows it: every extra
/// header's problem is at [`Field::ExtraHeaders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl RoleForm {
    /// Off: the built-in alternative.
    pub fn off() -> RoleForm {
        let mut f = RoleForm::from_settings(&Preset::OpenAi.settings());
        f.preset = None;
        f
    }

    /// The form filled from a preset (keeping the typed key and "remember").
    pub fn with_preset(&self, preset: Option<Preset>) -> RoleForm {
        match preset {
            None => RoleForm {
                preset: None,
                ..self.clone()
            },
            Some(p) => {
                let mut f = RoleForm::from_settings(&p.settings());
                f.preset = Some(p);
                f.key = self.key.clone();
                f.remember = self.remember;
                f
            }
        }
    }

    /// The form showing stored settings (None: off).
    pub fn from_role(settings: Option<&ProviderSettings>) -> RoleForm {
        match settings {
            None => RoleForm::off(),
            Some(s) => RoleForm::from_settings(s),
        }
    }

    fn from_settings(s: &ProviderSettings) -> RoleForm {
        RoleForm {
            preset: Some(guess_preset(s)),
            kind: s.kind,
            base_url: s.base_url.clone(),
            model: s.model.clone(),
            key: s.key.expose().to_string(),
            remember: s.key_memory == KeyMemory::Remember,
            temperature: s.temperature.to_string(),
            max_tokens: s.max_tokens.to_string(),
            seed: s.seed.map(|x| x.to_string()).unwrap_or_default(),
            timeout_s: s.timeout_s.to_string(),
            extra_headers: s
                .extra_headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The settings this form describes (None when off), or every invalid field.
    pub fn to_settings(&self) -> Result<Option<ProviderSettings>, Vec<FieldError>> {
        if self.preset.is_none() {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let mut err = |field: Field, message: String| errors.push(FieldError { field, message });
        let mut s = ProviderSettings::new(self.kind, self.base_url.trim(), self.model.trim());
        s.key = ApiKey::new(self.key.as_str());
        s.key_memory = if self.remember {
            KeyMemory::Remember
        } else {
            KeyMemory::Session
        };
        match self.temperature.trim().parse::<f64>() {
            Ok(t) => s.temperature = t,
            Err(_) => err(
                Field::Temperature,
                format!("`{}` is not a number (e.g. 0.7)", self.temperature.trim()),
            ),
        }
        match self.max_tokens.trim().parse::<u32>() {
            Ok(n) => s.max_tokens = n,
            Err(_) => err(
                Field::MaxTokens,
                format!(
                    "`{}` is not a whole number (e.g. 512)",
                    self.max_tokens.trim()
                ),
            ),
        }
        let seed = self.seed.trim();
        if !seed.is_empty() {
            match seed.parse::<u64>() {
                Ok(n) => s.seed = Some(n),
                Err(_) => err(
                    Field::Seed,
                    format!("`{seed}` is not a whole number; leave it empty for none"),
                ),
            }
        }
        match self.timeout_s.trim().parse::<u32>() {
            Ok(n) => s.timeout_s = n,
            Err(_) => err(
                Field::TimeoutS,
                format!(
                    "`{}` is not a whole number of seconds",
                    self.timeout_s.trim()
                ),
            ),
        }
        for (i, line) in self
            .extra_headers
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            match line.split_once(':') {
                Some((n, v)) => s
                    .extra_headers
                    .push((n.trim().to_string(), v.trim().to_string())),
                None => err(
                    Field::ExtraHeaders,
                    format!("line {}: write each header as `Name: value`", i + 1),
                ),
            }
        }
        if let Err(problems) = s.validate(Context::Browser) {
            for p in problems {
                let field = p.field.shown_at();
                // A number that did not parse was already reported.
                if !errors.iter().any(|e| e.field == field) {
                    errors.push(FieldError {
                        field,
                        message: p.message,
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(Some(s))
        } else {
            Err(errors)
        }
    }
}

/// The preset whose endpoint these settings use (OpenAI-compatible custom endpoints show as
/// the closest local preset).
fn guess_preset(s: &ProviderSettings) -> Preset {
    let base = s.base();
    Preset::ALL
        .into_iter()
        .find(|p| p.settings().base() == base && p.settings().kind == s.kind)
        .unwrap_or(match s.kind {
            ProviderKind::Anthropic => Preset::Anthropic,
            ProviderKind::OpenAi => Preset::LlamaCpp,
        })
}

/// The message for one field, if it is invalid (several are joined).
pub fn field_error(errors: &[FieldError], field: Field) -> Option<String> {
    let msgs: Vec<&str> = errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.as_str())
        .collect();
    (!msgs.is_empty()).then(|| msgs.join("; "))
}

/// The three forms as settings, or the errors per role.
pub fn forms_to_settings(
    forms: &BTreeMap<Role, RoleForm>,
) -> Result<Settings, BTreeMap<Role, Vec<FieldError>>> {
    let mut settings = Settings::default();
    let mut errors = BTreeMap::new();
    for role in Role::ALL {
        let form = forms.get(&role).cloned().unwrap_or_else(RoleForm::off);
        match form.to_settings() {
            Ok(s) => set_role(&mut settings, role, s),
            Err(e) => {
                errors.insert(role, e);
            }
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

pub fn set_role(settings: &mut Settings, role: Role, value: Option<ProviderSettings>) {
    match role {
        Role::Patient => settings.patient = value,
        Role::Clinician => settings.clinician = value,
        Role::Judge => settings.judge = value,
    }
}

/// The text the settings store keeps: every role's endpoint and sampling settings, and a key
/// and extra-header values only where "remember" is ticked.
pub fn stored_text(settings: &Settings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".into())
}

/// Reads the settings store's text.
pub fn parse_stored(text: &str) -> Result<Settings, String> {
    serde_json::from_str(text).map_err(|e| {
        format!("the saved model settings cannot be read ({e}); the built-in roles are used")
    })
}

/// The settings as saved, with the keys and extra-header values held in memory for this tab
/// put back where the stored form has none (roles whose endpoint is unchanged only).
pub fn with_session_keys(mut stored: Settings, memory: &Settings) -> Settings {
    for role in Role::ALL {
        let Some(mem) = memory.role(role) else {
            continue;
        };
        let slot = match role {
            Role::Patient => stored.patient.as_mut(),
            Role::Clinician => stored.clinician.as_mut(),
            Role::Judge => stored.judge.as_mut(),
        };
        if let Some(s) = slot {
            if s.base() != mem.base() {
                continue;
            }
            if s.key.is_empty() {
                s.key = mem.key.clone();
            }
            for (name, value) in s.extra_headers.iter_mut().filter(|(_, v)| v.is_empty()) {
                if let Some((_, v)) = mem.extra_headers.iter().find(|(n, _)| n == name) {
                    value.clone_from(v);
                }
            }
        }
    }
    stored
}

/// "model SmolLM2 at http://127.0.0.1:8080/v1" — never the key.
pub fn model_label(s: &ProviderSettings) -> String {
    format!("model {} at {}", s.model.trim(), s.base())
}

/// Who plays each role: "Clinician: model smollm2 · Patient: scripted · Judge: rules only".
/// The clinician comes from the encounter's config, the patient from the saved encounter's
/// voice (or the current settings for a new encounter), the judge from the settings.
pub fn roles_line(config: &Config, patient_voice: &str, settings: &Settings) -> String {
    let clinician = match &config.clinician {
        Clinician::Human => "human (you)".to_string(),
        Clinician::Model { model, .. } => format!("model {model}"),
    };
    let patient = if patient_voice == "scripted" {
        match &settings.patient {
            Some(p) => format!("model {} (scripted facts)", p.model.trim()),
            None => "scripted".into(),
        }
    } else {
        patient_voice.to_string()
    };
    let judge = match &settings.judge {
        Some(j) => format!("rules + model {}", j.model.trim()),
        None => "rules only".into(),
    };
    format!("Clinician: {clinician} · Patient: {patient} · Judge: {judge}")
}

/// The encounter config for a model clinician as the app plays it (MedSP1000's 12-turn limit).
pub fn model_config(s: &ProviderSettings) -> Config {
    crate::llm::driver::PlayConfig::default().encounter_config(s)
}

/// Whether the "Let the model play" control is enabled.
pub fn can_model_play(settings: &Settings) -> bool {
    settings
        .clinician
        .as_ref()
        .is_some_and(|c| c.validate(Context::Browser).is_ok())
}

/// The model calls of an encounter summed: "3 model calls (1 failed) · 1200 tokens in, 96
/// out · 4.2 s", then "· 800 tokens in from the provider's cache" where the provider said so.
/// Calls whose provider reported no token counts are said so.
pub fn usage_line(exchanges: &[crate::llm::roles::LlmExchange]) -> String {
    let t = crate::llm::roles::usage_totals(exchanges);
    let calls = t.calls;
    let mut s = format!("{calls} model call{}", if calls == 1 { "" } else { "s" });
    if t.failed_calls > 0 {
        s.push_str(&format!(" ({} failed)", t.failed_calls));
    }
    s.push_str(&format!(
        " · {} tokens in, {} out · {:.1} s",
        t.input_tokens,
        t.output_tokens,
        t.latency_ms as f64 / 1000.0
    ));
    if t.cached_input_tokens > 0 {
        s.push_str(&format!(
            " · {} tokens in from the provider's cache",
            t.cached_input_tokens
        ));
    }
    if t.unreported_usage > 0 {
        s.push_str(&format!(" ({} without token counts)", t.unreported_usage));
    }
    s
}

/// A status message and the form values it was made for ("Settings saved.", a connection
/// report). It is shown only while the fields still hold those values: once a field changes,
/// the message no longer describes what is on screen, so it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFor<T> {
    pub text: String,
    /// Longer help kept behind a "Details" disclosure (empty: none).
    pub details: String,
    pub ok: bool,
    pub made_for: T,
}

impl<T: PartialEq> StatusFor<T> {
    /// The status if it still matches the fields as they are `now`.
    pub fn current(&self, now: &T) -> Option<&Self> {
        (self.made_for == *now).then_some(self)
    }
}
