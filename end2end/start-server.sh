#!/usr/bin/env bash
# Starts Clearance for the end-to-end suite: a fresh SQLite file with demo data and the partner
# simulators on port+1 … port+7 (scripts/simulators.sh), run from the repo root.
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
# Development-only key the suite's partner secrets are encrypted under.
export CLEARANCE_SECRET_KEY="ZTJlLW9ubHkta2V5LWUyZS1vbmx5LWtleS1lMmUtb24="
# Waiting periods last seconds here so the suite can reach the final notice.
export CLEARANCE_ADVERSE_WAIT_SECONDS=6
source scripts/simulators.sh
start_simulators "$binary" "$port" "$CLEARANCE_PUBLIC_URL"
trap 'kill $sim_pids 2>/dev/null || true' EXIT
"$binary" serve --demo
