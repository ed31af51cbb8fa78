#!/usr/bin/env bash
# Volume benchmark: loads N synthetic candidates (default 100k) into a fresh database, starts the
# server, and measures each line of the README's table with wrk, beside a static file served by
# the same server in the same run.
#
#   scripts/bench.sh [--postgres] [--candidates N] [--audit N] [--duration SECONDS] [--connections C] [--debug]
#
# Beyond the pages: distinct signed verification webhooks (pre-signed by scripts/bench/webhooks.py,
# replayed by wrk with scripts/bench/webhooks.lua), the disk's raw SQLite commit rate (SQLite runs),
# `clearance audit verify` over --audit N entries (default 10 per candidate) and `clearance import
# candidates` of a CSV as large as --candidates into a fresh database.
#
# --debug uses target/debug/clearance as `cargo leptos build` left it (CI's smoke run); the default
# builds and measures the release build. It is a benchmark, not a test: nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

candidates=100000
audit=""
postgres=false
duration=10
connections=64
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=true ;;
    --candidates) candidates="$2"; shift ;;
    --audit) audit="$2"; shift ;;
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
  cargo leptos build --release --precompress --split >/dev/null 2>&1
fi
bin="target/$profile/clearance"
[ -x "$bin" ] || { echo "$bin is missing: run cargo leptos build${profile/debug/} first" >&2; exit 1; }

work=$(mktemp -d)
port=$((3300 + RANDOM % 500))
base="http://127.0.0.1:$port"
pgdb=""
pgimport=""
audit=${audit:-$((candidates * 10))}
if $postgres; then
  pgbase="${TEST_DATABASE_URL:-postgres://${PGUSER:-$(id -un)}@127.0.0.1:5432/postgres}"
  pgdb="clearance_bench_$$"
  pgimport="clearance_bench_import_$$"
  psql "$pgbase" -qc "CREATE DATABASE $pgdb" >/dev/null
  psql "$pgbase" -qc "CREATE DATABASE $pgimport" >/dev/null
  export DATABASE_URL="${pgbase%/*}/$pgdb"
  import_url="${pgbase%/*}/$pgimport"
  backend=PostgreSQL
else
  export DATABASE_URL="sqlite://$work/bench.db"
  import_url="sqlite://$work/import.db"
  backend=SQLite
fi
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pgdb" ] && psql "$pgbase" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "$pgimport" ] && psql "$pgbase" -qc "DROP DATABASE IF EXISTS $pgimport WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

export LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export CLEARANCE_PUBLIC_URL="$base" RUST_LOG=warn
webhook_secret="whsec_$(head -c 24 /dev/urandom | base64)"
export CLEARANCE_VERIFICATION_WEBHOOK_SECRET="$webhook_secret"
load_started=$(date +%s.%N)
"$bin" demo-data --volume "$candidates" --audit "$audit" >/dev/null 2>"$work/load.log"
load_secs=$(awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

# Bulk jobs at the highest pace allowed: the bulk line measures the machinery, not the pace.
CLEARANCE_BULK_PER_SECOND=1000 "$bin" serve >"$work/server.log" 2>&1 &
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
# The stylesheet under its hashed name (hash.txt beside the binary), as pages link it.
css_hash=$(awk -F': *' '$1 == "css" { print $2 }' "target/$profile/hash.txt" 2>/dev/null || true)
css="/pkg/clearance${css_hash:+.$css_hash}.css"
curl -fs -o /dev/null "$base$css" || { echo "the stylesheet $css is not served" >&2; exit 1; }
lines=(
  "static file (the stylesheet)||$css"
  "list, first page (recruiter)|$recruiter|/candidates"
  "list, status=needs_review|$recruiter|/candidates?status=needs_review"
  "list, risk=high|$recruiter|/candidates?risk=high"
  "list, search q=person 4242|$recruiter|/candidates?q=person+4242"
  "list, job=2 + status=verified|$recruiter|/candidates?job=2&status=verified"
  "profile /candidates/$profile_id|$recruiter|/candidates/$profile_id"
  "review queue (security reviewer)|$security|/review-queue"
  "insights, last 90 days (recruiter)|$recruiter|/insights"
)

echo
echo "Clearance volume benchmark — $backend, $candidates synthetic candidates (+50 demo), $profile build,"
echo "wrk $connections connections × ${duration}s per line, $(nproc) cores, $(date -u +%Y-%m-%d)."
echo "SQLite synchronous=${CLEARANCE_SQLITE_SYNCHRONOUS:-full} (SQLite runs); the server and wrk share the machine."
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
  sleep 1 # let the server drain what wrk left queued before the next line
done
# Insights keeps its figures per filter until the data changes: a range nobody read before
# costs one full reading. Five 90-day ranges ending on different days, each read once.
first_readings=$(for i in 1 2 3 4 5; do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $recruiter" \
    "$base/insights?from=$(date -u -d "-$((i + 89)) day" +%F)&to=$(date -u -d "-$i day" +%F)"
done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }')
echo "| insights, a 90-day range not read before (a first reading) | $first_readings | – | – | – | – |"

# Distinct signed webhooks: enough that wrk does not run out at ~8,000 events/s.
events=$((duration * 8000))
python3 scripts/bench/webhooks.py "$webhook_secret" "$events" "$candidates" >"$work/events.tsv"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s scripts/bench/webhooks.lua "$base/webhooks/verification" \
  -- "$work/events.tsv" 2 >"$work/webhooks.out" 2>&1 || true
read -r w_rps w_p50 w_p99 w_bad w_repeated <<<"$(awk '
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  /Requests\/sec/ { rps = $2 }
  /^ +50%/ { p50 = ms($2) }
  /^ +99%/ { p99 = ms($2) }
  /Non-2xx/ { bad = $NF }
  /^repeated/ { rep = $2 }
  END { printf "%.0f %.1f %.1f %d %d", rps, p50, p99, bad, rep }' "$work/webhooks.out")"
ratio=$(awk -v r="$w_rps" -v s="$static_rps" 'BEGIN { if (s > 0) printf "%.2f", r / s; else print "-" }')
echo "| signed verification webhooks, distinct (events/s) | - | $w_rps | $w_p50 | $w_p99 | $ratio |"
echo
echo "- webhooks: $w_bad answered other than 2xx; $w_repeated sent again after the distinct ones ran out (answered as duplicates)"

# Live updates: 500 open streams, idle (nothing changes), and the server's CPU meanwhile.
streams=${streams:-500}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
python3 scripts/bench/streams.py 127.0.0.1 "$port" "$security" "$streams" 12 >"$work/streams.out" &
streams_pid=$!
sleep 2 # let them connect
t0=$(cpu_ticks); sleep 8; t1=$(cpu_ticks)
wait "$streams_pid" || true
idle_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz / 8 * 100 }')
echo "- live updates: $(cat "$work/streams.out") of $streams streams (GET /events) open at once; the server idle meanwhile used ${idle_cpu} % of one core"

# A bulk job over 5,000 applications (every match of no filter, capped at 5,000): planning (the
# preview with its per-row gate checks), starting (the job and its items), and running it — a
# move to Rejected, one transaction per application with its audit entry — at 1,000 a second at
# most; with the server's peak memory before and after.
api() { # cookie endpoint form...
  local cookie=$1 endpoint=$2; shift 2
  curl -fs -H "Origin: $base" -b "$cookie" "$@" "$base/api/$endpoint"
}
hwm() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status" 2>/dev/null || echo "?"; }
bulk_hwm_before=$(hwm)
plan_started=$(date +%s.%N)
planned=$(api "$recruiter" preview_bulk -d action=move_stage -d all_matching=true -d move_to=rejected | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["selected"], p["proceed"])')
plan_secs=$(awk -v a="$plan_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
gated_started=$(date +%s.%N)
api "$recruiter" preview_bulk -d action=move_stage -d all_matching=true -d move_to=offer >/dev/null
gated_secs=$(awk -v a="$gated_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
start_started=$(date +%s.%N)
bulk_id=$(api "$recruiter" start_bulk -d action=move_stage -d all_matching=true -d move_to=rejected -d request_key=bench)
start_secs=$(awk -v a="$start_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
bulk_state=""
for _ in $(seq 1 1200); do
  bulk_state=$(api "$recruiter" bulk_job -d id="$bulk_id" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], j["done"], j["skipped"], j["failed"])')
  case "$bulk_state" in finished*) break ;; esac
  sleep 0.5
done
run_secs=$(awk -v a="$start_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
read -r b_selected b_proceed <<<"$planned"
read -r _ b_done b_skipped b_failed <<<"$bulk_state"
echo "- bulk move of every match (capped at 5,000): preview of $b_selected applications ($b_proceed to move) $(printf '%.2f' "$plan_secs") s (of a move to the gated Offer stage: $(printf '%.2f' "$gated_secs") s); start $(printf '%.2f' "$start_secs") s; run to the end $(printf '%.1f' "$run_secs") s ($b_done moved, $b_skipped skipped, $b_failed failed; pace limit 1,000/s); server peak memory $bulk_hwm_before MB before, $(hwm) MB after"

rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status" 2>/dev/null || echo "?")
verify_started=$(date +%s.%N)
"$bin" audit verify >/dev/null
verify_secs=$(awk -v a="$verify_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
entries=$("$bin" audit verify 2>/dev/null | grep -o 'through [0-9]*' | grep -o '[0-9]*' || echo "?")
echo
echo "- server resident memory after the run: ${rss} MB"
echo "- \`clearance audit verify\`: $entries entries in $(printf '%.2f' "$verify_secs") s"

python3 scripts/bench/candidates_csv.py "$candidates" >"$work/import.csv"
DATABASE_URL="$import_url" "$bin" demo-data >/dev/null 2>&1
import_started=$(date +%s.%N)
imported=$(DATABASE_URL="$import_url" "$bin" import candidates "$work/import.csv" 2>/dev/null | grep -o 'imported [0-9]*' || echo "imported ?")
import_secs=$(awk -v a="$import_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
import_rate=$(awk -v n="$candidates" -v s="$import_secs" 'BEGIN { printf "%.0f", n / s }')
echo "- \`clearance import candidates\`: $imported of $candidates rows in $(printf '%.1f' "$import_secs") s ($import_rate rows/s)"

wasm_hash=$(awk -F': *' '$1 == "wasm" { print $2 }' "target/$profile/hash.txt" 2>/dev/null || true)
js_hash=$(awk -F': *' '$1 == "js" { print $2 }' "target/$profile/hash.txt" 2>/dev/null || true)
kb() { [ -f "$1" ] && awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.0f KB", b / 1024 }' || echo "-"; }
pkg="$LEPTOS_SITE_ROOT/pkg"
echo "- hydrate bundle: WASM $(kb "$pkg/clearance${wasm_hash:+.$wasm_hash}.wasm") ($(kb "$pkg/clearance${wasm_hash:+.$wasm_hash}.wasm.br") brotli), JS $(kb "$pkg/clearance${js_hash:+.$js_hash}.js") ($(kb "$pkg/clearance${js_hash:+.$js_hash}.js.br") brotli)"
# What a browser fetches to open a page (brotli as sent): the main files — the shell, the list, the
# profile and the review queue — and, for a lazy route such as Insights, its own files (`--split`).
opened() { python3 scripts/bench/bundle.py "$pkg" "target/$profile/hash.txt" "$@" 2>/dev/null || echo "0 0 0 0"; }
read -r main_bytes _ _ main_files <<<"$(opened)"
read -r _ _ insights_bytes insights_files <<<"$(opened insights_route_view)"
# Brotli as sent in a release build (--precompress); a debug build has no .br files: raw sizes.
sent=$([ "$profile" = release ] && echo brotli || echo "uncompressed (debug build)")
awk -v m="$main_bytes" -v mf="$main_files" -v i="$insights_bytes" -v f="$insights_files" -v sent="$sent" 'BEGIN {
  printf "- to open a profile, the list or the review queue (the main files): %.0f KB %s in %d files; Insights then adds %.0f KB in %d files\n", m / 1024, sent, mf, i / 1024, f - mf }'
# The badge widget as a host page downloads it: brotli as the server sends it.
served() { curl -fs -H 'Accept-Encoding: br' "$base/widget/assets/$1" | wc -c; }
widget_js=$(cd target/widget 2>/dev/null && ls clearance-widget-*.js 2>/dev/null | head -1 || true)
widget_wasm=$(cd target/widget 2>/dev/null && ls clearance-widget-*_bg.wasm 2>/dev/null | head -1 || true)
if [ -n "$widget_js" ] && [ -n "$widget_wasm" ]; then
  js_br=$(served "$widget_js"); wasm_br=$(served "$widget_wasm")
  awk -v j="$js_br" -v w="$wasm_br" 'BEGIN { printf "- badge widget (JS + WASM, brotli as served): %.1f KB (JS %.1f KB, WASM %.1f KB; budget 60 KB)\n", (j + w) / 1024, j / 1024, w / 1024 }'
else
  echo "- badge widget: not built (trunk build)"
fi

if ! $postgres; then
  raw_secs=$(( duration < 3 ? duration : 3 ))
  read -r _ raw_normal _ raw_full <<<"$(python3 scripts/bench/raw_sqlite.py "$work" "$raw_secs" | tr '\n' ' ')"
  echo "- this disk's raw SQLite ceiling, one ~600-byte row per commit (WAL): $raw_normal/s synchronous=NORMAL, $raw_full/s FULL"
fi
