#!/usr/bin/env bash
# Volume benchmark: loads N synthetic candidates (default 100k) into a fresh database, starts the
# server, and measures each line of the README's table with wrk, beside a static file served by
# the same server in the same run.
#
#   scripts/bench.sh [--postgres] [--candidates N] [--duration SECONDS] [--connections C] [--debug]
#
# --debug uses target/debug/clearance as `cargo leptos build` left it (CI's smoke run); the default
# builds and measures the release build. It is a benchmark, not a test: nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

candidates=100000
postgres=false
duration=10
connections=64
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=true ;;
    --candidates) candidates="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --debug) profile=debug ;;
    *) echo "unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v wrk >/dev/null; then
  echo "[bench] installing wrk (Debian package)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null; }
fi

if [ "$profile" = release ]; then
  scripts/setup.sh >/dev/null
  cargo leptos build --release >/dev/null 2>&1
fi
bin="target/$profile/clearance"
[ -x "$bin" ] || { echo "$bin is missing: run cargo leptos build${profile/debug/} first" >&2; exit 1; }

work=$(mktemp -d)
port=$((3300 + RANDOM % 500))
base="http://127.0.0.1:$port"
pgdb=""
if $postgres; then
  pgbase="${TEST_DATABASE_URL:-postgres://${PGUSER:-$(id -un)}@127.0.0.1:5432/postgres}"
  pgdb="clearance_bench_$$"
  psql "$pgbase" -qc "CREATE DATABASE $pgdb" >/dev/null
  export DATABASE_URL="${pgbase%/*}/$pgdb"
  backend=PostgreSQL
else
  export DATABASE_URL="sqlite://$work/bench.db"
  backend=SQLite
fi
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pgdb" ] && psql "$pgbase" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

export LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export CLEARANCE_PUBLIC_URL="$base" RUST_LOG=warn
load_started=$(date +%s.%N)
"$bin" demo-data --volume "$candidates" >/dev/null 2>"$work/load.log"
load_secs=$(awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

cookie_of() { # email password
  curl -fs -o /dev/null -c - -H "Origin: $base" --data-urlencode "email=$1" --data-urlencode "password=$2" "$base/api/login" |
    awk '$6 == "clearance_session" { print "clearance_session=" $7 }'
}
recruiter=$(cookie_of recruiter@clearance.test demo-recruiter-password)
security=$(cookie_of security@clearance.test demo-security-password)
[ -n "$recruiter" ] && [ -n "$security" ] || { echo "could not sign in; server log:" >&2; cat "$work/server.log" >&2; exit 1; }

# Median time of one request alone, in ms.
alone() { # cookie url
  for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $1" "$2"
  done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }'
}

# wrk's requests/s, p50 and p99 (ms).
loaded() { # cookie url
  wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Cookie: $1" "$2" 2>/dev/null | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Socket errors/ { errors = $0 }
    END { printf "%.0f %.1f %.1f", rps, p50, p99 }'
}

profile_id=$(( candidates > 1000 ? candidates / 2 : 7 ))
lines=(
  "static file /pkg/clearance.css||/pkg/clearance.css"
  "list, first page (recruiter)|$recruiter|/candidates"
  "list, status=needs_review|$recruiter|/candidates?status=needs_review"
  "list, risk=high|$recruiter|/candidates?risk=high"
  "list, search q=person 4242|$recruiter|/candidates?q=person+4242"
  "list, job=2 + status=verified|$recruiter|/candidates?job=2&status=verified"
  "profile /candidates/$profile_id|$recruiter|/candidates/$profile_id"
  "review queue (security reviewer)|$security|/review-queue"
)

echo
echo "Clearance volume benchmark — $backend, $candidates synthetic candidates (+50 demo), $profile build,"
echo "wrk $connections connections × ${duration}s per line, $(nproc) cores, $(date -u +%Y-%m-%d)."
echo "Loading the candidates took $(printf '%.1f' "$load_secs") s."
echo
echo "| what | alone (ms) | requests/s | p50 (ms) | p99 (ms) | × static |"
echo "|---|---|---|---|---|---|"
static_rps=""
for line in "${lines[@]}"; do
  IFS='|' read -r name cookie path <<<"$line"
  a=$(alone "$cookie" "$base$path")
  read -r rps p50 p99 <<<"$(loaded "$cookie" "$base$path")"
  [ -z "$static_rps" ] && static_rps=$rps
  ratio=$(awk -v r="$rps" -v s="$static_rps" 'BEGIN { if (s > 0) printf "%.2f", r / s; else print "-" }')
  echo "| $name | $a | $rps | $p50 | $p99 | $ratio |"
done

rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status" 2>/dev/null || echo "?")
verify_started=$(date +%s.%N)
"$bin" audit verify >/dev/null
verify_secs=$(awk -v a="$verify_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
entries=$("$bin" audit verify 2>/dev/null | grep -o 'through [0-9]*' | grep -o '[0-9]*' || echo "?")
echo
echo "- server resident memory after the run: ${rss} MB"
echo "- \`clearance audit verify\`: $entries entries in $(printf '%.2f' "$verify_secs") s"
