#!/usr/bin/env bash
# `make bench`: Kiln's figures beside floors measured in the same run (docs/benchmarks.md says what each
# row means). Uses the machine's PostgreSQL (a dedicated database, recreated) and Redis (a dedicated DB,
# flushed), a private data dir, and its own gunicorn and Celery workers, all stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kiln_bench}"
export REDIS_URL="redis://127.0.0.1:6379/${BENCH_REDIS_DB:-10}"
export CELERY_BROKER_URL="$REDIS_URL"
KILN_DATA_DIR="$(mktemp -d /tmp/kiln-bench.XXXXXX)"
chmod 711 "$KILN_DATA_DIR"  # searchable: sandboxes run as an unprivileged uid that binds from its work dir
export KILN_DATA_DIR
export KILN_ENV_IDLE_SECONDS="${KILN_ENV_IDLE_SECONDS:-600}"
export KILN_LOG_LEVEL="${KILN_LOG_LEVEL:-WARNING}"
unset DEBUG
bench_pid=""
cleanup() {
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  # A worker killed before its shutdown leaves its /tmp disks mounted under the data dir (invoker/tmpdisk.py).
  { grep -o "$KILN_DATA_DIR/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done; } || true
  if [ -n "${BENCH_KEEP_DATA:-}" ]; then echo "bench data kept in $KILN_DATA_DIR"; else rm -rf "$KILN_DATA_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# moto's server is the S3 peer (bench/s3api.py); it is not a test dependency, so it is installed here.
.venv/bin/python -c "import moto.server" 2>/dev/null || .venv/bin/pip install -q "moto[server]==5.2.5"
.venv/bin/python -m bench.run "$@" &
bench_pid=$!
wait "$bench_pid"
