#!/usr/bin/env bash
# Clearance as a team runs it: several instances on one PostgreSQL behind nginx (Debian's
# package), sticky-free, with the partner simulators — all on one port.
#
#   scripts/cluster.sh [--instances N] [--port P] [--debug] [--fresh]
#
#   --instances N  app instances (default 3), on ports P+11 … P+10+N
#   --port P       nginx's port (default 8080); the simulators take P+1 … P+7 (scripts/simulators.sh)
#   --debug        run target/debug/clearance as `cargo leptos build` left it (the default builds
#                  and runs the release build)
#   --fresh        drop and recreate the database first (the end-to-end suite does)
#
# The database: DATABASE_URL when it is a postgres:// URL, else `clearance_cluster_P` on the local
# server (TEST_DATABASE_URL's, or postgres://$USER@127.0.0.1:5432). Every instance gets the same
# CLEARANCE_SECRET_KEY (kept in data/cluster-secret.key) and CLEARANCE_PUBLIC_URL (nginx's
# address); nginx is trusted for X-Forwarded-For. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

instances=3
port=8080
profile=release
fresh=false
while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift ;;
    --port) port="$2"; shift ;;
    --debug) profile=debug ;;
    --fresh) fresh=true ;;
    *) echo "unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "[cluster] installing nginx (Debian package nginx-light)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq nginx-light >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nginx-light >/dev/null; }
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

if [ "$profile" = release ]; then
  scripts/setup.sh >/dev/null
  cargo leptos build --release --precompress --split
fi
binary="target/$profile/clearance"
[ -x "$binary" ] || { echo "$binary is missing: run cargo leptos build${profile/debug/} first" >&2; exit 1; }

if [[ "${DATABASE_URL:-}" != postgres://* ]]; then
  base="${TEST_DATABASE_URL:-postgres://${PGUSER:-$(id -un)}@127.0.0.1:5432/postgres}"
  export DATABASE_URL="${base%/*}/clearance_cluster_$port"
fi
admin_url="${DATABASE_URL%/*}/postgres"
dbname="${DATABASE_URL##*/}"
dbname="${dbname%%\?*}"
if $fresh; then
  PGOPTIONS="-c client_min_messages=warning" psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" >/dev/null
fi
if [ -z "$(psql "$admin_url" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" ]; then
  psql "$admin_url" -qc "CREATE DATABASE \"$dbname\"" >/dev/null
fi

public_url="http://127.0.0.1:$port"
export CLEARANCE_PUBLIC_URL="$public_url"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
# nginx forwards from loopback: trust its X-Forwarded-For for the client's address.
export CLEARANCE_TRUSTED_PROXIES="${CLEARANCE_TRUSTED_PROXIES:-127.0.0.1/32}"
if [ -z "${CLEARANCE_SECRET_KEY:-}" ]; then
  mkdir -p data
  [ -s data/cluster-secret.key ] || "$binary" secret keygen >data/cluster-secret.key
  CLEARANCE_SECRET_KEY="$(cat data/cluster-secret.key)"
  export CLEARANCE_SECRET_KEY
fi

work=$(mktemp -d)
pids=""
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  # SIGTERM: each instance finishes its requests and the delivery in hand.
  kill ${pids:-} ${sim_pids:-} 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

"$binary" demo-data >/dev/null
source scripts/simulators.sh
start_simulators "$binary" "$port" "$public_url"

upstreams=""
for i in $(seq 1 "$instances"); do
  p=$((port + 10 + i))
  LEPTOS_SITE_ADDR="127.0.0.1:$p" "$binary" serve >"$work/instance-$i.log" 2>&1 &
  pids="$pids $!"
  upstreams="$upstreams    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'
done
for i in $(seq 1 "$instances"); do
  p=$((port + 10 + i))
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$p/healthz" >/dev/null || { echo "instance $i did not start:" >&2; cat "$work/instance-$i.log" >&2; exit 1; }
done

mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  client_max_body_size 20m;
  # Round robin, no stickiness: any instance serves any request (sessions, rate limits, job
  # leases, reconciliation runs, checkpoints and the live-update log live in PostgreSQL).
  upstream clearance {
$upstreams    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    # An instance that is down (or stops mid-request) is skipped; the request goes to the next.
    proxy_next_upstream error timeout http_502 http_503;
    location / {
      proxy_pass http://clearance;
    }
    # Live updates: server-sent events go out as they are written (no buffering) and a stream
    # stays open for its 15 minutes (heartbeats every 15 s keep it from looking idle).
    location = /events {
      proxy_pass http://clearance;
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
    }
  }
}
NGINX
"$nginx" -p "$work" -e "$work/nginx-error.log" -c "$work/nginx.conf" -g 'daemon off;' &
pids="$pids $!"
for _ in $(seq 1 100); do curl -fs "$public_url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
echo "Clearance: $instances instances on $dbname behind nginx at $public_url (instance logs in $work)"
wait
