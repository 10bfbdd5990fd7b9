//! A comparison's rows, per-player figures and long CSV (`eval::compare`), against figures
//! worked out by hand, and rows read from real scored exports.

use std::collections::BTreeMap;

use bedside::engine::case::Competency;
use bedside::eval::compare::{long_csv, player_figures, Row};
use bedside::eval::stats::Count;

/// A row with PC and MK counts, the given items and points.
fn row(
    player: &str,
    case: &str,
    repeat: u32,
    pc: (u32, u32),
    mk: (u32, u32),
    items: &[(&str, bool)],
) -> Row {
    let mut competencies = [Count::default(); 6];
    competencies[0] = Count {
        met: pc.0,
        scored: pc.1,
    };
    competencies[1] = Count {
        met: mk.0,
        scored: mk.1,
    };
    Row {
        player: player.into(),
        case: case.into(),
        repeat,
        competencies,
        points: f64::from(pc.0 + mk.0),
        points_possible: f64::from(pc.1 + mk.1),
        items: items
            .iter()
            .map(|(i, m)| (i.to_string(), *m))
            .collect::<BTreeMap<_, _>>(),
        input_tokens: 100,
        output_tokens: 10,
        cost: Some(0.5),
        ..Row::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn per_player_figures_by_hand() {
    let rows = vec![
        // Model "m": case x twice, case y once.
        row(
            "m",
            "x",
            1,
            (2, 2),
            (1, 2),
            &[("a", true), ("b", true), ("c", false)],
        ),
        row(
            "m",
            "x",
            2,
            (1, 2),
            (0, 2),
            &[("a", true), ("b", false), ("c", false)],
        ),
        row("m", "y", 1, (1, 4), (0, 0), &[("d", true)]),
        // Trainee "Sam": one encounter.
        row("Sam", "x", 1, (2, 2), (2, 2), &[("a", true)]),
    ];
    let figures = player_figures(&rows, 11);
    assert_eq!(figures.len(), 2);
    let m = &figures[0];
    assert_eq!((m.player.as_str(), m.encounters), ("m", 3));
    // Micro: (3 + 1 + 1) / (4 + 4 + 4) = 5/12. Macro: (3/4 + 1/4 + 1/4) / 3 = 5/12 too here.
    assert!(close(m.micro.value.unwrap(), 5.0 / 12.0));
    assert!(close(m.macro_.value.unwrap(), (0.75 + 0.25 + 0.25) / 3.0));
    // MK macro leaves y out (no MK item): (1/2 + 0/2) / 2 = 0.25; MK micro 1/4.
    let (c, mk_micro, mk_macro) = m.by_competency[1];
    assert_eq!(c, Competency::MK);
    assert!(close(mk_micro.unwrap(), 0.25) && close(mk_macro.unwrap(), 0.25));
    // No PBLI anywhere: no figure at all, not 0.
    assert_eq!(m.by_competency[4].1, None);
    // pass^2 on case x: a met both times, b once, c never: 1/3.
    let (k, p) = m.pass_k.unwrap();
    assert_eq!(k, 2);
    assert!(close(p, 1.0 / 3.0));
    assert_eq!((m.input_tokens, m.output_tokens), (300, 30));
    assert!(close(m.cost.unwrap(), 1.5));
    // The interval holds the estimate and is reproducible with the same seed.
    let i = m.micro.interval.unwrap();
    assert!(i.low <= 5.0 / 12.0 && 5.0 / 12.0 <= i.high, "{i:?}");
    assert_eq!(player_figures(&rows, 11)[0].micro.interval, Some(i));
    // One encounter: no repeats, no pass^k; the interval collapses to the value.
    let sam = &figures[1];
    assert_eq!(sam.pass_k, None);
    assert!(close(sam.micro.value.unwrap(), 1.0));
    assert_eq!(
        sam.micro.interval.map(|i| (i.low, i.high)),
        Some((1.0, 1.0))
    );
}

#[test]
fn the_long_csv_has_a_line_per_competency_and_one_per_encounter() {
    let mut rows = vec![row("m", "x", 1, (2, 2), (1, 2), &[])];
    rows.push(row("Lee, Sam", "x", 1, (1, 2), (0, 0), &[]));
    let csv = long_csv(&rows);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + rows.len() * 7,
        "a header, six competencies and 'all' each"
    );
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        header[..6],
        [
            "player",
            "case",
            "repeat",
            "competency",
            "items_scored",
            "items_met"
        ]
    );
    assert_eq!(lines[1], "m,x,1,PC,2,2,,,,,");
    assert_eq!(lines[7], "m,x,1,all,4,3,3,4,100,10,0.5");
    assert!(
        lines[8].starts_with("\"Lee, Sam\",x,1,PC,2,1"),
        "{}",
        lines[8]
    );
}

#[test]
fn rows_from_scored_exports_agree_with_their_scores() {
    for kind in ["strong", "weak"] {
        let (_, card, e) = crate::export::export("acs-inferior-stemi", kind);
        let r = Row::from_export("m", 1, &e);
        let o = r.overall();
        assert_eq!(
            (o.met, o.scored),
            (
                e.scores.overall.expected_met,
                e.scores.overall.expected_scored
            )
        );
        let met_items = r.items.values().filter(|m| **m).count() as u32;
        assert_eq!(
            met_items, o.met,
            "{kind}: every met positive item is in the row"
        );
        assert_eq!(r.items.len() as u32, o.scored);
        assert_eq!(card.items.len(), e.scorecard.items.len());
        assert!(r.points_ratio().is_some_and(|p| (0.0..=1.0).contains(&p)));
    }
}
