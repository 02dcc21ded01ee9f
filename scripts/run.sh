#!/usr/bin/env bash
# `make run`: migrate, make sure an admin exists, make sure Redis answers, then start web, worker and beat.
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

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kiln: installing bubblewrap for function isolation"
    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) || true
  fi
  command -v bwrap >/dev/null 2>&1 || echo "kiln: WARNING: bubblewrap is missing; functions will run WITHOUT isolation (install the 'bubblewrap' package)" >&2
fi

# Redis: use the one at REDIS_URL, else start a private redis-server under the data dir.
redis_host=$(python3 -c "import urllib.parse,os;u=urllib.parse.urlparse(os.environ['REDIS_URL']);print(u.hostname or '127.0.0.1', u.port or 6379)")
read -r rhost rport <<<"$redis_host"
if ! (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "kiln: no Redis at $rhost:$rport; starting a private one under $KILN_DATA_DIR/redis"
    mkdir -p "$KILN_DATA_DIR/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$rport" --dir "$KILN_DATA_DIR/redis" --save "" --appendonly no \
      --pidfile "$KILN_DATA_DIR/redis/redis.pid" --logfile "$KILN_DATA_DIR/redis/redis.log"
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null && break; sleep 0.1; done
  else
    echo "kiln: no Redis answers at $REDIS_URL and redis-server is not installed; install Redis or set REDIS_URL" >&2
    exit 1
  fi
fi

$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py collectstatic --noinput -v0
$BIN/python manage.py kiln_admin

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
$BIN/celery -A console worker -Q invoke,control --pool threads -c "${KILN_WORKER_CONCURRENCY:-8}" -l info -n "kiln@%h" & pids+=($!)
$BIN/celery -A console beat -l info -s "$KILN_DATA_DIR/celerybeat-schedule" & pids+=($!)
$BIN/gunicorn console.wsgi -b "127.0.0.1:$KILN_PORT" -w "${KILN_WEB_WORKERS:-2}" --threads 4 --access-logfile - & pids+=($!)
echo "kiln: console at http://127.0.0.1:$KILN_PORT/console/  API at http://127.0.0.1:$KILN_PORT/api/v1/  docs at /api/docs/"
wait -n "${pids[@]}"
