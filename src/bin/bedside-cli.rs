//! bedside-cli: the native command-line tool for case authors, CI and evaluators.
//! `bedside-cli --help` (and `--help` after each command) lists the commands, their options and
//! the exit codes; the arguments are parsed by clap's derive from the types below.

/// Native only: on wasm32 (built solely because the browser tests build every target) the tool
/// is an empty program, and clap is not a dependency there.
#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::process::ExitCode;
    use std::sync::Arc;

    use clap::{Args, Parser, Subcommand, ValueEnum};

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
    use bedside::llm::settings::Field;

    /// `println!` that ignores a closed pipe (`bedside-cli catalog x | head`) instead of panicking.
    macro_rules! outln {
        ($($arg:tt)*) => {{
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout().lock(), $($arg)*);
        }};
    }

    /// How the tool ends; `--help` lists the same.
    const EXIT_CODES: &str = "\
    Exit codes:
      0  success
      1  a file, a turn or a run failed (the reasons are printed to stderr)
      2  the command line is wrong (unknown option, missing value, invalid settings)
      3  internal error (the built-in catalog did not load, output could not be written)";

    #[derive(Parser)]
    #[command(
        name = "bedside-cli",
        version,
        about = "Bedside's command-line tool: check case files, play cases from scripted turns or \
                 with a model clinician, search the order catalog, import MedSP1000 rubrics.",
        after_help = EXIT_CODES
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Check case files: every error with its file and JSON path; warnings are printed and do
        /// not fail.
        Validate {
            #[arg(required = true, value_name = "CASE.json")]
            cases: Vec<String>,
        },
        /// Play a case from clinician turns (one JSON per line: {"speak","actions","eos"},
        /// {"wait": N}, {"end": {...}}) and print the result.
        Play {
            #[arg(value_name = "CASE.json")]
            case: String,
            #[arg(value_name = "TURNS.jsonl")]
            turns: String,
            /// Play as a model clinician with this name (12-turn limit).
            #[arg(long, value_name = "NAME")]
            model: Option<String>,
            /// What to print.
            #[arg(long, value_enum, default_value_t = PlayOutput::Record)]
            output: PlayOutput,
        },
        /// Search the order catalog (best matches first) and show how the text is interpreted.
        Catalog {
            #[arg(required = true, value_name = "WORDS")]
            words: Vec<String>,
        },
        /// Import MedSP1000 frozen rubric files (a folder: every *.json in it); print per-file
        /// errors and totals.
        ImportRubric {
            #[arg(required = true, value_name = "FILE|DIR")]
            paths: Vec<String>,
            /// Also print the imported rubrics as JSON.
            #[arg(long)]
            json: bool,
        },
        /// Let an LLM play the clinician natively and print the export (every prompt and raw
        /// reply, never the key).
        ModelPlay(ModelPlayArgs),
    }

    #[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum PlayOutput {
        /// The engine's record (inputs, log, state).
        Record,
        /// The scored export (versioned JSON).
        Export,
        /// The MedSP1000-shaped result.
        Medsp,
        /// A plain-text score summary.
        Summary,
    }

    #[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum ModelOutput {
        Export,
        Summary,
        Medsp,
    }

    #[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Provider {
        /// Any OpenAI-compatible server (OpenAI, llama.cpp, vLLM, Ollama, OpenRouter).
        Openai,
        /// Anthropic's Messages API.
        Anthropic,
    }

    #[derive(Args)]
    struct ModelPlayArgs {
        #[arg(value_name = "CASE.json")]
        case: String,
        /// The API's base URL, e.g. http://127.0.0.1:8080/v1.
        #[arg(long, value_name = "URL")]
        base_url: String,
        /// The model name the endpoint expects.
        #[arg(long, value_name = "NAME")]
        model: String,
        #[arg(long, value_enum, default_value_t = Provider::Openai)]
        provider: Provider,
        /// Read the API key from this environment variable (never printed).
        #[arg(long, value_name = "VAR", default_value = "BEDSIDE_API_KEY")]
        key_env: String,
        /// Turn limit (default: the model configuration's 12).
        #[arg(long, value_name = "N")]
        turns: Option<u32>,
        /// Most tokens per reply (default 512).
        #[arg(long, value_name = "N")]
        max_tokens: Option<u32>,
        /// Sampling temperature, 0–2 (default 0.7).
        #[arg(long, value_name = "X")]
        temperature: Option<f64>,
        /// Seed sent to the provider and used for retry jitter (default: none sent, jitter 0).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Seconds to wait for one reply (1–600; default 60).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u32>,
        /// Also score the judge items with the same model.
        #[arg(long)]
        judge: bool,
        /// What to print.
        #[arg(long, value_enum, default_value_t = ModelOutput::Export)]
        output: ModelOutput,
    }

    /// Why a command failed; printed once by `main`, with the exit code `--help` documents.
    #[derive(Debug)]
    enum CliError {
        /// A file, a turn or a run failed.
        Failed(String),
        /// The command line or the settings it gives are wrong.
        Usage(String),
        /// The tool itself could not do its job.
        Internal(String),
    }

    impl CliError {
        fn exit_code(&self) -> ExitCode {
            ExitCode::from(match self {
                CliError::Failed(_) => 1,
                CliError::Usage(_) => 2,
                CliError::Internal(_) => 3,
            })
        }

        fn message(&self) -> &str {
            match self {
                CliError::Failed(m) | CliError::Usage(m) | CliError::Internal(m) => m,
            }
        }
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let result = Catalog::from_json("assets/catalog.json (built in)", CATALOG_JSON)
            .map_err(|d| CliError::Internal(d.to_string()))
            .and_then(|catalog| run(cli.command, Arc::new(catalog)));
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let m = e.message().trim_end();
                eprintln!("{m}");
                e.exit_code()
            }
        }
    }

    fn run(command: Command, catalog: Arc<Catalog>) -> Result<(), CliError> {
        match command {
            Command::Validate { cases } => validate(&cases, &catalog),
            Command::Play {
                case,
                turns,
                model,
                output,
            } => play(&case, &turns, model, output, catalog),
            Command::Catalog { words } => catalog_search(&words, &catalog),
            Command::ImportRubric { paths, json } => import_rubric(&paths, json),
            Command::ModelPlay(args) => model_play(args, catalog),
        }
    }

    fn read(path: &str) -> Result<String, CliError> {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::Failed(format!("{path}: cannot read: {e}")))
    }

    fn load(path: &str, catalog: &Catalog) -> Result<Arc<Case>, CliError> {
        let json = read(path)?;
        load_case(path, &json, catalog)
            .map(Arc::new)
            .map_err(|d| CliError::Failed(d.to_string()))
    }

    fn validate(paths: &[String], catalog: &Catalog) -> Result<(), CliError> {
        let mut failed = 0;
        for path in paths {
            match load(path, catalog) {
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
                    eprintln!("{}", e.message().trim_end());
                }
            }
        }
        if failed > 0 {
            return Err(CliError::Failed(format!(
                "{failed} of {} file{} failed validation",
                paths.len(),
                if paths.len() == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    fn play(
        case_path: &str,
        turns_path: &str,
        model: Option<String>,
        output: PlayOutput,
        catalog: Arc<Catalog>,
    ) -> Result<(), CliError> {
        let case = load(case_path, &catalog)?;
        let turns = read(turns_path)?;
        let config = match &model {
            Some(m) => Config::model("cli", m),
            None => Config::human(),
        };
        let mut enc = Encounter::new(case, catalog, config);
        for (n, line) in turns.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with("//") {
                continue;
            }
            let at = format!("{turns_path}:{}", n + 1);
            let input =
                Input::from_play_line(line).map_err(|e| CliError::Failed(format!("{at}: {e}")))?;
            if enc.is_ended() {
                eprintln!("{at}: the encounter has already ended; the remaining lines are ignored");
                break;
            }
            if !enc.takes(&input) {
                eprintln!(
                    "{at}: the encounter is closing and takes only the end form; line skipped"
                );
                continue;
            }
            enc.apply(input)
                .map_err(|e| CliError::Failed(format!("{at}: {e}")))?;
        }
        let record = enc.record();
        if output == PlayOutput::Record {
            let json = serde_json::to_string_pretty(record)
                .map_err(|e| CliError::Internal(format!("cannot serialize the record: {e}")))?;
            outln!("{json}");
            return Ok(());
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
        match output {
            PlayOutput::Export => outln!("{}", export.to_json()),
            PlayOutput::Medsp => print_medsp(&export)?,
            PlayOutput::Summary | PlayOutput::Record => print_summary(&export),
        }
        Ok(())
    }

    fn print_medsp(export: &EncounterExport) -> Result<(), CliError> {
        let json = serde_json::to_string_pretty(&frozen_result(export))
            .map_err(|e| CliError::Internal(format!("cannot serialize the result: {e}")))?;
        outln!("{json}");
        Ok(())
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

    fn import_rubric(paths: &[String], json: bool) -> Result<(), CliError> {
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
            let text = serde_json::to_string_pretty(&report.imported)
                .map_err(|e| CliError::Internal(format!("cannot serialize the rubrics: {e}")))?;
            outln!("{text}");
        }
        outln!("{}", report.summary());
        match report.errors.len() + unreadable {
            0 => Ok(()),
            n => Err(CliError::Failed(format!(
                "{n} file{} could not be imported",
                if n == 1 { "" } else { "s" }
            ))),
        }
    }

    fn catalog_search(words: &[String], catalog: &Catalog) -> Result<(), CliError> {
        let query = words.join(" ");
        if query.trim().is_empty() {
            return Err(CliError::Usage("give the words to search for".into()));
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
        if let Some(f) = best.placed_form() {
            outln!("form:  {f}");
        }
        if let Some(n) = best
            .order
            .as_ref()
            .and_then(|m| catalog.get(&m.id))
            .and_then(|o| o.note.as_ref())
        {
            outln!("note:  {n}");
        }
        outln!("\nclosest entries:");
        for m in search(&query, catalog, 8) {
            let Some(o) = catalog.get(&m.id) else {
                return Err(CliError::Internal(format!(
                    "search returned `{}`, which is not in the catalog",
                    m.id
                )));
            };
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
        Ok(())
    }

    /// An LLM plays the clinician through the native transport; the export goes to stdout.
    fn model_play(args: ModelPlayArgs, catalog: Arc<Catalog>) -> Result<(), CliError> {
        use bedside::engine::score::{check_judge, JudgeRun, JudgeVerdict};
        use bedside::llm::client::Client;
        use bedside::llm::roles::{clinician_turn, judge};
        use bedside::llm::settings::{ApiKey, Context, ProviderKind, ProviderSettings};
        use bedside::llm::transport::{block_on, Cancel, NativeTransport};

        let kind = match args.provider {
            Provider::Openai => ProviderKind::OpenAi,
            Provider::Anthropic => ProviderKind::Anthropic,
        };
        let mut settings = ProviderSettings::new(kind, &args.base_url, &args.model);
        settings.key = ApiKey::new(std::env::var(&args.key_env).unwrap_or_default());
        if let Some(m) = args.max_tokens {
            settings.max_tokens = m;
        }
        if let Some(t) = args.temperature {
            settings.temperature = t;
        }
        if let Some(t) = args.timeout {
            settings.timeout_s = t;
        }
        settings.seed = args.seed;
        if let Err(errors) = settings.validate(Context::Native) {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", option_name(e.field, &args.key_env), e.message))
                .collect();
            return Err(CliError::Usage(lines.join("\n")));
        }
        let case = load(&args.case, &catalog)?;
        let client = Client::new(NativeTransport::new(), settings, args.seed.unwrap_or(0));
        let mut config = Config::model(kind.label(), &args.model);
        if let Some(t) = args.turns {
            config.turn_limit = Some(t);
        }
        let mut enc = Encounter::new(case.clone(), catalog, config);
        let cancel = Cancel::new();
        let mut exchanges = Vec::new();
        let mut stopped = None;
        while !enc.is_ended() {
            let t = block_on(clinician_turn(&client, enc.case(), enc.record(), &cancel));
            exchanges.extend(t.exchanges);
            match t.input {
                Ok(input) => {
                    eprintln!("turn {}: {:?}", enc.state().turn + 1, t.fallback);
                    if let Err(e) = enc.apply(input) {
                        stopped = Some(format!("stopped: the engine refused the turn: {e}"));
                        break;
                    }
                }
                Err(e) => {
                    stopped = Some(format!("stopped: {e}"));
                    break;
                }
            }
        }
        let mut judge_run = None;
        if args.judge && stopped.is_none() {
            let voiced = std::collections::BTreeMap::new();
            let (result, ex) = block_on(judge(&client, &case, enc.record(), &voiced, &cancel));
            exchanges.extend(ex);
            match result {
                Ok(verdicts) => {
                    let run = JudgeRun {
                        model: format!("{} / {}", kind.label(), args.model),
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
            &args.case,
            "",
            &case,
            Roles::from_record(record, "scripted", judge_label.as_deref()),
            record,
            &card,
        );
        let totals = client.totals();
        export.app = Some(serde_json::json!({
            "llm_exchanges": exchanges,
            "protocol_faults": bedside::llm::roles::fault_counts(&exchanges),
            "usage": totals,
        }));
        match args.output {
            ModelOutput::Summary => print_summary(&export),
            ModelOutput::Medsp => print_medsp(&export)?,
            ModelOutput::Export => outln!("{}", export.to_json()),
        }
        match stopped {
            Some(reason) => Err(CliError::Failed(reason)),
            None => Ok(()),
        }
    }

    /// The command-line option that sets a settings field (`timeout_s` → `--timeout`).
    fn option_name(field: Field, key_env: &str) -> String {
        match field {
            Field::TimeoutS => "--timeout".to_string(),
            Field::Key => {
                format!("the API key (environment variable {key_env}, set by --key-env)")
            }
            other => format!("--{}", other.to_string().replace('_', "-")),
        }
    }
}
