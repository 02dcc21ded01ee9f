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
if [ $# -gt 0 ]; then
  .venv/bin/pytest "$@"  # as asked (set -e: its failure is the script's)
  exit 0
fi
# The whole suite: the browser tests first and alone (a host interface appearing, as another process's sandbox
# makes one, aborts Chromium's requests in flight: net::ERR_NETWORK_CHANGED), then the rest on
# KILN_TEST_PROCESSES pytest-xdist workers (default 2), a test file per worker at a time (tests/settings.py
# gives each its own test database, Redis database and data dir). Both phases run; either failing fails.
status=0
.venv/bin/pytest -m browser || status=$?
.venv/bin/pytest -m "not browser" -n "${KILN_TEST_PROCESSES:-2}" --dist loadfile || status=$?
exit "$status"
