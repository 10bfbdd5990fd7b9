//! The encounter screen's words and checks as plain functions (`app::inbox`, `app::view`,
//! `app::session`): the inbox lines, the "ended at" sentences, the closing banner, the wait's
//! bounds; and the session's own invariant: the saved form built from the encounter, typed
//! mutators, a saved encounter stored by an earlier version loading and saving unchanged.

use bedside::app::inbox::{inbox_view, InboxStatus};
use bedside::app::library::Library;
use bedside::app::session::{self, SavedEncounter, Session, MAX_WAIT_MIN};
use bedside::app::view::{clock_label, clock_view, closing, ended_banner, ended_outcome};
use bedside::engine::alarms::Level;
use bedside::engine::case::PATIENT;
use bedside::engine::encounter::{Config, EndForm, EndReason, Input};
use bedside::engine::score::{judge_items, JudgeRun, JudgeVerdict};
use bedside::llm::roles::VoicedLine;

use crate::support::{catalog, root};

fn library() -> Library {
    let (lib, errors) = Library::builtin(&catalog());
    assert!(errors.is_empty(), "built-in cases must load: {errors:?}");
    lib
}

fn start(lib: &Library, id: &str) -> Session {
    let case = lib.get(id).expect("case in library");
    Session::start(
        case,
        catalog(),
        Config::human(),
        "enc-screen".into(),
        1_000.0,
    )
}

fn apply(s: &mut Session, input: Option<Input>) {
    s.apply(input.expect("an input"), 2_000.0)
        .unwrap_or_else(|e| panic!("refused: {e}"));
}

fn end_form(diagnosis: &str) -> Input {
    Input::End(EndForm {
        diagnosis: diagnosis.into(),
        differential: vec![],
        plan: String::new(),
        disposition: None,
    })
}

#[test]
fn a_wait_is_a_whole_number_of_minutes_within_the_bounds() {
    assert_eq!(session::wait("5"), Ok(Input::Wait { minutes: 5 }));
    assert_eq!(session::wait(" 1 "), Ok(Input::Wait { minutes: 1 }));
    assert_eq!(
        session::wait(&MAX_WAIT_MIN.to_string()),
        Ok(Input::Wait {
            minutes: MAX_WAIT_MIN
        })
    );
    let refusal = format!("Wait between 1 and {MAX_WAIT_MIN} minutes.");
    for typed in [
        "0",
        "",
        "  ",
        "abc",
        "-3",
        "2.5",
        &(MAX_WAIT_MIN + 1).to_string(),
    ] {
        assert_eq!(session::wait(typed), Err(refusal.clone()), "{typed:?}");
    }
    // Every wait the clock bar offers is one the engine takes at the start of a case.
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    let longest = session::wait(&MAX_WAIT_MIN.to_string()).unwrap();
    assert!(s.apply(longest, 2.0).is_ok());
}

#[test]
fn each_inbox_row_says_where_its_order_stands() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, session::order("cbc"));
    apply(&mut s, session::order("epinephrine 0.5 mg IM"));
    apply(&mut s, session::order("flibbertigibbet"));
    apply(&mut s, session::order("troponin"));
    let troponin = inbox_view(s.encounter())
        .pending
        .iter()
        .find(|r| r.raw == "troponin")
        .expect("troponin pending")
        .seq;
    apply(&mut s, Some(session::cancel(troponin)));
    let v = inbox_view(s.encounter());

    let cbc = &v.pending[0];
    assert_eq!(
        cbc.status_line(),
        format!(
            "expected at {} (in {} min)",
            cbc.time.as_deref().unwrap(),
            cbc.due_in_min.unwrap()
        )
    );
    assert_eq!(cbc.status.key(), "pending");
    let epi = &v.returned[0];
    assert_eq!(
        epi.status_line(),
        format!("back at {}", epi.time.as_deref().unwrap())
    );
    assert_eq!(epi.status.key(), "returned");
    assert_eq!(
        v.unsupported[0].status_line(),
        "not understood or not available: rephrase it"
    );
    assert_eq!(v.unsupported[0].status.key(), "unsupported");
    let cancelled = &v.cancelled[0];
    assert_eq!(cancelled.status, InboxStatus::Cancelled);
    assert_eq!(
        cancelled.status_line(),
        format!("cancelled at {}", clock_label(s.encounter().state().now_s))
    );
    assert_eq!(cancelled.status.key(), "cancelled");

    // A pending row without an expected time says only that it is pending.
    let mut unknown = cbc.clone();
    unknown.time = None;
    assert_eq!(unknown.status_line(), "pending");
}

#[test]
fn an_inbox_row_is_flagged_by_the_vitals_its_result_quotes() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, session::order("vital signs"));
    apply(&mut s, session::order("cbc"));
    let v = inbox_view(s.encounter());
    let vitals = v
        .returned
        .iter()
        .find(|r| r.flag != Level::Normal)
        .expect("the shocked patient's vital signs are flagged");
    assert_eq!(
        vitals.flag_line(),
        Some(format!("Abnormal: {}", vitals.flag.label()))
    );
    let cbc = &v.pending[0];
    assert_eq!(cbc.flag, Level::Normal);
    assert_eq!(cbc.flag_line(), None, "no result, no flag");
}

#[test]
fn the_end_is_worded_once_for_the_banner_and_the_debrief() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, Some(Input::Wait { minutes: 7 }));
    apply(&mut s, Some(end_form("Anaphylaxis")));
    let ended = s.encounter().state().ended.clone().expect("ended");
    assert_eq!(ended.reason, EndReason::Clinician);
    let at = clock_label(ended.time_s);
    assert_eq!(
        ended_banner(&ended),
        format!("The encounter has ended at {at}: you ended the encounter.")
    );
    assert_eq!(
        ended_outcome(&ended),
        format!("Ended at {at}: you ended the encounter.")
    );
}

#[test]
fn a_disposition_closes_the_encounter_and_the_end_form_opens_with_it() {
    let lib = library();
    let mut s = start(&lib, "acs-inferior-stemi");
    assert_eq!(closing(s.encounter()), None);
    apply(&mut s, session::order("transfer to cath lab"));
    let c = closing(s.encounter()).expect("the end form is due");
    assert_eq!(c.disposition, "Transfer to cath lab");
    let detail = &s.encounter().end_requested().unwrap().detail;
    assert_eq!(
        c.why,
        format!("The encounter is closing ({detail}): give your diagnosis and plan.")
    );

    // The last stage finished closes it too, with no disposition to prefill.
    let mut s = start(&lib, "anaphylaxis-peanut");
    while s.encounter().end_requested().is_none() {
        apply(&mut s, Some(session::stage_done()));
    }
    assert_eq!(closing(s.encounter()).unwrap().disposition, "");
}

#[test]
fn the_clock_bar_says_the_limit_and_what_is_left() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, Some(Input::Wait { minutes: 15 }));
    let c = clock_view(s.encounter().case(), s.encounter().state());
    let limit_min = s.encounter().case().end.time_limit_min;
    assert_eq!(
        c.limit_line(),
        format!(
            "of {} · {} min left",
            clock_label(limit_min * 60),
            limit_min - 15
        )
    );
}

fn judge_run(items: &[String]) -> JudgeRun {
    JudgeRun {
        model: "openai-compatible / judge-x".into(),
        prompt_version: "1".into(),
        verdicts: items
            .iter()
            .map(|id| JudgeVerdict {
                item: id.clone(),
                met: true,
                evidence: String::new(),
            })
            .collect(),
    }
}

#[test]
fn the_session_changes_only_through_its_mutators_and_saves_what_it_holds() {
    let lib = library();
    let mut s = start(&lib, "anaphylaxis-peanut");
    apply(&mut s, session::speak("What happened today?"));
    let answer = s.encounter().record().log.last().unwrap().seq;

    // Voiced lines: none voiced leaves the scripted voice; some replace it.
    s.voice(&[], "a model".into());
    assert_eq!(s.patient_voice(), "scripted");
    let line = VoicedLine {
        seq: answer,
        speaker: PATIENT.into(),
        text: "I ate a cookie.".into(),
    };
    s.voice(
        std::slice::from_ref(&line),
        "openai-compatible / smollm2".into(),
    );
    assert_eq!(s.patient_voice(), "openai-compatible / smollm2");
    assert_eq!(
        s.voiced().get(&answer).map(String::as_str),
        Some("I ate a cookie.")
    );

    // A judge run missing an item is refused as a whole; a complete one is kept.
    let judge_items: Vec<String> = judge_items(s.encounter().case())
        .map(|i| i.id.clone())
        .collect();
    assert!(judge_items.len() > 1, "the case has judge items");
    let partial = judge_run(&judge_items[1..]);
    assert!(s.record_judge(partial).is_err());
    assert!(s.judge().is_none(), "nothing kept from a refused run");
    let full = judge_run(&judge_items);
    s.record_judge(full.clone()).expect("a complete run");
    assert_eq!(s.judge(), Some(&full));

    // Results seen: only new ones count.
    assert!(s.mark_seen([7, 9]));
    assert!(!s.mark_seen([9]));
    assert!(s.add_override(
        judge_items[0].as_str(),
        Some(false),
        "Dr Lee",
        " note ",
        "t"
    ));

    // The saved form is the session as it stands: inputs, time and end from the encounter.
    let saved = s.saved();
    assert_eq!(saved.inputs, s.encounter().record().inputs);
    assert_eq!(saved.sim_time_s, s.encounter().state().now_s);
    assert_eq!(saved.ended, None);
    assert_eq!(saved.config, Config::human());
    assert_eq!(saved.case_id, "anaphylaxis-peanut");
    assert_eq!(saved.voiced, *s.voiced());
    assert_eq!(saved.judge.as_ref(), Some(&full));
    assert_eq!(saved.seen_results, [7, 9].into());
    assert_eq!(saved.overrides[0].note, "note");
    let back = Session::resume(saved.clone(), &lib, catalog()).unwrap();
    assert_eq!(back.saved(), saved, "reopened, it saves the same");
}

/// Written by the app before the session kept its inputs once (`SavedEncounter` with every
/// field set, pretty-printed): it must load, replay, and save to the same text.
const STORED_BEFORE: &str = "tests/fixtures/saved-encounter.json";

#[test]
fn an_encounter_saved_by_an_earlier_version_loads_and_saves_unchanged() {
    let text = std::fs::read_to_string(root().join(STORED_BEFORE)).expect("fixture");
    let stored: SavedEncounter = serde_json::from_str(&text).expect("the stored format reads");
    assert!(!stored.inputs.is_empty() && !stored.voiced.is_empty());
    assert!(stored.judge.is_some() && !stored.overrides.is_empty());
    let s = Session::resume(stored.clone(), &library(), catalog()).expect("it replays");
    assert_eq!(s.encounter().record().inputs, stored.inputs);
    assert_eq!(s.saved(), stored);
    assert_eq!(
        serde_json::to_string_pretty(&s.saved()).unwrap(),
        text.trim_end(),
        "the stored text is written the same way"
    );
}
