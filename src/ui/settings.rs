//! `/settings`: per role (patient, clinician, judge) off/built-in or a provider from the
//! presets, with endpoint, model, key, sampling settings and extra headers; errors shown per
//! field; "Test connection" per role; "remember key" with where keys are kept. The logic is in
//! `crate::app::settings`; saving goes through `crate::store::settings`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::settings::{
    field_error, forms_to_settings, FieldError, RoleForm, StatusFor, KEY_STORAGE_NOTE,
};
use crate::llm::settings::{Field, Preset, Role};
use crate::llm::transport::Cancel;
use crate::store;

use super::context::{client_for, models};

fn off_label(role: Role) -> &'static str {
    match role {
        Role::Patient => "Off: the scripted patient (built in)",
        Role::Clinician => "Off: no clinician model",
        Role::Judge => "Off: rule scoring only",
    }
}

fn role_title(role: Role) -> &'static str {
    match role {
        Role::Patient => "Patient voice",
        Role::Clinician => "Clinician model",
        Role::Judge => "Judge model",
    }
}

fn role_help(role: Role) -> &'static str {
    match role {
        Role::Patient => "A model voices the patient and anyone with them. The engine still decides which facts each question elicits.",
        Role::Clinician => "A model can play a case as the clinician (\"Let the model play\" on the case cards), turn by turn, while you watch.",
        Role::Judge => "A model scores the rubric items that have no rule, on demand from the debrief. Offline they stay \"not scored\".",
    }
}

/// The outcome of "Test connection".
#[derive(Clone, Debug, PartialEq)]
enum TestState {
    Idle,
    /// Testing the form as it was when the button was pressed.
    Testing(RoleForm),
    Done(StatusFor<RoleForm>),
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let m = models();
    let current = m.settings.get_untracked();
    let forms: BTreeMap<Role, RwSignal<RoleForm>> = Role::ALL
        .into_iter()
        .map(|r| (r, RwSignal::new(RoleForm::from_role(current.role(r)))))
        .collect();
    let errors: BTreeMap<Role, RwSignal<Vec<FieldError>>> = Role::ALL
        .into_iter()
        .map(|r| (r, RwSignal::new(Vec::new())))
        .collect();
    // The save status, for the forms as they were saved.
    let status = RwSignal::new(None::<StatusFor<BTreeMap<Role, RoleForm>>>);
    let (forms_s, errors_s) = (forms.clone(), errors.clone());
    let save = move || {
        let values: BTreeMap<Role, RoleForm> = forms_s
            .iter()
            .map(|(r, f)| (*r, f.get_untracked()))
            .collect();
        match forms_to_settings(&values) {
            Ok(settings) => {
                for e in errors_s.values() {
                    e.set(Vec::new());
                }
                let result = store::settings::save(&settings);
                m.settings.set(settings);
                status.set(Some(StatusFor {
                    ok: result.is_ok(),
                    text: match result {
                        Ok(()) => "Settings saved.".into(),
                        Err(e) => format!("In use for this tab but not saved: {e}"),
                    },
                    details: String::new(),
                    made_for: values,
                }));
            }
            Err(by_role) => {
                for (r, e) in &errors_s {
                    e.set(by_role.get(r).cloned().unwrap_or_default());
                }
                let roles: Vec<&str> = by_role.keys().map(|r| r.label()).collect();
                status.set(Some(StatusFor {
                    ok: false,
                    text: format!(
                        "Not saved: fix the fields marked in the {} settings.",
                        roles.join(", ")
                    ),
                    details: String::new(),
                    made_for: values,
                }));
            }
        }
    };
    // Shown only while every field still holds what was saved (or refused).
    let forms_now = forms.clone();
    let current_status = Memo::new(move |_| {
        let now: BTreeMap<Role, RoleForm> = forms_now.iter().map(|(r, f)| (*r, f.get())).collect();
        status.with(|s| s.as_ref().and_then(|s| s.current(&now)).cloned())
    });
    view! {
        <section class="page settings" aria-labelledby="page-title">
            <h1 id="page-title">"Settings"</h1>
            <p class="lead">
                "By default Bedside works offline: a scripted patient, no clinician model, and rule-based scoring. "
                "Choose a provider for a role to use a model instead."
            </p>
            {move || m.load_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="key-note" id="key-note">{KEY_STORAGE_NOTE}</p>
            <form
                class="settings-form"
                novalidate=true
                on:submit=move |ev| {
                    ev.prevent_default();
                    save();
                }
            >
                {Role::ALL
                    .into_iter()
                    .map(|role| {
                        view! { <RoleSettings role=role form=forms[&role] errors=errors[&role] /> }
                    })
                    .collect_view()}
                <div class="form-actions">
                    <button type="submit" class="button primary" id="settings-save">
                        "Save settings"
                    </button>
                    <p
                        class=move || {
                            let ok = current_status.get().map(|s| s.ok);
                            match ok {
                                Some(false) => "settings-status error",
                                _ => "settings-status muted",
                            }
                        }
                        role="status"
                        id="settings-status"
                    >
                        {move || current_status.get().map(|s| s.text).unwrap_or_default()}
                    </p>
                </div>
            </form>
            <YourName />
        </section>
    }
}

/// The trainee's chosen name: the player their encounters are in Compare, carried in the
/// encounter exports they download.
#[component]
fn YourName() -> impl IntoView {
    use crate::app::compare::{player_name, NAME_MAX};
    let value = RwSignal::new(store::trainee::load().unwrap_or_default());
    let status = RwSignal::new(None::<(bool, String)>);
    let save = move || {
        let outcome = match player_name(&value.get_untracked()) {
            Ok(name) => match store::trainee::save(name.as_deref()) {
                Ok(()) => (
                    true,
                    match name {
                        Some(n) => format!("Saved: your encounters are “{n}”."),
                        None => "No name: your encounters are “You”.".to_string(),
                    },
                ),
                Err(e) => (false, e.to_string()),
            },
            Err(e) => (false, format!("Give {e}.")),
        };
        status.set(Some(outcome));
    };
    view! {
        <section class="your-name" aria-labelledby="your-name-title">
            <h2 id="your-name-title">"Your name"</h2>
            <p class="muted">
                "Optional. It names you in Compare and travels in the encounter exports you download, so an educator can compare a cohort. Kept in this browser only."
            </p>
            <div class="field">
                <label for="trainee-name">"Name"</label>
                <input
                    id="trainee-name"
                    type="text"
                    autocomplete="name"
                    maxlength=NAME_MAX.to_string()
                    prop:value=move || value.get()
                    on:input=move |ev| {
                        value.set(event_target_value(&ev));
                        status.set(None);
                    }
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            save();
                        }
                    }
                />
            </div>
            <button type="button" class="button" id="trainee-name-save" on:click=move |_| save()>
                "Save name"
            </button>
            <p
                role="status"
                id="trainee-name-status"
                class=move || match status.get() {
                    Some((false, _)) => "error",
                    _ => "muted",
                }
            >
                {move || status.get().map(|(_, t)| t)}
            </p>
        </section>
    }
}

#[component]
fn RoleSettings(
    role: Role,
    form: RwSignal<RoleForm>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let r = role.label();
    let test = RwSignal::new(TestState::Idle);
    let select_value = move || {
        form.with(|f| match f.preset {
            None => "off".to_string(),
            Some(p) => Preset::ALL
                .iter()
                .position(|x| *x == p)
                .map(|i| i.to_string())
                .unwrap_or_else(|| "off".into()),
        })
    };
    let on_select = move |ev| {
        let v = event_target_value(&ev);
        let preset = v
            .parse::<usize>()
            .ok()
            .and_then(|i| Preset::ALL.get(i).copied());
        form.update(|f| *f = f.with_preset(preset));
        errors.set(Vec::new());
        test.set(TestState::Idle);
    };
    let run_test = move |_| {
        let made_for = form.get_untracked();
        let done = |ok: bool, text: String, details: String, made_for: RoleForm| {
            TestState::Done(StatusFor {
                text,
                details,
                ok,
                made_for,
            })
        };
        match made_for.to_settings() {
            Err(e) => {
                errors.set(e);
                test.set(done(
                    false,
                    "Fix the fields marked above first.".into(),
                    String::new(),
                    made_for,
                ));
            }
            Ok(None) => test.set(done(
                true,
                "Off: nothing to test, the built-in role is used.".into(),
                String::new(),
                made_for,
            )),
            Ok(Some(s)) => {
                errors.set(Vec::new());
                test.set(TestState::Testing(made_for.clone()));
                spawn_local(async move {
                    let client = client_for(s);
                    let report = client.test_connection(&Cancel::new()).await;
                    test.try_set(done(report.ok, report.short(), report.details(), made_for));
                });
            }
        }
    };
    // What "Test connection" found, only while the fields are still the ones tested.
    let shown = move || {
        let now = form.get();
        match test.get() {
            TestState::Testing(f) if f == now => Some(None),
            TestState::Done(s) if s.made_for == now => Some(Some(s)),
            _ => None,
        }
    };
    let enabled = move || form.with(|f| f.preset.is_some());
    let hint = move || form.with(|f| f.preset.map(|p| p.hint()).unwrap_or(""));
    view! {
        <fieldset class="panel role-settings" id=format!("{r}-settings")>
            <legend>{role_title(role)}</legend>
            <p class="muted">{role_help(role)}</p>
            <label class="field">
                <span>"Provider"</span>
                <select id=format!("{r}-provider") prop:value=select_value on:change=on_select>
                    <option value="off">{off_label(role)}</option>
                    {Preset::ALL
                        .into_iter()
                        .enumerate()
                        .map(|(i, p)| view! { <option value=i.to_string()>{p.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <Show when=enabled>
                <p class="muted small">{hint}</p>
                {text_field(role, form, errors, Field::BaseUrl, "Base URL", "url", |f| f.base_url.clone(), |f, v| f.base_url = v)}
                {text_field(role, form, errors, Field::Model, "Model", "text", |f| f.model.clone(), |f, v| f.model = v)}
                {text_field(role, form, errors, Field::Key, "API key", "password", |f| f.key.clone(), |f, v| f.key = v)}
                <label class="checkbox">
                    <input
                        type="checkbox"
                        id=format!("{r}-remember")
                        prop:checked=move || form.with(|f| f.remember)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            form.update(|f| f.remember = on);
                        }
                    />
                    <span>
                        "Remember this key in this browser (otherwise it is kept in memory for this tab only)"
                    </span>
                </label>
                <div class="field-row">
                    {text_field(role, form, errors, Field::Temperature, "Temperature", "text", |f| f.temperature.clone(), |f, v| f.temperature = v)}
                    {text_field(role, form, errors, Field::MaxTokens, "Max tokens", "text", |f| f.max_tokens.clone(), |f, v| f.max_tokens = v)}
                    {text_field(role, form, errors, Field::Seed, "Seed (optional)", "text", |f| f.seed.clone(), |f, v| f.seed = v)}
                    {text_field(role, form, errors, Field::TimeoutS, "Timeout (s)", "text", |f| f.timeout_s.clone(), |f, v| f.timeout_s = v)}
                </div>
                <label class="field">
                    <span>"Extra headers (one \"Name: value\" per line)"</span>
                    <textarea
                        id=format!("{r}-extra_headers")
                        rows="2"
                        prop:value=move || form.with(|f| f.extra_headers.clone())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            form.update(|f| f.extra_headers = v);
                        }
                    ></textarea>
                    {move || {
                        errors
                            .with(|e| field_error(e, Field::ExtraHeaders))
                            .map(|m| {
                                view! {
                                    <span class="field-error" id=format!("{r}-extra_headers-error")>{m}</span>
                                }
                            })
                    }}
                </label>
                <div class="test-row">
                    <button
                        type="button"
                        class="button"
                        id=format!("{r}-test")
                        disabled=move || matches!(shown(), Some(None))
                        on:click=run_test
                    >
                        {move || {
                            if matches!(shown(), Some(None)) { "Testing…" } else { "Test connection" }
                        }}
                    </button>
                    <div class="test-report">
                        <p
                            class=move || match shown() {
                                Some(Some(s)) if s.ok => "test-result ok",
                                Some(Some(_)) => "test-result error",
                                _ => "test-result",
                            }
                            id=format!("{r}-test-result")
                            data-ok=move || match shown() {
                                Some(Some(s)) => s.ok.to_string(),
                                _ => String::new(),
                            }
                            role="status"
                        >
                            {move || match shown() {
                                None => String::new(),
                                Some(None) => "Contacting the endpoint…".into(),
                                Some(Some(s)) => s.text,
                            }}
                        </p>
                        {move || {
                            shown()
                                .flatten()
                                .filter(|s| !s.details.is_empty())
                                .map(|s| {
                                    view! {
                                        <details class="error-details" id=format!("{r}-test-details")>
                                            <summary>"Details"</summary>
                                            <p class="details-text">{s.details}</p>
                                        </details>
                                    }
                                })
                        }}
                    </div>
                </div>
            </Show>
        </fieldset>
    }
}

#[allow(clippy::too_many_arguments)]
fn text_field(
    role: Role,
    form: RwSignal<RoleForm>,
    errors: RwSignal<Vec<FieldError>>,
    field: Field,
    label: &'static str,
    kind: &'static str,
    get: fn(&RoleForm) -> String,
    set: fn(&mut RoleForm, String),
) -> impl IntoView {
    let id = format!("{}-{}", role.label(), field.name());
    let error_id = format!("{id}-error");
    let error = move || errors.with(|e| field_error(e, field));
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                id=id
                type=kind
                autocomplete="off"
                spellcheck="false"
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || form.with(get)
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| set(f, v));
                }
            />
            {move || error().map(|m| view! { <span class="field-error" id=error_id.clone()>{m}</span> })}
        </label>
    }
}
