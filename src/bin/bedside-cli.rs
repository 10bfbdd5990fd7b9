//! bedside-cli: the native command-line tool for case authors and CI.
//!
//!   bedside-cli validate <case.json>...        check case files (exit 1 on any error; warnings
//!                                               are printed and do not fail)
//!   bedside-cli play <case.json> <turns.jsonl> play a case from clinician turns, print JSON
//!   bedside-cli catalog <words>...             search the order catalog
//!   bedside-cli import-rubric <file|dir>...     import MedSP1000 frozen rubrics, print totals
//!   bedside-cli model-play <case.json> --base-url URL --model NAME [...]
//!                                               let an LLM play the clinician; print the export

use std::process::ExitCode;
use std::sync::Arc;

use bedside::app::results::percent;
use bedside::engine::action::{interpret, search};
use bedside::engine::case::Case;
use bedside::engine::catalog::Catalog;
use bedside::engine::encounter::{Config, Encounter, Input};
use bedside::engine::export::{frozen_result, EncounterExport, Roles};
use bedside::engine::lint::case_warnings;
use bedside::engine::load::load_case;
use bedside::engine::medsp::import_many;
use bedside::engine::score::{score_named, Mark};
use bedside::engine::CATALOG_JSON;

/// `println!` that ignores a closed pipe (`bedside-cli catalog x | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

const USAGE: &str = "\
bedside-cli — Bedside's command-line tool

USAGE:
    bedside-cli validate <case.json>...            check case files; exit code 1 if any has errors
                                                   (warnings are printed but do not fail)
    bedside-cli play <case.json> <turns.jsonl>     play a case from clinician turns (one JSON per
                                                   line: {\"speak\",\"actions\",\"eos\"}, {\"wait\": N},
                                                   {\"end\": {...}}) and print the record as JSON
        [--model NAME]                             play as a model clinician (12-turn limit)
        [--output record|export|medsp|summary]     what to print: the record (default), the
                                                   scored export, the MedSP1000-shaped result,
                                                   or a plain-text score summary
    bedside-cli import-rubric <file|dir>... [--json]
                                                   import MedSP1000 frozen rubric files (a dir:
                                                   every *.json in it); print per-file errors and
                                                   totals; --json prints the imported rubrics;
                                                   exit code 1 if any file failed
    bedside-cli catalog <words>...                 search the order catalog (best matches first)
    bedside-cli model-play <case.json> --base-url URL --model NAME
        [--provider openai|anthropic]              the API (default openai: any OpenAI-compatible
                                                   server, e.g. http://127.0.0.1:8080/v1)
        [--key-env VAR]                            read the API key from this environment variable
                                                   (default BEDSIDE_API_KEY; never printed)
        [--turns N] [--max-tokens N] [--temperature X] [--seed N]
        [--judge]                                  also score the judge items with the same model
        [--output export|summary|medsp]            what to print (default export: the full record
                                                   with every prompt and raw reply, no key)
    bedside-cli help | --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let catalog = match Catalog::from_json("assets/catalog.json (built in)", CATALOG_JSON) {
        Ok(c) => Arc::new(c),
        Err(d) => {
            eprint!("{d}");
            return ExitCode::from(3);
        }
    };
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            outln!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("--version") => {
            outln!("bedside-cli {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("validate") => validate(&args[1..], &catalog),
        Some("play") => play(&args[1..], catalog),
        Some("catalog") => catalog_search(&args[1..], &catalog),
        Some("import-rubric") => import_rubric(&args[1..]),
        #[cfg(not(target_arch = "wasm32"))]
        Some("model-play") => model_play(&args[1..], catalog),
        Some(other) => {
            eprintln!("bedside-cli: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))
}

fn validate(paths: &[String], catalog: &Catalog) -> ExitCode {
    if paths.is_empty() {
        eprintln!("usage: bedside-cli validate <case.json>...");
        return ExitCode::from(2);
    }
    let mut failed = 0;
    for path in paths {
        let result =
            read(path).and_then(|json| load_case(path, &json, catalog).map_err(|d| d.to_string()));
        match result {
            Ok(case) => {
                let warnings = case_warnings(path, &case, catalog);
                outln!(
                    "{path}: ok — {} ({} facts, {} phases, {} events, {} rubric items){}",
                    case.meta.title,
                    case.facts.len(),
                    case.phases.len(),
                    case.events.len(),
                    case.rubric.len(),
                    match warnings.len() {
                        0 => String::new(),
                        1 => ", 1 warning".to_string(),
                        n => format!(", {n} warnings"),
                    }
                );
                // Warnings go to stdout with the "ok" line: the case still loads.
                if !warnings.is_empty() {
                    use std::io::Write as _;
                    let _ = write!(std::io::stdout().lock(), "{}", warnings.warnings_report());
                }
            }
            Err(e) => {
                failed += 1;
                eprint!("{e}");
                if !e.ends_with('\n') {
                    eprintln!();
                }
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} file{} failed validation",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" }
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn play(args: &[String], catalog: Arc<Catalog>) -> ExitCode {
    let mut positional = Vec::new();
    let mut model: Option<String> = None;
    let mut output = "record".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--output" {
            match it.next().map(String::as_str) {
                Some(o @ ("record" | "export" | "medsp" | "summary")) => output = o.to_string(),
                _ => {
                    eprintln!("--output needs one of: record, export, medsp, summary");
                    return ExitCode::from(2);
                }
            }
        } else if a == "--model" {
            model = it.next().cloned();
            if model.is_none() {
                eprintln!("--model needs a name");
                return ExitCode::from(2);
            }
        } else {
            positional.push(a.as_str());
        }
    }
    let [case_path, turns_path] = positional[..] else {
        eprintln!("usage: bedside-cli play <case.json> <turns.jsonl> [--model NAME]");
        return ExitCode::from(2);
    };
    let case = match read(case_path)
        .and_then(|json| load_case(case_path, &json, &catalog).map_err(|d| d.to_string()))
    {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(1);
        }
    };
    let turns = match read(turns_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let config = match &model {
        Some(m) => Config::model("cli", m),
        None => Config::human(),
    };
    let mut enc = Encounter::new(case, catalog, config);
    for (n, line) in turns.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with("//") {
            continue;
        }
        let input = match Input::from_play_line(line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{turns_path}:{}: {e}", n + 1);
                return ExitCode::from(1);
            }
        };
        if enc.is_ended() {
            eprintln!(
                "{turns_path}:{}: the encounter has already ended; the remaining lines are ignored",
                n + 1
            );
            break;
        }
        if !enc.takes(&input) {
            eprintln!(
                "{turns_path}:{}: the encounter is closing and takes only the end form; line skipped",
                n + 1
            );
            continue;
        }
        if let Err(e) = enc.apply(input) {
            eprintln!("{turns_path}:{}: {e}", n + 1);
            return ExitCode::from(1);
        }
    }
    let record = enc.record();
    if output == "record" {
        return match serde_json::to_string_pretty(record) {
            Ok(json) => {
                outln!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot serialize the record: {e}");
                ExitCode::from(3)
            }
        };
    }
    let case: &Case = enc.case();
    let card = score_named(case, Some(enc.catalog()), &record.state, None, &[]);
    let export = EncounterExport::new(
        turns_path,
        "",
        case,
        Roles::from_record(record, "scripted", None),
        record,
        &card,
    );
    match output.as_str() {
        "export" => outln!("{}", export.to_json()),
        "medsp" => outln!(
            "{}",
            serde_json::to_string_pretty(&frozen_result(&export)).unwrap_or_default()
        ),
        _ => print_summary(&export),
    }
    ExitCode::SUCCESS
}

fn print_summary(e: &EncounterExport) {
    let o = &e.scores.overall;
    outln!(
        "{} — completion {} ({}/{} items), points {} ({}/{}), {} not scored, {} harm(s)",
        e.case.title,
        percent(o.completion_ratio),
        o.expected_met,
        o.expected_scored,
        percent(o.points_ratio),
        o.points,
        o.points_possible,
        o.not_scored,
        o.harms_done
    );
    for c in &e.scores.by_competency {
        if c.tally.items > 0 {
            outln!(
                "  {:<5} completion {:>4}  points {:>4}  ({} items)",
                c.competency.code(),
                percent(c.tally.completion_ratio),
                percent(c.tally.points_ratio),
                c.tally.items
            );
        }
    }
    for i in &e.scorecard.items {
        let mark = match i.mark() {
            Mark::Met => "met",
            Mark::Missed => "MISSED",
            Mark::Harm => "HARM",
            Mark::Avoided => "avoided",
            Mark::NotScored => "not scored",
        };
        outln!(
            "  [{mark:>10}] {}{}: {}",
            i.id,
            if i.critical { " (critical)" } else { "" },
            i.why
        );
    }
}

fn import_rubric(args: &[String]) -> ExitCode {
    let json = args.iter().any(|a| a == "--json");
    let paths: Vec<&String> = args.iter().filter(|a| *a != "--json").collect();
    if paths.is_empty() {
        eprintln!("usage: bedside-cli import-rubric <file|dir>... [--json]");
        return ExitCode::from(2);
    }
    let mut files: Vec<(String, String)> = Vec::new();
    let mut unreadable = 0;
    for p in paths {
        let path = std::path::Path::new(p);
        let mut list = Vec::new();
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => list.extend(
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "json")),
                ),
                Err(e) => {
                    eprintln!("{p}: cannot read the folder: {e}");
                    unreadable += 1;
                }
            }
            list.sort();
        } else {
            list.push(path.to_path_buf());
        }
        for f in list {
            let name = f.display().to_string();
            match std::fs::read(&f) {
                Ok(bytes) => files.push((name, String::from_utf8_lossy(&bytes).into_owned())),
                Err(e) => {
                    eprintln!("{name}: cannot read: {e}");
                    unreadable += 1;
                }
            }
        }
    }
    let report = import_many(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    for r in &report.imported {
        for w in &r.warnings {
            eprintln!("warning: {}: {w}", r.file);
        }
    }
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report.imported).unwrap_or_default()
        );
    }
    outln!("{}", report.summary());
    if report.errors.is_empty() && unreadable == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn catalog_search(words: &[String], catalog: &Catalog) -> ExitCode {
    let query = words.join(" ");
    if query.trim().is_empty() {
        eprintln!("usage: bedside-cli catalog <words>...");
        return ExitCode::from(2);
    }
    let best = interpret(&query, catalog);
    match &best.order {
        Some(m) => outln!(
            "order: {} — {} ({}), confidence {:.2}",
            m.id,
            m.name,
            m.category.label(),
            m.confidence
        ),
        None => outln!("order: not understood (unsupported)"),
    }
    if let Some(d) = &best.dose {
        outln!("dose:  {} {}", d.amount, d.unit);
    }
    if let Some(r) = &best.route {
        outln!("route: {r}");
    }
    outln!("\nclosest entries:");
    for m in search(&query, catalog, 8) {
        let o = catalog.get(&m.id).expect("search returns catalog ids");
        outln!(
            "  {:<28} {:.2}  {} — {}, {} min, result in {} min",
            m.id,
            m.confidence,
            o.name,
            o.category.label(),
            o.time_cost_min,
            o.turnaround_min
        );
    }
    ExitCode::SUCCESS
}

/// Native only: the browser has its own transport and the app's model play.
#[cfg(not(target_arch = "wasm32"))]
fn model_play(args: &[String], catalog: Arc<Catalog>) -> ExitCode {
    use bedside::engine::score::{check_judge, JudgeRun, JudgeVerdict};
    use bedside::llm::client::Client;
    use bedside::llm::roles::{clinician_turn, judge};
    use bedside::llm::settings::{ApiKey, Context, ProviderKind, ProviderSettings};
    use bedside::llm::transport::{block_on, Cancel, NativeTransport};

    const USAGE_LINE: &str = "usage: bedside-cli model-play <case.json> --base-url URL --model NAME [--provider openai|anthropic] [--key-env VAR] [--turns N] [--max-tokens N] [--temperature X] [--seed N] [--judge] [--output export|summary|medsp]";
    let mut case_path = None;
    let mut opts = std::collections::BTreeMap::new();
    let mut with_judge = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--judge" => with_judge = true,
            flag if flag.starts_with("--") => match it.next() {
                Some(v) => {
                    opts.insert(flag.trim_start_matches("--").to_string(), v.clone());
                }
                None => {
                    eprintln!("{flag} needs a value\n{USAGE_LINE}");
                    return ExitCode::from(2);
                }
            },
            path if case_path.is_none() => case_path = Some(path.to_string()),
            other => {
                eprintln!("unexpected argument `{other}`\n{USAGE_LINE}");
                return ExitCode::from(2);
            }
        }
    }
    let known = [
        "base-url",
        "model",
        "provider",
        "key-env",
        "turns",
        "max-tokens",
        "temperature",
        "seed",
        "output",
    ];
    if let Some(k) = opts.keys().find(|k| !known.contains(&k.as_str())) {
        eprintln!("unknown option --{k}\n{USAGE_LINE}");
        return ExitCode::from(2);
    }
    let (Some(case_path), Some(base_url), Some(model)) =
        (case_path, opts.get("base-url"), opts.get("model"))
    else {
        eprintln!("{USAGE_LINE}");
        return ExitCode::from(2);
    };
    let kind = match opts.get("provider").map(String::as_str) {
        None | Some("openai") => ProviderKind::OpenAi,
        Some("anthropic") => ProviderKind::Anthropic,
        Some(other) => {
            eprintln!("--provider `{other}`: use openai or anthropic");
            return ExitCode::from(2);
        }
    };
    let output = opts.get("output").map(String::as_str).unwrap_or("export");
    if !["export", "summary", "medsp"].contains(&output) {
        eprintln!("--output `{output}`: use export, summary or medsp");
        return ExitCode::from(2);
    }
    fn num<T: std::str::FromStr>(
        opts: &std::collections::BTreeMap<String, String>,
        key: &str,
    ) -> Result<Option<T>, String> {
        opts.get(key)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| format!("--{key} `{v}` is not a valid number"))
            })
            .transpose()
    }
    let parsed = (|| -> Result<_, String> {
        Ok((
            num::<u32>(&opts, "turns")?,
            num::<u32>(&opts, "max-tokens")?,
            num::<f64>(&opts, "temperature")?,
            num::<u64>(&opts, "seed")?,
        ))
    })();
    let (turns, max_tokens, temperature, seed) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let key_env = opts
        .get("key-env")
        .cloned()
        .unwrap_or_else(|| "BEDSIDE_API_KEY".into());
    let mut settings = ProviderSettings::new(kind, base_url, model);
    settings.key = ApiKey::new(std::env::var(&key_env).unwrap_or_default());
    if let Some(m) = max_tokens {
        settings.max_tokens = m;
    }
    if let Some(t) = temperature {
        settings.temperature = t;
    }
    settings.seed = seed;
    if let Err(errors) = settings.validate(Context::Native) {
        for e in errors {
            eprintln!("{}: {}", e.field, e.message);
        }
        return ExitCode::from(2);
    }
    let case = match read(&case_path)
        .and_then(|json| load_case(&case_path, &json, &catalog).map_err(|d| d.to_string()))
    {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(1);
        }
    };
    let client = Client::new(NativeTransport::new(), settings, seed.unwrap_or(0));
    let mut config = Config::model(kind.label(), model);
    if let Some(t) = turns {
        config.turn_limit = Some(t);
    }
    let mut enc = Encounter::new(case.clone(), catalog, config);
    let cancel = Cancel::new();
    let mut exchanges = Vec::new();
    let mut failed = false;
    while !enc.is_ended() {
        let t = block_on(clinician_turn(&client, enc.case(), enc.record(), &cancel));
        exchanges.extend(t.exchanges);
        match t.input {
            Ok(input) => {
                eprintln!("turn {}: {:?}", enc.state().turn + 1, t.fallback);
                if let Err(e) = enc.apply(input) {
                    eprintln!("the engine refused the turn: {e}");
                    failed = true;
                    break;
                }
            }
            Err(e) => {
                eprintln!("stopped: {e}");
                failed = true;
                break;
            }
        }
    }
    let mut judge_run = None;
    if with_judge {
        let voiced = std::collections::BTreeMap::new();
        let (result, ex) = block_on(judge(&client, &case, enc.record(), &voiced, &cancel));
        exchanges.extend(ex);
        match result {
            Ok(verdicts) => {
                let run = JudgeRun {
                    model: format!("{} / {}", kind.label(), model),
                    prompt_version: "1".into(),
                    verdicts: verdicts
                        .into_iter()
                        .map(|v| JudgeVerdict {
                            item: v.id,
                            met: v.met,
                            evidence: v.evidence,
                        })
                        .collect(),
                };
                match check_judge(&case, &run) {
                    Ok(()) => judge_run = Some(run),
                    Err(e) => eprintln!("judge: {e}"),
                }
            }
            Err(e) => eprintln!("judge: {e}"),
        }
    }
    let record = enc.record();
    let card = score_named(
        &case,
        Some(enc.catalog()),
        &record.state,
        judge_run.as_ref(),
        &[],
    );
    let judge_label = judge_run.as_ref().map(|j| j.model.clone());
    let mut export = EncounterExport::new(
        &case_path,
        "",
        &case,
        Roles::from_record(record, "scripted", judge_label.as_deref()),
        record,
        &card,
    );
    let totals = client.totals();
    export.app = Some(serde_json::json!({
        "llm_exchanges": exchanges,
        "usage": totals,
    }));
    match output {
        "summary" => print_summary(&export),
        "medsp" => outln!(
            "{}",
            serde_json::to_string_pretty(&frozen_result(&export)).unwrap_or_default()
        ),
        _ => outln!("{}", export.to_json()),
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
