//! Guideline plays: each case played as a clinician following the published guideline would
//! play it, in everyday wording (UK and US variants where the wording or the drugs differ),
//! and played once with a common harmful action. The plays in `tests/fixtures/guideline_plays/`
//! are written from the guideline named beside each, not from the case file: a correct play
//! must meet every critical item with no harm, and a harmful play must register its harm.
//! Events must follow real care: token care does not make a patient better.

use std::sync::Arc;

use bedside::engine::case::Case;
use bedside::engine::encounter::{Config, Encounter, EndReason, Input, Turn};
use bedside::engine::score::{score, Mark, Scorecard};

use crate::support::{case, case_paths, catalog, load, root};

enum Expect {
    /// Every critical item met, no harm, not ended by a terminal event; plus these items met
    /// and these phases reached.
    Correct {
        also: &'static [&'static str],
        reaches: &'static [&'static str],
    },
    /// These harm items are marked as harms.
    Harm(&'static [&'static str]),
    /// These expected items are missed (the play does not deserve them).
    Missed(&'static [&'static str]),
    /// These items are met and these phases reached, whatever else the play gets wrong (a
    /// late play that still treats the deterioration it caused correctly).
    Met {
        items: &'static [&'static str],
        reaches: &'static [&'static str],
    },
}

struct Play {
    case: &'static str,
    /// `tests/fixtures/guideline_plays/<case>.<file>.jsonl`
    file: &'static str,
    /// The guideline the play follows.
    guideline: &'static str,
    expect: Expect,
}

const fn correct(case: &'static str, file: &'static str, guideline: &'static str) -> Play {
    Play {
        case,
        file,
        guideline,
        expect: Expect::Correct {
            also: &[],
            reaches: &[],
        },
    }
}

const PLAYS: &[Play] = &[
    // Inferior STEMI with RV involvement, primary PCI available.
    Play {
        expect: Expect::Correct {
            also: &["mk_p2y12", "mk_anticoagulation", "mk_right_sided_ecg"],
            reaches: &["reperfusion"],
        },
        ..correct(
            "acs-inferior-stemi",
            "uk",
            "ESC 2023 ACS: ECG ≤ 10 min, aspirin 300 mg, ticagrelor 180 mg, UFH, primary PCI",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_p2y12", "mk_anticoagulation"],
            reaches: &["reperfusion"],
        },
        ..correct(
            "acs-inferior-stemi",
            "us",
            "ACC/AHA STEMI: aspirin 162–325 mg chewed, clopidogrel 600 mg, heparin 70 units/kg, cath lab",
        )
    },
    correct(
        "acs-inferior-stemi",
        "iv-aspirin",
        "ESC 2023 ACS: aspirin 75–250 mg IV when oral is not possible",
    ),
    Play {
        expect: Expect::Harm(&["harm_iv_beta_blocker"]),
        ..correct(
            "acs-inferior-stemi",
            "harm-beta-blocker",
            "ESC 2023: no IV beta-blocker with bradycardia, hypotension or RV infarction",
        )
    },
    Play {
        expect: Expect::Harm(&["harm_routine_oxygen"]),
        ..correct(
            "acs-inferior-stemi",
            "harm-oxygen",
            "ESC 2023 Class III: routine oxygen with SpO2 ≥ 90%",
        )
    },
    // Sepsis from severe community-acquired pneumonia.
    Play {
        expect: Expect::Correct {
            also: &["pc_oxygen", "pc_urine_output", "sbp_critical_care", "prof_goals_of_care"],
            reaches: &["improving"],
        },
        ..correct(
            "sepsis-pneumonia",
            "uk",
            "NICE NG51 (Sepsis Six, 500 mL boluses) and NG138 (co-amoxiclav IV + macrolide)",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_oxygen", "pc_urine_output", "mk_atypical_cover", "sbp_critical_care"],
            reaches: &["improving"],
        },
        ..correct(
            "sepsis-pneumonia",
            "us",
            "SSC 2021 hour-1 bundle; ATS/IDSA 2019 ceftriaxone + azithromycin",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_oral_antibiotics_only", "sbp_harm_ward_admission"]),
        ..correct(
            "sepsis-pneumonia",
            "harm-oral-ward",
            "NICE NG138/ATS-IDSA 2019: IV antibiotics and ICU/HDU for severe CAP",
        )
    },
    // Acute severe asthma in a 7-year-old, 24 kg.
    Play {
        expect: Expect::Correct {
            also: &["mk_salbutamol_dose", "pc_ipratropium", "mk_steroid_dose", "sbp_paediatric_referral"],
            reaches: &["improving"],
        },
        ..correct(
            "paediatric-asthma",
            "uk",
            "BTS/SIGN 2019: O2, salbutamol 5 mg + ipratropium 250 mcg repeated, prednisolone 30–40 mg",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_ipratropium", "mk_steroid_dose", "sbp_paediatric_referral"],
            reaches: &["improving"],
        },
        ..correct(
            "paediatric-asthma",
            "us",
            "NAEPP/GINA 2024: albuterol-ipratropium every 20 min, dexamethasone 0.6 mg/kg",
        )
    },
    Play {
        expect: Expect::Harm(&["sbp_harm_discharge"]),
        ..correct(
            "paediatric-asthma",
            "harm-discharge",
            "BTS/SIGN 2019: admit if SpO2 < 92% after initial treatment",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_magnesium_adult_dose"]),
        ..correct(
            "paediatric-asthma",
            "harm-magnesium",
            "BTS/SIGN 2019, BNFC: magnesium sulfate 40 mg/kg (max 2 g)",
        )
    },
    // Diabetic ketoacidosis in a 58 kg adult.
    Play {
        expect: Expect::Correct {
            also: &["pc_cardiac_monitoring", "pc_hourly_monitoring", "mk_basal_insulin", "sbp_level_of_care"],
            reaches: &[],
        },
        ..correct(
            "dka-young-adult",
            "uk",
            "JBDS-IP 2023: 0.9% saline 1 L/h, FRIII 0.1 units/kg/h, KCl 40 mmol/L, continue glargine",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_cardiac_monitoring", "pc_hourly_monitoring", "mk_basal_insulin", "sbp_level_of_care"],
            reaches: &[],
        },
        ..correct(
            "dka-young-adult",
            "us",
            "ADA/EASD 2024 consensus: isotonic fluid, insulin 0.1 units/kg/h, KCl 20–30 mEq/L",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_discharge"]),
        ..correct(
            "dka-young-adult",
            "harm-discharge",
            "JBDS-IP 2023: DKA is treated in hospital until resolved",
        )
    },
    // Doses the guidelines set apart.
    correct(
        "dka-young-adult",
        "uk-rate",
        "JBDS-IP 2023: FRIII prescribed as units per hour (6 units/h for 58 kg)",
    ),
    Play {
        expect: Expect::Missed(&["pc_insulin_infusion"]),
        ..correct(
            "dka-young-adult",
            "hhs-rate",
            "JBDS-IP 2023: 0.05 units/kg/h is the HHS rate, too low for DKA",
        )
    },
    Play {
        expect: Expect::Missed(&["mk_p2y12"]),
        ..correct(
            "acs-inferior-stemi",
            "clopidogrel-300",
            "ESC 2023, ACC/AHA 2025: clopidogrel 600 mg before primary PCI, not 300 mg",
        )
    },
    // The engine semantics of issue 17: results back before, totals, rates, puffs, bags.
    Play {
        expect: Expect::Correct {
            also: &["mk_salbutamol_dose"],
            reaches: &["improving"],
        },
        ..correct(
            "paediatric-asthma",
            "spacer",
            "GINA 2024, BTS/SIGN 2019: salbutamol 10 puffs via spacer",
        )
    },
    Play {
        expect: Expect::Met {
            items: &["pc_magnesium_weight_dose"],
            reaches: &["life_threatening", "improving"],
        },
        ..correct(
            "paediatric-asthma",
            "magnesium-by-weight",
            "BTS/SIGN 2019, BNFC: life-threatening asthma, IV magnesium sulfate 40 mg/kg over 20 min",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_atypical_cover"],
            reaches: &["improving"],
        },
        ..correct(
            "sepsis-pneumonia",
            "mixed-boluses",
            "NICE NG138: co-amoxiclav + clarithromycin IV; SSC 2021: 30 mL/kg as boluses of any crystalloid",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_atypical_cover", "pc_oxygen"],
            reaches: &["improving"],
        },
        ..correct(
            "sepsis-pneumonia",
            "uk-cefuroxime",
            "BTS CAP 2009: cefuroxime 1.5 g IV + clarithromycin 500 mg IV; NICE NG51: reassessed boluses",
        )
    },
    Play {
        expect: Expect::Missed(&["pc_fluid_bolus"]),
        ..correct(
            "sepsis-pneumonia",
            "one-litre",
            "SSC 2021: 30 mL/kg (about 2.3 L for 78 kg); 1 L is not enough",
        )
    },
    correct(
        "dka-young-adult",
        "uk-kcl-in-bag",
        "JBDS-IP 2023: KCl 40 mmol in each litre of 0.9% saline",
    ),
    correct(
        "dka-young-adult",
        "uk-kcl-4h",
        "JBDS-IP 2023: FRIII 6 units/h; KCl 40 mmol in 1 L 0.9% saline over 4 h",
    ),
    correct(
        "dka-young-adult",
        "us-kcl-rate",
        "ADA/EASD/JBDS 2024 consensus: KCl 10 mEq/h by pump with the insulin drip",
    ),
    Play {
        expect: Expect::Missed(&["pc_potassium_before_insulin"]),
        ..correct(
            "dka-young-adult",
            "insulin-before-gas-result",
            "JBDS-IP 2023: know the potassium before starting insulin",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_insulin_before_potassium"]),
        ..correct(
            "dka-young-adult",
            "insulin-before-gas-result",
            "JBDS-IP 2023: a gas sent but not back is not a potassium",
        )
    },
    Play {
        expect: Expect::Missed(&["pc_insulin_infusion"]),
        ..correct(
            "dka-young-adult",
            "insulin-without-rate",
            "JBDS-IP 2023: FRIII is prescribed as units per hour; \"6 units\" is not a rate",
        )
    },
    Play {
        expect: Expect::Missed(&["mk_anticoagulation"]),
        ..correct(
            "acs-inferior-stemi",
            "heparin-5000",
            "ESC 2023 ACS: UFH 70–100 units/kg at primary PCI; 5000 units is 55 units/kg for 91 kg",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_p2y12", "mk_anticoagulation"],
            reaches: &["reperfusion"],
        },
        ..correct(
            "acs-inferior-stemi",
            "us-enoxaparin",
            "ESC 2023 ACS: enoxaparin 0.5 mg/kg IV at primary PCI",
        )
    },
    // The other seven cases: one correct play in everyday wording, one common harm.
    Play {
        expect: Expect::Correct {
            also: &["pc_glucose", "sbp_stroke_team", "pc_thrombolysis", "sbp_vessel_imaging"],
            reaches: &[],
        },
        ..correct(
            "stroke-thrombolysis",
            "uk",
            "NICE NG128/TA990, RCP 2023: CT, BP < 185/110 with labetalol, tenecteplase 0.25 mg/kg",
        )
    },
    Play {
        expect: Expect::Harm(&["harm_lytic_before_ct"]),
        ..correct(
            "stroke-thrombolysis",
            "harm-lysis-before-ct",
            "AHA/ASA 2019, NICE NG128: imaging before thrombolysis",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_ppi", "pc_rectal_exam", "mk_blatchford", "mk_restrictive_threshold"],
            reaches: &[],
        },
        ..correct(
            "upper-gi-bleed",
            "uk",
            "NICE CG141: resuscitate, restrictive transfusion, OGD within 24 h, no PPI before endoscopy",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["mk_ppi", "pc_bloods"],
            reaches: &[],
        },
        ..correct(
            "upper-gi-bleed",
            "us",
            "ACG 2021: resuscitate, transfuse below 7 g/dL, IV PPI, EGD within 24 h",
        )
    },
    Play {
        expect: Expect::Harm(&["harm_nsaid"]),
        ..correct("upper-gi-bleed", "harm-nsaid", "NICE CG141/ACG 2021: stop NSAIDs")
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_high_flow_oxygen", "pc_repeat_epinephrine", "mk_tryptase", "mk_biphasic_observation", "sbp_allergy_referral"],
            reaches: &[],
        },
        ..correct(
            "anaphylaxis-peanut",
            "uk",
            "Resuscitation Council UK 2021: adrenaline 500 micrograms IM, repeat at 5 min, O2, fluid",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_adjunct_instead_of_epinephrine"]),
        ..correct(
            "anaphylaxis-peanut",
            "harm-antihistamine-first",
            "RCUK 2021: antihistamines and steroids are not first-line",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_glucose", "pc_monitoring", "mk_coingestant_screen", "mk_resedation", "sbp_harm_reduction"],
            reaches: &[],
        },
        ..correct(
            "opioid-overdose",
            "uk",
            "RCUK/BNF: ventilate, naloxone 400 micrograms titrated; take-home naloxone",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_harm_flumazenil"]),
        ..correct(
            "opioid-overdose",
            "harm-flumazenil",
            "Toxbase/AHA: no flumazenil in undifferentiated overdose",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["pc_crossmatch", "pc_bedside_scan", "mk_anti_d"],
            reaches: &[],
        },
        ..correct(
            "ectopic-pregnancy",
            "uk",
            "NICE NG126, RCOG GTG 21: pregnancy test, resuscitate, urgent gynaecology for surgery",
        )
    },
    Play {
        expect: Expect::Harm(&["mk_methotrexate_harm"]),
        ..correct(
            "ectopic-pregnancy",
            "harm-methotrexate",
            "NICE NG126: no methotrexate with significant pain or haemodynamic instability",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["ics_perception", "ics_invitation", "sbp_next_steps", "sbp_palliative_referral"],
            reaches: &["planning"],
        },
        ..correct("breaking-bad-news", "uk", "SPIKES (Baile 2000); NICE NG12 / CG138")
    },
    Play {
        expect: Expect::Harm(&["harm_false_reassurance"]),
        ..correct(
            "breaking-bad-news",
            "harm-false-reassurance",
            "SPIKES: no false reassurance",
        )
    },
    Play {
        expect: Expect::Correct {
            also: &["ics_empathy", "pc_safe_environment", "mk_safety_plan", "pc_lethal_means_counselling"],
            reaches: &[],
        },
        ..correct(
            "suicide-risk-assessment",
            "us",
            "ASQ / C-SSRS, Joint Commission NPSG 15.01.01; NICE NG225: ask directly, observe, psychiatry",
        )
    },
    Play {
        expect: Expect::Harm(&["pc_discharge_harm", "pc_sedative_harm"]),
        ..correct(
            "suicide-risk-assessment",
            "harm-discharge",
            "NICE NG225: no discharge or hypnotics at high acute risk",
        )
    },
];

fn input_lines(path: &std::path::Path) -> Vec<Input> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Input::from_play_line(l).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn run(c: &Arc<Case>, inputs: Vec<Input>) -> Encounter {
    let mut enc = Encounter::new(c.clone(), catalog(), Config::human());
    for input in inputs {
        if enc.is_ended() {
            break;
        }
        // A closing encounter takes only the end form.
        if enc.takes(&input) {
            enc.apply(input).unwrap();
        }
    }
    enc
}

fn marks(card: &Scorecard, mark: Mark) -> Vec<String> {
    card.items
        .iter()
        .filter(|i| i.mark() == mark)
        .map(|i| i.id.clone())
        .collect()
}

/// Problems with one play, empty when it does what its guideline expects.
fn check(play: &Play) -> Vec<String> {
    let c = case(play.case);
    let path = root()
        .join("tests/fixtures/guideline_plays")
        .join(format!("{}.{}.jsonl", play.case, play.file));
    let enc = run(&c, input_lines(&path));
    let st = enc.state();
    let card = score(&c, st, None, &[]);
    let label = format!("{}.{} ({})", play.case, play.file, play.guideline);
    let met = marks(&card, Mark::Met);
    let harms = marks(&card, Mark::Harm);
    let missed = marks(&card, Mark::Missed);
    let mut problems = Vec::new();
    match &play.expect {
        Expect::Correct { also, reaches } => {
            let critical_missed: Vec<&String> = card
                .items
                .iter()
                .filter(|i| i.critical && i.mark() == Mark::Missed)
                .map(|i| &i.id)
                .collect();
            if !critical_missed.is_empty() {
                problems.push(format!(
                    "{label}: critical items missed {critical_missed:?}"
                ));
            }
            if !harms.is_empty() {
                problems.push(format!("{label}: harms {harms:?}"));
            }
            for id in *also {
                if !met.iter().any(|m| m == id) {
                    problems.push(format!("{label}: {id} not met"));
                }
            }
            let visited: Vec<&str> = st.phases_visited.iter().map(|v| v.phase.as_str()).collect();
            for p in *reaches {
                if !visited.contains(p) {
                    problems.push(format!("{label}: never reached {p} (visited {visited:?})"));
                }
            }
            if matches!(
                st.ended.as_ref().map(|e| e.reason),
                Some(EndReason::Terminal)
            ) {
                problems.push(format!("{label}: ended by a terminal event"));
            }
        }
        Expect::Harm(ids) => {
            for id in *ids {
                if !harms.iter().any(|h| h == id) {
                    problems.push(format!(
                        "{label}: harm {id} not registered (harms {harms:?})"
                    ));
                }
            }
        }
        Expect::Missed(ids) => {
            for id in *ids {
                if !missed.iter().any(|h| h == id) {
                    problems.push(format!("{label}: {id} should be missed"));
                }
            }
        }
        Expect::Met { items, reaches } => {
            for id in *items {
                if !met.iter().any(|m| m == id) {
                    problems.push(format!("{label}: {id} not met"));
                }
            }
            let visited: Vec<&str> = st.phases_visited.iter().map(|v| v.phase.as_str()).collect();
            for p in *reaches {
                if !visited.contains(p) {
                    problems.push(format!("{label}: never reached {p} (visited {visited:?})"));
                }
            }
        }
    }
    problems
}

#[test]
fn guideline_plays_meet_every_critical_item_and_harmful_plays_register_their_harm() {
    let problems: Vec<String> = PLAYS.iter().flat_map(check).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_shipped_case_has_a_correct_and_a_harmful_guideline_play() {
    for path in case_paths() {
        let id = load(&path).meta.id.clone();
        let of_case = || PLAYS.iter().filter(|p| p.case == id);
        assert!(
            of_case().any(|p| matches!(p.expect, Expect::Correct { .. })),
            "{id}: no correct guideline play"
        );
        assert!(
            of_case().any(|p| matches!(p.expect, Expect::Harm(_))),
            "{id}: no harmful guideline play"
        );
    }
}

// Events follow real care.

fn turn(actions: &[&str]) -> Input {
    Input::Turn(Turn {
        speak: String::new(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        eos: false,
    })
}

fn wait(minutes: u32) -> Input {
    Input::Wait { minutes }
}

fn reached(enc: &Encounter, phase: &str) -> Option<u32> {
    enc.state()
        .phases_visited
        .iter()
        .find(|v| v.phase == phase)
        .map(|v| v.time_s / 60)
}

#[test]
fn sepsis_does_not_improve_on_a_small_bolus_and_oral_antibiotics() {
    let c = case("sepsis-pneumonia");
    let enc = run(
        &c,
        vec![
            turn(&[
                "peripheral IV access",
                "0.9% saline 250 mL",
                "co-amoxiclav 625 mg PO",
            ]),
            wait(40),
        ],
    );
    assert_eq!(reached(&enc, "improving"), None);
    assert!(
        reached(&enc, "septic_shock").is_some(),
        "untreated sepsis progresses"
    );
}

#[test]
fn sepsis_improves_only_once_fluids_add_up_and_iv_antibiotics_are_in() {
    let c = case("sepsis-pneumonia");
    // One 500 mL bolus and IV antibiotics: resuscitation under way, not yet better.
    let enc = run(
        &c,
        vec![
            turn(&[
                "peripheral IV access",
                "Hartmann's 500 mL bolus",
                "blood cultures",
                "co-amoxiclav 1.2 g IV",
            ]),
            wait(20),
        ],
    );
    assert_eq!(reached(&enc, "improving"), None);
    // A full 30 mL/kg: better about 15 minutes later, and the saturation shown matches
    // whether oxygen is on.
    let enc = run(
        &c,
        vec![
            turn(&[
                "peripheral IV access",
                "Hartmann's 2.3 L bolus",
                "blood cultures",
                "co-amoxiclav 1.2 g IV",
            ]),
            wait(20),
        ],
    );
    assert!(reached(&enc, "improving").is_some());
    assert!(
        enc.state().vitals.spo2.unwrap() < 92,
        "no oxygen given: not 95% on air"
    );
    let enc = run(
        &c,
        vec![
            turn(&[
                "oxygen 2 L/min nasal cannula",
                "peripheral IV access",
                "Hartmann's 2.3 L bolus",
                "blood cultures",
                "co-amoxiclav 1.2 g IV",
            ]),
            wait(20),
        ],
    );
    assert!(reached(&enc, "improving").is_some());
    assert_eq!(enc.state().vitals.spo2, Some(95));
}

#[test]
fn sepsis_given_500_ml_boluses_every_15_minutes_is_not_punished_for_pacing() {
    // NICE NG51: 500 mL over < 15 minutes, reassess, repeat; 2 L takes about an hour.
    let c = case("sepsis-pneumonia");
    let mut inputs = vec![turn(&[
        "oxygen 2 L/min nasal cannula",
        "peripheral IV access",
        "Hartmann's 500 mL bolus",
        "blood cultures",
        "co-amoxiclav 1.2 g IV",
    ])];
    for _ in 0..3 {
        inputs.push(wait(13));
        inputs.push(turn(&["Hartmann's 500 mL bolus"]));
    }
    inputs.push(wait(16));
    let enc = run(&c, inputs);
    assert_eq!(reached(&enc, "septic_shock"), None);
    assert!(reached(&enc, "improving").is_some());
}

#[test]
fn asthma_does_not_improve_on_a_steroid_and_one_nebuliser() {
    let c = case("paediatric-asthma");
    let enc = run(
        &c,
        vec![
            turn(&[
                "oxygen via face mask",
                "salbutamol 5 mg nebulised",
                "prednisolone 30 mg",
            ]),
            wait(25),
        ],
    );
    assert_eq!(reached(&enc, "improving"), None, "steroids act over hours");
    // A second nebuliser: better within minutes.
    let mut inputs = vec![
        turn(&[
            "oxygen via face mask",
            "salbutamol 5 mg nebulised",
            "prednisolone 30 mg",
        ]),
        wait(15),
        turn(&["salbutamol 5 mg nebulised"]),
        wait(6),
    ];
    let enc = run(&c, std::mem::take(&mut inputs));
    assert!(reached(&enc, "improving").is_some());
}

#[test]
fn dka_responds_about_an_hour_into_treatment() {
    let c = case("dka-young-adult");
    let start = vec![
        turn(&[
            "peripheral IV access",
            "0.9% saline 1 L over 1 hour",
            "venous blood gas",
        ]),
        wait(10),
        turn(&[
            "fixed rate insulin infusion 0.1 units/kg/hr",
            "potassium chloride 40 mEq IV",
        ]),
    ];
    let mut early = start.clone();
    early.push(wait(20));
    assert_eq!(reached(&run(&c, early), "improving"), None);
    let mut later = start;
    later.push(wait(45));
    let at = reached(&run(&c, later), "improving").expect("improves");
    assert!((45..=70).contains(&at), "improving at minute {at}");
}

#[test]
fn stemi_iv_beta_blocker_shows_on_the_monitor() {
    let c = case("acs-inferior-stemi");
    let enc = run(
        &c,
        vec![
            turn(&["peripheral IV access", "metoprolol 5 mg IV"]),
            wait(4),
        ],
    );
    let v = &enc.state().vitals;
    assert!(v.hr.unwrap() < 50 && v.sbp.unwrap() < 90, "{v:?}");
}

// Who says a fact: in the speaker's own voice.

/// A fact the patient can tell is not about the patient in the third person ("He's got
/// diabetes"), and a fact in the first person ("I smoked for forty years") is not also given to
/// a relative, who would then say it of herself.
#[test]
fn every_fact_is_in_the_voice_of_whoever_can_tell_it() {
    let mut bad = Vec::new();
    for path in case_paths() {
        let c = load(&path);
        for f in &c.facts {
            // What each speaker says: their own variant (by `speaker`, in any state), else
            // the answer.
            let said_by = |speaker: &str| {
                f.variants
                    .iter()
                    .find(|v| {
                        v.speaker.as_deref() == Some(speaker)
                            && v.phase.is_none()
                            && v.when.is_none()
                    })
                    .map_or(f.answer.as_str(), |v| v.answer.as_str())
                    .trim_start()
            };
            let third = |a: &str| {
                [
                    "He ", "He's ", "He'd ", "His ", "She ", "She's ", "She'd ", "Her ",
                ]
                .iter()
                .any(|p| a.starts_with(p))
            };
            let first = |a: &str| {
                ["I ", "I'm ", "I've ", "I'd ", "My "]
                    .iter()
                    .any(|p| a.starts_with(p))
            };
            let by_patient = f.speakers.iter().any(|s| s == "patient");
            if by_patient && third(said_by("patient")) {
                bad.push(format!(
                    "{}: {} is third person for the patient",
                    c.meta.id, f.id
                ));
            }
            for other in f.speakers.iter().filter(|s| *s != "patient") {
                if by_patient && first(said_by(other)) {
                    bad.push(format!(
                        "{}: {} is in the patient's first person but {other} may say it",
                        c.meta.id, f.id
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn lines_of(enc: &Encounter, from: usize) -> Vec<(String, String)> {
    enc.record().log[from..]
        .iter()
        .filter_map(|e| match &e.kind {
            bedside::engine::encounter::EntryKind::ActorSaid { speaker, text, .. } => {
                Some((speaker.clone(), text.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn sepsis_wife_and_patient_each_speak_for_themselves() {
    let c = case("sepsis-pneumonia");
    let mut enc = Encounter::new(c, catalog(), Config::human());
    let ask = |enc: &mut Encounter, q: &str| {
        let from = enc.record().log.len();
        enc.apply(Input::Turn(Turn {
            speak: q.into(),
            actions: vec![],
            eos: false,
        }))
        .unwrap();
        lines_of(enc, from)
    };
    let pmh = ask(&mut enc, "What medical problems does he have?");
    assert!(
        pmh.iter()
            .any(|(s, t)| s == "wife" && t.starts_with("He's got")),
        "{pmh:?}"
    );
    let smoking = ask(&mut enc, "Margaret, does he smoke?");
    assert!(
        smoking
            .iter()
            .all(|(s, t)| !(s == "wife" && t.starts_with("I smoked"))),
        "{smoking:?}"
    );
}
