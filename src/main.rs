//! Mounts the Bedside app. Nothing else lives here: see `src/lib.rs`.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(bedside::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "bedside is a browser app: start it with scripts/run. \
         The native command-line tool is bedside-cli (cargo run --bin bedside-cli -- --help)."
    );
    std::process::exit(2);
}
