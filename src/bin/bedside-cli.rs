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
        /// Run an evaluation plan (players × cases × repeats): one result file per job in
        /// OUT/jobs, an index, resumable (running the same command again skips finished jobs).
        Run(RunArgs),
        /// Merge the result folders of one run's shards into one folder and one index.
        Merge {
            /// The folder to merge into (created if missing).
            #[arg(long, value_name = "DIR")]
            out: String,
            #[arg(required = true, value_name = "SHARD_DIR")]
            shards: Vec<String>,
        },
        /// Compare players from run folders, folders of encounter exports or single files: the
        /// report as self-contained HTML (default), JSON, or the long-format CSV.
        Report(ReportArgs),
    }

    #[derive(Args)]
    struct ReportArgs {
        /// Run folders (`bedside-cli run --out`), folders of exports and job records (every
        /// *.json below), or single files.
        #[arg(required = true, value_name = "DIR|FILE")]
        paths: Vec<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
        /// The report's title.
        #[arg(long, default_value = "Bedside comparison")]
        title: String,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum ReportFormat {
        Html,
        Json,
        Csv,
    }

    #[derive(Args)]
    struct RunArgs {
        /// The plan (JSON, `assets/plan.schema.json`); keys come from the environment
        /// variables it names, never from the file.
        #[arg(value_name = "PLAN.json")]
        plan: String,
        /// The result folder (created if missing; a folder of the same run resumes).
        #[arg(long, value_name = "DIR")]
        out: String,
        /// Jobs in flight at once per endpoint (default: the plan's `concurrency`, else 2).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
        jobs: Option<u32>,
        /// Run only shard I of N (a deterministic 1/N of the jobs: one array task of a cluster
        /// job); `merge` joins the shards' folders.
        #[arg(long, value_name = "I/N", value_parser = bedside::eval::plan::Shard::parse)]
        shard: Option<bedside::eval::plan::Shard>,
        /// Also write MedSP1000's layout (OUT/medsp/<player>/<case>/<scenario>/<stamp>/).
        #[arg(long)]
        medsp: bool,
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
        /// Most tokens per reply, for every model role (default 512).
        #[arg(long, value_name = "N")]
        max_tokens: Option<u32>,
        /// Sampling temperature for every model role, 0–2 (0–1 for Anthropic; default 0.7).
        #[arg(long, value_name = "X")]
        temperature: Option<f64>,
        /// Seed sent to the provider and used for retry jitter (default: none sent, jitter 0).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Seconds to wait for one reply (1–600; default 60).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u32>,
        /// Voice the patient side with this model (default: the case's scripted lines). The
        /// engine still decides what each question elicits.
        #[arg(long, value_name = "NAME")]
        patient_model: Option<String>,
        /// The patient model's base URL (default: --base-url), same provider as the clinician.
        #[arg(long, value_name = "URL", requires = "patient_model")]
        patient_base_url: Option<String>,
        /// Read the patient model's API key from this environment variable (never printed);
        /// when it is unset and the patient uses the clinician's endpoint, the clinician's key.
        #[arg(
            long,
            value_name = "VAR",
            default_value = "BEDSIDE_PATIENT_API_KEY",
            requires = "patient_model"
        )]
        patient_key_env: String,
        /// Also score the judge items with the clinician's model once the encounter has ended.
        #[arg(long)]
        judge: bool,
        /// With --judge: score them even when the clinician's run failed (on the partial record).
        #[arg(long, requires = "judge")]
        judge_after_failure: bool,
        /// Best-of-N (MedSP1000's `bon`): sample N candidate turns (2–16) and let one more call
        /// pick one, N + 1 calls per turn; the end form stays one call (default: one call per
        /// turn).
        #[arg(long, value_name = "N")]
        best_of: Option<u32>,
        /// With --best-of: the candidates' sampling temperature, 0–2 (0–1 for Anthropic).
        #[arg(long, value_name = "X", default_value_t = 1.0, requires = "best_of")]
        best_of_temperature: f64,
        /// The static play: the whole case at once as a written vignette and one call for the
        /// diagnosis and the management; scored on the items that apply without a conversation.
        #[arg(long = "static", conflicts_with = "best_of")]
        static_play: bool,
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
            Command::Run(args) => run_plan(args, catalog),
            Command::Merge { out, shards } => merge(&out, &shards),
            Command::Report(args) => report(args, &catalog),
        }
    }

    fn report(args: ReportArgs, catalog: &Catalog) -> Result<(), CliError> {
        use bedside::eval::report::{Filter, Report};
        let paths: Vec<&std::path::Path> = args.paths.iter().map(std::path::Path::new).collect();
        let (rows, problems) = bedside::eval::batch::report_rows(&paths, catalog);
        for p in &problems {
            eprintln!("{p}");
        }
        if rows.is_empty() {
            return Err(CliError::Failed(format!(
                "no scored encounter in {}",
                args.paths.join(", ")
            )));
        }
        let report = Report::build(&rows, &Filter::default());
        let text = match args.format {
            ReportFormat::Csv => bedside::eval::compare::long_csv(&rows),
            ReportFormat::Json => report.to_json() + "\n",
            ReportFormat::Html => bedside::eval::html::report_html(&report, &args.title),
        };
        match &args.out {
            Some(path) => std::fs::write(path, text)
                .map_err(|e| CliError::Internal(format!("{path}: cannot write: {e}")))?,
            None => {
                use std::io::Write as _;
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
        }
        eprintln!(
            "{} encounters, {} players{}",
            rows.len(),
            report.players.len(),
            if problems.is_empty() {
                String::new()
            } else {
                format!(", {} files not read (above)", problems.len())
            }
        );
        Ok(())
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
                Mark::NotApplicable => "n/a static",
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

    /// Reports the run on stderr as it goes: each turn and how the reply was used, a patient
    /// voice that failed.
    struct Progress {
        turns: u32,
    }

    impl bedside::llm::driver::Observer for Progress {
        fn turn(
            &mut self,
            turn: &bedside::llm::driver::TurnReport,
            _: &Encounter,
        ) -> Result<(), String> {
            self.turns += 1;
            eprintln!("turn {}: {:?}", self.turns, turn.fallback);
            Ok(())
        }

        fn voice_finished(
            &mut self,
            result: &Result<Vec<bedside::llm::roles::VoicedLine>, bedside::llm::error::LlmError>,
        ) {
            if let Err(e) = result {
                eprintln!("patient voice failed, the scripted line stands: {e}");
            }
        }
    }

    /// An LLM plays the clinician through the native transport (the one driver,
    /// `llm::driver`), the patient side voiced by a model if asked; the export goes to stdout.
    fn model_play(args: ModelPlayArgs, catalog: Arc<Catalog>) -> Result<(), CliError> {
        use bedside::app::settings::model_label;
        use bedside::llm::driver::{Driver, PlayConfig, PlayState, Players, Strategy};
        use bedside::llm::settings::{ApiKey, Context, ProviderKind, ProviderSettings};
        use bedside::llm::transport::{block_on, Cancel, NativeTransport};

        let kind = match args.provider {
            Provider::Openai => ProviderKind::OpenAi,
            Provider::Anthropic => ProviderKind::Anthropic,
        };
        let env = |var: &str| std::env::var(var).unwrap_or_default();
        let mut clinician = ProviderSettings::new(kind, &args.base_url, &args.model);
        clinician.key = ApiKey::new(env(&args.key_env));
        let patient = args.patient_model.as_deref().map(|model| {
            let base = args.patient_base_url.as_deref().unwrap_or(&args.base_url);
            let mut p = ProviderSettings::new(kind, base, model);
            p.key = ApiKey::new(env(&args.patient_key_env));
            // The same endpoint: the clinician's key, unless the patient has its own.
            if p.key.is_empty() && p.base() == clinician.base() {
                p.key = clinician.key.clone();
            }
            p
        });
        let config = PlayConfig {
            turn_limit: args.turns,
            seed: args.seed,
            temperature: args.temperature,
            max_tokens: args.max_tokens,
            timeout_s: args.timeout,
            judge_after_failure: args.judge_after_failure,
            jitter_seed: args.seed.unwrap_or(0),
            strategy: match args.best_of {
                None if args.static_play => Strategy::Static,
                None => Strategy::Single,
                Some(n) => Strategy::BestOf {
                    n,
                    temperature: args.best_of_temperature,
                },
            },
            ..PlayConfig::default()
        };
        let mut problems = Vec::new();
        if let Err(e) = config.strategy.validate() {
            // The message names the field: "n must be…; temperature must be…".
            problems.extend(e.split("; ").map(|p| match p.strip_prefix("temperature ") {
                Some(rest) => format!("--best-of-temperature: {rest}"),
                None => format!("--best-of: {}", p.strip_prefix("n ").unwrap_or(p)),
            }));
        } else if let Strategy::BestOf { temperature, .. } = config.strategy {
            // The candidates' temperature must suit the provider too.
            let mut candidates = config.settings(&clinician);
            candidates.temperature = temperature;
            if let Err(errors) = candidates.validate(Context::Native) {
                problems.extend(
                    errors
                        .iter()
                        .filter(|e| e.field == Field::Temperature)
                        .map(|e| format!("--best-of-temperature: {}", e.message)),
                );
            }
        }
        let roles = [("", Some(&clinician)), ("patient-", patient.as_ref())];
        for (prefix, settings) in roles {
            let Some(settings) = settings else { continue };
            if let Err(errors) = config.settings(settings).validate(Context::Native) {
                problems.extend(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", option_name(prefix, e.field, &args), e.message)),
                );
            }
        }
        if !problems.is_empty() {
            // A shared option (--timeout) is named once.
            let mut seen = std::collections::BTreeSet::new();
            problems.retain(|p| seen.insert(p.clone()));
            return Err(CliError::Usage(problems.join("\n")));
        }
        let case = load(&args.case, &catalog)?;
        let players = Players {
            judge: args.judge.then(|| clinician.clone()),
            clinician,
            patient,
        };
        let encounter = Encounter::new(
            case.clone(),
            catalog,
            config.encounter_config(&players.clinician),
        );
        let driver = Driver::new(&players, &config, NativeTransport::new);
        let play = block_on(driver.play(
            encounter,
            Default::default(),
            &Cancel::new(),
            &mut Progress { turns: 0 },
        ));
        let judge_run = match play.judge {
            Some(Ok(run)) => Some(run),
            Some(Err(e)) => {
                eprintln!("{e}");
                None
            }
            None => None,
        };
        let record = play.encounter.record();
        let card = score_named(
            &case,
            Some(play.encounter.catalog()),
            &record.state,
            judge_run.as_ref(),
            &[],
        );
        let patient_voice = match &players.patient {
            Some(p) if !play.voiced.is_empty() => model_label(p),
            _ => "scripted".to_string(),
        };
        let judge_label = judge_run.as_ref().map(|j| j.model.clone());
        let mut export = EncounterExport::new(
            &args.case,
            "",
            &case,
            Roles::from_record(record, &patient_voice, judge_label.as_deref()),
            record,
            &card,
        );
        export.app = Some(bedside::llm::roles::export_record(
            &play.exchanges,
            &play.voiced,
        ));
        match args.output {
            ModelOutput::Summary => print_summary(&export),
            ModelOutput::Medsp => print_medsp(&export)?,
            ModelOutput::Export => outln!("{}", export.to_json()),
        }
        match play.state {
            PlayState::Finished { .. } => Ok(()),
            PlayState::Failed(e) => Err(CliError::Failed(format!("stopped: {e}"))),
            PlayState::Paused | PlayState::Stopped => Err(CliError::Failed(
                "stopped before the encounter ended".into(),
            )),
        }
    }

    /// The command-line option that sets a settings field (`timeout_s` → `--timeout`); the
    /// patient's endpoint, model and key have options of their own (`prefix` "patient-").
    fn option_name(prefix: &str, field: Field, args: &ModelPlayArgs) -> String {
        match field {
            Field::TimeoutS => "--timeout".to_string(),
            Field::Key if prefix.is_empty() => format!(
                "the API key (environment variable {}, set by --key-env)",
                args.key_env
            ),
            Field::Key => format!(
                "the patient's API key (environment variable {}, set by --patient-key-env)",
                args.patient_key_env
            ),
            Field::BaseUrl | Field::Model => {
                format!("--{prefix}{}", field.name().replace('_', "-"))
            }
            other => format!("--{}", other.name().replace('_', "-")),
        }
    }

    /// Runs an evaluation plan into a result folder (`bedside::eval::batch`), printing each
    /// job as it ends and a line per player at the end.
    fn run_plan(args: RunArgs, catalog: Arc<Catalog>) -> Result<(), CliError> {
        use bedside::eval::batch::{self, Options};
        let loaded = batch::load_plan(std::path::Path::new(&args.plan), &catalog)
            .map_err(CliError::Usage)?;
        let keys = batch::keys_from_env(&loaded.plan).map_err(CliError::Usage)?;
        let options = Options {
            per_endpoint: args.jobs,
            shard: args.shard,
            medsp: args.medsp,
        };
        let estimate = bedside::eval::estimate::estimate(&loaded.plan, &loaded.cases, &catalog);
        match options.shard {
            Some(s) => eprintln!(
                "estimate (the whole plan; shard {}/{} runs about 1/{} of it): {}",
                s.index,
                s.count,
                s.count,
                estimate.line()
            ),
            None => eprintln!("estimate: {}", estimate.line()),
        }
        let index = batch::run(
            &loaded,
            std::path::Path::new(&args.out),
            &options,
            catalog,
            &keys,
            &|line| eprintln!("{line}"),
        )
        .map_err(CliError::Failed)?;
        print_index(&index);
        let mine: Vec<_> = index
            .jobs
            .iter()
            .filter(|j| {
                let job = loaded.jobs().into_iter().find(|x| x.id == j.id);
                job.is_some_and(|job| options.shard.is_none_or(|s| s.holds(&job)))
            })
            .collect();
        let failed = mine.iter().filter(|j| j.status == "failed").count();
        if failed > 0 {
            return Err(CliError::Failed(format!(
                "{failed} of {} jobs failed (see OUT/failed/); run the same command again to retry them",
                mine.len()
            )));
        }
        Ok(())
    }

    fn merge(out: &str, shards: &[String]) -> Result<(), CliError> {
        let paths: Vec<&std::path::Path> = shards.iter().map(std::path::Path::new).collect();
        let index = bedside::eval::batch::merge(std::path::Path::new(out), &paths)
            .map_err(CliError::Failed)?;
        print_index(&index);
        Ok(())
    }

    /// One line per player: jobs, completion (micro), tokens, latency, cost.
    fn print_index(index: &bedside::eval::folder::Index) {
        outln!(
            "{}: {}/{} jobs done, {} failed, {} to do",
            index.plan,
            index.done,
            index.total,
            index.failed,
            index.to_do
        );
        for p in &index.players {
            let ms = |v: Option<u64>| v.map_or("–".to_string(), |v| format!("{v} ms"));
            outln!(
                "  {}: {} done, {} failed · completion {} ({}/{} items) · {} calls, {} tokens in, {} out · latency median {}, p95 {}{}",
                p.label,
                p.done,
                p.failed,
                percent(p.completion),
                p.items_met,
                p.items_scored,
                p.calls,
                p.input_tokens,
                p.output_tokens,
                ms(p.latency_median_ms),
                ms(p.latency_p95_ms),
                p.cost.map_or(String::new(), |c| format!(" · cost {c:.4}")),
            );
        }
    }
}
