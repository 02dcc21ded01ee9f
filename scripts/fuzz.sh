#!/usr/bin/env bash
# `make fuzz`: Kiln (scripts/run.sh) on port 8791, PostgreSQL database fuzz_kiln and Redis DB 11; Schemathesis against
# /api/schema/ and Hypothesis-made malformed, SigV4-signed AWS requests; prints a summary and exits 1 on any server
# error or non-conforming answer (fuzz/run.py). Arguments go to the harness: `make fuzz FUZZ_ARGS="--aws-examples 3000"`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m fuzz.run "$@"
