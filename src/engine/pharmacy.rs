//! The ward's safety checks on an order, as a pharmacist and a nurse make them: the dose
//! against the drug's usual range for the route and the patient's age and weight, and IV/IO
//! access before an intravenous drug or fluid.

use serde::{Deserialize, Serialize};

use super::action::Interpretation;
use super::case::Patient;
use super::catalog::{AgeBand, Catalog, Category, DoseLimit, GROSS_OVERDOSE_FACTOR};
use super::units::{convert_for, fmt_num, rate_suffix, Route};

/// How a dose compares with its usual range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseLevel {
    BelowUsual,
    AboveUsual,
    /// More than [`GROSS_OVERDOSE_FACTOR`] times the usual maximum: a harm in every case.
    GrossOverdose,
}

/// A dose outside its usual range, in the words the pharmacist uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseCheck {
    pub level: DoseLevel,
    /// The ordered dose over the usual maximum (or under the minimum), in the limit's unit.
    pub factor: f64,
    /// "above the usual maximum: 5 mg fentanyl IV; usual 25–100 mcg"
    pub message: String,
    /// The reference the range follows.
    pub source: String,
}

/// The age band a patient's dose ranges come from.
pub fn age_band(patient: &Patient) -> AgeBand {
    if patient.age < 16 {
        AgeBand::Child
    } else {
        AgeBand::Adult
    }
}

/// The range an order is checked against: the patient's age band for the route (a child
/// without a paediatric range is held to the adult maximum only), single dose or rate as
/// written.
fn limit_for(limits: &[DoseLimit], route: Route, rate: bool, band: AgeBand) -> Option<&DoseLimit> {
    let on_route = |l: &&DoseLimit| l.route == route && l.rate == rate;
    limits
        .iter()
        .filter(on_route)
        .find(|l| l.age == band)
        .or_else(|| {
            limits
                .iter()
                .filter(on_route)
                .find(|l| l.age == AgeBand::Adult)
        })
}

/// Checks an order's dose against its usual range; none when it is within it, when the order
/// has no dose, or when there is no range to check against.
pub fn check_dose(i: &Interpretation, catalog: &Catalog, patient: &Patient) -> Option<DoseCheck> {
    let order = catalog.get(&i.order.as_ref()?.id)?;
    let dose = i.dose.as_ref()?;
    let route = i.route?;
    let band = age_band(patient);
    let limit = limit_for(&order.limits, route, i.rate, band)?;
    let amount = convert_for(dose.amount, dose.unit, limit.unit, patient.weight_kg)?;
    let adult_range_for_child = band == AgeBand::Child && limit.age == AgeBand::Adult;
    let per = rate_suffix(i.rate, limit.unit);
    let usual = format!(
        "usual {}–{} {}{per}",
        fmt_num(limit.min),
        fmt_num(limit.max),
        limit.unit
    );
    let ordered = format!(
        "{} {}{per} {} {route}",
        fmt_num(dose.amount),
        dose.unit,
        order.name.to_lowercase()
    );
    let in_unit = if dose.unit == limit.unit {
        String::new()
    } else {
        format!(" (= {} {}{per})", fmt_num(amount), limit.unit)
    };
    if amount > limit.max * (1.0 + 1e-9) {
        let factor = amount / limit.max;
        let level = if factor > GROSS_OVERDOSE_FACTOR {
            DoseLevel::GrossOverdose
        } else {
            DoseLevel::AboveUsual
        };
        let what = if level == DoseLevel::GrossOverdose {
            format!(
                "more than {} times the usual maximum",
                fmt_num(GROSS_OVERDOSE_FACTOR)
            )
        } else {
            "above the usual maximum".to_string()
        };
        return Some(DoseCheck {
            level,
            factor,
            message: format!("{what}: {ordered}{in_unit}; {usual}"),
            source: limit.source.clone(),
        });
    }
    if amount < limit.min * (1.0 - 1e-9) && !adult_range_for_child {
        return Some(DoseCheck {
            level: DoseLevel::BelowUsual,
            factor: amount / limit.min,
            message: format!("below the usual minimum: {ordered}{in_unit}; {usual}"),
            source: limit.source.clone(),
        });
    }
    None
}

/// Orders that give IV/IO access.
pub const ACCESS_ORDERS: &[&str] = &[
    "peripheral_iv",
    "second_large_bore_iv",
    "intraosseous_access",
    "central_line",
];

/// Whether an order, as interpreted, needs IV or IO access: a medication or fluid given IV or IO.
pub fn needs_access(i: &Interpretation, catalog: &Catalog) -> bool {
    let Some(order) = i.order.as_ref().and_then(|m| catalog.get(&m.id)) else {
        return false;
    };
    matches!(order.category, Category::Medication | Category::Fluid)
        && matches!(i.route, Some(Route::Iv | Route::Io))
}

/// Whether an order gives IV/IO access.
pub fn gives_access(order_id: &str) -> bool {
    ACCESS_ORDERS.contains(&order_id)
}
