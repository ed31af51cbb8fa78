# Sourced by end2end/start-server.sh and scripts/cluster.sh: starts the partner simulators for an
# app that partners reach at $3 (its public URL), on ports $2+1 … $2+7, and connects them:
# identity verification on +1, background-check partner on +2 (connected as "Acme Screening
# (simulator)"; applicants named Turing come back "Consider"), interview-integrity monitor on +3
# (connected), SMTP sink on +4 (received mail on +5), alert sink on +7 (+6 stays free for the
# embed spec's host page). Exports the CLEARANCE_* variables the app reads; the simulators' PIDs
# are in $sim_pids. Uses DATABASE_URL to connect the partner and the monitor.
start_simulators() { # binary port public_url
  local binary=$1 port=$2 public_url=$3
  # The simulators run on loopback over plain http.
  export CLEARANCE_ALLOW_HTTP_PARTNERS=true
  export CLEARANCE_PARTNER_ALLOWLIST=127.0.0.1/32
  export CLEARANCE_VERIFICATION_URL="http://127.0.0.1:$((port + 1))"
  export CLEARANCE_VERIFICATION_API_KEY="e2e-provider-key"
  export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="whsec_ZTJlLXdlYmhvb2stc2VjcmV0LWtleQ=="
  "$binary" sim verification --listen "127.0.0.1:$((port + 1))" \
    --webhook-url "$public_url/webhooks/verification" &
  sim_pids="$!"
  local partner_port=$((port + 2))
  export CLEARANCE_PARTNER_SIM_SECRET="e2e-partner-secret"
  "$binary" sim partner --listen "127.0.0.1:$partner_port" --account-id ACCT123 --complete-after-ms 1500 \
    --result-for Turing=Consider &
  sim_pids="$sim_pids $!"
  local monitor_port=$((port + 3))
  export CLEARANCE_MONITOR_SIM_API_KEY="e2e-monitor-key"
  export CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET="whsec_ZTJlLW1vbml0b3Itc2VjcmV0LWtleQ=="
  "$binary" sim monitor --listen "127.0.0.1:$monitor_port" \
    --webhook-url "$public_url/webhooks/integrity" &
  sim_pids="$sim_pids $!"
  "$binary" sim mail --smtp "127.0.0.1:$((port + 4))" --listen "127.0.0.1:$((port + 5))" &
  sim_pids="$sim_pids $!"
  export CLEARANCE_SMTP_URL="smtp://127.0.0.1:$((port + 4))"
  export CLEARANCE_SMTP_FROM="Clearance e2e <notices@clearance.invalid>"
  # Where alerts to Support land (the Settings spec saves it as a destination).
  export CLEARANCE_ALERTS_SIM_WEBHOOK_SECRET="whsec_ZTJlLWFsZXJ0cy1zZWNyZXQta2V5"
  "$binary" sim alerts --listen "127.0.0.1:$((port + 7))" &
  sim_pids="$sim_pids $!"
  printf '%s\n%s\n' "$CLEARANCE_MONITOR_SIM_API_KEY" "$CLEARANCE_MONITOR_SIM_WEBHOOK_SECRET" \
    | "$binary" monitor connect --url "http://127.0.0.1:$monitor_port"
  printf '%s' "$CLEARANCE_PARTNER_SIM_SECRET" | "$binary" partner add --replace \
    --name "Acme Screening (simulator)" --catalog-url "http://127.0.0.1:$partner_port/catalog" \
    --orders-url "http://127.0.0.1:$partner_port/orders" --account-id ACCT123 --logo scripts/sim-partner-logo.png
}
