#!/usr/bin/env bash
# Starts Clearance for the end-to-end suite: a fresh SQLite file with demo data, the
# identity-verification simulator on port+1, run from the repo root.
set -euo pipefail
binary=${1:-target/debug/clearance}
port=${2:-3100}
sim_port=$((port + 1))
if [ ! -x "$binary" ]; then
  echo "end2end: $binary is missing; build it first (cargo leptos build)" >&2
  exit 1
fi
dir=$(mktemp -d)
export DATABASE_URL="sqlite://$dir/e2e.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export CLEARANCE_PUBLIC_URL="http://127.0.0.1:$port"
export CLEARANCE_VERIFICATION_URL="http://127.0.0.1:$sim_port"
export CLEARANCE_VERIFICATION_API_KEY="e2e-provider-key"
export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="whsec_ZTJlLXdlYmhvb2stc2VjcmV0LWtleQ=="
"$binary" sim verification --listen "127.0.0.1:$sim_port" \
  --webhook-url "http://127.0.0.1:$port/webhooks/verification" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
"$binary" serve --demo
