//! The world agrees with itself: a result shown to the clinician never contradicts the monitor,
//! the notices or the stage at the moment it is shown. Results may depend on the state when they
//! come back (`when` on a variant) and may quote the monitor (`{hr}`, `{sbp}`...).

use std::sync::Arc;

use bedside::engine::case::{Case, ResultOverride, Vitals};
use bedside::engine::encounter::{Config, Encounter, EntryKind, Input, Turn};
use bedside::engine::eval::evaluate;
use bedside::engine::load::load_case;
use serde_json::{json, Value};

use crate::support::{case, case_paths, catalog, load, root};

fn turn(speak: &str, actions: &[&str]) -> Input {
    Input::Turn(Turn {
        speak: speak.into(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        eos: false,
    })
}

fn order(enc: &mut Encounter, what: &str) {
    enc.apply(turn("", &[what])).unwrap();
}

fn wait(enc: &mut Encounter, minutes: u32) {
    enc.apply(Input::Wait { minutes }).unwrap();
}

/// Results shown so far for one order, in order.
fn results_for(enc: &Encounter, order_id: &str) -> Vec<String> {
    enc.record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Result {
                order_id: o, text, ..
            } if o == order_id => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The test case: tests/fixtures/minimal-case.json with full vitals and the given changes.
fn minimal_with(edit: impl FnOnce(&mut Value)) -> Arc<Case> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["phases"][0]["vitals"] =
        json!({"hr": 90, "sbp": 130, "dbp": 80, "rr": 16, "spo2": 97, "temp_c": 36.9});
    v["phases"][1]["vitals"] =
        json!({"hr": 80, "sbp": 124, "dbp": 76, "rr": 14, "spo2": 98, "temp_c": 36.8});
    edit(&mut v);
    let json = serde_json::to_string(&v).unwrap();
    Arc::new(load_case("test.json", &json, &catalog()).unwrap_or_else(|d| panic!("{d}")))
}

#[test]
fn a_variants_when_is_read_when_the_result_comes_back_not_when_it_was_ordered() {
    // Cath lab activation comes back 20 minutes after the call.
    let c = minimal_with(|v| {
        v["results"]["cath_lab_activation"] = json!([
            {"when": {"done": {"order": "aspirin"}}, "text": "Accepted; the lab is ready now."},
            {"text": "Accepted; the team is being mobilised."}
        ]);
    });
    // Aspirin given after the call but before the answer: the answer sees it.
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    order(&mut enc, "activate cath lab");
    order(&mut enc, "aspirin 300 mg PO");
    assert!(results_for(&enc, "cath_lab_activation").is_empty());
    wait(&mut enc, 20);
    assert_eq!(
        results_for(&enc, "cath_lab_activation"),
        vec!["Accepted; the lab is ready now."]
    );
    // No aspirin by the time the answer comes: the general variant.
    let mut enc = Encounter::new(c, catalog(), Config::human());
    order(&mut enc, "activate cath lab");
    wait(&mut enc, 21);
    assert_eq!(
        results_for(&enc, "cath_lab_activation"),
        vec!["Accepted; the team is being mobilised."]
    );
}

#[test]
fn phase_and_when_must_both_hold_and_the_first_that_does_is_shown() {
    let c = minimal_with(|v| {
        v["results"]["ecg_12_lead"] = json!([
            {"phase": "treated", "when": {"elicited": "smoking"}, "text": "treated, asked about smoking"},
            {"phase": "treated", "text": "treated"},
            {"when": {"elicited": "smoking"}, "text": "asked about smoking"},
            {"text": "neither"}
        ]);
    });
    let ecg = |setup: &[Input]| {
        let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
        for i in setup {
            enc.apply(i.clone()).unwrap();
        }
        order(&mut enc, "12 lead ECG");
        wait(&mut enc, 10);
        results_for(&enc, "ecg_12_lead")
    };
    let smoke = turn("Do you smoke?", &[]);
    let aspirin = turn("", &["aspirin 300 mg PO"]);
    assert_eq!(ecg(&[]), vec!["neither"]);
    assert_eq!(
        ecg(std::slice::from_ref(&smoke)),
        vec!["asked about smoking"]
    );
    assert_eq!(ecg(std::slice::from_ref(&aspirin)), vec!["treated"]);
    assert_eq!(ecg(&[smoke, aspirin]), vec!["treated, asked about smoking"]);
}

#[test]
fn a_case_without_when_is_unchanged_and_writes_no_when() {
    // The minimal fixture and every shipped case load; a variant without `when` is written back
    // without it, so old case files keep their exact form.
    let v: ResultOverride =
        serde_json::from_value(json!([{"phase": "treated", "text": "x"}])).unwrap();
    let ResultOverride::Variants(vs) = &v else {
        panic!("variants")
    };
    assert!(vs[0].when.is_none());
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!([{"phase": "treated", "text": "x"}])
    );
}

#[test]
fn results_quote_the_monitor_at_the_moment_they_are_shown() {
    let c = minimal_with(|v| {
        v["results"]["vital_signs"] =
            json!("HR {hr}/min, BP {sbp}/{dbp} mmHg, T {temp_c} °C, pain {pain}/10.");
        v["events"] = json!([
            {"id": "better", "when": {"done": {"order": "aspirin"}}, "then": [{"phase": "treated"}]},
            {"id": "slow", "when": {"done": {"order": "labetalol", "elapsed_min": 2}}, "then": [{"vitals": {"hr": 58}}]}
        ]);
    });
    let mut enc = Encounter::new(c, catalog(), Config::human());
    order(&mut enc, "vital signs");
    order(&mut enc, "aspirin 300 mg PO");
    order(&mut enc, "vital signs");
    order(&mut enc, "labetalol 10 mg IV");
    order(&mut enc, "peripheral IV access");
    wait(&mut enc, 3);
    order(&mut enc, "vital signs");
    assert_eq!(
        results_for(&enc, "vital_signs"),
        vec![
            // No pain score in the case: a dash, not a made-up number.
            "HR 90/min, BP 130/80 mmHg, T 36.9 °C, pain —/10.",
            "HR 80/min, BP 124/76 mmHg, T 36.8 °C, pain —/10.",
            "HR 58/min, BP 124/76 mmHg, T 36.8 °C, pain —/10.",
        ]
    );
}

/// The vitals a result quotes with a label ("HR 56/min", "BP 104/66", "SpO2 95%"), for
/// checking against the monitor. Unlabelled numbers (an ECG's rate) are not quotes.
fn quoted(text: &str) -> Vec<(&'static str, f64)> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for (label, key) in [
        ("hr ", "hr"),
        ("heart rate ", "hr"),
        ("bp ", "sbp"),
        ("blood pressure ", "sbp"),
        ("rr ", "rr"),
        ("spo2 ", "spo2"),
        ("temperature ", "temp_c"),
        ("gcs ", "gcs"),
    ] {
        for (at, _) in lower.match_indices(label) {
            if at > 0 && lower.as_bytes()[at - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &lower[at + label.len()..];
            let num: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let Ok(x) = num.trim_end_matches('.').parse::<f64>() else {
                continue;
            };
            out.push((key, x));
            if key == "sbp" {
                let after = &rest[num.len()..];
                if let Some(d) = after.strip_prefix('/') {
                    let dnum: String = d.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if let Ok(y) = dnum.parse::<f64>() {
                        out.push(("dbp", y));
                    }
                }
            }
        }
    }
    out
}

fn value(v: &Vitals, key: &str) -> Option<f64> {
    match key {
        "hr" => v.hr.map(f64::from),
        "sbp" => v.sbp.map(f64::from),
        "dbp" => v.dbp.map(f64::from),
        "rr" => v.rr.map(f64::from),
        "spo2" => v.spo2.map(f64::from),
        "gcs" => v.gcs.map(f64::from),
        _ => v.temp_c,
    }
}

/// Every result in the log that quotes a vital sign against the monitor when it was shown.
fn disagreements(label: &str, enc: &Encounter, from: usize) -> Vec<String> {
    let mut monitor = Vitals::default();
    let mut out = Vec::new();
    for (i, e) in enc.record().log.iter().enumerate() {
        match &e.kind {
            EntryKind::Started { vitals, .. } | EntryKind::Vitals { vitals } => {
                monitor = vitals.clone()
            }
            EntryKind::Result { order_id, text, .. } if i >= from => {
                for (key, x) in quoted(text) {
                    let tolerance = match key {
                        "temp_c" => 0.2,
                        "gcs" => 0.0,
                        "spo2" => 1.0,
                        "rr" => 2.0,
                        _ => 5.0,
                    };
                    if let Some(m) = value(&monitor, key) {
                        if (m - x).abs() > tolerance {
                            out.push(format!(
                                "{label} at {}s: `{order_id}` says {key} {x}, the monitor {m}: {text}",
                                e.time_s
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn play_lines(id: &str, kind: &str) -> Vec<Input> {
    let path = root()
        .join("tests/fixtures/plays")
        .join(format!("{id}.{kind}.jsonl"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Input::from_play_line(l).unwrap())
        .collect()
}

#[test]
fn bedside_observations_agree_with_the_monitor_at_every_step_of_every_shipped_play() {
    // At every step of the strong and weak plays of every case, a copy of the encounter asks
    // for the observations a nurse reads off the monitor (and the primary survey): what comes
    // back must be what the monitor shows at that moment, whatever the phase or event.
    let probes = [
        "vital signs",
        "pulse oximetry",
        "temperature",
        "primary survey",
        "cardiac monitor",
    ];
    let mut problems = Vec::new();
    let mut probed = 0;
    for path in case_paths() {
        let c = load(&path);
        for kind in ["strong", "weak"] {
            let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
            let label = format!("{} {kind}", c.meta.id);
            for input in play_lines(&c.meta.id, kind) {
                if enc.is_ended() || !enc.takes(&input) {
                    break;
                }
                for probe in probes {
                    let mut copy = enc.clone();
                    let from = copy.record().log.len();
                    if copy.apply(turn("", &[probe])).is_ok() {
                        // A minute for results with a turnaround (the encounter may close).
                        let _ = copy.apply(Input::Wait { minutes: 1 });
                        probed += 1;
                        problems.extend(disagreements(&label, &copy, from));
                    }
                }
                enc.apply(input).unwrap();
            }
            problems.extend(disagreements(&label, &enc, 0));
        }
    }
    assert!(probed > 500, "{probed} probes");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// --- The chest-pain case (acs-inferior-stemi), as the issue played it --------------------------

#[test]
fn stemi_gtn_result_never_promises_a_pressure_the_monitor_then_contradicts() {
    let c = case("acs-inferior-stemi");
    let mut enc = Encounter::new(c, catalog(), Config::human());
    order(&mut enc, "GTN 400 mcg SL");
    let first = results_for(&enc, "nitroglycerin_sl");
    assert_eq!(first.len(), 1);
    assert!(
        !first[0].contains("no drop") && first[0].contains("recheck"),
        "{first:?}"
    );
    // Sublingual GTN acts within minutes: right-ventricular infarction drops the pressure
    // (preload dependence; ACC/AHA 2025 ACS guideline: avoid nitrates with RV involvement).
    assert_eq!(enc.state().vitals.sbp, Some(104), "not at once");
    wait(&mut enc, 3);
    assert_eq!(enc.state().phase, "rv_hypotension");
    assert_eq!(enc.state().vitals.sbp, Some(74));
    // Asked for again after the fall, the nurse says what happened, and the bedside
    // observations read 74/42.
    order(&mut enc, "GTN 400 mcg SL");
    let second = results_for(&enc, "nitroglycerin_sl");
    assert!(
        second[1].contains("fell after the last nitrate"),
        "{second:?}"
    );
    order(&mut enc, "vital signs");
    let vs = results_for(&enc, "vital_signs");
    assert!(vs[0].contains("BP 74/42"), "{vs:?}");
}

/// Every notice and result about the cath lab, with its time.
fn cath_lab_story(enc: &Encounter) -> Vec<(u32, String)> {
    enc.record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Notice { text, .. } if text.contains("cath lab") => {
                Some((e.time_s, text.clone()))
            }
            EntryKind::Result { order_id, text, .. } if order_id == "cath_lab_activation" => {
                Some((e.time_s, text.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn stemi_cath_lab_is_never_mobilising_after_it_was_ready() {
    let c = case("acs-inferior-stemi");
    // Aspirin, then the call: the answer and "scrubbed and ready" come together.
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    order(&mut enc, "aspirin 300 mg PO");
    order(&mut enc, "activate cath lab");
    wait(&mut enc, 25);
    let story = cath_lab_story(&enc);
    assert_eq!(story.len(), 2, "{story:?}");
    assert_eq!(story[0].0, story[1].0, "the same moment: {story:?}");
    assert!(story[0].1.contains("ready for him"), "{story:?}");
    assert!(story[1].1.contains("scrubbed and ready"), "{story:?}");
    assert!(
        !story.iter().any(|(_, t)| t.contains("mobilised")),
        "{story:?}"
    );
    assert_eq!(enc.state().phase, "reperfusion");

    // The call without aspirin: the team is mobilised; ready only once aspirin is given.
    let mut enc = Encounter::new(c, catalog(), Config::human());
    order(&mut enc, "activate cath lab");
    wait(&mut enc, 22);
    assert_eq!(enc.state().phase, "arrival");
    order(&mut enc, "aspirin 300 mg PO");
    wait(&mut enc, 1);
    let story = cath_lab_story(&enc);
    assert_eq!(story.len(), 2, "{story:?}");
    assert!(story[0].1.contains("being mobilised"), "{story:?}");
    assert!(story[1].1.contains("scrubbed and ready"), "{story:?}");
    assert!(story[0].0 < story[1].0, "{story:?}");
    assert_eq!(enc.state().phase, "reperfusion");
}

#[test]
fn stemi_monitoring_item_asks_for_what_the_monitor_does_not_already_do() {
    // He is on the resus monitor with a defibrillator from arrival (door note, first stage);
    // the item is about acting on it: shocking VF at once (RCUK ALS 2021).
    let c = case("acs-inferior-stemi");
    assert!(c.door_note.contains("cardiac monitor"), "{}", c.door_note);
    assert!(c.phases[0].status.contains("monitor"));
    let item = c.rubric.iter().find(|r| r.id == "pc_monitoring").unwrap();
    let rule = item.rule.as_ref().unwrap();
    let holds = |enc: &Encounter| evaluate(rule, &c, enc.state()).holds;

    // No order needed for what is already in place.
    let enc = Encounter::new(c.clone(), catalog(), Config::human());
    assert!(holds(&enc));
    // VF (no cath lab by minute 30) left unshocked: missed.
    let mut vf = Encounter::new(c.clone(), catalog(), Config::human());
    wait(&mut vf, 31);
    assert_eq!(vf.state().phase, "arrest");
    assert!(!holds(&vf));
    // Shocked: met.
    order(&mut vf, "defibrillate");
    assert_eq!(vf.state().phase, "post_rosc");
    assert!(holds(&vf));
}
