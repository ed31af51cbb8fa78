#!/usr/bin/env bash
# kill -9 under webhook ingest: a sender posts distinct signed verification webhooks at a fixed
# rate (scripts/chaos/sender.py, retrying whatever got no 2xx, as a provider does) while instances
# are killed with SIGKILL and started again. Then it checks, straight in the database: every event
# that got a 2xx is stored, every event is stored and applied exactly once (one row, one session,
# one audit entry each; none left pending), and the audit chain verifies. On PostgreSQL it then
# times a webhook received by one instance until a live-update stream on the other tells of it.
#
#   scripts/chaos.sh [--postgres] [--events N] [--rate PER_SECOND] [--release]
#
# SQLite: one instance, killed twice. PostgreSQL: two instances on one database, each killed once
# while the other keeps taking events (the sender sends a retry to the next instance, as a load
# balancer would). Uses target/debug/clearance (as `cargo leptos build` leaves it), or the release
# build with --release. Exits non-zero when any check fails; it is run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

events=2000
rate=200
postgres=false
profile=debug
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=true ;;
    --events) events="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --release) profile=release ;;
    *) echo "unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
bin="target/$profile/clearance"
[ -x "$bin" ] || { echo "$bin is missing: run cargo leptos build${profile/debug/} first" >&2; exit 1; }

work=$(mktemp -d)
first_port=$((3900 + RANDOM % 500))
pgdb=""
if $postgres; then
  pgbase="${TEST_DATABASE_URL:-postgres://${PGUSER:-$(id -un)}@127.0.0.1:5432/postgres}"
  pgdb="clearance_chaos_$$"
  psql "$pgbase" -qc "CREATE DATABASE $pgdb" >/dev/null
  export DATABASE_URL="${pgbase%/*}/$pgdb"
  instances=2
  backend=PostgreSQL
else
  export DATABASE_URL="sqlite://$work/chaos.db"
  instances=1
  backend=SQLite
fi
declare -a pids
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  [ -n "$pgdb" ] && psql "$pgbase" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" RUST_LOG=warn
secret="whsec_$(head -c 24 /dev/urandom | base64)"
export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="$secret"
"$bin" demo-data >/dev/null 2>"$work/load.log"

start() { # instance number
  local port=$((first_port + $1))
  LEPTOS_SITE_ADDR="127.0.0.1:$port" CLEARANCE_PUBLIC_URL="http://127.0.0.1:$port" \
    "$bin" serve >>"$work/server-$1.log" 2>&1 &
  pids[$1]=$!
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "instance $1 did not start; its log:" >&2; cat "$work/server-$1.log" >&2; exit 1
}
kill9() { { kill -9 "${pids[$1]}" && wait "${pids[$1]}"; } 2>/dev/null || true; }

urls=()
for i in $(seq 0 $((instances - 1))); do
  start "$i"
  urls+=("http://127.0.0.1:$((first_port + i))/webhooks/verification")
done

# Sending takes events/rate seconds; the kills fall at about a third and two thirds of it.
span=$(awk -v n="$events" -v r="$rate" 'BEGIN { print n / r }')
third=$(awk -v s="$span" 'BEGIN { printf "%.2f", s / 3 }')
python3 scripts/chaos/sender.py "$secret" "$events" "$rate" 120 "$work/acked" "${urls[@]}" >"$work/sender.out" &
sender=$!
sleep "$third"
kill9 0
sleep 1
start 0
sleep "$third"
last=$((instances - 1))
kill9 "$last"
sleep 1
start "$last"
sender_ok=true
wait "$sender" || sender_ok=false
summary=$(cat "$work/sender.out")

q() { # one SQL query → its rows, fields separated by |
  if $postgres; then
    psql "$DATABASE_URL" -Atqc "$1"
  else
    python3 - "$work/chaos.db" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
  fi
}

# What was stored is applied by the instances' workers: wait for none to be left pending.
for _ in $(seq 1 300); do
  [ "$(q "SELECT COUNT(*) FROM webhook_events WHERE webhook_id LIKE 'msg_chaos_%' AND state = 'pending'")" = 0 ] && break
  sleep 0.1
done

failures=()
check() { # description expected actual
  if [ "$2" = "$3" ]; then echo "ok   $1: $3"; else echo "FAIL $1: expected $2, got $3"; failures+=("$1"); fi
}
$sender_ok || failures+=("the sender could not get a 2xx for every event: $summary")
q "SELECT webhook_id FROM webhook_events WHERE webhook_id LIKE 'msg_chaos_%'" | sort >"$work/stored"
sort "$work/acked" >"$work/acked.sorted"
check "events acknowledged with a 2xx but not stored" 0 "$(comm -23 "$work/acked.sorted" "$work/stored" | wc -l)"
check "events stored (each once: webhook ids are unique)" "$events" "$(wc -l <"$work/stored")"
check "distinct events stored" "$events" "$(uniq "$work/stored" | wc -l)"
check "events left pending" 0 "$(q "SELECT COUNT(*) FROM webhook_events WHERE webhook_id LIKE 'msg_chaos_%' AND state = 'pending'")"
check "events applied" "$events" "$(q "SELECT COUNT(*) FROM webhook_events WHERE webhook_id LIKE 'msg_chaos_%' AND state = 'applied'")"
check "sessions recorded (one per event)" "$events" "$(q "SELECT COUNT(*) FROM verification_sessions WHERE session_id LIKE 'sess_chaos_%'")"
check "audit entries for the events (one each)" "$events" "$(q "SELECT COUNT(*) FROM audit_log WHERE payload LIKE '%sess_chaos_%'")"
if "$bin" audit verify >"$work/verify.out" 2>&1; then
  echo "ok   audit chain verifies: $(tail -1 "$work/verify.out")"
else
  echo "FAIL audit chain: $(cat "$work/verify.out")"; failures+=("audit chain")
fi

# Live updates across instances (PostgreSQL): a webhook received by one instance, told on the
# other's stream. A figure, not a timed check: it fails only if the notice never comes.
if $postgres; then
  if python3 scripts/chaos/crossing.py "$secret" "http://127.0.0.1:$first_port" "http://127.0.0.1:$((first_port + 1))" >"$work/crossing.out" 2>&1; then
    echo "ok   $(cat "$work/crossing.out")"
  else
    echo "FAIL live update across instances: $(cat "$work/crossing.out")"; failures+=("live update across instances")
  fi
fi

echo "chaos ($backend, $instances instance(s), $events events at $rate/s, two kill -9): $summary"
if [ ${#failures[@]} -gt 0 ]; then
  echo "chaos run FAILED: ${failures[*]}" >&2
  for i in $(seq 0 $((instances - 1))); do echo "--- instance $i log (tail)" >&2; tail -20 "$work/server-$i.log" >&2; done
  exit 1
fi
echo "chaos run passed."
