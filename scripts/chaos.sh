#!/usr/bin/env bash
# `make chaos`: Kiln (scripts/run.sh) on a private PostgreSQL cluster and a private Redis, 10,000 asynchronous
# invocations and SQS messages under worker, web, Redis and PostgreSQL faults; prints what became of each and
# exits 1 if anything accepted is lost (chaos/run.py). Arguments go to the harness: `make chaos ARGS="--count 2000"`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m chaos.run "$@"
