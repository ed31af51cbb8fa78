#!/usr/bin/env bash
# Builds Clearance (release) and starts it on http://127.0.0.1:3000 with demo data on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo leptos build --release
export DATABASE_URL="${DATABASE_URL:-sqlite://data/clearance.db}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
exec target/release/clearance serve --demo
