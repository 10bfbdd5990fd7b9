//! The comparison's statistics (`eval::stats`) against figures worked out by hand.

use std::collections::BTreeMap;

use bedside::eval::stats::{
    bootstrap, cohen_kappa, macro_ratio, mean_sd, micro, pass_k, Count, RESAMPLES,
};

fn c(met: u32, scored: u32) -> Count {
    Count { met, scored }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn micro_pools_items_and_macro_averages_encounters() {
    // Encounter A: 3 of 4 items; B: 1 of 6. Micro 4/10; macro (0.75 + 1/6) / 2.
    let counts = [c(3, 4), c(1, 6)];
    assert!(close(micro(&counts).unwrap(), 0.4));
    assert!(close(
        macro_ratio(&counts).unwrap(),
        (0.75 + 1.0 / 6.0) / 2.0
    ));
    assert_eq!(micro(&[]), None);
    assert_eq!(micro(&[c(0, 0)]), None, "nothing scored is no ratio, not 0");
}

#[test]
fn macro_per_competency_leaves_out_encounters_with_no_item_in_it() {
    // MK: A met 1 of 2, B had no MK item. Macro MK is A's 0.5, not (0.5 + 0) / 2.
    let mk = [c(1, 2), c(0, 0)];
    assert!(close(macro_ratio(&mk).unwrap(), 0.5));
    // PC: A 2 of 2, B 1 of 6: (1 + 1/6) / 2.
    let pc = [c(2, 2), c(1, 6)];
    assert!(close(macro_ratio(&pc).unwrap(), (1.0 + 1.0 / 6.0) / 2.0));
    assert_eq!(macro_ratio(&[c(0, 0), c(0, 0)]), None);
}

#[test]
fn mean_and_sample_sd_over_repeats() {
    let (m, sd) = mean_sd(&[0.2, 0.4, 0.6]).unwrap();
    // Deviations ±0.2 and 0: variance (0.04 + 0 + 0.04) / 2 = 0.04, sd 0.2.
    assert!(close(m, 0.4) && close(sd, 0.2), "{m} ± {sd}");
    assert_eq!(mean_sd(&[0.7]), Some((0.7, 0.0)));
    assert_eq!(mean_sd(&[]), None);
}

#[test]
fn pass_k_counts_items_met_in_every_repeat() {
    let repeat = |items: &[(&str, bool)]| -> BTreeMap<String, bool> {
        items.iter().map(|(id, m)| (id.to_string(), *m)).collect()
    };
    // x met twice, y once, z never; w scored in the first repeat only (left out).
    let repeats = [
        repeat(&[("x", true), ("y", true), ("z", false), ("w", true)]),
        repeat(&[("x", true), ("y", false), ("z", false)]),
    ];
    assert!(close(pass_k(&repeats).unwrap(), 1.0 / 3.0));
    // One repeat: pass^1 is the completion ratio.
    assert!(close(pass_k(&repeats[..1]).unwrap(), 3.0 / 4.0));
    assert_eq!(pass_k(&[]), None);
}

#[test]
fn bootstrap_intervals_are_seeded_and_bracket_the_spread() {
    let mean_of = |xs: &[&f64]| Some(xs.iter().copied().sum::<f64>() / xs.len() as f64);
    // No spread: the interval is the value.
    let same = [0.5; 8];
    let i = bootstrap(&same, mean_of, RESAMPLES, 7).unwrap();
    assert!(close(i.low, 0.5) && close(i.high, 0.5));
    // Two values 0 and 1: a resample's mean is 0, 0.5 or 1 with chances 1/4, 1/2, 1/4, so
    // the 2.5th and 97.5th percentiles of 2000 resamples are 0 and 1.
    let two = [0.0, 1.0];
    let i = bootstrap(&two, mean_of, RESAMPLES, 7).unwrap();
    assert_eq!((i.low, i.high), (0.0, 1.0));
    // The same data and seed give the same interval; the interval holds the estimate.
    let data: Vec<f64> = (0..30).map(|k| f64::from(k % 7) / 6.0).collect();
    let a = bootstrap(&data, mean_of, RESAMPLES, 42).unwrap();
    let b = bootstrap(&data, mean_of, RESAMPLES, 42).unwrap();
    assert_eq!(a, b, "seeded: reproducible");
    let m = data.iter().sum::<f64>() / data.len() as f64;
    assert!(a.low < m && m < a.high, "{a:?} around {m}");
    assert!(bootstrap(&Vec::<f64>::new(), mean_of, RESAMPLES, 1).is_none());
    // A statistic undefined on every resample gives no interval.
    assert!(bootstrap(&data, |_| None, RESAMPLES, 1).is_none());
}

#[test]
fn kappa_by_hand_and_its_degenerate_cases() {
    // 20 items: both met 10, both not 5, only A 3, only B 2.
    let mut pairs = vec![(true, true); 10];
    pairs.extend(vec![(false, false); 5]);
    pairs.extend(vec![(true, false); 3]);
    pairs.extend(vec![(false, true); 2]);
    let k = cohen_kappa(&pairs);
    // Observed 15/20 = 0.75; A says met 13/20, B 12/20; chance 0.65·0.6 + 0.35·0.4 = 0.53;
    // κ = (0.75 − 0.53) / (1 − 0.53) = 0.22 / 0.47.
    assert_eq!(k.n, 20);
    assert!(close(k.agreement.unwrap(), 0.75));
    assert!(close(k.kappa.unwrap(), 0.22 / 0.47), "{k:?}");
    // Perfect agreement on both classes: κ = 1.
    assert!(close(
        cohen_kappa(&[(true, true), (false, false)]).kappa.unwrap(),
        1.0
    ));
    // One class only: chance agreement is 1, κ undefined (not 1, not 0), agreement still 1.
    let one = cohen_kappa(&[(true, true); 6]);
    assert_eq!((one.n, one.agreement, one.kappa), (6, Some(1.0), None));
    // n = 0.
    let none = cohen_kappa(&[]);
    assert_eq!((none.n, none.agreement, none.kappa), (0, None, None));
    // Systematic disagreement: κ = −1.
    assert!(close(
        cohen_kappa(&[(true, false), (false, true)]).kappa.unwrap(),
        -1.0
    ));
}
