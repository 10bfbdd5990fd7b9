//! Vital-sign alarms: the one range table (adult NEWS2, children's Bedside PEWS), the
//! monitor's alarm notices in the encounter log, and the monitor tiles' levels.
//!
//! The expected levels are written from the guidelines' own cut-offs, not from the table:
//! NEWS2 chart 1 (Royal College of Physicians 2017) for adults, Bedside PEWS table 1
//! (Parshuram et al., Crit Care 2009;13:R135) for children, NICE NG136 for severe hypertension,
//! NICE NG143 / NG51 and the Resuscitation Council UK for children's temperature.

use std::sync::Arc;

use bedside::app::view::vitals_view;
use bedside::engine::alarms::{alarm_text, level, range, AgeGroup, Level, Vital, RANGES};
use bedside::engine::case::{Case, Vitals};
use bedside::engine::encounter::{Config, Encounter, EntryKind, Input};
use bedside::engine::load::load_case;

use crate::support::{case, catalog, root};

use Level::{CriticalHigh as CH, CriticalLow as CL, High as H, Low as L, Normal as N};

/// (vital, value, age in years, expected level)
type Check = (Vital, f64, u32, Level);

fn check(cases: &[Check]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|&(vital, value, age, expect)| {
            let got = level(vital, value, age);
            (got != expect)
                .then(|| format!("{vital:?} {value} at {age} y: {got:?}, expected {expect:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn adult_levels_follow_news2() {
    use Vital::*;
    check(&[
        // Pulse: ≤40 scores 3, 41–50 1, 51–90 0, 91–110 1, 111–130 2, ≥131 3.
        (Hr, 40.0, 30, CL),
        (Hr, 41.0, 30, L),
        (Hr, 50.0, 30, L),
        (Hr, 51.0, 30, N),
        (Hr, 90.0, 30, N),
        (Hr, 91.0, 30, H),
        (Hr, 130.0, 30, H),
        (Hr, 131.0, 30, CH),
        (Hr, 0.0, 58, CL),
        // Systolic: ≤90 3, 91–100 2, 101–110 1, 111–219 0 (180 up severe hypertension, NICE
        // NG136), ≥220 3.
        (Sbp, 90.0, 30, CL),
        (Sbp, 91.0, 30, L),
        (Sbp, 110.0, 30, L),
        (Sbp, 111.0, 30, N),
        (Sbp, 179.0, 30, N),
        (Sbp, 180.0, 30, H),
        (Sbp, 219.0, 30, H),
        (Sbp, 220.0, 30, CH),
        // Diastolic: 120 or more is severe hypertension; no low cut-off.
        (Dbp, 119.0, 30, N),
        (Dbp, 120.0, 30, H),
        (Dbp, 38.0, 30, N),
        // Respiration rate: ≤8 3, 9–11 1, 12–20 0, 21–24 2, ≥25 3.
        (Rr, 8.0, 30, CL),
        (Rr, 9.0, 30, L),
        (Rr, 11.0, 30, L),
        (Rr, 12.0, 30, N),
        (Rr, 20.0, 30, N),
        (Rr, 21.0, 30, H),
        (Rr, 24.0, 30, H),
        (Rr, 25.0, 30, CH),
        // SpO2 scale 1: ≤91 3, 92–93 2, 94–95 1, ≥96 0.
        (Spo2, 91.0, 30, CL),
        (Spo2, 92.0, 30, L),
        (Spo2, 95.0, 30, L),
        (Spo2, 96.0, 30, N),
        (Spo2, 100.0, 30, N),
        // Temperature: ≤35.0 3, 35.1–36.0 1, 36.1–38.0 0, 38.1–39.0 1, ≥39.1 2 (never 3).
        (TempC, 35.0, 30, CL),
        (TempC, 35.1, 30, L),
        (TempC, 36.0, 30, L),
        (TempC, 36.1, 30, N),
        (TempC, 38.0, 30, N),
        (TempC, 38.1, 30, H),
        (TempC, 41.0, 30, H),
        // GCS: 15 alert; less is abnormal; 8 or less needs airway protection (NICE NG232).
        (Gcs, 15.0, 30, N),
        (Gcs, 14.0, 30, L),
        (Gcs, 9.0, 30, L),
        (Gcs, 8.0, 30, CL),
        (Gcs, 3.0, 30, CL),
        // 16 is an adult; old age is an adult too.
        (Hr, 131.0, 16, CH),
        (Hr, 131.0, 95, CH),
    ]);
}

#[test]
fn child_levels_follow_bedside_pews_by_age_band() {
    use Vital::*;
    check(&[
        // 3–12 months: HR >100 and <150 scores 0, ≥180 or ≤70 scores 4.
        (Hr, 100.0, 0, L),
        (Hr, 101.0, 0, N),
        (Hr, 149.0, 0, N),
        (Hr, 150.0, 0, H),
        (Hr, 179.0, 0, H),
        (Hr, 180.0, 0, CH),
        (Hr, 71.0, 0, L),
        (Hr, 70.0, 0, CL),
        // SBP >80 and <100 0, ≥150 or ≤60 4; RR >24 and <51 0, ≥81 or ≤15 4.
        (Sbp, 80.0, 0, L),
        (Sbp, 90.0, 0, N),
        (Sbp, 100.0, 0, H),
        (Sbp, 60.0, 0, CL),
        (Sbp, 150.0, 0, CH),
        (Rr, 24.0, 0, L),
        (Rr, 50.0, 0, N),
        (Rr, 51.0, 0, H),
        (Rr, 81.0, 0, CH),
        (Rr, 15.0, 0, CL),
        // 1–4 years: HR >90 and <120 0, ≥170 or ≤60 4; SBP >90 and <110, ≥160 or ≤65;
        // RR >19 and <41, ≥71 or ≤12.
        (Hr, 119.0, 2, N),
        (Hr, 120.0, 2, H),
        (Hr, 170.0, 2, CH),
        (Hr, 60.0, 2, CL),
        (Hr, 61.0, 2, L),
        (Sbp, 109.0, 2, N),
        (Sbp, 110.0, 2, H),
        (Sbp, 65.0, 2, CL),
        (Sbp, 160.0, 2, CH),
        (Rr, 40.0, 2, N),
        (Rr, 41.0, 2, H),
        (Rr, 71.0, 2, CH),
        (Rr, 12.0, 2, CL),
        // 4–12 years: HR >70 and <110 0, >150 or ≤50 4; SBP >90 and <120, ≥170 or ≤70;
        // RR >19 and <31, ≥51 or ≤10.
        (Hr, 109.0, 7, N),
        (Hr, 110.0, 7, H),
        (Hr, 150.0, 7, H),
        (Hr, 151.0, 7, CH),
        (Hr, 70.0, 7, L),
        (Hr, 50.0, 7, CL),
        (Sbp, 90.0, 7, L),
        (Sbp, 91.0, 7, N),
        (Sbp, 120.0, 7, H),
        (Sbp, 70.0, 7, CL),
        (Sbp, 170.0, 7, CH),
        (Rr, 30.0, 7, N),
        (Rr, 31.0, 7, H),
        (Rr, 51.0, 7, CH),
        (Rr, 19.0, 7, L),
        (Rr, 10.0, 7, CL),
        // Over 12 years: HR >60 and <100 0, ≥140 or ≤40 4; SBP >100 and <130, ≥190 or ≤75;
        // RR >11 and <17, ≥30 or ≤9.
        (Hr, 99.0, 14, N),
        (Hr, 100.0, 14, H),
        (Hr, 140.0, 14, CH),
        (Hr, 40.0, 14, CL),
        (Sbp, 130.0, 14, H),
        (Sbp, 75.0, 14, CL),
        (Sbp, 190.0, 14, CH),
        (Rr, 16.0, 14, N),
        (Rr, 17.0, 14, H),
        (Rr, 30.0, 14, CH),
        (Rr, 9.0, 14, CL),
        // SpO2 and GCS as for adults: below 92% is severe (BTS/SIGN 158, NICE NG9).
        (Spo2, 91.0, 7, CL),
        (Spo2, 95.0, 7, L),
        (Spo2, 96.0, 0, N),
        (Gcs, 13.0, 7, L),
        (Gcs, 8.0, 2, CL),
        // Temperature: fever is 38 °C or more (NICE NG143), below 36 °C low (NICE NG51),
        // below 35 °C hypothermia (Resuscitation Council UK).
        (TempC, 37.9, 7, N),
        (TempC, 38.0, 7, H),
        (TempC, 36.0, 7, N),
        (TempC, 35.9, 7, L),
        (TempC, 35.0, 7, L),
        (TempC, 34.9, 7, CL),
        // No diastolic cut-off for children.
        (Dbp, 130.0, 7, N),
    ]);
}

#[test]
fn the_same_value_reads_differently_by_age() {
    use Vital::*;
    check(&[
        // 142/min: high at 7 (4–12 years), critical in an adult (NEWS2 ≥131).
        (Hr, 142.0, 7, H),
        (Hr, 142.0, 40, CH),
        // 115/min: normal at 3 (1–4 years: <120), high at 4 (4–12 years: ≥110).
        (Hr, 115.0, 3, N),
        (Hr, 115.0, 4, H),
        // RR 18: high at 15 (over 12 years: ≥17), normal at 16 (NEWS2 12–20).
        (Rr, 18.0, 15, H),
        (Rr, 18.0, 16, N),
        // 38.0 °C: fever in a child, normal on NEWS2.
        (TempC, 38.0, 12, H),
        (TempC, 38.0, 16, N),
    ]);
    assert_eq!(AgeGroup::of(0), AgeGroup::Infant);
    assert_eq!(AgeGroup::of(1), AgeGroup::Toddler);
    assert_eq!(AgeGroup::of(12), AgeGroup::Child);
    assert_eq!(AgeGroup::of(13), AgeGroup::Adolescent);
    assert_eq!(AgeGroup::of(15), AgeGroup::Adolescent);
    assert_eq!(AgeGroup::of(16), AgeGroup::Adult);
}

#[test]
fn the_table_has_one_ordered_cited_row_per_vital_and_age() {
    let groups = [0, 2, 7, 14, 30];
    for vital in Vital::ALL {
        for age in groups {
            let group = AgeGroup::of(age);
            let rows = RANGES
                .iter()
                .filter(|r| r.vital == vital && r.ages.contains(&group))
                .count();
            let expect = if vital == Vital::Dbp && group != AgeGroup::Adult {
                0
            } else {
                1
            };
            assert_eq!(rows, expect, "{vital:?} at {age} y");
        }
    }
    for r in RANGES {
        let bounds: Vec<f64> = [r.critical_low, r.normal_min, r.normal_max, r.critical_high]
            .into_iter()
            .flatten()
            .collect();
        assert!(
            bounds.windows(2).all(|w| w[0] <= w[1]),
            "{:?} {:?}: bounds out of order {bounds:?}",
            r.vital,
            r.ages
        );
        if let (Some(c), Some(m)) = (r.critical_low, r.normal_min) {
            assert!(
                c < m,
                "{:?}: a low band between critical and normal",
                r.vital
            );
        }
        if let (Some(m), Some(c)) = (r.normal_max, r.critical_high) {
            assert!(
                m < c,
                "{:?}: a high band between normal and critical",
                r.vital
            );
        }
        assert!(!r.source.trim().is_empty(), "{:?} cites a source", r.vital);
    }
    assert!(range(Vital::Dbp, 7).is_none());
    assert_eq!(level(Vital::Dbp, 200.0, 7), Level::Normal);
}

#[test]
fn labels_are_words_not_colour_alone() {
    assert_eq!(Level::Normal.label(), "");
    assert_eq!(Level::Low.label(), "low");
    assert_eq!(Level::High.label(), "high");
    assert_eq!(Level::CriticalLow.label(), "CRITICAL low");
    assert_eq!(Level::CriticalHigh.label(), "CRITICAL high");
    assert_eq!(Level::CriticalLow.describe(), "critically low");
    assert!(Level::CriticalHigh.is_critical() && !Level::High.is_critical());
}

#[test]
fn alarm_text_names_only_vitals_newly_critical() {
    let v = |hr: u32, spo2: u32| Vitals {
        hr: Some(hr),
        spo2: Some(spo2),
        ..Vitals::default()
    };
    // At the start every critical value alarms.
    assert_eq!(
        alarm_text(None, &v(30, 84), 50).as_deref(),
        Some("Monitor alarm: heart rate 30/min (critically low); SpO2 84% (critically low).")
    );
    assert_eq!(alarm_text(None, &v(80, 97), 50), None);
    // Staying critical is silent; entering is not; so is crossing to the other extreme.
    assert_eq!(alarm_text(Some(&v(30, 84)), &v(32, 80), 50), None);
    assert_eq!(
        alarm_text(Some(&v(80, 93)), &v(80, 90), 50).as_deref(),
        Some("Monitor alarm: SpO2 90% (critically low).")
    );
    assert_eq!(
        alarm_text(Some(&v(30, 97)), &v(150, 97), 50).as_deref(),
        Some("Monitor alarm: heart rate 150/min (critically high).")
    );
    // A vital that was not measured before and is critical now alarms.
    let no_spo2 = Vitals {
        hr: Some(80),
        ..Vitals::default()
    };
    assert_eq!(
        alarm_text(Some(&no_spo2), &v(80, 88), 50).as_deref(),
        Some("Monitor alarm: SpO2 88% (critically low).")
    );
    // Age decides: 142/min is critical in an adult, not in a 7-year-old.
    assert!(alarm_text(None, &v(142, 98), 40).is_some());
    assert_eq!(alarm_text(None, &v(142, 98), 7), None);
}

/// The minimal test case (a 50-year-old) with SpO2 on the monitor and events that move it at
/// set minutes: critical, still critical, recovered to low, critical again. Aspirin moves to
/// the "treated" phase with a critical heart rate and a still-critical SpO2.
fn alarm_case(start_spo2: u32) -> Arc<Case> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/minimal-case.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["phases"][0]["vitals"] = serde_json::json!({ "hr": 90, "spo2": start_spo2 });
    json["phases"][1]["vitals"] = serde_json::json!({ "hr": 135, "spo2": 86 });
    let at = |id: &str, minute: u32, spo2: u32| {
        serde_json::json!({
            "id": id,
            "when": { "minute": minute },
            "then": [{ "vitals": { "spo2": spo2 } }]
        })
    };
    let events = json["events"].as_array_mut().unwrap();
    events.push(at("desaturates", 2, 84));
    events.push(at("worse", 4, 80));
    events.push(at("recovers", 6, 95));
    events.push(at("desaturates_again", 8, 85));
    Arc::new(
        load_case("alarm-case.json", &json.to_string(), &catalog())
            .unwrap_or_else(|d| panic!("{d}")),
    )
}

/// (minute, text) of every monitor alarm in the log.
fn alarms_in(enc: &Encounter) -> Vec<(u32, String)> {
    enc.record()
        .log
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Notice { event: None, text } if text.starts_with("Monitor alarm") => {
                Some((e.time_s / 60, text.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn an_alarm_fires_once_on_crossing_and_again_after_recovery() {
    let mut enc = Encounter::new(alarm_case(97), catalog(), Config::human());
    assert_eq!(alarms_in(&enc), vec![], "97% at the start is normal");
    enc.apply(Input::Wait { minutes: 3 }).unwrap();
    assert_eq!(
        alarms_in(&enc),
        vec![(2, "Monitor alarm: SpO2 84% (critically low).".to_string())]
    );
    // 80% at minute 4: still critical, no new alarm; 95% at minute 6: recovered (low).
    enc.apply(Input::Wait { minutes: 4 }).unwrap();
    assert_eq!(enc.state().vitals.spo2, Some(95));
    assert_eq!(alarms_in(&enc).len(), 1, "{:?}", alarms_in(&enc));
    // 85% at minute 8: critical again, a new alarm.
    enc.apply(Input::Wait { minutes: 2 }).unwrap();
    assert_eq!(
        alarms_in(&enc),
        vec![
            (2, "Monitor alarm: SpO2 84% (critically low).".to_string()),
            (8, "Monitor alarm: SpO2 85% (critically low).".to_string()),
        ]
    );
    // A phase entry: heart rate 135 newly critical; SpO2 86% stays critical, so it is not
    // repeated. The alarm comes after the phase's own vitals entry.
    let before = enc.record().log.len();
    enc.apply(Input::Turn(bedside::engine::encounter::Turn {
        actions: vec!["aspirin 300 mg PO".into()],
        ..Default::default()
    }))
    .unwrap();
    let new = &enc.record().log[before..];
    let vitals_at = new
        .iter()
        .position(|e| matches!(e.kind, EntryKind::Vitals { .. }))
        .expect("the phase's vitals");
    let alarm_at = new
        .iter()
        .position(|e| matches!(&e.kind, EntryKind::Notice { text, .. } if text.starts_with("Monitor alarm")))
        .expect("an alarm on entering the phase");
    assert!(vitals_at < alarm_at);
    assert_eq!(
        alarms_in(&enc).last().map(|a| a.1.as_str()),
        Some("Monitor alarm: heart rate 135/min (critically high).")
    );
    assert_eq!(alarms_in(&enc).len(), 3);
    // The record replays to the same log, alarms included.
    let replayed = Encounter::replay(
        Arc::new(enc.case().clone()),
        catalog(),
        Config::human(),
        &enc.record().inputs,
    )
    .unwrap();
    assert_eq!(replayed.record(), enc.record());
}

#[test]
fn a_critical_value_at_the_start_alarms_once() {
    let mut enc = Encounter::new(alarm_case(88), catalog(), Config::human());
    assert_eq!(
        alarms_in(&enc),
        vec![(0, "Monitor alarm: SpO2 88% (critically low).".to_string())]
    );
    // 84% at minute 2 and 80% at 4: critical all along, no more alarms.
    enc.apply(Input::Wait { minutes: 5 }).unwrap();
    assert_eq!(alarms_in(&enc).len(), 1);
}

#[test]
fn the_shipped_stemi_alarms_when_the_nitrate_drops_the_pressure() {
    // acs-inferior-stemi: a nitrate in right-ventricular infarction moves to
    // `rv_hypotension`, BP 74/42 (NEWS2: systolic ≤90 scores 3).
    let mut enc = Encounter::new(case("acs-inferior-stemi"), catalog(), Config::human());
    assert_eq!(
        alarms_in(&enc),
        vec![],
        "104/66, HR 56, SpO2 95%: none critical"
    );
    enc.apply(Input::Turn(bedside::engine::encounter::Turn {
        actions: vec!["nitroglycerin 0.4 mg SL".into()],
        ..Default::default()
    }))
    .unwrap();
    // The pressure falls a few minutes after the nitrate, not as it is given.
    assert_eq!(enc.state().phase, "arrival");
    assert_eq!(alarms_in(&enc), vec![]);
    enc.apply(Input::Wait { minutes: 3 }).unwrap();
    assert_eq!(enc.state().phase, "rv_hypotension");
    assert_eq!(
        alarms_in(&enc)
            .iter()
            .map(|a| a.1.as_str())
            .collect::<Vec<_>>(),
        vec!["Monitor alarm: systolic BP 74 mmHg (critically low)."]
    );
}

#[test]
fn the_monitor_tiles_show_each_level_from_the_table() {
    let enc = Encounter::new(case("anaphylaxis-peanut"), catalog(), Config::human());
    let st = enc.state();
    // A 27-year-old: HR 128, BP 82/46, RR 28, SpO2 91%, 36.9 °C, GCS 15.
    let v = vitals_view(
        &st.vitals,
        &enc.record().log,
        st.now_s,
        enc.case().patient.age,
    );
    let tile = |key: &str| v.iter().find(|t| t.key == key).unwrap();
    let shown = |key: &str| (tile(key).alarm_label(), tile(key).level_class());
    assert_eq!(shown("hr"), ("high", "level-abnormal level-high"));
    assert_eq!(
        shown("bp"),
        ("CRITICAL low", "level-critical level-critical-low")
    );
    assert_eq!(
        shown("rr"),
        ("CRITICAL high", "level-critical level-critical-high")
    );
    assert_eq!(
        shown("spo2"),
        ("CRITICAL low", "level-critical level-critical-low")
    );
    assert_eq!(shown("temp"), ("", "level-normal"));
    assert_eq!(shown("gcs"), ("", "level-normal"));
    assert_eq!(shown("pain"), ("", "level-normal"), "pain has no alarm");

    // The same vitals for a 7-year-old: HR 128 high (≥110), SBP 82 low (≤90 scores 1, not
    // ≤70), RR 28 normal (4–12 years: 20–30), SpO2 still critical.
    let child = vitals_view(&st.vitals, &enc.record().log, st.now_s, 7);
    let level_of = |key: &str| child.iter().find(|t| t.key == key).unwrap().level;
    assert_eq!(level_of("hr"), Level::High);
    assert_eq!(level_of("bp"), Level::Low);
    assert_eq!(level_of("rr"), Level::Normal);
    assert_eq!(level_of("spo2"), Level::CriticalLow);

    // The blood pressure tile shows the worse of systolic and diastolic.
    let hypertensive = Vitals {
        sbp: Some(150),
        dbp: Some(124),
        ..Vitals::default()
    };
    let bp = vitals_view(&hypertensive, &[], 0, 50)
        .into_iter()
        .find(|t| t.key == "bp")
        .unwrap();
    assert_eq!(
        (bp.value.as_deref(), bp.level),
        (Some("150/124"), Level::High)
    );
}
