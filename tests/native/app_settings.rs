//! The Settings page's logic (src/app/settings.rs): forms to settings with errors per field,
//! what the store keeps (keys only when remembered), keys held in memory, the roles line, the
//! model config and the judge run conversion.

use std::collections::BTreeMap;

use bedside::app::settings::{
    can_model_play, field_error, forms_to_settings, model_config, parse_stored, roles_line,
    stored_text, with_session_keys, RoleForm, KEY_STORAGE_NOTE,
};
use bedside::app::view::{transcript_rows, voiced_rows};
use bedside::engine::encounter::{Clinician, Config, Encounter, Input, Turn};
use bedside::engine::score::check_judge;
use bedside::llm::prompts::JUDGE_PROMPT_VERSION;
use bedside::llm::protocol::Verdict;
use bedside::llm::roles::judge_run;
use bedside::llm::settings::{Field, KeyMemory, Preset, ProviderKind, Role, Settings};

use crate::support::{case, catalog};

const KEY: &str = "sk-test-DO-NOT-LEAK-1234";

fn local_form() -> RoleForm {
    let mut f = RoleForm::off().with_preset(Some(Preset::LlamaCpp));
    f.base_url = "http://127.0.0.1:8080/v1".into();
    f.model = "SmolLM2".into();
    f.key = KEY.into();
    f.max_tokens = "96".into();
    f
}

#[test]
fn off_is_the_default_and_means_no_settings() {
    let f = RoleForm::off();
    assert_eq!(f.preset, None);
    assert_eq!(f.to_settings(), Ok(None));
    let forms: BTreeMap<Role, RoleForm> = BTreeMap::new();
    assert_eq!(forms_to_settings(&forms), Ok(Settings::default()));
    assert!(!can_model_play(&Settings::default()));
}

#[test]
fn a_preset_fills_the_form_and_keeps_the_typed_key() {
    let mut f = RoleForm::off();
    f.key = KEY.into();
    f.remember = true;
    let a = f.with_preset(Some(Preset::Anthropic));
    assert_eq!(a.kind, ProviderKind::Anthropic);
    assert_eq!(a.base_url, "https://api.anthropic.com/v1");
    assert_eq!(a.model, "claude-sonnet-4-5");
    assert_eq!(a.key, KEY);
    assert!(a.remember);
    let o = a.with_preset(Some(Preset::Ollama));
    assert_eq!(o.kind, ProviderKind::OpenAi);
    assert_eq!(o.base_url, "http://localhost:11434/v1");
}

#[test]
fn a_valid_form_becomes_settings() {
    let mut f = local_form();
    f.seed = "7".into();
    f.temperature = "0.2".into();
    f.extra_headers = "X-Title: Bedside\n\nHTTP-Referer: http://localhost".into();
    let s = f.to_settings().unwrap().unwrap();
    assert_eq!(s.model, "SmolLM2");
    assert_eq!(s.max_tokens, 96);
    assert_eq!(s.seed, Some(7));
    assert_eq!(s.temperature, 0.2);
    assert_eq!(s.key.expose(), KEY);
    assert_eq!(s.key_memory, KeyMemory::Session);
    assert_eq!(
        s.extra_headers,
        [
            ("X-Title".to_string(), "Bedside".to_string()),
            ("HTTP-Referer".to_string(), "http://localhost".to_string())
        ]
    );
    // And back: the form shows what was saved.
    let back = RoleForm::from_role(Some(&s));
    assert_eq!(back.to_settings().unwrap().unwrap(), s);
    assert_eq!(back.preset, Some(Preset::LlamaCpp));
}

#[test]
fn every_bad_field_is_named_once() {
    let mut f = local_form();
    f.base_url = "http://gpu-box.lan:8000/v1".into();
    f.model = "  ".into();
    f.temperature = "warm".into();
    f.max_tokens = "0".into();
    f.seed = "-1".into();
    f.timeout_s = "".into();
    f.extra_headers = "no colon here\nBad Name: x".into();
    let errors = f.to_settings().unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.name()).collect();
    for field in [
        "base_url",
        "model",
        "temperature",
        "max_tokens",
        "seed",
        "timeout_s",
        "extra_headers",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    assert!(field_error(&errors, Field::BaseUrl)
        .unwrap()
        .contains("plain http only to this machine"));
    assert!(field_error(&errors, Field::Temperature)
        .unwrap()
        .contains("`warm` is not a number"));
    assert!(field_error(&errors, Field::MaxTokens)
        .unwrap()
        .contains("between 1 and 200000"));
    assert!(field_error(&errors, Field::ExtraHeaders)
        .unwrap()
        .contains("Name: value"));
    assert_eq!(field_error(&errors, Field::Key), None);
    // No error text repeats the key.
    assert!(errors.iter().all(|e| !e.message.contains(KEY)));
}

#[test]
fn errors_are_kept_per_role() {
    let mut forms = BTreeMap::new();
    forms.insert(Role::Clinician, local_form());
    let mut bad = local_form();
    bad.model.clear();
    forms.insert(Role::Judge, bad);
    let errors = forms_to_settings(&forms).unwrap_err();
    assert_eq!(errors.keys().copied().collect::<Vec<_>>(), [Role::Judge]);
    assert_eq!(errors[&Role::Judge][0].field, Field::Model);
}

#[test]
fn the_store_keeps_a_key_only_when_remembered() {
    let mut forms = BTreeMap::new();
    forms.insert(Role::Clinician, local_form());
    let settings = forms_to_settings(&forms).unwrap();
    let text = stored_text(&settings);
    assert!(!text.contains(KEY), "{text}");
    let stored = parse_stored(&text).unwrap();
    let c = stored.clinician.as_ref().unwrap();
    assert!(c.key.is_empty());
    assert_eq!(c.model, "SmolLM2");
    // The tab's memory puts it back for this tab.
    let merged = with_session_keys(stored.clone(), &settings);
    assert_eq!(merged.clinician.as_ref().unwrap().key.expose(), KEY);
    // ...but not for another endpoint.
    let mut moved = stored;
    moved.clinician.as_mut().unwrap().base_url = "http://127.0.0.1:9999/v1".into();
    let merged = with_session_keys(moved, &settings);
    assert!(merged.clinician.as_ref().unwrap().key.is_empty());

    let mut remembered = local_form();
    remembered.remember = true;
    forms.insert(Role::Clinician, remembered);
    let settings = forms_to_settings(&forms).unwrap();
    let text = stored_text(&settings);
    assert!(text.contains(KEY));
    assert_eq!(parse_stored(&text).unwrap(), settings);
}

/// Extra headers may carry a credential (a proxy's token): their values are kept like the key,
/// in the store only when "remember" is ticked, otherwise in the tab's memory.
#[test]
fn the_store_keeps_extra_header_values_only_when_remembered() {
    const TOKEN: &str = "proxy-token-DO-NOT-STORE-77";
    let mut form = local_form();
    form.extra_headers = format!("X-Proxy-Token: {TOKEN}\nX-Title: Bedside");
    let mut forms = BTreeMap::new();
    forms.insert(Role::Clinician, form.clone());
    let settings = forms_to_settings(&forms).unwrap();
    let text = stored_text(&settings);
    assert!(!text.contains(TOKEN) && !text.contains(KEY), "{text}");
    let stored = parse_stored(&text).unwrap();
    let c = stored.clinician.as_ref().unwrap();
    let names: Vec<&str> = c.extra_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["X-Proxy-Token", "X-Title"], "the names are kept");
    assert!(c.extra_headers.iter().all(|(_, v)| v.is_empty()));
    // After a reload without the tab's memory, the form asks for the values again.
    let again = RoleForm::from_role(Some(c));
    let errors = again.to_settings().unwrap_err();
    assert!(
        field_error(&errors, Field::ExtraHeaders)
            .unwrap()
            .contains("X-Proxy-Token` is empty"),
        "{errors:?}"
    );
    // The tab's memory puts the values back for the same endpoint.
    let merged = with_session_keys(stored, &settings);
    assert_eq!(merged, settings);

    form.remember = true;
    forms.insert(Role::Clinician, form);
    let settings = forms_to_settings(&forms).unwrap();
    let text = stored_text(&settings);
    assert!(text.contains(TOKEN), "remembered: {text}");
    assert_eq!(parse_stored(&text).unwrap(), settings);
}

#[test]
fn unreadable_store_text_is_an_error_in_words() {
    let e = parse_stored("{\"clinician\": 3}").unwrap_err();
    assert!(e.contains("cannot be read"), "{e}");
    assert_eq!(parse_stored("{}"), Ok(Settings::default()));
}

#[test]
fn the_key_note_says_where_keys_live() {
    for needle in ["memory", "local storage", "only to the endpoint", "never"] {
        assert!(KEY_STORAGE_NOTE.contains(needle), "{needle}");
    }
}

#[test]
fn roles_line_and_model_config() {
    let mut forms = BTreeMap::new();
    forms.insert(Role::Clinician, local_form());
    let settings = forms_to_settings(&forms).unwrap();
    assert!(can_model_play(&settings));
    let config = model_config(settings.clinician.as_ref().unwrap());
    assert_eq!(config.turn_limit, Some(12));
    assert!(matches!(&config.clinician, Clinician::Model { model, .. } if model == "SmolLM2"));
    assert_eq!(
        roles_line(&config, "scripted", &settings),
        "Clinician: model SmolLM2 · Patient: scripted · Judge: rules only"
    );
    let mut all = settings.clone();
    all.patient = all.clinician.clone();
    all.judge = all.clinician.clone();
    let line = roles_line(
        &Config::human(),
        "model SmolLM2 at http://127.0.0.1:8080/v1",
        &all,
    );
    assert_eq!(
        line,
        "Clinician: human (you) · Patient: model SmolLM2 at http://127.0.0.1:8080/v1 · Judge: rules + model SmolLM2"
    );
    assert!(!line.contains(KEY));
}

#[test]
fn judge_verdicts_become_a_checked_run() {
    let c = case("acs-inferior-stemi");
    let items: Vec<_> = c.rubric.iter().filter(|i| i.rule.is_none()).collect();
    assert!(!items.is_empty());
    let s = local_form().to_settings().unwrap().unwrap();
    let verdicts: Vec<Verdict> = items
        .iter()
        .map(|i| Verdict {
            id: i.id.clone(),
            met: true,
            evidence: "quote".into(),
        })
        .collect();
    let run = judge_run(&s, &verdicts);
    assert_eq!(run.prompt_version, JUDGE_PROMPT_VERSION);
    assert_eq!(run.model, "OpenAI-compatible / SmolLM2");
    assert_eq!(check_judge(&c, &run), Ok(()));
    let short = judge_run(&s, &verdicts[1..]);
    assert!(check_judge(&c, &short).is_err());
}

#[test]
fn voiced_lines_replace_the_scripted_text_by_seq() {
    let c = case("acs-inferior-stemi");
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    enc.apply(Input::Turn(Turn {
        speak: "What brings you in today?".into(),
        actions: vec![],
        eos: false,
    }))
    .unwrap();
    let rows = transcript_rows(&c, &enc.record().log);
    let patient = rows
        .iter()
        .find(|r| r.speaker == c.patient.name)
        .expect("a patient line");
    let mut voiced = BTreeMap::new();
    voiced.insert(patient.seq, "Voiced by the model.".to_string());
    let out = voiced_rows(rows.clone(), &voiced);
    let row = out.iter().find(|r| r.seq == patient.seq).unwrap();
    assert_eq!(row.text, "Voiced by the model.");
    assert_eq!(
        out.iter()
            .filter(|r| r.text == "Voiced by the model.")
            .count(),
        1
    );
}

#[test]
fn usage_is_summed_over_the_calls() {
    use bedside::app::settings::usage_line;
    use bedside::llm::roles::LlmExchange;
    use bedside::llm::{Chat, Completion, FinishReason, Params, Usage};
    let s = local_form().to_settings().unwrap().unwrap();
    let ex = |done: Option<(u64, u64, u64, bool)>, cached: u64| LlmExchange {
        role: Role::Clinician,
        provider: s.kind,
        base_url: s.base().to_string(),
        model: s.model.clone(),
        chat: Chat {
            system: String::new(),
            messages: vec![],
            params: Params {
                model: s.model.clone(),
                temperature: 0.0,
                max_tokens: 1,
                seed: None,
            },
            schema: None,
        },
        completion: done.map(|(i, o, ms, reported)| Completion {
            text: "x".into(),
            usage: Usage {
                input_tokens: i,
                output_tokens: o,
                cached_input_tokens: cached,
            },
            usage_reported: reported,
            finish: FinishReason::Stop,
            model: None,
            latency_ms: ms,
            attempts: 1,
            structured: None,
        }),
        error: None,
        fallback: None,
        notes: vec![],
        fault: None,
        correction: false,
        step: None,
    };
    assert_eq!(
        usage_line(&[
            ex(Some((1000, 90, 1500, true)), 0),
            ex(Some((200, 6, 700, true)), 0),
            ex(None, 0)
        ]),
        "3 model calls (1 failed) · 1200 tokens in, 96 out · 2.2 s"
    );
    assert_eq!(
        usage_line(&[
            ex(Some((1000, 90, 1500, true)), 0),
            ex(Some((1100, 6, 700, true)), 960)
        ]),
        "2 model calls · 2100 tokens in, 96 out · 2.2 s · 960 tokens in from the provider's cache"
    );
    assert_eq!(
        usage_line(&[ex(Some((0, 0, 100, false)), 0)]),
        "1 model call · 0 tokens in, 0 out · 0.1 s (1 without token counts)"
    );
}
