//! Action interpretation: free text → catalog entry, dose and route, or unsupported.

use bedside::engine::action::{interpret, search, MIN_CONFIDENCE};

use crate::support::catalog;

/// (what a clinician types, expected order id or None for unsupported)
const TABLE: &[(&str, Option<&str>)] = &[
    // bedside tests and abbreviations
    ("12 lead ecg", Some("ecg_12_lead")),
    ("12-lead ECG", Some("ecg_12_lead")),
    ("EKG", Some("ecg_12_lead")),
    ("ecg stat", Some("ecg_12_lead")),
    ("get an electrocardiogram", Some("ecg_12_lead")),
    ("twelve lead ecg", Some("ecg_12_lead")),
    ("fingerstick glucose", Some("glucose_bedside")),
    ("urine hcg", Some("urine_hcg")),
    ("pregnancy test", Some("urine_hcg")),
    // labs
    ("troponin", Some("hs_troponin")),
    ("trponin", Some("hs_troponin")),
    ("troponni", Some("hs_troponin")),
    ("repeat troponin", Some("repeat_troponin")),
    ("cbc", Some("cbc")),
    ("full blood count", Some("cbc")),
    ("bmp", Some("bmp")),
    ("cmp", Some("cmp")),
    ("lfts", Some("lft")),
    ("liver function tests", Some("lft")),
    ("lipase", Some("lipase")),
    ("lipaes", Some("lipase")),
    ("lactate", Some("lactate")),
    ("blood cultures x2", Some("blood_cultures")),
    ("abg", Some("abg")),
    ("venous blood gas", Some("vbg")),
    ("coags", Some("coag_screen")),
    ("pt/inr", Some("pt_inr")),
    ("type and crossmatch", Some("crossmatch")),
    ("urinalysis", Some("urinalysis")),
    ("d-dimer", Some("d_dimer")),
    ("beta hydroxybutyrate", Some("beta_hydroxybutyrate")),
    // imaging
    ("CXR", Some("cxr_portable")),
    ("chest x-ray", Some("cxr_portable")),
    ("ct head", Some("ct_head_noncontrast")),
    ("non contrast CT head", Some("ct_head_noncontrast")),
    ("cta head and neck", Some("cta_head_neck")),
    ("FAST scan", Some("fast_exam")),
    ("transvaginal ultrasound", Some("transvaginal_us")),
    // medications, with doses and routes
    ("give ASA 325mg PO", Some("aspirin")),
    ("aspirin 324 mg chewed", Some("aspirin")),
    ("asprin", Some("aspirin")),
    ("nitroglycerin 0.4 mg SL", Some("nitroglycerin_sl")),
    ("epinephrine 0.5 mg IM", Some("epinephrine_im")),
    ("IM adrenaline 0.5mg", Some("epinephrine_im")),
    ("naloxone 0.4 mg IV", Some("naloxone")),
    ("narcan", Some("naloxone")),
    ("ceftriaxone 2 g IV", Some("ceftriaxone")),
    ("zofran 4mg iv", Some("ondansetron")),
    ("albuterol neb", Some("albuterol_neb")),
    ("salbutamol nebuliser", Some("albuterol_neb")),
    ("alteplase", Some("alteplase")),
    ("tpa", Some("alteplase")),
    ("pantoprazole 80 mg IV", Some("pantoprazole")),
    ("tylenol", Some("acetaminophen_po")),
    // fluids, airway, procedures
    ("ns bolus 1 L", Some("ns_bolus")),
    ("normal saline 1 litre bolus", Some("ns_bolus")),
    ("lactated ringers 30 ml/kg", Some("lr_bolus")),
    ("non-rebreather", Some("non_rebreather")),
    ("second large bore IV", Some("second_large_bore_iv")),
    ("foley", Some("foley_catheter")),
    ("intubate", Some("rsi_intubation")),
    // exams
    ("examine abdomen", Some("abdominal_exam")),
    ("abdominal examination", Some("abdominal_exam")),
    ("listen to the lungs", Some("lung_auscultation")),
    ("NIHSS", Some("nihss")),
    ("check pupils", Some("pupil_exam")),
    // consults and dispositions
    ("call cardiology", Some("cardiology_consult")),
    ("activate the cath lab", Some("cath_lab_activation")),
    ("admit to icu", Some("admit_icu")),
    ("discharge home", Some("discharge_home")),
    // laterality: part of an order's name, or a qualifier that costs nothing
    ("right sided ECG", Some("ecg_right_sided")),
    ("right-sided ecg", Some("ecg_right_sided")),
    ("V4R", Some("ecg_right_sided")),
    ("right ventricular leads", Some("ecg_right_sided")),
    ("right knee x-ray", Some("extremity_xray")),
    ("xray of the right knee", Some("extremity_xray")),
    ("right upper quadrant ultrasound", Some("ruq_us")),
    ("left heart cath", Some("cardiac_catheterization")),
    ("IV access right arm", Some("peripheral_iv")),
    ("ECG right now", Some("ecg_12_lead")),
    ("aspirin 325 mg PO right away", Some("aspirin")),
    // shocks: unqualified is defibrillation; synchronized is cardioversion
    ("shock", Some("defibrillation")),
    ("shock the patient", Some("defibrillation")),
    ("deliver a shock", Some("defibrillation")),
    ("defibrillate", Some("defibrillation")),
    ("synchronized shock", Some("synchronized_cardioversion")),
    (
        "synchronised cardioversion",
        Some("synchronized_cardioversion"),
    ),
    ("cardiovert", Some("synchronized_cardioversion")),
    // bolus or infusion: a single dose with a unit is the bolus, a rate the infusion
    ("heparin 5000 units IV", Some("heparin_bolus")),
    ("heparin 80 units/kg IV", Some("heparin_bolus")),
    ("heparin bolus", Some("heparin_bolus")),
    ("heparin infusion 18 units/kg/h", Some("heparin_infusion")),
    ("heparin 18 units/kg per hour", Some("heparin_infusion")),
    ("heparin drip", Some("heparin_infusion")),
    ("heparin", Some("heparin_infusion")),
    ("insulin 0.1 units/kg/h", Some("insulin_infusion")),
    (
        "fixed rate insulin infusion 0.1 units/kg IV",
        Some("insulin_infusion"),
    ),
    ("insulin 10 units IV", Some("insulin_regular_bolus")),
    ("d10 at 125 ml/h", Some("dextrose_10_infusion")),
    ("10% dextrose infusion", Some("dextrose_10_infusion")),
    ("d10 250 ml IV", Some("dextrose_10")),
    ("naloxone infusion 0.3 mg/h", Some("naloxone_infusion")),
    ("norepinephrine 5 mcg/min", Some("norepinephrine")),
    ("lidocaine 5 ml", Some("lidocaine_local")),
    ("lidocaine bolus", Some("lidocaine_iv")),
    ("epinephrine 1 mg IV", Some("epinephrine_iv_arrest")),
    ("push dose epi 10 mcg", Some("epinephrine_push_dose")),
    ("oxygen 15 L/min", Some("oxygen_nasal_cannula")),
    // orders added for the case library
    ("tryptase", Some("serum_tryptase")),
    ("mast cell tryptase", Some("serum_tryptase")),
    ("take-home naloxone kit", Some("naloxone_take_home")),
    ("narcan kit", Some("naloxone_take_home")),
    ("naloxone 4 mg intranasal", Some("naloxone")),
    (
        "prescribe two adrenaline auto-injectors",
        Some("epinephrine_autoinjector"),
    ),
    ("epipen prescription", Some("epinephrine_autoinjector")),
    ("epipen", Some("epinephrine_im")),
    ("erythromycin 250 mg IV", Some("erythromycin_iv")),
    ("oncology referral", Some("oncology_consult")),
    ("haematology", Some("hematology_consult")),
    ("chlorpheniramine 10 mg IV", Some("chlorphenamine")),
    ("piriton", Some("chlorphenamine")),
    ("zolpidem 5 mg PO", Some("zolpidem")),
    ("ambien", Some("zolpidem")),
    // filler words in a catalog phrase break ties
    ("call icu", Some("critical_care_consult")),
    ("send to OR", Some("transfer_operating_room")),
    ("fasting", Some("npo")),
    // not understood
    ("make the patient better", None),
    ("xyzzy", None),
    ("", None),
];

#[test]
fn free_text_orders_map_to_the_catalog() {
    let catalog = catalog();
    assert!(TABLE.len() >= 60);
    let mut failures = Vec::new();
    for &(text, expected) in TABLE {
        let got = interpret(text, &catalog);
        let id = got.order.as_ref().map(|m| m.id.as_str());
        if id != expected {
            let closest: Vec<String> = search(text, &catalog, 3)
                .into_iter()
                .map(|m| format!("{} {:.2}", m.id, m.confidence))
                .collect();
            failures.push(format!(
                "{text:?}: got {id:?}, expected {expected:?} (closest: {closest:?})"
            ));
        }
        if let Some(m) = &got.order {
            assert!(m.confidence >= MIN_CONFIDENCE);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} phrasings wrong:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn every_catalog_name_and_synonym_names_its_own_order() {
    let catalog = catalog();
    let mut wrong = Vec::new();
    let mut n = 0;
    for o in catalog.orders() {
        for phrase in std::iter::once(&o.name).chain(&o.synonyms) {
            n += 1;
            let got = interpret(phrase, &catalog);
            let id = got.order.as_ref().map(|m| m.id.as_str());
            if id != Some(o.id.as_str()) {
                wrong.push(format!("{phrase:?} (of {}): got {id:?}", o.id));
            }
        }
    }
    assert!(n > 3000, "{n} phrases");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_rate_is_kept_as_the_dose_per_hour() {
    let catalog = catalog();
    let h = interpret("heparin infusion 18 units/kg/h", &catalog);
    let dose = h.dose.expect("dose kept");
    assert_eq!((dose.amount, dose.unit.as_str()), (18.0, "units/kg"));
    let d = interpret("d10 at 125 ml/hr", &catalog);
    assert_eq!(
        d.dose.map(|d| (d.amount, d.unit.as_str())),
        Some((125.0, "mL"))
    );
    let p = interpret("heparin 18 units/kg per hour IV", &catalog);
    assert_eq!(p.route.map(|r| r.as_str()), Some("IV"));
    assert_eq!(p.dose.map(|d| d.amount), Some(18.0));
}

#[test]
fn doses_and_routes_are_kept_for_rules() {
    let catalog = catalog();
    let a = interpret("give ASA 325mg PO", &catalog);
    let dose = a.dose.expect("dose kept");
    assert_eq!(
        (dose.amount, dose.unit.as_str(), a.route.map(|r| r.as_str())),
        (325.0, "mg", Some("PO"))
    );
    let e = interpret("epinephrine 0.5 mg IM", &catalog);
    assert_eq!(e.dose.map(|d| d.amount), Some(0.5));
    assert_eq!(e.route.map(|r| r.as_str()), Some("IM"));
    let n = interpret("naloxone 2 mg intranasal", &catalog);
    assert_eq!(n.route.map(|r| r.as_str()), Some("IN"));
    let no = interpret("aspirin", &catalog);
    assert_eq!(no.dose, None, "no dose is invented when none was written");
}

#[test]
fn the_catalog_is_large_varied_and_gives_nothing_away() {
    let catalog = catalog();
    assert!(catalog.len() >= 250, "{} orders", catalog.len());
    use bedside::engine::catalog::Category::*;
    for cat in [
        Exam,
        Bedside,
        Lab,
        Imaging,
        Medication,
        Fluid,
        Airway,
        Procedure,
        Consult,
        Disposition,
        Nursing,
    ] {
        assert!(
            catalog
                .orders()
                .iter()
                .filter(|o| o.category == cat)
                .count()
                >= 5,
            "{cat:?}"
        );
    }
    for o in catalog.orders() {
        assert!(
            !o.default_result.trim().is_empty(),
            "{} has a default result",
            o.id
        );
    }
}

#[test]
fn search_suggests_entries_as_you_type() {
    let catalog = catalog();
    let ids = |q: &str| {
        search(q, &catalog, 5)
            .into_iter()
            .map(|m| m.id)
            .collect::<Vec<_>>()
    };
    assert!(
        ids("trop").contains(&"hs_troponin".to_string()),
        "{:?}",
        ids("trop")
    );
    assert!(ids("asa").contains(&"aspirin".to_string()));
    assert!(ids("cxr").contains(&"cxr_portable".to_string()));
    assert!(ids("").is_empty());
    // the word being typed counts even when it is a laterality or filler word
    assert!(ids("v4r").contains(&"ecg_right_sided".to_string()));
    assert!(
        ids("ecg right").contains(&"ecg_right_sided".to_string()),
        "{:?}",
        ids("ecg right")
    );
    assert!(
        ids("right sided e").contains(&"ecg_right_sided".to_string()),
        "{:?}",
        ids("right sided e")
    );
}
