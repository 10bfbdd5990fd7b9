//! bedside-cli: the native command-line tool for case authors and CI.
//!
//!   bedside-cli validate <case.json>...        check case files (exit 1 on any error)
//!   bedside-cli play <case.json> <turns.jsonl> play a case from clinician turns, print JSON
//!   bedside-cli catalog <words>...             search the order catalog

use std::process::ExitCode;
use std::sync::Arc;

use bedside::engine::action::{interpret, search};
use bedside::engine::catalog::Catalog;
use bedside::engine::encounter::{Config, Encounter, Input};
use bedside::engine::load::load_case;
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
    bedside-cli play <case.json> <turns.jsonl>     play a case from clinician turns (one JSON per
                                                   line: {\"speak\",\"actions\",\"eos\"}, {\"wait\": N},
                                                   {\"end\": {...}}) and print the record as JSON
        [--model NAME]                             play as a model clinician (12-turn limit)
    bedside-cli catalog <words>...                 search the order catalog (best matches first)
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
            Ok(case) => outln!(
                "{path}: ok — {} ({} facts, {} phases, {} events, {} rubric items)",
                case.meta.title,
                case.facts.len(),
                case.phases.len(),
                case.events.len(),
                case.rubric.len()
            ),
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
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--model" {
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
        if let Err(e) = enc.apply(input) {
            eprintln!("{turns_path}:{}: {e}", n + 1);
            return ExitCode::from(1);
        }
    }
    match serde_json::to_string_pretty(enc.record()) {
        Ok(json) => {
            outln!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot serialize the record: {e}");
            ExitCode::from(3)
        }
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
