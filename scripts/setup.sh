#!/usr/bin/env bash
# Installs what building Clearance needs, from the package registries only; safe to run again.
#   scripts/setup.sh          Rust target, cargo-leptos, trunk, wasm-bindgen CLI, wasm-opt
#   scripts/setup.sh --test   the same plus the end-to-end suite's npm packages and Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
TRUNK_VERSION=0.21.14
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is not installed: install Rust with rustup first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed: install Node.js 18+ first" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~15 minutes once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# Builds the embeddable badge widget (widget/, Trunk.toml); 0.22 needs a newer rustc.
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (takes ~5 minutes once)"
  cargo install trunk --locked --version "$TRUNK_VERSION"
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  say "installing wasm-opt (binaryen) from npm"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--test" ]; then
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    say "installing the end-to-end suite's npm packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium for the end-to-end suite"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -x /usr/sbin/nginx ]; then
    say "installing Debian's nginx for the several-instances suite (scripts/cluster.sh)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq nginx-light >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nginx-light >/dev/null; }
  fi
fi
