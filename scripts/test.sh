#!/usr/bin/env bash
# Runs the test suite against the machine's PostgreSQL and Redis, with a real Celery worker that the
# tests start themselves (tests/conftest.py). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kiln}"
export REDIS_URL="redis://127.0.0.1:6379/${TEST_REDIS_DB:-15}"
KILN_DATA_DIR="$(mktemp -d /tmp/kiln-test.XXXXXX)"
chmod 711 "$KILN_DATA_DIR"  # searchable: sandboxes run as an unprivileged uid that binds from its work dir
export KILN_DATA_DIR
export KILN_ENV_IDLE_SECONDS="${KILN_ENV_IDLE_SECONDS:-120}"
# A worker killed before its shutdown leaves its /tmp disks mounted under the data dir (invoker/tmpdisk.py).
cleanup() {
  { grep -o "$KILN_DATA_DIR/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done; } || true
  rm -rf "$KILN_DATA_DIR"
}
trap cleanup EXIT
.venv/bin/pytest "$@"
