#!/usr/bin/env bash
# Starts Clearance for the end-to-end suite: a fresh SQLite file with demo data, run from the repo root.
set -euo pipefail
binary=${1:-target/debug/clearance}
port=${2:-3100}
if [ ! -x "$binary" ]; then
  echo "end2end: $binary is missing; build it first (cargo leptos build)" >&2
  exit 1
fi
dir=$(mktemp -d)
export DATABASE_URL="sqlite://$dir/e2e.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export CLEARANCE_PUBLIC_URL="http://127.0.0.1:$port"
exec "$binary" serve --demo
