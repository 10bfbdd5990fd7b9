//! Dose units and routes: the closed sets the catalog, the order interpreter, the pharmacy
//! check and the rules share, as enums that serialize to their canonical spellings ("mg",
//! "mL/kg", "IV"), so case files, the catalog, records and exports read exactly as before.
//! A unit's dimension, conversion between units of one dimension, and per-kilogram doses with
//! the patient's weight: one table for the rules, the pharmacy check and the order panel.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An enum of canonical spellings: `ALL`, `as_str`, `parse` (any letter case, as rules in
/// case files are read), `Display`, and serde as the exact spelling.
macro_rules! spelled {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            const SPELLINGS: &'static [&'static str] = &[$($text,)*];

            /// The canonical spelling, as files and records write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The canonical spelling in any letter case.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|x| x.as_str().eq_ignore_ascii_case(text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Tests and tables compare with a spelling ("mg"); the engine compares variants.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                Self::ALL
                    .iter()
                    .copied()
                    .find(|x| x.as_str() == text)
                    .ok_or_else(|| de::Error::unknown_variant(&text, Self::SPELLINGS))
            }
        }
    };
}

spelled! {
    /// A canonical dose unit. A rate keeps its amount per hour in the base unit (18 units/kg
    /// an hour is `UnitsPerKg`); `McgPerMin` is a rate per minute, `LPerMin` an oxygen flow.
    pub enum Unit {
        G = "g",
        Mg = "mg",
        Mcg = "mcg",
        L = "L",
        Ml = "mL",
        Units = "units",
        MEq = "mEq",
        Mmol = "mmol",
        GPerKg = "g/kg",
        MgPerKg = "mg/kg",
        McgPerKg = "mcg/kg",
        MlPerKg = "mL/kg",
        UnitsPerKg = "units/kg",
        MEqPerKg = "mEq/kg",
        MmolPerKg = "mmol/kg",
        LPerMin = "L/min",
        McgPerMin = "mcg/min",
        /// Inhaler puffs as typed: the interpreter turns them into the inhaler's dose per puff
        /// when the order has one. No dimension.
        Puffs = "puffs",
    }
}

spelled! {
    /// A canonical route code.
    pub enum Route {
        Po = "PO",
        Iv = "IV",
        Im = "IM",
        Sc = "SC",
        Sl = "SL",
        Pr = "PR",
        In = "IN",
        Inh = "INH",
        Neb = "NEB",
        Io = "IO",
        Top = "TOP",
    }
}

impl Unit {
    /// What the unit measures, and its size in the dimension's base unit (mg, mL, units,
    /// mmol, L/min, mcg/min; per kilogram alike). None for puffs.
    pub fn scale(self) -> Option<(Dimension, f64)> {
        use Dimension::*;
        Some(match self {
            Unit::G => (Mass, 1000.0),
            Unit::Mg => (Mass, 1.0),
            Unit::Mcg => (Mass, 0.001),
            Unit::L => (Volume, 1000.0),
            Unit::Ml => (Volume, 1.0),
            Unit::Units => (Units, 1.0),
            Unit::MEq | Unit::Mmol => (Amount, 1.0),
            Unit::MgPerKg => (MassPerKg, 1.0),
            Unit::McgPerKg => (MassPerKg, 0.001),
            Unit::GPerKg => (MassPerKg, 1000.0),
            Unit::MlPerKg => (VolumePerKg, 1.0),
            Unit::UnitsPerKg => (UnitsPerKg, 1.0),
            Unit::MEqPerKg | Unit::MmolPerKg => (AmountPerKg, 1.0),
            Unit::LPerMin => (Flow, 1.0),
            Unit::McgPerMin => (MassPerMin, 1.0),
            Unit::Puffs => return None,
        })
    }

    /// What the unit measures.
    pub fn dimension(self) -> Option<Dimension> {
        self.scale().map(|(d, _)| d)
    }
}

/// What follows a rate's unit: "/h", except for a unit per minute (mcg/min says it already);
/// nothing after a single dose.
pub fn rate_suffix(rate: bool, unit: Unit) -> &'static str {
    if rate && unit != Unit::McgPerMin {
        "/h"
    } else {
        ""
    }
}

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

/// Converts an amount between two units of one dimension ("0.3 g" → 300 mg); none when the
/// units measure different things.
pub fn convert(amount: f64, from: Unit, to: Unit) -> Option<f64> {
    convert_for(amount, from, to, None)
}

/// Like [`convert`], and with a body weight also between a per-kilogram unit and its absolute
/// one ("1 mg/kg" for 24 kg → 24 mg; "600 mg" for 60 kg → 10 mg/kg).
pub fn convert_for(amount: f64, from: Unit, to: Unit, weight_kg: Option<f64>) -> Option<f64> {
    let (df, sf) = from.scale()?;
    let (dt, st) = to.scale()?;
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
pub fn compatible(typed: Unit, usual: Unit) -> bool {
    match (typed.dimension(), usual.dimension()) {
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

    /// The conversions as the rules call them, with units spelled as case files write them.
    fn convert(amount: f64, from: &str, to: &str) -> Option<f64> {
        convert_for(amount, from, to, None)
    }

    fn convert_for(amount: f64, from: &str, to: &str, weight_kg: Option<f64>) -> Option<f64> {
        super::convert_for(amount, unit(from), unit(to), weight_kg)
    }

    fn compatible(typed: &str, usual: &str) -> bool {
        super::compatible(unit(typed), unit(usual))
    }

    fn unit(text: &str) -> Unit {
        Unit::parse(text).unwrap_or_else(|| panic!("{text} is a unit"))
    }

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
    fn spellings_read_in_any_case_and_serialize_as_written() {
        for u in Unit::ALL {
            assert_eq!(Unit::parse(&u.as_str().to_uppercase()), Some(*u));
            let json = serde_json::to_string(u).unwrap();
            assert_eq!(json, format!("\"{u}\""));
            assert_eq!(serde_json::from_str::<Unit>(&json).unwrap(), *u);
        }
        for r in Route::ALL {
            assert_eq!(Route::parse(&r.as_str().to_lowercase()), Some(*r));
            assert_eq!(serde_json::to_string(r).unwrap(), format!("\"{r}\""));
        }
        // Files and records carry the canonical spelling only.
        assert!(serde_json::from_str::<Unit>("\"ML\"").is_err());
        assert!(serde_json::from_str::<Route>("\"oral\"").is_err());
        assert_eq!(Unit::parse("drops"), None);
        assert_eq!(Unit::Puffs.dimension(), None);
    }

    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(fmt_num(300.0), "300");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(2.34), "2.34");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333");
    }
}
