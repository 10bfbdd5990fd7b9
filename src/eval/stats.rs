//! The statistics of a comparison, as DESIGN.md §4b defines them, so that the browser and the
//! CLI agree: completion micro (items met / items scored over all encounters) and macro (the
//! mean of per-encounter ratios; per competency, encounters with no item in it left out),
//! mean ± sd over repeats, pass^k (the share of items met in all k repeats), percentile
//! bootstrap intervals over encounters with a fixed seed, and Cohen's κ with its n.
//!
//! Pure functions over plain numbers: no clock, no global randomness (the bootstrap's
//! generator is seeded by the caller).

use std::collections::BTreeMap;

/// Items met and scored (positive items only: harms are reported apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub met: u32,
    pub scored: u32,
}

impl Count {
    pub fn ratio(self) -> Option<f64> {
        (self.scored > 0).then(|| f64::from(self.met) / f64::from(self.scored))
    }
}

/// Items met / items scored over all the counts; none when nothing is scored.
pub fn micro(counts: &[Count]) -> Option<f64> {
    let met: u32 = counts.iter().map(|c| c.met).sum();
    let scored: u32 = counts.iter().map(|c| c.scored).sum();
    Count { met, scored }.ratio()
}

/// The mean of the per-encounter ratios, leaving out encounters with nothing scored (for one
/// competency: those with no item in it); none when none is left.
pub fn macro_ratio(counts: &[Count]) -> Option<f64> {
    let ratios: Vec<f64> = counts.iter().filter_map(|c| c.ratio()).collect();
    mean(&ratios)
}

pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Mean and sample standard deviation (n − 1; 0 for one value); none when empty.
pub fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    let m = mean(xs)?;
    if xs.len() < 2 {
        return Some((m, 0.0));
    }
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
    Some((m, var.sqrt()))
}

/// pass^k over the repeats of one (player, case): each repeat maps item ids to met or not
/// (scored items only). An item counts when every repeat scored it; it passes when every
/// repeat met it. The share of passing items; none when no item was scored in all repeats.
pub fn pass_k(repeats: &[BTreeMap<String, bool>]) -> Option<f64> {
    let first = repeats.first()?;
    let mut counted = 0u32;
    let mut passed = 0u32;
    for id in first.keys() {
        let outcomes: Vec<bool> = repeats.iter().filter_map(|r| r.get(id).copied()).collect();
        if outcomes.len() == repeats.len() {
            counted += 1;
            passed += u32::from(outcomes.iter().all(|m| *m));
        }
    }
    Count {
        met: passed,
        scored: counted,
    }
    .ratio()
}

/// A 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// SplitMix64: a small, well-known generator, enough for resampling indices; seeded, so the
/// same data and seed give the same interval.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), by rejection so that no index is favoured.
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }
}

/// Resamples taken by [`bootstrap`] unless the caller asks otherwise.
pub const RESAMPLES: usize = 2000;

/// The percentile bootstrap's 95% interval of `stat` over `items`: `resamples` resamples with
/// replacement (seeded), the 2.5th and 97.5th percentiles (nearest rank) of the statistic.
/// Resamples where the statistic is undefined are left out; none when no resample has one.
pub fn bootstrap<T>(
    items: &[T],
    stat: impl Fn(&[&T]) -> Option<f64>,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if items.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix(seed);
    let mut values = Vec::with_capacity(resamples);
    let mut sample: Vec<&T> = Vec::with_capacity(items.len());
    for _ in 0..resamples {
        sample.clear();
        for _ in 0..items.len() {
            sample.push(&items[rng.below(items.len())]);
        }
        if let Some(v) = stat(&sample) {
            values.push(v);
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Interval {
        low: nearest_rank(&values, 0.025)?,
        high: nearest_rank(&values, 0.975)?,
    })
}

/// The nearest-rank percentile `p` (0–1) of sorted values; none when empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Cohen's κ between two raters over the same items, with n and the observed agreement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Kappa {
    pub n: usize,
    /// Share of items both rated alike; none when n = 0.
    pub agreement: Option<f64>,
    /// None when n = 0, or when chance agreement is 1 (both raters gave one and the same class
    /// to every item: κ is 0/0, undefined, whatever the agreement).
    pub kappa: Option<f64>,
}

/// Cohen's κ of paired binary ratings (met / not met).
pub fn cohen_kappa(pairs: &[(bool, bool)]) -> Kappa {
    let n = pairs.len();
    if n == 0 {
        return Kappa {
            n,
            agreement: None,
            kappa: None,
        };
    }
    let nf = n as f64;
    let agree = pairs.iter().filter(|(a, b)| a == b).count() as f64 / nf;
    let a_yes = pairs.iter().filter(|(a, _)| *a).count() as f64 / nf;
    let b_yes = pairs.iter().filter(|(_, b)| *b).count() as f64 / nf;
    let chance = a_yes * b_yes + (1.0 - a_yes) * (1.0 - b_yes);
    let kappa = (chance < 1.0).then(|| (agree - chance) / (1.0 - chance));
    Kappa {
        n,
        agreement: Some(agree),
        kappa,
    }
}
