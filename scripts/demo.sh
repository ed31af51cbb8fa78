#!/usr/bin/env bash
# Builds Clearance (release) and starts it on http://127.0.0.1:3000 with demo data on SQLite,
# plus the identity-verification provider simulator on http://127.0.0.1:4100 and the
# background-check partner simulator on http://127.0.0.1:4200 (connected as "Acme Screening (simulator)")
# and the interview-integrity monitor simulator on http://127.0.0.1:4300 (connected), and a local
# SMTP sink for adverse-action notices (SMTP on 127.0.0.1:2525; what the candidate received on
# http://127.0.0.1:4400), and an alert sink for Support's alerts (http://127.0.0.1:4500: save its
# /slack or /webhook URL on the Settings page, the webhook with the secret below).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo leptos build --release --precompress --split
trunk build  # the embeddable badge widget (Trunk.toml) → target/widget
export DATABASE_URL="${DATABASE_URL:-sqlite://data/clearance.db}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
# The simulators run on this machine over plain http: allow exactly that (production partners
# must be https and on public addresses).
export CLEARANCE_ALLOW_HTTP_PARTNERS="${CLEARANCE_ALLOW_HTTP_PARTNERS:-true}"
export CLEARANCE_PARTNER_ALLOWLIST="${CLEARANCE_PARTNER_ALLOWLIST:-127.0.0.1/32}"
# Partner secrets are stored encrypted; the demo keeps its key beside its database (never do this
# in production: keep CLEARANCE_SECRET_KEY in your secret store, away from database dumps).
if [ -z "${CLEARANCE_SECRET_KEY:-}" ]; then
  mkdir -p data
  [ -s data/demo-secret.key ] || target/release/clearance secret keygen > data/demo-secret.key
  CLEARANCE_SECRET_KEY="$(cat data/demo-secret.key)"
  export CLEARANCE_SECRET_KEY
fi
# Ninety days of history played through the real paths with in-process simulators (once; the
# partner and monitor connections below then point at this demo's own simulators).
RUST_LOG="${RUST_LOG:-warn}" target/release/clearance demo-data --story
if [ -z "${CLEARANCE_VERIFICATION_URL:-}" ]; then
  # Development-only credentials shared by the app and its local simulator.
  export CLEARANCE_VERIFICATION_URL="http://127.0.0.1:4100"
  export CLEARANCE_VERIFICATION_API_KEY="demo-provider-key"
  export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="whsec_ZGVtby13ZWJob29rLXNlY3JldC1rZXk="
  target/release/clearance sim verification --listen 127.0.0.1:4100 \
    --webhook-url "http://$LEPTOS_SITE_ADDR/webhooks/verification" &
  sims="$!"
fi
# The background-check partner simulator, connected once like an admin would (secret on stdin).
export CLEARANCE_PARTNER_SIM_SECRET="${CLEARANCE_PARTNER_SIM_SECRET:-demo-partner-secret}"
# Applicants named Turing come back "Consider" and Liskov "Fail", so adverse action can be tried.
target/release/clearance sim partner --listen 127.0.0.1:4200 --account-id ACCT123 \
  --result-for Turing=Consider --result-for Liskov=Fail &
sims="${sims:-} $!"
trap 'kill $sims 2>/dev/null || true' EXIT
printf '%s' "$CLEARANCE_PARTNER_SIM_SECRET" | target/release/clearance partner add --replace \
  --name "Acme Screening (simulator)" --catalog-url http://127.0.0.1:4200/catalog \
  --orders-url http://127.0.0.1:4200/orders --account-id ACCT123 --logo scripts/sim-partner-logo.png
# The interview-integrity monitor simulator, connected once (key and secret on stdin).
export CLEARANCE_MONITOR_SIM_API_KEY="${CLEARANCE_MONITOR_SIM_API_KEY:-demo-monitor-key}"
export CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET="${CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET:-whsec_ZGVtby1tb25pdG9yLXNlY3JldC1rZXk=}"
target/release/clearance sim monitor --listen 127.0.0.1:4300 \
  --webhook-url "http://$LEPTOS_SITE_ADDR/webhooks/integrity" &
sims="$sims $!"
printf '%s\n%s\n' "$CLEARANCE_MONITOR_SIM_API_KEY" "$CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET" \
  | target/release/clearance monitor connect --url http://127.0.0.1:4300
# Adverse-action notices go to the local sink unless CLEARANCE_SMTP_URL names a real server.
if [ -z "${CLEARANCE_SMTP_URL:-}" ]; then
  target/release/clearance sim mail --smtp 127.0.0.1:2525 --listen 127.0.0.1:4400 &
  sims="$sims $!"
  export CLEARANCE_SMTP_URL="smtp://127.0.0.1:2525"
  export CLEARANCE_SMTP_FROM="${CLEARANCE_SMTP_FROM:-Clearance demo <notices@clearance.invalid>}"
fi
# Alerts to Support land here once an admin saves the sink on the Settings page.
export CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET="${CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET:-whsec_ZGVtby1hbGVydHMtc2VjcmV0LWtleQ==}"
target/release/clearance sim alerts --listen 127.0.0.1:4500 &
sims="$sims $!"
echo "Alert sink: on Settings, save http://127.0.0.1:4500/slack, or http://127.0.0.1:4500/webhook with the secret $CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET"
target/release/clearance serve --demo
