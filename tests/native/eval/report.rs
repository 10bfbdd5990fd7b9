//! The comparison report (`eval::report`, `eval::sources`, `eval::html`, `bedside-cli report`):
//! item difficulty, the static-vs-dynamic gap on the same items, judge agreement and the
//! self-judging flag, key-action times, filters and repeat numbering against rows built by
//! hand; and a fixture set of real scored exports (two trainees, two models, one of them also
//! static, three cases),
//! generated from the project's plays, read the way the browser and the CLI read them.

use std::collections::BTreeMap;
use std::sync::Arc;

use bedside::engine::case::{Case, Competency};
use bedside::engine::encounter::Config;
use bedside::engine::export::{EncounterExport, Roles};
use bedside::engine::score::{judge_items, score, JudgeRun, JudgeVerdict, Override};
use bedside::eval::compare::{long_csv, ItemText, Judgement, KeyAction, Row};
use bedside::eval::html::report_html;
use bedside::eval::report::{Filter, Report, STATIC};
use bedside::eval::sources::{number_repeats, rows_from_files, Cases, UNNAMED_TRAINEE};
use bedside::eval::stats::Count;

use crate::support::{case, catalog, played, root, static_pathway_play};

fn items(list: &[(&str, bool)]) -> BTreeMap<String, bool> {
    list.iter().map(|(i, m)| (i.to_string(), *m)).collect()
}

/// A row whose PC count is its items.
fn row(player: &str, case: &str, repeat: u32, list: &[(&str, bool)]) -> Row {
    let items = items(list);
    let mut competencies = [Count::default(); 6];
    competencies[0] = Count {
        met: items.values().filter(|m| **m).count() as u32,
        scored: items.len() as u32,
    };
    let texts = items
        .keys()
        .map(|id| {
            (
                id.clone(),
                ItemText {
                    competency: Competency::PC,
                    text: format!("text of {id}"),
                    harm: false,
                },
            )
        })
        .collect();
    Row {
        player: player.into(),
        case: case.into(),
        case_title: format!("Title {case}"),
        repeat,
        competencies,
        items,
        texts,
        encounter: format!("{player}-{case}-{repeat}"),
        date: "2026-12-01T10:00:00Z".into(),
        ..Row::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn item_difficulty_puts_the_least_met_first_and_names_who_missed() {
    let rows = vec![
        row("a", "x", 1, &[("i1", true), ("i2", false)]),
        row("b", "x", 1, &[("i1", true), ("i2", false)]),
        row("c", "x", 1, &[("i1", false), ("i2", true)]),
    ];
    let r = Report::build(&rows, &Filter::default());
    let d: Vec<(&str, u32, u32)> = r
        .difficulty
        .iter()
        .map(|d| (d.item.as_str(), d.met, d.encounters))
        .collect();
    // i2 met once in three, i1 twice in three.
    assert_eq!(d, vec![("i2", 1, 3), ("i1", 2, 3)]);
    assert_eq!(r.difficulty[0].players_missing, vec!["a", "b"]);
    assert_eq!(r.difficulty[0].text, "text of i2");
    // The failure list: one line per encounter that missed something.
    assert_eq!(r.failures.len(), 3);
    assert_eq!(
        r.failures[2].missed,
        vec![("i1".to_string(), "text of i1".to_string())]
    );
}

#[test]
fn the_static_gap_compares_the_same_items_only() {
    let model = Some("openai-compatible / m (temperature 0)".to_string());
    let mut s = row("m-static", "x", 1, &[("a", true), ("b", false)]);
    s.strategy = Some(STATIC.into());
    s.model = model.clone();
    // The dynamic player met a and b, and missed c (a dialogue item the static play could
    // not score): c must not enter the comparison.
    let mut d = row("m", "x", 1, &[("a", true), ("b", true), ("c", false)]);
    d.strategy = Some("single".into());
    d.model = Some("openai-compatible / m".into());
    // Another model's dynamic play is not paired.
    let mut o = row("other", "x", 1, &[("a", false), ("b", false)]);
    o.strategy = Some("single".into());
    o.model = Some("openai-compatible / other".into());
    let r = Report::build(&[s, d, o], &Filter::default());
    assert_eq!(r.static_gap.len(), 1);
    let g = &r.static_gap[0];
    assert_eq!(
        (g.static_player.as_str(), g.dynamic_player.as_str()),
        ("m-static", "m")
    );
    assert_eq!(g.cases[0].applicable, 2);
    assert_eq!(g.static_items, Count { met: 1, scored: 2 });
    assert_eq!(g.dynamic_items, Count { met: 2, scored: 2 });
    assert!(close(g.gap.unwrap(), 0.5 - 1.0));
}

#[test]
fn judges_agree_by_kappa_and_a_judge_of_the_players_own_model_is_flagged() {
    // Two encounters of model "m", judged by J1 (model m: its own) and J2.
    let judgement = |label: &str, model: &str, v: &[(&str, bool)]| Judgement {
        label: label.into(),
        model: model.into(),
        verdicts: items(v),
    };
    let mut r1 = row("m", "x", 1, &[("a", true)]);
    r1.model = Some("openai-compatible / m".into());
    r1.judges = vec![
        judgement(
            "J1",
            "openai-compatible / m (temperature 0)",
            &[("j1", true), ("j2", true)],
        ),
        judgement("J2", "anthropic / n", &[("j1", true), ("j2", false)]),
    ];
    r1.overrides = items(&[("j2", false)]);
    let mut r2 = row("m", "y", 1, &[("a", true)]);
    r2.model = r1.model.clone();
    r2.judges = vec![
        judgement(
            "J1",
            "openai-compatible / m (temperature 0)",
            &[("j1", false), ("j2", true)],
        ),
        judgement("J2", "anthropic / n", &[("j1", false), ("j2", true)]),
    ];
    let r = Report::build(&[r1, r2], &Filter::default());
    let j = &r.judges;
    assert_eq!(j.judges.len(), 2);
    assert_eq!(j.judges[0].same_model_as, vec!["m"]);
    assert!(j.judges[1].same_model_as.is_empty());
    assert_eq!(r.players[0].self_judged_by, vec!["J1"]);
    // Pairs (J1, J2): (t,t), (t,f), (f,f), (t,t): agreement 3/4; J1 yes 3/4, J2 yes 2/4;
    // chance = 3/4·2/4 + 1/4·2/4 = 1/2; κ = (3/4 − 1/2) / (1 − 1/2) = 1/2.
    let (a, b, k) = &j.between[0];
    assert_eq!((a.as_str(), b.as_str(), k.n), ("J1", "J2", 4));
    assert!(close(k.kappa.unwrap(), 0.5));
    // Against the one override (j2 not met): J1 said met, J2 not met. One pair each, one
    // class on the educator's side → κ undefined, agreement 0 and 1.
    let (_, k1) = &j.with_educator[0];
    let (_, k2) = &j.with_educator[1];
    assert_eq!((k1.n, k1.agreement, k1.kappa), (1, Some(0.0), Some(0.0)));
    assert_eq!((k2.n, k2.agreement), (1, Some(1.0)));
}

#[test]
fn key_actions_report_the_median_minute_and_on_time_share() {
    let ka = |done: Option<u32>| KeyAction {
        item: "ecg".into(),
        what: "12-lead ECG".into(),
        by_minute: 10,
        done_at_s: done,
    };
    let mut rows = vec![
        row("a", "x", 1, &[("i", true)]),
        row("a", "x", 2, &[("i", true)]),
        row("a", "x", 3, &[("i", true)]),
    ];
    rows[0].key_actions = vec![ka(Some(240))];
    rows[1].key_actions = vec![ka(Some(900))];
    rows[2].key_actions = vec![ka(None)];
    let r = Report::build(&rows, &Filter::default());
    let c = &r.key_actions[0].players[0];
    // Done in 2 of 3 (4 and 15 minutes: median 9.5), on time (by 10) once.
    assert_eq!((c.encounters, c.done, c.on_time), (3, 2, 1));
    assert!(close(c.median_minute.unwrap(), 9.5));
}

#[test]
fn filters_keep_cases_players_runs_and_dates() {
    let mut rows = vec![
        row("a", "x", 1, &[("i", true)]),
        row("b", "y", 1, &[("i", false)]),
        row("a", "y", 1, &[("i", false)]),
    ];
    rows[1].date = "2026-11-02T09:00:00Z".into();
    rows[2].run = Some("run 1".into());
    let kept = |f: &Filter| rows.iter().filter(|r| f.keeps(r)).count();
    assert_eq!(kept(&Filter::default()), 3);
    let mut f = Filter::default();
    f.cases.insert("y".into());
    assert_eq!(kept(&f), 2);
    f.players.insert("a".into());
    assert_eq!(kept(&f), 1);
    let f = Filter {
        from: Some("2026-11-15".into()),
        ..Filter::default()
    };
    assert_eq!(kept(&f), 2);
    let f = Filter {
        to: Some("2026-11-02".into()),
        ..Filter::default()
    };
    assert_eq!(kept(&f), 1, "the end date is inclusive");
    let mut f = Filter::default();
    f.runs.insert("run 1".into());
    assert_eq!(kept(&f), 1);
    let r = Report::build(&rows, &f);
    assert_eq!(r.method.encounters, 1);
    assert_eq!(r.method.filter, f);
}

#[test]
fn repeats_are_numbered_by_date_per_player_and_case() {
    let mut rows = vec![
        row("a", "x", 0, &[]),
        row("a", "x", 0, &[]),
        row("a", "y", 0, &[]),
        row("b", "x", 2, &[]),
        row("b", "x", 0, &[]),
    ];
    rows[0].date = "2026-12-02".into();
    rows[1].date = "2026-12-01".into();
    number_repeats(&mut rows);
    let repeats: Vec<u32> = rows.iter().map(|r| r.repeat).collect();
    assert_eq!(repeats, vec![2, 1, 1, 2, 3]);
}

// ---- The fixture set -------------------------------------------------------------------

pub const COMPARE_CASES: [&str; 3] = [
    "acs-inferior-stemi",
    "anaphylaxis-peanut",
    "dka-young-adult",
];

/// (who, case, play, day): trainees Asha (strong) and Ben (weak but for anaphylaxis); model A
/// (strong, ACS twice: the strong play and the US guideline play), model B (weak; its second
/// ACS gives oxygen to a patient who is not hypoxic, a harm). Models are judged: A by
/// itself, B by A. Model A also plays each case static (`static`: the expert pathway's
/// actions at once, then its end form; not judged: its judge items are not applicable).
const ENCOUNTERS: &[(&str, &str, &str, u32)] = &[
    ("Asha", "acs-inferior-stemi", "strong", 1),
    ("Asha", "anaphylaxis-peanut", "strong", 2),
    ("Asha", "dka-young-adult", "strong", 3),
    ("Ben", "acs-inferior-stemi", "weak", 1),
    ("Ben", "anaphylaxis-peanut", "strong", 2),
    ("Ben", "dka-young-adult", "weak", 4),
    ("model-a", "acs-inferior-stemi", "strong", 5),
    ("model-a", "acs-inferior-stemi", "us", 6),
    ("model-a", "anaphylaxis-peanut", "uk", 5),
    ("model-a", "dka-young-adult", "weak", 5),
    ("model-b", "acs-inferior-stemi", "weak", 5),
    ("model-b", "acs-inferior-stemi", "harm-oxygen", 6),
    ("model-b", "anaphylaxis-peanut", "weak", 5),
    ("model-b", "dka-young-adult", "weak", 5),
    ("model-a", "acs-inferior-stemi", "static", 7),
    ("model-a", "anaphylaxis-peanut", "static", 7),
    ("model-a", "dka-young-adult", "static", 7),
];

/// The fixture set's files (name, JSON), generated from the plays with the real engine.
pub fn fixture_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, (who, id, play, day)) in ENCOUNTERS.iter().enumerate() {
        let is_model = who.starts_with("model-");
        let is_static = *play == "static";
        let config = if is_model {
            Config::model("openai-compatible", who)
        } else {
            Config::human()
        };
        let (c, enc) = if is_static {
            let c = case(id);
            let config = Config {
                vignette: true,
                turn_limit: Some(1),
                ..config
            };
            let enc = static_pathway_play(&c, config);
            (c, enc)
        } else {
            played(id, play, config)
        };
        let judge = (is_model && !is_static).then(|| JudgeRun {
            model: "openai-compatible / model-a".into(),
            prompt_version: "judge-v1".into(),
            // A deterministic judge: met for the first judge item, not for the others.
            verdicts: judge_items(&c)
                .enumerate()
                .map(|(i, item)| JudgeVerdict {
                    item: item.id.clone(),
                    met: i == 0,
                    evidence: if i == 0 {
                        "as said in turn 1".into()
                    } else {
                        String::new()
                    },
                })
                .collect(),
        });
        // An educator overrides Ben's first judge item on ACS: met after all.
        let overrides: Vec<Override> = if *who == "Ben" && *id == "acs-inferior-stemi" {
            judge_items(&c)
                .take(1)
                .map(|item| Override {
                    item: item.id.clone(),
                    met: Some(true),
                    by: "Dr Educator".into(),
                    note: "said so in the closing summary".into(),
                    at: "2026-12-02T10:00:00Z".into(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let card = score(&c, enc.state(), judge.as_ref(), &overrides);
        let mut roles = Roles::from_record(
            enc.record(),
            "scripted",
            judge.as_ref().map(|j| j.model.as_str()),
        );
        if !is_model {
            roles.player = Some(who.to_string());
        }
        let e = EncounterExport::new(
            &format!("enc-{:02}", n + 1),
            &format!("2026-11-{:02}T10:00:00Z", 20 + day),
            &c,
            roles,
            enc.record(),
            &card,
        );
        out.push((format!("{:02}-{who}-{id}.json", n + 1), e.to_json() + "\n"));
    }
    out
}

fn cases_lookup(id: &str) -> Option<Arc<Case>> {
    COMPARE_CASES.contains(&id).then(|| case(id))
}

fn fixture_rows() -> Vec<Row> {
    let files = fixture_files();
    let cat = catalog();
    let cases = Cases {
        find: &cases_lookup,
        catalog: Some(&cat),
    };
    let (rows, problems) = rows_from_files(&files, &cases, None);
    assert!(problems.is_empty(), "{problems:?}");
    rows
}

#[test]
fn the_shipped_fixture_set_is_the_generated_one() {
    let dir = root().join("tests/fixtures/compare");
    if std::env::var_os("BEDSIDE_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, json) in fixture_files() {
        crate::support::shipped_matches_generated(
            &format!("tests/fixtures/compare/{name}"),
            &json,
            "the_shipped_fixture_set",
        );
    }
    // The report the browser test compares its page with: the native figures for the
    // same files.
    let report = Report::build(&fixture_rows(), &Filter::default()).to_json() + "\n";
    crate::support::shipped_matches_generated(
        "tests/e2e/fixtures/compare-report.json",
        &report,
        "the_shipped_fixture_set",
    );
}

#[test]
fn the_fixture_set_compares_five_players_on_three_cases() {
    let rows = fixture_rows();
    assert_eq!(rows.len(), ENCOUNTERS.len());
    let r = Report::build(&rows, &Filter::default());
    let players: Vec<(&str, &str)> = r
        .players
        .iter()
        .map(|p| (p.player.as_str(), p.kind))
        .collect();
    assert_eq!(
        players,
        vec![
            ("Asha", "trainee"),
            ("Ben", "trainee"),
            ("Model: openai-compatible / model-a", "model"),
            ("Model: openai-compatible / model-b", "model"),
            ("Model: openai-compatible / model-a (static)", "model"),
        ]
    );
    // The static play is paired with model A's dynamic plays (not B's), on the items it
    // scored. Its answers are the expert pathway, so it meets every one; model A's DKA
    // encounter is the weak play, which met none of them.
    assert_eq!(r.static_gap.len(), 1);
    let g = &r.static_gap[0];
    assert_eq!(g.dynamic_player, "Model: openai-compatible / model-a");
    assert_eq!(g.static_items.met, g.static_items.scored);
    let dka = g
        .cases
        .iter()
        .find(|c| c.case == "dka-young-adult")
        .unwrap();
    assert_eq!(dka.dynamic_items.met, 0);
    assert_eq!(dka.gap, Some(1.0));
    assert!(g.gap.unwrap() > 0.0);
    let p = |name: &str| {
        r.players
            .iter()
            .find(|p| p.player.starts_with(name))
            .unwrap()
    };
    // The strong plays name the accepted diagnosis in every case; they complete more than
    // the weak ones.
    assert_eq!(p("Asha").diagnosis, Count { met: 3, scored: 3 });
    assert!(p("Asha").micro.value > p("Ben").micro.value);
    assert!(
        p("Model: openai-compatible / model-a").micro.value
            > p("Model: openai-compatible / model-b").micro.value
    );
    // Each figure lies inside its interval.
    for pl in &r.players {
        let (v, i) = (pl.micro.value.unwrap(), pl.micro.interval.unwrap());
        assert!(i.low <= v && v <= i.high, "{}: {v} in {i:?}", pl.player);
    }
    // Model A played ACS twice: pass^2 exists for it (and only for it and B).
    assert_eq!(
        p("Model: openai-compatible / model-a").pass_k.map(|k| k.k),
        Some(2)
    );
    assert_eq!(p("Asha").pass_k, None);
    // Model A is judged by its own model; B is not.
    assert_eq!(
        p("Model: openai-compatible / model-a").self_judged_by.len(),
        1
    );
    assert!(p("Model: openai-compatible / model-b")
        .self_judged_by
        .is_empty());
    // The oxygen play is a harm in model B's failure list, named by its item's text.
    let harmed = r
        .failures
        .iter()
        .find(|f| f.player.ends_with("model-b") && f.case == "acs-inferior-stemi" && f.repeat == 2)
        .expect("model B's second ACS is in the failure list");
    assert!(
        harmed
            .harms
            .iter()
            .any(|(_, t)| t.to_lowercase().contains("oxygen")),
        "{:?}",
        harmed.harms
    );
    // The educator's override on Ben's ACS meets the one judge item the trainee's encounter
    // was never judged on: it rests on the educator.
    assert_eq!(p("Ben").by_educator, 1);
    // Specialties come from the cases.
    assert_eq!(r.specialties.len(), 3);
    // Key actions: the ACS case times its ECG and aspirin; every player has a line.
    let acs: Vec<_> = r
        .key_actions
        .iter()
        .filter(|k| k.case == "acs-inferior-stemi")
        .collect();
    assert!(!acs.is_empty());
    assert!(acs.iter().all(|k| k.players.len() == 5));
    // Repeats: model A's two ACS encounters are numbered 1 and 2 by date.
    let a_acs: Vec<u32> = rows
        .iter()
        .filter(|r| r.player.ends_with("model-a") && r.case == "acs-inferior-stemi")
        .map(|r| r.repeat)
        .collect();
    assert_eq!(a_acs, vec![1, 2]);
    // The long CSV has 7 lines per encounter and a header.
    assert_eq!(long_csv(&rows).lines().count(), 1 + 7 * rows.len());
}

#[test]
fn an_export_without_a_name_is_an_unnamed_trainee_and_bad_files_are_named() {
    let files = fixture_files();
    let mut unnamed: serde_json::Value = serde_json::from_str(&files[0].1).unwrap();
    unnamed["roles"].as_object_mut().unwrap().remove("player");
    let input = vec![
        ("unnamed.json".to_string(), unnamed.to_string()),
        (
            "notes.json".to_string(),
            "{\"format\": \"something\"}".to_string(),
        ),
        ("broken.json".to_string(), "{".to_string()),
    ];
    let cases = Cases {
        find: &cases_lookup,
        catalog: None,
    };
    let (rows, problems) = rows_from_files(&input, &cases, None);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].player, UNNAMED_TRAINEE);
    assert_eq!(problems.len(), 2);
    assert!(
        problems[0].starts_with("notes.json: format `something`"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("broken.json: not valid JSON"),
        "{problems:?}"
    );
}

#[test]
fn the_html_report_is_self_contained_and_escapes_every_text() {
    let mut rows = fixture_rows();
    rows[0].player = "<img src=x onerror=alert(1)>".into();
    let html = report_html(&Report::build(&rows, &Filter::default()), "Cohort <2026>");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<img"),
        "a player's name is text, never markup"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("<title>Cohort &lt;2026&gt;</title>"));
    for external in [
        "<script", "<link", "<iframe", "<object", "<embed", "url(", "@import",
    ] {
        assert!(!html.contains(external), "{external} in the report");
    }
    // The only URL is SVG's namespace, which is never fetched.
    let urls: Vec<&str> = html
        .match_indices("://")
        .map(|(i, _)| &html[i - 4..i + 22])
        .collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://www.w3.org/2000/svg")),
        "{urls:?}"
    );
    // The report's own policy forbids any fetch if a viewer opens it.
    assert!(html.contains("default-src 'none'"));
    // Four plots: competencies, per case, item difficulty, the static-vs-dynamic gap.
    assert_eq!(html.matches("<svg").count(), 4);
}

#[test]
fn the_cli_reports_a_folder_of_exports_and_a_run_folder() {
    let dir = crate::eval::scratch("report-cli");
    let files = dir.join("exports");
    std::fs::create_dir_all(&files).unwrap();
    for (name, json) in fixture_files() {
        std::fs::write(files.join(name), json).unwrap();
    }
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bedside-cli"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = cli(&["report", files.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The built-in cases are found by id and version: the same report as from the rows.
    let expected = Report::build(&fixture_rows(), &Filter::default()).to_json() + "\n";
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    let csv = cli(&["report", files.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(
        String::from_utf8(csv.stdout).unwrap(),
        long_csv(&fixture_rows())
    );
    let html = dir.join("report.html");
    let out = cli(&[
        "report",
        files.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("<h2>Players</h2>"));
    // Nothing scored: an error naming the paths, exit 1.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = cli(&["report", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scored encounter"));

    // A run folder: its finished jobs, players by their plan labels.
    let server = crate::eval::server::WardServer::start();
    let plan = crate::eval::plan_json(
        &server.url,
        &[("alpha", "ward"), ("beta", "ward")],
        &["sepsis-pneumonia"],
        2,
    );
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let loaded = crate::eval::load(&run_dir, &plan);
    crate::eval::run(&loaded, &run_dir.join("out"), &Default::default());
    let out = cli(&[
        "report",
        run_dir.join("out").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let players: Vec<&str> = v["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["player"].as_str().unwrap())
        .collect();
    assert_eq!(players, vec!["alpha", "beta"]);
    assert_eq!(v["players"][0]["encounters"], 2);
    assert_eq!(v["method"]["runs"][0], "test run");
    assert_eq!(v["players"][0]["strategy"], "single");
    assert!(v["players"][0]["per_encounter"]["calls"].as_f64().unwrap() >= 1.0);
}
