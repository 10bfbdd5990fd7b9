//! Dose units: their dimension, conversion between units of one dimension, and per-kilogram
//! doses with the patient's weight. One table for the rules, the pharmacy check and the order
//! panel.

/// What a canonical unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Mass,
    Volume,
    Units,
    /// mEq and mmol: for the monovalent ions the catalog doses (K⁺, Na⁺, HCO₃⁻) one mmol is
    /// one mEq.
    Amount,
    MassPerKg,
    VolumePerKg,
    UnitsPerKg,
    AmountPerKg,
    /// Oxygen flow.
    Flow,
    /// A vasopressor rate per minute.
    MassPerMin,
}

impl Dimension {
    /// The absolute dimension of a per-kilogram one, and the reverse.
    fn per_kg(self) -> Option<Dimension> {
        Some(match self {
            Dimension::Mass => Dimension::MassPerKg,
            Dimension::Volume => Dimension::VolumePerKg,
            Dimension::Units => Dimension::UnitsPerKg,
            Dimension::Amount => Dimension::AmountPerKg,
            _ => return None,
        })
    }
}

/// A canonical unit's dimension and its size in the dimension's base unit (mg, mL, units,
/// mmol, L/min, mcg/min; per kilogram alike). Case-insensitive.
pub fn scale(unit: &str) -> Option<(Dimension, f64)> {
    use Dimension::*;
    Some(match unit.to_ascii_lowercase().as_str() {
        "g" => (Mass, 1000.0),
        "mg" => (Mass, 1.0),
        "mcg" => (Mass, 0.001),
        "l" => (Volume, 1000.0),
        "ml" => (Volume, 1.0),
        "units" => (Units, 1.0),
        "meq" | "mmol" => (Amount, 1.0),
        "mg/kg" => (MassPerKg, 1.0),
        "mcg/kg" => (MassPerKg, 0.001),
        "g/kg" => (MassPerKg, 1000.0),
        "ml/kg" => (VolumePerKg, 1.0),
        "units/kg" => (UnitsPerKg, 1.0),
        "meq/kg" | "mmol/kg" => (AmountPerKg, 1.0),
        "l/min" => (Flow, 1.0),
        "mcg/min" => (MassPerMin, 1.0),
        _ => return None,
    })
}

/// The dimension of a canonical unit.
pub fn dimension(unit: &str) -> Option<Dimension> {
    scale(unit).map(|(d, _)| d)
}

/// Converts an amount between two units of one dimension ("0.3 g" → 300 mg); none when the
/// units measure different things.
pub fn convert(amount: f64, from: &str, to: &str) -> Option<f64> {
    convert_for(amount, from, to, None)
}

/// Like [`convert`], and with a body weight also between a per-kilogram unit and its absolute
/// one ("1 mg/kg" for 24 kg → 24 mg; "600 mg" for 60 kg → 10 mg/kg).
pub fn convert_for(amount: f64, from: &str, to: &str, weight_kg: Option<f64>) -> Option<f64> {
    let (df, sf) = scale(from)?;
    let (dt, st) = scale(to)?;
    let base = amount * sf;
    if df == dt {
        return Some(base / st);
    }
    let w = weight_kg.filter(|w| *w > 0.0)?;
    if df.per_kg() == Some(dt) {
        // absolute → per kg
        Some(base / w / st)
    } else if dt.per_kg() == Some(df) {
        // per kg → absolute
        Some(base * w / st)
    } else {
        None
    }
}

/// Whether a dose written in `typed` can be read against an order dosed in `usual`: the same
/// dimension, or one per kilogram of the other.
pub fn compatible(typed: &str, usual: &str) -> bool {
    match (dimension(typed), dimension(usual)) {
        (Some(a), Some(b)) => a == b || a.per_kg() == Some(b) || b.per_kg() == Some(a),
        _ => false,
    }
}

/// A number as the debrief and the order panel print it: no trailing ".0".
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{:.3}", x);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(convert(0.3, "g", "mg"), Some(300.0));
        assert_eq!(convert(500.0, "mcg", "mg"), Some(0.5));
        assert_eq!(convert(40.0, "mmol", "mEq"), Some(40.0));
        assert_eq!(convert(1.0, "L", "mL"), Some(1000.0));
        assert_eq!(convert(2.0, "mL", "mg"), None);
        assert_eq!(convert(1.0, "mg/kg", "mg"), None);
        assert_eq!(convert_for(1.0, "mg/kg", "mg", Some(24.0)), Some(24.0));
        assert_eq!(convert_for(30.0, "mL/kg", "L", Some(78.0)), Some(2.34));
        assert_eq!(convert_for(600.0, "mg", "mg/kg", Some(60.0)), Some(10.0));
        assert_eq!(convert_for(10.0, "mcg/kg", "mg", Some(20.0)), Some(0.2));
        assert_eq!(convert_for(1.0, "mg/kg", "mL", Some(24.0)), None);
        assert!(compatible("mg", "mcg"));
        assert!(compatible("mg/kg", "g"));
        assert!(!compatible("mg", "mL"));
        assert!(!compatible("L/min", "mg"));
    }

    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(fmt_num(300.0), "300");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(2.34), "2.34");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333");
    }
}
