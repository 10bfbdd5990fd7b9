//! Vital-sign alarms: which values are out of range for the patient's age, and how far.
//!
//! One table, [`RANGES`], holds every normal and critical range the app uses: the engine reads
//! it for the monitor's alarm notices ([`alarm_text`]) and the monitor's tiles read it for
//! their colour and label ([`level`]). Each row cites its public source.
//!
//! How the sources map to levels:
//! - **Adults (16 and over)**: the National Early Warning Score 2 (Royal College of Physicians,
//!   2017). A value in NEWS2's score-0 band is normal, one scoring 1 or 2 is low or high, and
//!   one scoring 3 (the "red" single-parameter trigger for urgent review) is critical. NEWS2
//!   does not score hypertension below 220 mmHg, so the upper end of the normal systolic range
//!   (and the diastolic row) follow NICE NG136's severe hypertension (180 / 120 mmHg).
//! - **Children (under 16)**: the Bedside Paediatric Early Warning System score (Parshuram et
//!   al., Critical Care 2009;13:R135, Table 1), whose age bands are 3–12 months, 1–4 years,
//!   4–12 years and over 12 years. A value in its sub-score-0 band is normal, one scoring 1 or
//!   2 is low or high, and one in its top band (sub-score 4) is critical. Ages are whole years
//!   here: age 0 uses the 3–12 month row, 1–3 the 1–4 year row, 4–12 and 13–15 their own.
//!   Bedside PEWS gives ranges as strict inequalities (">70 and <110"); the table states the
//!   same ranges as inclusive whole numbers (71–109).
//! - **Every age**: SpO₂ (NEWS2 scale 1, the same cut-offs as BTS/SIGN 158 and NICE NG9 use for
//!   children: below 92% is severe) and GCS (NICE NG232 head injury: GCS 8 or less needs airway
//!   protection). Children's temperature follows NICE NG143 (fever is 38 °C or more), NICE NG51
//!   (below 36 °C is a sepsis risk criterion) and the Resuscitation Council UK (hypothermia is a
//!   core temperature below 35 °C).
//!
//! Pure: no state, no clock. The encounter calls [`alarm_text`] whenever the vitals change.

use super::case::Vitals;

/// A vital sign the table covers (pain is a score, not an alarm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vital {
    Hr,
    Sbp,
    Dbp,
    Rr,
    Spo2,
    TempC,
    Gcs,
}

impl Vital {
    /// In the order a monitor lists them.
    pub const ALL: [Vital; 7] = [
        Vital::Hr,
        Vital::Sbp,
        Vital::Dbp,
        Vital::Rr,
        Vital::Spo2,
        Vital::TempC,
        Vital::Gcs,
    ];

    /// This vital's value in `v`, if measured.
    pub fn of(self, v: &Vitals) -> Option<f64> {
        match self {
            Vital::Hr => v.hr.map(f64::from),
            Vital::Sbp => v.sbp.map(f64::from),
            Vital::Dbp => v.dbp.map(f64::from),
            Vital::Rr => v.rr.map(f64::from),
            Vital::Spo2 => v.spo2.map(f64::from),
            Vital::TempC => v.temp_c,
            Vital::Gcs => v.gcs.map(f64::from),
        }
    }

    /// "SpO2 84%", "heart rate 38/min", "systolic BP 74 mmHg": as an alarm reads it out.
    pub fn reading(self, value: f64) -> String {
        match self {
            Vital::Hr => format!("heart rate {value:.0}/min"),
            Vital::Sbp => format!("systolic BP {value:.0} mmHg"),
            Vital::Dbp => format!("diastolic BP {value:.0} mmHg"),
            Vital::Rr => format!("respiratory rate {value:.0}/min"),
            Vital::Spo2 => format!("SpO2 {value:.0}%"),
            Vital::TempC => format!("temperature {value:.1} °C"),
            Vital::Gcs => format!("GCS {value:.0}"),
        }
    }
}

/// Age groups of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeGroup {
    /// Under 1 year (Bedside PEWS 3–12 months).
    Infant,
    /// 1 to 3 years (Bedside PEWS 1–4 years).
    Toddler,
    /// 4 to 12 years (Bedside PEWS 4–12 years).
    Child,
    /// 13 to 15 years (Bedside PEWS over 12 years).
    Adolescent,
    /// 16 years and over (NEWS2).
    Adult,
}

impl AgeGroup {
    pub fn of(age_years: u32) -> AgeGroup {
        match age_years {
            0 => AgeGroup::Infant,
            1..=3 => AgeGroup::Toddler,
            4..=12 => AgeGroup::Child,
            13..=15 => AgeGroup::Adolescent,
            _ => AgeGroup::Adult,
        }
    }
}

/// How a value compares with its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Normal,
    Low,
    High,
    CriticalLow,
    CriticalHigh,
}

impl Level {
    pub fn is_critical(self) -> bool {
        matches!(self, Level::CriticalLow | Level::CriticalHigh)
    }

    /// 0 normal, 1 low or high, 2 critical.
    pub fn severity(self) -> u8 {
        match self {
            Level::Normal => 0,
            Level::Low | Level::High => 1,
            Level::CriticalLow | Level::CriticalHigh => 2,
        }
    }

    /// The monitor's label: "low", "high", "CRITICAL low", "CRITICAL high"; empty when normal.
    pub fn label(self) -> &'static str {
        match self {
            Level::Normal => "",
            Level::Low => "low",
            Level::High => "high",
            Level::CriticalLow => "CRITICAL low",
            Level::CriticalHigh => "CRITICAL high",
        }
    }

    /// In a sentence: "normal", "low", "high", "critically low", "critically high".
    pub fn describe(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Low => "low",
            Level::High => "high",
            Level::CriticalLow => "critically low",
            Level::CriticalHigh => "critically high",
        }
    }
}

/// One row of the table: the ranges of one vital for some age groups. Bounds are inclusive;
/// a missing bound means the guideline sets none on that side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub vital: Vital,
    pub ages: &'static [AgeGroup],
    /// At or below: critically low.
    pub critical_low: Option<f64>,
    /// Lowest normal value; below it (and above `critical_low`): low.
    pub normal_min: Option<f64>,
    /// Highest normal value; above it (and below `critical_high`): high.
    pub normal_max: Option<f64>,
    /// At or above: critically high.
    pub critical_high: Option<f64>,
    /// The public source of these numbers.
    pub source: &'static str,
}

const ADULT: &[AgeGroup] = &[AgeGroup::Adult];
const INFANT: &[AgeGroup] = &[AgeGroup::Infant];
const TODDLER: &[AgeGroup] = &[AgeGroup::Toddler];
const CHILD: &[AgeGroup] = &[AgeGroup::Child];
const ADOLESCENT: &[AgeGroup] = &[AgeGroup::Adolescent];
const UNDER_16: &[AgeGroup] = &[
    AgeGroup::Infant,
    AgeGroup::Toddler,
    AgeGroup::Child,
    AgeGroup::Adolescent,
];
const EVERY_AGE: &[AgeGroup] = &[
    AgeGroup::Infant,
    AgeGroup::Toddler,
    AgeGroup::Child,
    AgeGroup::Adolescent,
    AgeGroup::Adult,
];

const NEWS2: &str = "NEWS2, Royal College of Physicians 2017";
const PEWS: &str = "Bedside PEWS, Parshuram et al., Crit Care 2009;13:R135";

const fn row(
    vital: Vital,
    ages: &'static [AgeGroup],
    critical_low: Option<f64>,
    normal: (Option<f64>, Option<f64>),
    critical_high: Option<f64>,
    source: &'static str,
) -> Range {
    Range {
        vital,
        ages,
        critical_low,
        normal_min: normal.0,
        normal_max: normal.1,
        critical_high,
        source,
    }
}

/// The table: normal and critical ranges per vital and age group (see the module docs for how
/// each source's bands become levels). Every (vital, age group) has exactly one row, except
/// diastolic pressure, which has an adult row only.
pub const RANGES: &[Range] = &[
    // Adults: NEWS2 chart 1 (score 0 band normal, score 3 critical).
    // Pulse: ≤40 (3), 41–50 (1), 51–90 (0), 91–110 (1), 111–130 (2), ≥131 (3).
    row(
        Vital::Hr,
        ADULT,
        Some(40.0),
        (Some(51.0), Some(90.0)),
        Some(131.0),
        NEWS2,
    ),
    // Systolic: ≤90 (3), 91–100 (2), 101–110 (1), 111–219 (0), ≥220 (3); 180–219 is severe
    // hypertension (NICE NG136), so high rather than normal.
    row(
        Vital::Sbp,
        ADULT,
        Some(90.0),
        (Some(111.0), Some(179.0)),
        Some(220.0),
        "NEWS2, Royal College of Physicians 2017; NICE NG136 (severe hypertension 180/120 mmHg)",
    ),
    // Diastolic: NEWS2 does not score it; 120 mmHg or more is severe hypertension (NICE NG136).
    row(
        Vital::Dbp,
        ADULT,
        None,
        (None, Some(119.0)),
        None,
        "NICE NG136 (severe hypertension 180/120 mmHg)",
    ),
    // Respiration rate: ≤8 (3), 9–11 (1), 12–20 (0), 21–24 (2), ≥25 (3).
    row(
        Vital::Rr,
        ADULT,
        Some(8.0),
        (Some(12.0), Some(20.0)),
        Some(25.0),
        NEWS2,
    ),
    // Temperature: ≤35.0 (3), 35.1–36.0 (1), 36.1–38.0 (0), 38.1–39.0 (1), ≥39.1 (2).
    row(
        Vital::TempC,
        ADULT,
        Some(35.0),
        (Some(36.1), Some(38.0)),
        None,
        NEWS2,
    ),
    // Children: Bedside PEWS table 1 (sub-score 0 normal, sub-score 4 critical).
    // Heart rate. 3–12 months: >100 and <150 (0), ≥180 or ≤70 (4).
    row(
        Vital::Hr,
        INFANT,
        Some(70.0),
        (Some(101.0), Some(149.0)),
        Some(180.0),
        PEWS,
    ),
    // 1–4 years: >90 and <120 (0), ≥170 or ≤60 (4).
    row(
        Vital::Hr,
        TODDLER,
        Some(60.0),
        (Some(91.0), Some(119.0)),
        Some(170.0),
        PEWS,
    ),
    // 4–12 years: >70 and <110 (0), >150 or ≤50 (4).
    row(
        Vital::Hr,
        CHILD,
        Some(50.0),
        (Some(71.0), Some(109.0)),
        Some(151.0),
        PEWS,
    ),
    // Over 12 years: >60 and <100 (0), ≥140 or ≤40 (4).
    row(
        Vital::Hr,
        ADOLESCENT,
        Some(40.0),
        (Some(61.0), Some(99.0)),
        Some(140.0),
        PEWS,
    ),
    // Systolic pressure. 3–12 months: >80 and <100 (0), ≥150 or ≤60 (4).
    row(
        Vital::Sbp,
        INFANT,
        Some(60.0),
        (Some(81.0), Some(99.0)),
        Some(150.0),
        PEWS,
    ),
    // 1–4 years: >90 and <110 (0), ≥160 or ≤65 (4).
    row(
        Vital::Sbp,
        TODDLER,
        Some(65.0),
        (Some(91.0), Some(109.0)),
        Some(160.0),
        PEWS,
    ),
    // 4–12 years: >90 and <120 (0), ≥170 or ≤70 (4).
    row(
        Vital::Sbp,
        CHILD,
        Some(70.0),
        (Some(91.0), Some(119.0)),
        Some(170.0),
        PEWS,
    ),
    // Over 12 years: >100 and <130 (0), ≥190 or ≤75 (4).
    row(
        Vital::Sbp,
        ADOLESCENT,
        Some(75.0),
        (Some(101.0), Some(129.0)),
        Some(190.0),
        PEWS,
    ),
    // Respiratory rate. 3–12 months: >24 and <51 (0), ≥81 or ≤15 (4).
    row(
        Vital::Rr,
        INFANT,
        Some(15.0),
        (Some(25.0), Some(50.0)),
        Some(81.0),
        PEWS,
    ),
    // 1–4 years: >19 and <41 (0), ≥71 or ≤12 (4).
    row(
        Vital::Rr,
        TODDLER,
        Some(12.0),
        (Some(20.0), Some(40.0)),
        Some(71.0),
        PEWS,
    ),
    // 4–12 years: >19 and <31 (0), ≥51 or ≤10 (4).
    row(
        Vital::Rr,
        CHILD,
        Some(10.0),
        (Some(20.0), Some(30.0)),
        Some(51.0),
        PEWS,
    ),
    // Over 12 years: >11 and <17 (0), ≥30 or ≤9 (4).
    row(
        Vital::Rr,
        ADOLESCENT,
        Some(9.0),
        (Some(12.0), Some(16.0)),
        Some(30.0),
        PEWS,
    ),
    // Children's temperature: below 35 °C hypothermia, below 36 °C low, 38 °C or more fever.
    row(
        Vital::TempC,
        UNDER_16,
        Some(34.9),
        (Some(36.0), Some(37.9)),
        None,
        "NICE NG143 (fever: 38 °C or more); NICE NG51 (below 36 °C); \
         Resuscitation Council UK (hypothermia: core below 35 °C)",
    ),
    // Every age. SpO2 (NEWS2 scale 1): ≤91 (3), 92–93 (2), 94–95 (1), ≥96 (0); in children
    // below 92% is severe (BTS/SIGN 158 asthma, NICE NG9 bronchiolitis).
    row(
        Vital::Spo2,
        EVERY_AGE,
        Some(91.0),
        (Some(96.0), None),
        None,
        "NEWS2 scale 1, Royal College of Physicians 2017; BTS/SIGN 158; NICE NG9",
    ),
    // GCS: any reduced consciousness is abnormal (NEWS2 scores it 3 as new confusion); 8 or
    // less needs airway protection (NICE NG232).
    row(
        Vital::Gcs,
        EVERY_AGE,
        Some(8.0),
        (Some(15.0), None),
        None,
        "NEWS2, Royal College of Physicians 2017; NICE NG232 (GCS 8 or less)",
    ),
];

/// The row for this vital at this age, if the table has one.
pub fn range(vital: Vital, age_years: u32) -> Option<&'static Range> {
    let group = AgeGroup::of(age_years);
    RANGES
        .iter()
        .find(|r| r.vital == vital && r.ages.contains(&group))
}

/// How `value` of `vital` compares with the range for a patient of `age_years`. Normal when
/// the table has no row for it.
pub fn level(vital: Vital, value: f64, age_years: u32) -> Level {
    let Some(r) = range(vital, age_years) else {
        return Level::Normal;
    };
    if r.critical_low.is_some_and(|c| value <= c) {
        Level::CriticalLow
    } else if r.critical_high.is_some_and(|c| value >= c) {
        Level::CriticalHigh
    } else if r.normal_min.is_some_and(|m| value < m) {
        Level::Low
    } else if r.normal_max.is_some_and(|m| value > m) {
        Level::High
    } else {
        Level::Normal
    }
}

/// The level of `vital` in `vitals`, None when it is not measured.
pub fn level_of(vital: Vital, vitals: &Vitals, age_years: u32) -> Option<Level> {
    vital.of(vitals).map(|v| level(vital, v, age_years))
}

/// The monitor's alarm when the vitals change from `before` (None: the monitor was just
/// attached) to `after`: every vital that has just entered a critical range (it was not
/// critical before, or was critical the other way), as one notice, e.g. "Monitor alarm: SpO2
/// 84% (critically low)." None when nothing newly critical. A vital that stays critical does
/// not alarm again; one that recovers and falls back does.
pub fn alarm_text(before: Option<&Vitals>, after: &Vitals, age_years: u32) -> Option<String> {
    let parts: Vec<String> = Vital::ALL
        .iter()
        .filter_map(|&vital| {
            let value = vital.of(after)?;
            let now = level(vital, value, age_years);
            let was = before.and_then(|b| level_of(vital, b, age_years));
            (now.is_critical() && was != Some(now))
                .then(|| format!("{} ({})", vital.reading(value), now.describe()))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Monitor alarm: {}.", parts.join("; ")))
}
