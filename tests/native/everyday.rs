//! Everyday flows, natively: resume-or-new, the history's two lists and selection, neutral
//! stage names and no repeated stage text in the live conversation, the monitor limited to
//! what the setting has, results marked new and flagged on the monitor's alarm table, and
//! settings status messages that follow the fields.

use std::collections::BTreeSet;

use bedside::app::history::{
    history_sections, open_encounter_for, open_encounter_summary, selected_ids, HistoryRow,
};
use bedside::app::inbox::{inbox_view, result_level, unseen_results};
use bedside::app::labels::date_label;
use bedside::app::library::Library;
use bedside::app::session::{self, Session};
use bedside::app::settings::StatusFor;
use bedside::app::view::{
    clock_label, clock_view, encounter_rows, latest_notices, monitored, transcript_rows,
    vitals_view, RowKind,
};
use bedside::engine::alarms::Level;
use bedside::engine::case::{Arrival, MonitorSign};
use bedside::engine::encounter::{Config, EndForm, Input};

use crate::support::catalog;

fn library() -> Library {
    let (lib, errors) = Library::builtin(&catalog());
    assert!(errors.is_empty(), "{errors:?}");
    lib
}

fn start(lib: &Library, id: &str, enc: &str, config: Config, at: f64) -> Session {
    Session::start(lib.get(id).unwrap(), catalog(), config, enc.into(), at)
}

fn apply(s: &mut Session, input: Option<Input>, at: f64) {
    s.apply(input.expect("an input"), at)
        .unwrap_or_else(|e| panic!("refused: {e}"));
}

fn end(s: &mut Session) {
    apply(
        s,
        Some(Input::End(EndForm {
            diagnosis: "Anaphylaxis".into(),
            differential: vec![],
            plan: String::new(),
            disposition: None,
        })),
        9_000.0,
    );
}

// ── resume or new, history ──────────────────────────────────────────

#[test]
fn starting_a_case_offers_its_latest_unfinished_encounter_of_a_trainee() {
    let lib = library();
    let mut old = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-old",
        Config::human(),
        1_000.0,
    );
    apply(&mut old, session::speak("What happened?"), 1_500.0);
    let mut newer = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-newer",
        Config::human(),
        2_000.0,
    );
    apply(&mut newer, session::speak("Hello"), 3_000.0);
    apply(&mut newer, Some(Input::Wait { minutes: 5 }), 3_100.0);
    let mut finished = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-done",
        Config::human(),
        4_000.0,
    );
    end(&mut finished);
    let model = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-model",
        Config::model("OpenAI-compatible", "m"),
        5_000.0,
    );
    let other = start(&lib, "dka-young-adult", "enc-dka", Config::human(), 6_000.0);
    let saved: Vec<_> = [&old, &newer, &finished, &model, &other]
        .iter()
        .map(|s| s.saved())
        .collect();

    let open = open_encounter_for(&saved, "anaphylaxis-peanut").expect("an open encounter");
    assert_eq!(open.id, "enc-newer", "the one last touched");
    let summary = open_encounter_summary(open, "today 10:00");
    // Talking takes a few seconds of simulated time, the wait five minutes.
    assert!((300..360).contains(&open.sim_time_s), "{}", open.sim_time_s);
    assert_eq!(
        summary,
        format!(
            "started today 10:00, at {} of simulated time, 2 inputs",
            clock_label(open.sim_time_s)
        )
    );
    assert!(open_encounter_for(&saved, "breaking-bad-news").is_none());
    // A finished or a model's encounter is never offered.
    assert!(open_encounter_for(&saved[2..4], "anaphylaxis-peanut").is_none());
}

#[test]
fn history_lists_in_progress_apart_from_finished_and_selection_follows_the_rows() {
    let lib = library();
    let mut a = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-a",
        Config::human(),
        1_000.0,
    );
    end(&mut a);
    let b = start(
        &lib,
        "anaphylaxis-peanut",
        "enc-b",
        Config::human(),
        2_000.0,
    );
    let c = start(&lib, "dka-young-adult", "enc-c", Config::human(), 3_000.0);
    let saved = vec![a.saved(), b.saved(), c.saved()];
    let sections = history_sections(&saved, &lib, &catalog(), date_label);
    let ids = |rows: &[HistoryRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&sections.in_progress),
        ["enc-c", "enc-b"],
        "newest first"
    );
    assert_eq!(ids(&sections.finished), ["enc-a"]);
    assert!(sections
        .in_progress
        .iter()
        .all(|r| !r.ended && r.status == "In progress"));
    assert!(
        sections.in_progress.iter().all(|r| r.scores.is_none()),
        "no score before the end"
    );

    let chosen: BTreeSet<String> = ["enc-a", "enc-c", "enc-gone"].map(String::from).into();
    assert_eq!(selected_ids(&chosen, &sections), ["enc-c", "enc-a"]);
}

// ── stages ──────────────────────────────────────────────────────────

#[test]
fn the_trainee_sees_neutral_stage_names_and_the_debrief_keeps_the_authored_ones() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut", "enc", Config::human(), 1_000.0);
    assert_eq!(
        clock_view(s.encounter().case(), s.encounter().state()).phase_label,
        "Stage 1"
    );
    apply(
        &mut s,
        session::order("Epinephrine IM (anaphylaxis) 0.5 mg IM"),
        1_100.0,
    );
    let before = s.encounter().record().log.len();
    apply(&mut s, Some(Input::Wait { minutes: 10 }), 1_200.0);
    assert_eq!(s.encounter().state().phase, "responding");
    let case = s.encounter().case().clone();
    let log = &s.encounter().record().log;
    assert_eq!(
        clock_view(&case, s.encounter().state()).phase_label,
        "Stage 2"
    );

    let responding = case.phases.iter().find(|p| p.id == "responding").unwrap();
    let live = encounter_rows(&case, log);
    for p in &case.phases {
        assert!(
            !live
                .iter()
                .any(|r| r.text.contains(&p.label) || r.speaker.contains(&p.label)),
            "the phase label {:?} must not show during the encounter",
            p.label
        );
    }
    let change = live
        .iter()
        .find(|r| r.speaker == "Stage 2")
        .expect("the change of stage is in the conversation");
    assert_eq!(change.text, responding.status);
    assert_eq!(change.kind, RowKind::Notice);
    let banner = latest_notices(&case, &log[before..]);
    assert!(
        banner.iter().all(|n| !n.contains(&responding.label)),
        "{banner:?}"
    );
    assert!(banner.contains(&responding.status), "{banner:?}");

    // The debrief's transcript names the stage as authored.
    assert!(transcript_rows(&case, log)
        .iter()
        .any(|r| r.text.starts_with(&responding.label)));
}

#[test]
fn pressing_done_with_this_stage_again_does_not_repeat_the_stage_text() {
    let lib = library();
    let mut s = start(&lib, "breaking-bad-news", "enc", Config::human(), 1_000.0);
    apply(
        &mut s,
        session::speak("Hello, I'm one of the doctors."),
        1_100.0,
    );
    // Through every stage to the last, then four more presses on the last one.
    let mut guard = 0;
    while s.encounter().end_requested().is_none() {
        apply(&mut s, Some(session::stage_done()), 1_200.0);
        guard += 1;
        assert!(guard < 10, "the stages must end");
    }
    let stages_entered = s.encounter().state().phases_visited.len();
    for _ in 0..4 {
        // The engine may refuse once the end form is due; either way nothing repeats.
        let _ = s.apply(session::stage_done(), 1_300.0);
    }
    let case = s.encounter().case().clone();
    let rows = encounter_rows(&case, &s.encounter().record().log);
    let count = |text: &str| rows.iter().filter(|r| r.text == text).count();
    for p in case
        .phases
        .iter()
        .filter(|p| {
            s.encounter()
                .state()
                .phases_visited
                .iter()
                .any(|v| v.phase == p.id)
        })
        .skip(1)
    {
        assert_eq!(
            count(&p.status),
            1,
            "stage text {:?} once: {rows:#?}",
            p.status
        );
    }
    let closing = rows
        .iter()
        .filter(|r| r.kind == RowKind::System && r.text.contains("end form is due"))
        .count();
    assert_eq!(closing, 1, "{rows:#?}");
    let done = count("You marked this stage as done.");
    assert_eq!(
        done, stages_entered,
        "one per stage finished, none for the repeats: {rows:#?}"
    );
}

// ── monitor ─────────────────────────────────────────────────────────

#[test]
fn the_monitor_shows_what_the_setting_has() {
    let lib = library();
    let keys = |id: &str| {
        let s = start(&lib, id, "enc", Config::human(), 0.0);
        let st = s.encounter().state();
        let case = s.encounter().case();
        monitored(
            vitals_view(
                &st.vitals,
                &s.encounter().record().log,
                st.now_s,
                case.patient.age,
            ),
            &case.arrival,
        )
        .into_iter()
        .map(|v| v.key)
        .collect::<Vec<_>>()
    };
    // An outpatient clinic: the observations a nurse took, no GCS or pain monitor.
    assert_eq!(
        keys("breaking-bad-news"),
        ["hr", "bp", "rr", "spo2", "temp"]
    );
    // A resuscitation bay: everything the case gives.
    assert_eq!(
        keys("acs-inferior-stemi"),
        ["hr", "bp", "rr", "spo2", "temp", "gcs", "pain"]
    );

    let arrival = Arrival::default();
    assert!(
        MonitorSign::ALL.iter().all(|&m| arrival.monitors(m)),
        "absent: all"
    );
    let json = r#"{"monitor": ["hr", "spo2"]}"#;
    let arrival: Arrival = serde_json::from_str(json).unwrap();
    assert!(arrival.monitors(MonitorSign::Spo2) && !arrival.monitors(MonitorSign::Bp));
    assert!(serde_json::from_str::<Arrival>(r#"{"monitor": ["ecg"]}"#).is_err());
}

// ── results ─────────────────────────────────────────────────────────

#[test]
fn results_quoting_vital_signs_are_flagged_on_the_monitors_table() {
    // NEWS2: systolic ≤ 90 mmHg and SpO2 ≤ 91% score 3 (critical); a normal set is not flagged.
    assert!(result_level("HR 128/min, BP 82/46 mmHg, SpO2 91%", 27).is_critical());
    assert_eq!(
        result_level("HR 76/min, BP 124/78 mmHg, RR 14/min, SpO2 98%", 40),
        Level::Normal
    );
    assert_eq!(
        result_level("Haemoglobin 142 g/L.", 40),
        Level::Normal,
        "not a vital sign"
    );
    assert_eq!(
        result_level("BP {sbp}/{dbp} mmHg", 40),
        Level::Normal,
        "unfilled placeholder"
    );

    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut", "enc", Config::human(), 0.0);
    apply(&mut s, session::order("vital signs"), 10.0);
    apply(&mut s, session::order("Complete blood count"), 20.0);
    let inbox = inbox_view(s.encounter());
    let vitals = inbox
        .returned
        .iter()
        .find(|r| r.name.to_lowercase().contains("vital"))
        .expect("the vital signs are back at once");
    assert!(vitals.result.as_deref().unwrap().contains("82/46"));
    assert!(vitals.flag.is_critical(), "{:?}", vitals.flag);
    // The flag agrees with the monitor's worst tile at that moment.
    let st = s.encounter().state();
    let worst = vitals_view(&st.vitals, &s.encounter().record().log, st.now_s, 27)
        .iter()
        .map(|v| v.level)
        .max_by_key(|l| l.severity())
        .unwrap();
    assert_eq!(vitals.flag.severity(), worst.severity());

    // New until seen.
    let mut seen = BTreeSet::new();
    assert_eq!(unseen_results(&inbox, &seen), [vitals.seq]);
    seen.insert(vitals.seq);
    assert!(unseen_results(&inbox, &seen).is_empty());
}

// ── settings ────────────────────────────────────────────────────────

#[test]
fn a_status_message_shows_only_for_the_fields_it_was_made_for() {
    let status = StatusFor {
        text: "Settings saved.".to_string(),
        details: String::new(),
        ok: true,
        made_for: (
            "http://127.0.0.1:8080/v1".to_string(),
            "SmolLM2".to_string(),
        ),
    };
    let same = (
        "http://127.0.0.1:8080/v1".to_string(),
        "SmolLM2".to_string(),
    );
    let changed = ("not a url".to_string(), "SmolLM2".to_string());
    assert_eq!(
        status.current(&same).map(|s| s.text.as_str()),
        Some("Settings saved.")
    );
    assert!(status.current(&changed).is_none());
}
