//! Physiology the shipped results must respect, written from the equations, not from the cases:
//! every blood gas satisfies Henderson–Hasselbalch, a stated anion gap adds up, the DKA gases
//! show the respiratory compensation of a pure metabolic acidosis (Winter's formula), and once
//! insulin has run without potassium no result still shows the admission potassium.

use bedside::engine::case::ResultOverride;
use bedside::engine::encounter::{Config, Encounter, EntryKind, Input, Turn};

use crate::support::{case, case_paths, catalog, load};

/// Every case result text (all variants) and every catalog default result, with a label.
fn all_result_texts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in case_paths() {
        let c = load(&path);
        for (order, result) in &c.results {
            let texts: Vec<String> = match result {
                ResultOverride::Text(t) => vec![t.clone()],
                ResultOverride::Variants(vs) => vs.iter().map(|v| v.text.clone()).collect(),
            };
            for (i, t) in texts.into_iter().enumerate() {
                out.push((format!("{}: results.{order}[{i}]", c.meta.id), t));
            }
        }
    }
    for o in catalog().orders() {
        out.push((format!("catalog: {}", o.id), o.default_result.clone()));
    }
    out
}

/// The number right after `label ` in `text` ("pH 7.17" → 7.17), with the word after it.
fn number_after<'a>(text: &'a str, label: &str) -> Option<(f64, &'a str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find(label) {
        let start = from + at;
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &text[start + label.len()..];
        if before_ok {
            if let Some(rest) = rest.strip_prefix(' ') {
                let num: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                if let Ok(v) = num.trim_end_matches('.').parse::<f64>() {
                    let after = rest[num.len()..].trim_start();
                    let unit = after
                        .split(|c: char| c.is_whitespace() || c == ',' || c == ')')
                        .next()
                        .unwrap_or("");
                    return Some((v, unit));
                }
            }
        }
        from = start + label.len();
    }
    None
}

struct Gas {
    ph: f64,
    pco2_mmhg: f64,
    hco3: f64,
}

/// A blood gas in a result text: pH, pCO2 (or PaCO2) in mmHg or kPa, and HCO3.
fn gas(text: &str) -> Option<Gas> {
    let (ph, _) = number_after(text, "pH")?;
    let (pco2, unit) = number_after(text, "pCO2").or_else(|| number_after(text, "PaCO2"))?;
    let (hco3, _) = number_after(text, "HCO3")?;
    let pco2_mmhg = match unit {
        "kPa" => pco2 * 7.50,
        "mmHg" => pco2,
        other => panic!("pCO2 unit {other:?} in {text:?}"),
    };
    Some(Gas {
        ph,
        pco2_mmhg,
        hco3,
    })
}

/// Henderson–Hasselbalch for the bicarbonate buffer: pH = 6.1 + log10(HCO3 / (0.03 × pCO2)).
fn henderson_hasselbalch(pco2_mmhg: f64, hco3: f64) -> f64 {
    6.1 + (hco3 / (0.03 * pco2_mmhg)).log10()
}

#[test]
fn the_equations_themselves() {
    // A normal arterial gas: HCO3 24, PaCO2 40 mmHg → pH 7.40.
    assert!((henderson_hasselbalch(40.0, 24.0) - 7.40).abs() < 0.005);
    let g = gas("ABG: pH 7.19, PaO2 108 mmHg (14.4 kPa), PaCO2 19 mmHg (2.5 kPa), HCO3 7 mmol/L")
        .unwrap();
    assert_eq!((g.ph, g.pco2_mmhg, g.hco3), (7.19, 19.0, 7.0));
    let g = gas("pH 7.27, pCO2 4.1 kPa (31 mmHg), HCO3 14 mmol/L").unwrap();
    assert!((g.pco2_mmhg - 30.75).abs() < 1e-9);
    assert!(gas("Troponin 12 ng/L; pH not measured.").is_none());
}

#[test]
fn every_shipped_blood_gas_satisfies_henderson_hasselbalch() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for (label, text) in all_result_texts() {
        let Some(g) = gas(&text) else { continue };
        checked += 1;
        let expected = henderson_hasselbalch(g.pco2_mmhg, g.hco3);
        if (expected - g.ph).abs() > 0.03 {
            bad.push(format!(
                "{label}: pH {} but HCO3 {} and pCO2 {:.1} mmHg give {expected:.2}",
                g.ph, g.hco3, g.pco2_mmhg
            ));
        }
    }
    assert!(
        checked >= 30,
        "only {checked} gases found: the parser missed some"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_gas_quoting_pco2_in_both_units_converts_at_7_5_mmhg_per_kpa() {
    let mut bad = Vec::new();
    for (label, text) in all_result_texts() {
        for name in ["pCO2", "PaCO2", "PaO2"] {
            let Some((v, unit)) = number_after(&text, name) else {
                continue;
            };
            // "PaCO2 19 mmHg (2.5 kPa)" or "pCO2 4.1 kPa (31 mmHg)".
            let at = text.find(&format!("{name} {v}")).unwrap_or(0);
            let tail = &text[at..];
            let Some(open) = tail.find('(') else { continue };
            if open > name.len() + 16 {
                continue;
            }
            let inner: String = tail[open + 1..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let Ok(other) = inner.parse::<f64>() else {
                continue;
            };
            let (mmhg, kpa) = match unit {
                "mmHg" => (v, other),
                "kPa" => (other, v),
                _ => continue,
            };
            if (mmhg / 7.50 - kpa).abs() > 0.11 {
                bad.push(format!("{label}: {name} {mmhg} mmHg is not {kpa} kPa"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_stated_anion_gap_is_sodium_minus_chloride_and_bicarbonate() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for (label, text) in all_result_texts() {
        let Some((gap, _)) = number_after(&text, "anion gap") else {
            continue;
        };
        let (Some((na, _)), Some((cl, _)), Some((hco3, _))) = (
            number_after(&text, "Na"),
            number_after(&text, "Cl"),
            number_after(&text, "HCO3"),
        ) else {
            continue;
        };
        checked += 1;
        if (na - cl - hco3 - gap).abs() > 1.0 {
            bad.push(format!(
                "{label}: Na {na} − Cl {cl} − HCO3 {hco3} = {}, stated {gap}",
                na - cl - hco3
            ));
        }
    }
    assert!(checked >= 5, "only {checked} anion gaps found");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn dka_gases_show_the_compensation_of_a_pure_metabolic_acidosis() {
    // Winter's formula: expected pCO2 = 1.5 × HCO3 + 8 ± 2 mmHg (venous pCO2 runs a little
    // higher than arterial; ±2 is the textbook band and the case keeps within it).
    let c = case("dka-young-adult");
    let mut checked = 0;
    for key in ["vbg", "abg"] {
        let Some(ResultOverride::Variants(vs)) = c.results.get(key) else {
            panic!("the DKA case has {key} variants");
        };
        for v in vs {
            let g = gas(&v.text).expect("a gas");
            checked += 1;
            let expected = 1.5 * g.hco3 + 8.0;
            assert!(
                (g.pco2_mmhg - expected).abs() <= 2.0,
                "{key}: pCO2 {} mmHg, Winter's {expected}: {}",
                g.pco2_mmhg,
                v.text
            );
            // Moderate-to-severe DKA (JBDS/ADA): a low bicarbonate and pH < 7.3 throughout.
            assert!(g.ph < 7.3 && g.hco3 < 15.0, "{}", v.text);
        }
    }
    assert!(checked >= 8);
}

fn turn(actions: &[&str]) -> Input {
    Input::Turn(Turn {
        speak: String::new(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        eos: false,
    })
}

fn results_since(enc: &Encounter, from: usize) -> Vec<(String, String)> {
    enc.record().log[from..]
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Result { order_id, text, .. } => Some((order_id.clone(), text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn dka_after_insulin_without_potassium_no_result_shows_the_admission_potassium() {
    let c = case("dka-young-adult");
    let mut enc = Encounter::new(c, catalog(), Config::human());
    enc.apply(turn(&[
        "peripheral IV access",
        "0.9% saline 1000 mL IV over 1 hour",
        "fixed rate insulin infusion 0.1 units/kg IV",
    ]))
    .unwrap();
    // The hypokalaemia notice comes 20 minutes into insulin without potassium.
    enc.apply(Input::Wait { minutes: 25 }).unwrap();
    let from = enc.record().log.len();
    enc.apply(turn(&[
        "venous blood gas",
        "arterial blood gas",
        "12 lead ECG",
        "electrolytes",
        "bmp",
        "cmp",
    ]))
    .unwrap();
    enc.apply(Input::Wait { minutes: 32 }).unwrap();
    let fast = results_since(&enc, from);
    assert_eq!(fast.len(), 4, "{fast:?}");
    for (order, text) in &fast {
        if order == "ecg_12_lead" {
            assert!(text.contains("U waves"), "{text}");
        } else {
            assert!(text.contains("K 2.9"), "{order}: {text}");
        }
    }
    // Potassium started late: still low while it is replaced, never the admission value again.
    enc.apply(turn(&[
        "potassium chloride 40 mEq IV",
        "venous blood gas",
        "12 lead ECG",
    ]))
    .unwrap();
    enc.apply(Input::Wait { minutes: 12 }).unwrap();
    let all = results_since(&enc, from);
    assert!(all.len() >= 8, "{all:?}");
    for (order, text) in &all {
        assert!(
            !text.contains("K 3.8") && !text.contains("K 4.1"),
            "{order}: {text}"
        );
    }
}
