#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests on SQLite and PostgreSQL, then the Playwright
# end-to-end suite against the real server in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh --test

# A one-off build gains nothing from incremental caches; they would take tens of GB on disk.
[ "${CI:-}" = "true" ] && export CARGO_INCREMENTAL=0

# Each section says when it started (minutes:seconds into the run), so a slow CI run shows where.
section() { printf '== %s  [%d:%02d]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

warn() { printf '\n\033[1;33m%s\033[0m\n\n' "$*" >&2; }

# PostgreSQL: TEST_DATABASE_URL if given, else the local server if one answers.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://${PGUSER:-$(id -un)}@127.0.0.1:5432/postgres"
  fi
fi
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "PostgreSQL tests run against ${TEST_DATABASE_URL%%\?*}"
  if command -v psql >/dev/null; then
    # Databases left by earlier runs.
    psql "$TEST_DATABASE_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'clearance_test_%'" 2>/dev/null |
      while read -r db; do psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "CI: no PostgreSQL on 127.0.0.1:5432 and no TEST_DATABASE_URL; the PostgreSQL tests must run in CI" >&2
  exit 1
else
  warn "!!! NO POSTGRESQL REACHABLE: the PostgreSQL half of the suite is SKIPPED. Set TEST_DATABASE_URL=postgres://user@host:5432/postgres to run it. !!!"
fi

section "Formatting and lints (rustfmt, clippy with warnings as errors: server, tests, and the browser bundle)"
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
  cargo clippy --all-targets --features ssr -- -D warnings
  cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
  # The lean production server (no simulators) must build too.
  cargo clippy --bin clearance --no-default-features --features ssr -- -D warnings
  # The embeddable badge widget (its own CSR crate, built by Trunk).
  cargo clippy -p clearance-widget --target wasm32-unknown-unknown -- -D warnings
elif [ "${CI:-}" = "true" ]; then
  echo "CI: rustfmt and clippy must be installed (rustup component add rustfmt clippy)" >&2
  exit 1
else
  warn "!!! rustfmt or clippy is not installed (rustup component add rustfmt clippy): the format and lint gates are SKIPPED. !!!"
fi

section "Rust unit and integration tests"
trunk build  # the embeddable badge widget (Trunk.toml) → target/widget: the server's tests serve it too
cargo test --features ssr

section "End-to-end (Playwright, Chromium)"
cargo leptos build --split  # each page's code in a file of its own (lazy routes)
widget_size=$(cat target/widget/clearance-widget-*.js target/widget/clearance-widget-*_bg.wasm | wc -c)
echo "badge widget: $widget_size bytes of JS + WASM (uncompressed)"
(cd end2end && npx playwright test)
if [ -n "${TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  section "End-to-end through a load balancer (scripts/cluster.sh: three instances on PostgreSQL behind nginx)"
  (cd end2end && npx playwright test -c playwright.cluster.config.ts)
fi

# The benchmark is not a test (nothing is timed here); a small run keeps the script from rotting.
section "Benchmark smoke run (2,000 candidates, debug build)"
scripts/bench.sh --debug --candidates 2000 --duration 1 --connections 8
if [ -n "${TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  scripts/bench.sh --debug --postgres --candidates 2000 --duration 1 --connections 8
fi

section "kill -9 under webhook ingest (every 2xx stored, every event applied once)"
scripts/chaos.sh
if [ -n "${TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  scripts/chaos.sh --postgres
fi

[ -n "${TEST_DATABASE_URL:-}" ] || warn "Reminder: PostgreSQL was NOT tested in this run."
echo "All tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s."
