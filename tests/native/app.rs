//! The app's logic (src/app), natively: the library and its filters, importing case files, the
//! order panel, sessions (apply, save, resume by replay) and the view models the pages show.

use std::sync::Arc;

use bedside::app::history::history_rows;
use bedside::app::inbox::{inbox_view, InboxStatus};
use bedside::app::labels::date_label;
use bedside::app::library::{
    parse_difficulty, specialty_tags, Filter, Library, Origin, BUILTIN_CASES,
};
use bedside::app::orders::{move_highlight, order_for_enter, review, suggestions, OrderReview};
use bedside::app::session::{self, new_id, EndFormDraft, ResumeError, SavedEncounter, Session};
use bedside::app::view::{
    action_log, clock_label, clock_view, latest_notices, transcript_rows, trend_points,
    vitals_view, RowKind,
};
use bedside::engine::action::interpret;
use bedside::engine::case::Difficulty;
use bedside::engine::encounter::{Config, EndReason, Input};

use crate::support::{case_paths, catalog, root};

fn library() -> Library {
    let (lib, errors) = Library::builtin(&catalog());
    assert!(errors.is_empty(), "built-in cases must load: {errors:?}");
    lib
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures").join(path)).expect("fixture")
}

fn start(lib: &Library, id: &str) -> Session {
    let case = lib.get(id).expect("case in library");
    Session::start(case, catalog(), Config::human(), "enc-test".into(), 1_000.0)
}

fn apply(s: &mut Session, input: Option<Input>) {
    s.apply(input.expect("an input"), 2_000.0)
        .unwrap_or_else(|e| panic!("refused: {e}"));
}

// ── library ─────────────────────────────────────────────────────────

#[test]
fn every_case_file_is_built_in_and_loads() {
    let mut files: Vec<String> = case_paths()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut builtin: Vec<String> = BUILTIN_CASES.iter().map(|(f, _)| f.to_string()).collect();
    builtin.sort();
    assert_eq!(
        builtin, files,
        "src/app/library.rs BUILTIN_CASES must list assets/cases/*.json"
    );
    let lib = library();
    assert_eq!(lib.cases().len(), files.len());
    assert!(lib.cases().iter().all(|c| c.origin == Origin::BuiltIn));
}

#[test]
fn cards_show_what_the_library_page_needs() {
    let lib = library();
    let cards = lib.cards(&Filter::default());
    assert_eq!(cards.len(), BUILTIN_CASES.len());
    let acs = cards.iter().find(|c| c.id == "acs-inferior-stemi").unwrap();
    assert_eq!(acs.title, "Crushing chest pain at the depot");
    assert_eq!(acs.specialty, "Cardiology");
    assert_eq!(acs.setting, "Emergency department");
    assert_eq!(acs.difficulty, "Intermediate");
    assert_eq!(acs.minutes, 30);
    assert!(!acs.imported);
    let titles: Vec<&str> = cards.iter().map(|c| c.title.as_str()).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted, "cards are sorted by title");
}

#[test]
fn search_matches_every_word_in_any_case() {
    let lib = library();
    let ids = |q: &str| -> Vec<String> {
        lib.cards(&Filter {
            query: q.into(),
            ..Filter::default()
        })
        .into_iter()
        .map(|c| c.id)
        .collect()
    };
    assert_eq!(ids("CHEST pain"), ["acs-inferior-stemi"]);
    assert_eq!(ids("oncology"), ["breaking-bad-news"]);
    assert_eq!(ids("  "), ids(""), "blank search shows everything");
    assert!(ids("chest oncology").is_empty(), "all words must match");
    assert!(ids("no such thing").is_empty());
}

#[test]
fn specialty_and_difficulty_filters_combine() {
    let lib = library();
    assert_eq!(
        specialty_tags("Toxicology / emergency medicine"),
        ["Toxicology", "Emergency medicine"]
    );
    let specialties = lib.specialties();
    assert!(specialties.contains(&"Emergency medicine".to_string()));
    assert!(specialties.contains(&"Cardiology".to_string()));
    let mut dedup = specialties.clone();
    dedup.dedup();
    assert_eq!(dedup, specialties, "no duplicates");

    let em = lib.cards(&Filter {
        specialty: Some("emergency medicine".into()),
        ..Filter::default()
    });
    assert!(em.len() >= 5, "{em:?}");
    assert!(em
        .iter()
        .all(|c| c.specialty.to_lowercase().contains("emergency medicine")));

    assert_eq!(parse_difficulty("advanced"), Some(Difficulty::Advanced));
    assert_eq!(parse_difficulty(""), None);
    let intro = lib.cards(&Filter {
        difficulty: Some(Difficulty::Introductory),
        ..Filter::default()
    });
    assert_eq!(
        intro.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["anaphylaxis-peanut"]
    );
    let none = lib.cards(&Filter {
        specialty: Some("Cardiology".into()),
        difficulty: Some(Difficulty::Advanced),
        ..Filter::default()
    });
    assert!(none.is_empty());
}

// ── import ──────────────────────────────────────────────────────────

#[test]
fn importing_a_broken_file_reports_every_error_and_adds_nothing() {
    let mut lib = library();
    let n = lib.cases().len();
    let d = lib
        .import(
            "missing-fields.json",
            &fixture("broken/missing-fields.json"),
            &catalog(),
        )
        .unwrap_err();
    assert_eq!(d.source, "missing-fields.json");
    assert_eq!(d.items.len(), 3, "{d}");
    assert!(d.items.iter().any(|i| i.path == "$.door_note"));
    assert!(d.items.iter().all(|i| !i.hint.is_empty()));
    let d = lib
        .import("bad.json", &fixture("broken/bad-json.json"), &catalog())
        .unwrap_err();
    assert_eq!(d.items[0].path, "$");
    assert_eq!(lib.cases().len(), n);
    assert!(lib.stored_imports().is_empty());
}

#[test]
fn a_valid_import_joins_the_library_survives_a_restore_and_can_be_deleted() {
    let mut lib = library();
    let json = fixture("minimal-case.json");
    assert_eq!(
        lib.import("minimal-case.json", &json, &catalog()),
        Ok(false)
    );
    let card = lib
        .cards(&Filter::default())
        .into_iter()
        .find(|c| c.id == "minimal-chest-pain")
        .expect("imported card");
    assert!(card.imported);
    assert_eq!(
        lib.cards(&Filter::default()).last().map(|c| c.id.clone()),
        Some("minimal-chest-pain".into()),
        "imported cases come after the built-ins"
    );
    // Importing it again replaces it.
    assert_eq!(lib.import("again.json", &json, &catalog()), Ok(true));
    let stored = lib.stored_imports();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].file_name, "again.json");

    // What localStorage keeps restores the same library on the next load.
    let text = serde_json::to_string(&stored).unwrap();
    let mut reloaded = library();
    let problems =
        reloaded.restore_imports(&serde_json::from_str::<Vec<_>>(&text).unwrap(), &catalog());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        reloaded.get("minimal-chest-pain").map(|c| c.origin),
        Some(Origin::Imported)
    );

    assert!(
        !reloaded.remove_imported("acs-inferior-stemi"),
        "built-ins stay"
    );
    assert!(reloaded.remove_imported("minimal-chest-pain"));
    assert!(reloaded.get("minimal-chest-pain").is_none());
    assert!(reloaded.stored_imports().is_empty());
}

#[test]
fn an_import_cannot_take_a_built_in_id_and_size_is_bounded() {
    let mut lib = library();
    let json = BUILTIN_CASES
        .iter()
        .find(|(f, _)| *f == "acs-inferior-stemi.json")
        .unwrap()
        .1;
    let d = lib.import("copy.json", json, &catalog()).unwrap_err();
    assert_eq!(d.items[0].path, "$.meta.id");
    assert!(d.items[0].message.contains("built-in"), "{d}");
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let d = lib.import("huge.json", &huge, &catalog()).unwrap_err();
    assert!(d.items[0].message.contains("KB"), "{d}");
}

#[test]
fn a_stored_import_that_no_longer_validates_is_reported_not_loaded() {
    let mut lib = library();
    let stored = vec![bedside::app::library::StoredCase {
        file_name: "old.json".into(),
        json: fixture("broken/unknown-fields.json"),
    }];
    let problems = lib.restore_imports(&stored, &catalog());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].source, "old.json");
    assert_eq!(lib.cases().len(), BUILTIN_CASES.len());
}

// ── orders ──────────────────────────────────────────────────────────

#[test]
fn abbreviations_find_their_orders_first() {
    for (typed, id) in [
        ("cbc", "cbc"),
        ("asa", "aspirin"),
        ("cxr", "cxr_portable"),
        ("trop", "hs_troponin"),
        ("epi 0.5 mg im", "epinephrine_im"),
    ] {
        let s = suggestions(typed, &catalog(), 8);
        assert_eq!(s.first().map(|s| s.id.as_str()), Some(id), "{typed}: {s:?}");
    }
    assert!(suggestions("", &catalog(), 8).is_empty());
    assert!(suggestions("zzqx", &catalog(), 8).is_empty());
    let cbc = &suggestions("cbc", &catalog(), 8)[0];
    assert_eq!(cbc.detail, "takes 1 min · result in 45 min");
    assert_eq!(cbc.category, "Laboratory");
}

#[test]
fn a_picked_suggestion_keeps_the_dose_and_route_typed() {
    let s = suggestions("aspirin 300 mg PO", &catalog(), 8);
    assert_eq!(s[0].order_text, "Aspirin 300 mg PO");
    let i = interpret(&s[0].order_text, &catalog());
    assert_eq!(i.order.as_ref().map(|o| o.id.as_str()), Some("aspirin"));
    assert_eq!(
        i.dose.as_ref().map(|d| (d.amount, d.unit.as_str())),
        Some((300.0, "mg"))
    );
    assert_eq!(i.route.map(|r| r.as_str()), Some("PO"));
    // Every suggestion's order text is understood as that same order.
    for q in ["asa 162mg po", "epi 0.5 mg im", "cbc", "ceftriaxone 2 g iv"] {
        for sug in suggestions(q, &catalog(), 8) {
            let i = interpret(&sug.order_text, &catalog());
            assert_eq!(
                i.order.as_ref().map(|o| o.id.as_str()),
                Some(sug.id.as_str()),
                "{q}: {}",
                sug.order_text
            );
        }
    }
}

#[test]
fn a_picked_suggestion_keeps_a_number_it_cannot_read_so_the_unit_is_asked() {
    // Morphine IV is dosed in mg or mg/kg: a bare "4" is not a dose. Picking the suggestion
    // (Enter) must not drop the 4 and place morphine without a dose.
    let s = suggestions("morphine 4", &catalog(), 8);
    assert_eq!(s[0].id, "morphine");
    assert_eq!(s[0].placed.unread_number, Some(4.0));
    assert_eq!(s[0].order_text, "Morphine 4");
    let i = interpret(&s[0].order_text, &catalog());
    assert_eq!(i.order.as_ref().map(|o| o.id.as_str()), Some("morphine"));
    assert_eq!(i.unread_number, Some(4.0));
    assert_eq!(i.dose, None);
    let lib = library();
    let session = start(&lib, "acs-inferior-stemi");
    assert!(
        matches!(
            review(&s[0].order_text, session.encounter()),
            OrderReview::AskUnit { .. }
        ),
        "the panel asks for the unit"
    );
    // With its unit it is an ordinary dose, placed at once.
    let s = suggestions("morphine 4 mg", &catalog(), 8);
    assert_eq!(s[0].order_text, "Morphine 4 mg");
    assert_eq!(
        review(&s[0].order_text, session.encounter()),
        OrderReview::Place
    );
}

#[test]
fn arrows_wrap_and_enter_places_the_highlight_or_the_text() {
    assert_eq!(move_highlight(None, 0, 1), None);
    assert_eq!(move_highlight(None, 3, 1), Some(0));
    assert_eq!(move_highlight(None, 3, -1), Some(2));
    assert_eq!(move_highlight(Some(2), 3, 1), Some(0));
    assert_eq!(move_highlight(Some(0), 3, -1), Some(2));
    let s = suggestions("asa", &catalog(), 8);
    assert_eq!(
        order_for_enter("asa", &s, Some(0)).as_deref(),
        Some("Aspirin")
    );
    assert_eq!(
        order_for_enter("asa", &s, Some(1)),
        Some(s[1].order_text.clone())
    );
    assert_eq!(
        order_for_enter(" foo bar ", &[], None).as_deref(),
        Some("foo bar")
    );
    assert_eq!(order_for_enter("  ", &s, Some(0)), None);
}

// ── sessions ────────────────────────────────────────────────────────

/// The anaphylaxis case played through the app's input builders.
fn played_anaphylaxis(lib: &Library) -> Session {
    let mut s = start(lib, "anaphylaxis-peanut");
    apply(&mut s, session::speak("What happened today?"));
    apply(&mut s, session::order("Complete blood count"));
    apply(
        &mut s,
        session::order("Epinephrine IM (anaphylaxis) 0.5 mg IM"),
    );
    apply(&mut s, Some(Input::Wait { minutes: 10 }));
    s
}

#[test]
fn the_saved_form_keeps_every_input_and_replays_to_the_same_state() {
    let lib = library();
    let s = played_anaphylaxis(&lib);
    assert_eq!(s.saved().inputs, s.encounter().record().inputs);
    assert_eq!(s.saved().inputs.len(), 4);
    assert_eq!(s.saved().sim_time_s, s.encounter().state().now_s);
    assert_eq!(s.saved().updated_ms, 2_000.0);
    assert_eq!(s.saved().case_json, None, "built-ins are found again by id");
    // Through JSON, as IndexedDB keeps it.
    let json = serde_json::to_string(&s.saved()).unwrap();
    let back: SavedEncounter = serde_json::from_str(&json).unwrap();
    let resumed = Session::resume(back, &lib, catalog()).unwrap();
    assert_eq!(resumed.encounter().record(), s.encounter().record());
}

#[test]
fn refused_inputs_change_nothing_and_empty_ones_are_not_sent() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    assert!(session::speak("   ").is_none());
    assert!(session::order("").is_none());
    assert!(s.apply(Input::Wait { minutes: 0 }, 5.0).is_err());
    assert!(s.saved().inputs.is_empty());
    assert_eq!(s.saved().updated_ms, 1_000.0);
}

#[test]
fn the_end_form_needs_a_diagnosis_and_ends_the_encounter() {
    let draft = EndFormDraft::default();
    assert!(draft.to_input().is_err());
    let draft = EndFormDraft {
        diagnosis: " Anaphylaxis to peanut ".into(),
        differential: "angioedema\n\nacute asthma; septic shock".into(),
        plan: "IM epinephrine, observe".into(),
        disposition: String::new(),
    };
    let Ok(Input::End(form)) = draft.to_input() else {
        panic!("an end input")
    };
    assert_eq!(form.diagnosis, "Anaphylaxis to peanut");
    assert_eq!(
        form.differential,
        ["angioedema", "acute asthma", "septic shock"]
    );
    assert_eq!(form.disposition, None);

    let lib = library();
    let mut s = played_anaphylaxis(&lib);
    apply(&mut s, draft.to_input().ok());
    assert!(s.is_ended());
    assert_eq!(s.saved().ended, Some(EndReason::Clinician));
    assert!(
        s.apply(Input::Wait { minutes: 1 }, 3.0).is_err(),
        "nothing after the end"
    );
}

#[test]
fn an_imported_case_encounter_replays_from_its_own_snapshot() {
    let mut lib = library();
    lib.import(
        "minimal-case.json",
        &fixture("minimal-case.json"),
        &catalog(),
    )
    .unwrap();
    let mut s = start(&lib, "minimal-chest-pain");
    assert!(s.saved().case_json.is_some());
    apply(&mut s, session::speak("Where is the pain?"));
    lib.remove_imported("minimal-chest-pain");
    let resumed = Session::resume(s.saved(), &lib, catalog()).unwrap();
    assert_eq!(resumed.encounter().record(), s.encounter().record());

    let mut missing = s.saved();
    missing.case_json = None;
    assert_eq!(
        Session::resume(missing, &lib, catalog()).unwrap_err(),
        ResumeError::CaseMissing("minimal-chest-pain".into())
    );
}

#[test]
fn a_saved_encounter_whose_inputs_no_longer_replay_says_which() {
    let lib = library();
    let s = start(&lib, "anaphylaxis-peanut");
    let mut saved = s.saved();
    saved.inputs = vec![Input::Wait { minutes: 0 }];
    let e = Session::resume(saved, &lib, catalog()).unwrap_err();
    assert!(matches!(e, ResumeError::Replay { index: 0, .. }), "{e:?}");
    assert!(e.to_string().contains("input 1"), "{e}");
}

// ── view models ─────────────────────────────────────────────────────

#[test]
fn clock_labels() {
    assert_eq!(clock_label(0), "0:00");
    assert_eq!(clock_label(75), "1:15");
    assert_eq!(clock_label(3600 + 5), "60:05");
    let lib = library();
    let s = played_anaphylaxis(&lib);
    let c = clock_view(s.encounter().case(), s.encounter().state());
    assert_eq!(c.elapsed, clock_label(s.encounter().state().now_s));
    assert_eq!(c.limit, "60:00");
    // Neutral: the case's label ("Responding to epinephrine") would give the script away.
    assert_eq!(c.phase_label, "Stage 2");
    assert_eq!(c.turn, 3);
}

#[test]
fn the_transcript_has_speech_and_notices_but_not_orders() {
    let lib = library();
    let s = played_anaphylaxis(&lib);
    let rows = transcript_rows(s.encounter().case(), &s.encounter().record().log);
    assert_eq!(rows[0].kind, RowKind::Patient);
    assert_eq!(rows[0].speaker, "Ravi Menon");
    assert!(rows
        .iter()
        .any(|r| r.kind == RowKind::Actor && r.speaker.contains("Ellie Carter")));
    let you = rows.iter().find(|r| r.kind == RowKind::Clinician).unwrap();
    assert_eq!(
        (you.speaker.as_str(), you.text.as_str()),
        ("You", "What happened today?")
    );
    assert!(rows
        .iter()
        .any(|r| r.kind == RowKind::System && r.text == "You waited 10 minutes."));
    assert!(rows
        .iter()
        .any(|r| r.kind == RowKind::Notice && r.text.starts_with("Responding to epinephrine")));
    assert!(
        !rows.iter().any(|r| r.text.contains("Complete blood count")),
        "orders go to the inbox"
    );
    let seqs: Vec<u32> = rows.iter().map(|r| r.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "unique keys in log order");
}

#[test]
fn notices_of_the_last_input_are_announced() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, session::order("epinephrine 0.5 mg IM"));
    let before = s.encounter().record().log.len();
    apply(&mut s, Some(Input::Wait { minutes: 6 }));
    let notices = latest_notices(s.encounter().case(), &s.encounter().record().log[before..]);
    assert!(
        notices
            .iter()
            .any(|n| n.contains("Five minutes after the epinephrine")),
        "{notices:?}"
    );
}

#[test]
fn a_cancelled_order_leaves_pending_and_shows_as_cancelled() {
    let lib = library();
    let mut s = start(&lib, "acs-inferior-stemi");
    apply(&mut s, session::order("troponin"));
    let v = inbox_view(s.encounter());
    assert_eq!(v.pending.len(), 1);
    let seq = v.pending[0].seq;
    apply(&mut s, Some(session::cancel(seq)));
    let v = inbox_view(s.encounter());
    assert!(
        v.pending.is_empty(),
        "a cancelled lab is no longer pending: {v:?}"
    );
    assert_eq!(v.cancelled.len(), 1);
    let trop = &v.cancelled[0];
    assert_eq!(trop.status, InboxStatus::Cancelled);
    assert_eq!(
        trop.time.as_deref(),
        Some(clock_label(s.encounter().state().now_s).as_str())
    );
    assert_eq!(trop.control, None, "nothing left to cancel");
    apply(&mut s, Some(Input::Wait { minutes: 70 }));
    let v = inbox_view(s.encounter());
    assert!(
        v.returned.is_empty() && v.pending.is_empty(),
        "no result comes back: {v:?}"
    );
    assert_eq!(v.cancelled.len(), 1);
}

#[test]
fn the_inbox_shows_pending_with_expected_time_then_returned_with_time() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, session::order("cbc"));
    apply(&mut s, session::order("epinephrine 0.5 mg IM"));
    apply(&mut s, session::order("flibbertigibbet"));
    let v = inbox_view(s.encounter());
    assert_eq!(v.pending.len(), 1);
    let cbc = &v.pending[0];
    assert_eq!(cbc.name, "Complete blood count");
    assert_eq!(cbc.status, InboxStatus::Pending);
    assert_eq!(cbc.ordered_at, "0:00");
    assert_eq!(cbc.time.as_deref(), Some("45:00"));
    assert!(
        cbc.due_in_min.unwrap() <= 45 && cbc.due_in_min.unwrap() >= 40,
        "{cbc:?}"
    );
    assert_eq!(v.returned.len(), 1, "epinephrine is given at once");
    assert_eq!(v.returned[0].dose_route.as_deref(), Some("0.5 mg IM"));
    assert_eq!(v.unsupported.len(), 1);
    assert_eq!(v.unsupported[0].name, "flibbertigibbet");

    apply(&mut s, Some(Input::Wait { minutes: 45 }));
    let v = inbox_view(s.encounter());
    assert!(v.pending.is_empty());
    assert_eq!(
        v.returned[0].name, "Complete blood count",
        "newest result first"
    );
    assert_eq!(v.returned[0].time.as_deref(), Some("45:00"));
    assert!(v.returned[0]
        .result
        .as_deref()
        .is_some_and(|r| !r.is_empty()));
}

#[test]
fn the_monitor_shows_current_values_and_a_trend_of_each_change() {
    let lib = library();
    let s = played_anaphylaxis(&lib);
    let st = s.encounter().state();
    let v = vitals_view(
        &st.vitals,
        &s.encounter().record().log,
        st.now_s,
        s.encounter().case().patient.age,
    );
    let hr = v.iter().find(|x| x.key == "hr").unwrap();
    assert_eq!(hr.value.as_deref(), Some("112"));
    assert_eq!(hr.series.first().map(|p| p.1), Some(128.0));
    assert_eq!(hr.series.last().map(|p| p.1), Some(112.0));
    assert!(hr.series.last().unwrap().0 > 0);
    let bp = v.iter().find(|x| x.key == "bp").unwrap();
    assert_eq!(bp.value.as_deref(), Some("98/58"));
    let temp = v.iter().find(|x| x.key == "temp").unwrap();
    assert_eq!(temp.value.as_deref(), Some("36.9"));
    assert_eq!(temp.series.len(), 1, "unchanged values add no points");
    // A step line: start, step down at the change, hold to now. HR fell, so y grows.
    let pts: Vec<(f64, f64)> = hr
        .points
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert_eq!(pts.len(), 4, "{}", hr.points);
    assert!(
        pts.windows(2).all(|w| w[0].0 <= w[1].0),
        "x never goes back"
    );
    assert!(pts.last().unwrap().1 > pts[0].1);
    assert!(pts
        .iter()
        .all(|(x, y)| (0.0..=120.0).contains(x) && (0.0..=32.0).contains(y)));
}

#[test]
fn trend_points_edge_cases() {
    assert_eq!(trend_points(&[], 600, 120.0, 32.0), "");
    assert_eq!(
        trend_points(&[(0, 90.0)], 0, 120.0, 32.0),
        "2.0,16.0 118.0,16.0"
    );
    let p = trend_points(&[(0, 80.0), (300, 100.0)], 600, 120.0, 32.0);
    assert_eq!(p, "2.0,30.0 60.0,30.0 60.0,2.0 118.0,2.0");
}

#[test]
fn the_action_log_lists_every_order_as_typed_and_understood() {
    let lib = library();
    let mut s = played_anaphylaxis(&lib);
    apply(&mut s, session::order("flibbertigibbet"));
    let rows = action_log(s.encounter().state());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].typed, "Complete blood count");
    assert_eq!(rows[0].status, "pending");
    assert!(rows[0].understood_as.contains("Laboratory"));
    assert_eq!(rows[1].status, "executed");
    assert_eq!(rows[1].dose_route.as_deref(), Some("0.5 mg IM"));
    assert!(rows[1].result_time.is_some());
    assert_eq!(rows[2].status, "unsupported");
    assert_eq!(rows[2].understood_as, "not understood");
}

#[test]
fn history_rows_newest_first_with_who_and_status() {
    let lib = library();
    let mut a = start(&lib, "anaphylaxis-peanut").saved();
    a.id = "a".into();
    a.started_ms = 1_795_551_290_237.0;
    let mut b = played_anaphylaxis(&lib);
    apply(
        &mut b,
        EndFormDraft {
            diagnosis: "Anaphylaxis".into(),
            ..Default::default()
        }
        .to_input()
        .ok(),
    );
    let mut b = b.saved();
    b.id = "b".into();
    b.started_ms = 1_795_551_390_237.0;
    b.config = Config::model("openai", "gpt-x");
    let rows = history_rows(&[a, b], &lib, &catalog(), date_label);
    assert_eq!(rows[0].id, "b");
    assert_eq!(rows[0].who, "Model: gpt-x (openai)");
    assert!(rows[0].ended);
    assert_eq!(rows[0].status, "Ended: you ended the encounter");
    assert_eq!(rows[1].who, "Human");
    assert_eq!(rows[1].status, "In progress");
    assert_eq!(rows[1].date, "2026-11-24 20:14 UTC");
    assert_eq!(date_label(0.0), "1970-01-01 00:00 UTC");
    assert_eq!(date_label(951_782_400_000.0), "2000-02-29 00:00 UTC");
    assert_eq!(date_label(f64::NAN), "unknown date");
    assert_eq!(new_id(1_000.0, 0.5), "enc-1000-500000");
}

#[test]
fn every_built_in_case_starts_and_renders_its_views() {
    let lib = library();
    for c in lib.cases() {
        let s = Session::start(c, catalog(), Config::human(), "x".into(), 0.0);
        let st = s.encounter().state();
        let rows = transcript_rows(s.encounter().case(), &s.encounter().record().log);
        assert!(!rows.is_empty(), "{}: the opening line", c.id());
        let v = vitals_view(
            &st.vitals,
            &s.encounter().record().log,
            st.now_s,
            s.encounter().case().patient.age,
        );
        assert!(
            v.iter().any(|x| x.key == "hr" && x.value.is_some()),
            "{}",
            c.id()
        );
        let _ = Arc::clone(&c.case);
    }
}

#[test]
fn end_summaries_say_why_without_repeating_themselves() {
    use bedside::app::view::end_summary;
    assert_eq!(
        end_summary(EndReason::Clinician, "the clinician ended the encounter"),
        "you ended the encounter"
    );
    assert_eq!(
        end_summary(
            EndReason::TimeLimit,
            "the case's time limit of 60 minutes was reached"
        ),
        "the case's time limit of 60 minutes was reached"
    );
    assert_eq!(
        end_summary(EndReason::Terminal, "cardiac arrest"),
        "the patient's condition ended it: cardiac arrest"
    );
    assert_eq!(
        end_summary(EndReason::Terminal, ""),
        "the patient's condition ended it"
    );
}

#[test]
fn the_app_logic_stays_free_of_ui_and_browser_code() {
    let dir = root().join("src/app");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("src/app") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        for forbidden in [
            "leptos",
            "web_sys",
            "js_sys",
            "wasm_bindgen",
            "crate::store",
            "crate::ui",
        ] {
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                !code.contains(forbidden),
                "{} uses `{forbidden}`: src/app is plain Rust that native tests cover",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 4);
}
