#!/usr/bin/env bash
# `make run`: migrate, make sure an admin and a root access key exist, make sure Redis answers, then start web, worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export KILN_DATA_DIR="${KILN_DATA_DIR:-$PWD/var}"
export KILN_PORT="${KILN_PORT:-8000}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
mkdir -p "$KILN_DATA_DIR"
# Prometheus' multi-process samples of this run's processes (metrics/prom.py); stale files of an earlier run go.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$KILN_DATA_DIR/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

if ! command -v bwrap >/dev/null 2>&1 || ! command -v nft >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kiln: installing bubblewrap, nftables and iproute2 for function isolation (namespaces, network)"
    apt-get install -y -qq bubblewrap nftables iproute2 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap nftables iproute2 >/dev/null) || true
  fi
  command -v bwrap >/dev/null 2>&1 || echo "kiln: WARNING: bubblewrap is missing; Kiln will not start functions (install 'bubblewrap', or set KILN_SANDBOX=process to run them WITHOUT isolation)" >&2
  command -v nft >/dev/null 2>&1 || echo "kiln: WARNING: nftables is missing; functions get no outbound network (install 'nftables')" >&2
fi

# Redis: the one at REDIS_URL, else a private redis-server under the data dir (scripts/redis.sh).
./scripts/redis.sh

$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py kiln_admin
$BIN/python manage.py kiln_root_key

# Each process runs under `supervise` (scripts/supervise.sh), which starts it again when it dies (with back-off while it crash-loops).
# The worker skips Celery's mingle and gossip: Kiln's workers find each other by their own heartbeats (invoker/workers.py)
# and revoke no tasks, and mingle's wait for neighbours was a second of every worker start.
. ./scripts/supervise.sh
pids=()
cleanup() { trap - EXIT INT TERM; kill -TERM "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
supervise worker $BIN/celery -A console worker -Q invoke-sync,invoke,control --pool threads -c "${KILN_WORKER_CONCURRENCY:-8}" --without-mingle --without-gossip -l info -n "kiln@%h" & pids+=($!)
supervise beat $BIN/celery -A console beat -l info -s "$KILN_DATA_DIR/celerybeat-schedule" & pids+=($!)
supervise web $BIN/gunicorn console.wsgi -b "127.0.0.1:$KILN_PORT" -w "${KILN_WEB_WORKERS:-2}" --threads 4 --access-logfile - & pids+=($!)
echo "kiln: console at http://127.0.0.1:$KILN_PORT/console/  API at http://127.0.0.1:$KILN_PORT/api/v1/  docs at /api/docs/"
wait
