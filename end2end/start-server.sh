#!/usr/bin/env bash
# Starts Clearance for the end-to-end suite: a fresh SQLite file with demo data, the
# identity-verification simulator on port+1 and the background-check partner simulator on
# port+2 (connected as a partner; applicants named Turing come back "Consider"), the integrity
# monitor on port+3, an SMTP sink on port+4/+5 and the alert sink on port+7 (the embed spec serves its host page on port+6), run from the repo root.
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
# The simulators run on loopback over plain http.
export CLEARANCE_ALLOW_HTTP_PARTNERS=true
export CLEARANCE_PARTNER_ALLOWLIST=127.0.0.1/32
# Development-only key the suite's partner secrets are encrypted under.
export CLEARANCE_SECRET_KEY="ZTJlLW9ubHkta2V5LWUyZS1vbmx5LWtleS1lMmUtb24="
export CLEARANCE_VERIFICATION_URL="http://127.0.0.1:$sim_port"
export CLEARANCE_VERIFICATION_API_KEY="e2e-provider-key"
export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="whsec_ZTJlLXdlYmhvb2stc2VjcmV0LWtleQ=="
"$binary" sim verification --listen "127.0.0.1:$sim_port" \
  --webhook-url "http://127.0.0.1:$port/webhooks/verification" &
sim=$!
partner_port=$((port + 2))
export CLEARANCE_PARTNER_SIM_SECRET="e2e-partner-secret"
"$binary" sim partner --listen "127.0.0.1:$partner_port" --account-id ACCT123 --complete-after-ms 1500 \
  --result-for Turing=Consider &
partner=$!
monitor_port=$((port + 3))
export CLEARANCE_MONITOR_SIM_API_KEY="e2e-monitor-key"
export CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET="whsec_ZTJlLW1vbml0b3Itc2VjcmV0LWtleQ=="
"$binary" sim monitor --listen "127.0.0.1:$monitor_port" \
  --webhook-url "http://127.0.0.1:$port/webhooks/integrity" &
monitor=$!
# The SMTP sink for adverse-action notices (SMTP on port+4, received mail on port+5); waiting
# periods last seconds here so the suite can reach the final notice.
"$binary" sim mail --smtp "127.0.0.1:$((port + 4))" --listen "127.0.0.1:$((port + 5))" &
mail=$!
export CLEARANCE_SMTP_URL="smtp://127.0.0.1:$((port + 4))"
export CLEARANCE_SMTP_FROM="Clearance e2e <notices@clearance.invalid>"
export CLEARANCE_ADVERSE_WAIT_SECONDS=6
# Where alerts to Support land (the Settings spec saves it as a destination).
export CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET="whsec_ZTJlLWFsZXJ0cy1zZWNyZXQta2V5"
"$binary" sim alerts --listen "127.0.0.1:$((port + 7))" &
alerts=$!
trap 'kill $sim $partner $monitor $mail $alerts 2>/dev/null || true' EXIT
printf '%s\n%s\n' "$CLEARANCE_MONITOR_SIM_API_KEY" "$CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET" \
  | "$binary" monitor connect --url "http://127.0.0.1:$monitor_port"
printf '%s' "$CLEARANCE_PARTNER_SIM_SECRET" | "$binary" partner add \
  --name "Acme Screening (simulator)" --catalog-url "http://127.0.0.1:$partner_port/catalog" \
  --orders-url "http://127.0.0.1:$partner_port/orders" --account-id ACCT123 --logo scripts/sim-partner-logo.png
"$binary" serve --demo
