//! The debrief view's plain functions: chart geometry and the words shown.

use bedside::app::view::transcript_rows;
use bedside::engine::case::Competency;
use bedside::engine::debrief::{debrief, Expectation};
use bedside::engine::encounter::Config;
use bedside::engine::score::score;
use bedside::ui::scores::{
    bars, evidence_target, expectation_line, percent, CHART_BAR_W, CHART_ROW_H,
};

#[test]
fn chart_bars_follow_the_scores_and_clip_negative_points() {
    let (c, enc) = crate::support::played("acs-inferior-stemi", "weak", Config::human());
    let card = score(&c, enc.state(), None, &[]);
    let d = debrief(&c, enc.record(), &card);
    let b = bars(&d);
    assert_eq!(
        b.iter().map(|b| b.competency).collect::<Vec<_>>(),
        Competency::ALL
    );
    for (i, bar) in b.iter().enumerate() {
        let t = &d.scores.by_competency[i].tally;
        assert_eq!(bar.y, i as f64 * CHART_ROW_H);
        let want = t.completion_ratio.unwrap_or(0.0) * CHART_BAR_W;
        assert!((bar.completion_w - want).abs() < 1e-9);
        assert!((0.0..=CHART_BAR_W).contains(&bar.points_w), "clipped");
        assert_eq!(bar.completion_text, percent(t.completion_ratio));
    }
    // Evidence links land on a shown conversation row of the evidence's turn, or on the last
    // one before it when the turn has none (an order placed on its own).
    let shown: Vec<u32> = transcript_rows(&c, &enc.record().log)
        .iter()
        .map(|r| r.seq)
        .collect();
    for i in &d.scorecard.items {
        for ev in &i.evidence {
            let target = evidence_target(&d, &shown, ev.turn, ev.time_s).unwrap();
            let seq: u32 = target.strip_prefix("entry-").unwrap().parse().unwrap();
            assert!(shown.contains(&seq), "{}: {target} is not shown", i.id);
            let line = d.transcript.iter().find(|l| l.seq == seq).unwrap();
            assert!(
                line.turn == ev.turn || (line.turn < ev.turn && line.time_s <= ev.time_s),
                "{}: evidence at turn {} lands on turn {}",
                i.id,
                ev.turn,
                line.turn
            );
        }
    }
    // PC has the nitrate harm in the weak play: negative points draw as an empty bar.
    let pc = &d.scores.by_competency[0].tally;
    assert!(pc.points < 0.0, "{pc:?}");
    assert_eq!(b[0].points_w, 0.0);
}

#[test]
fn words_for_ratios_timings_and_anchors() {
    assert_eq!(percent(Some(0.8333)), "83%");
    assert_eq!(percent(None), "—");
    let e = Expectation {
        item: "pc_ecg".into(),
        what: "12-lead ECG".into(),
        by_minute: 10,
        done_at_s: Some(851),
        on_time: false,
    };
    assert_eq!(
        expectation_line(&e),
        "12-lead ECG: by 10:00 — done at 14:11 (late)"
    );
    let never = Expectation {
        done_at_s: None,
        ..e
    };
    assert_eq!(expectation_line(&never), "12-lead ECG: by 10:00 — not done");
}
