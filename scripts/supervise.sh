#!/usr/bin/env bash
# Sourced by scripts/run.sh: `supervise NAME COMMAND...` runs COMMAND and starts it again whenever it exits, as
# compose's `restart:` or systemd would (`make run` runs web, worker and beat under it: one dead worker must not
# stop Kiln). A function in run.sh's subshells, not a script of its own: a script's command line would carry
# COMMAND's, and whoever looks for Kiln's processes by command line (`pgrep -f 'celery -A console worker'`, the
# chaos harness, tests/scripts/test_run.py) would find the supervisor as well.
#
# Back-off: 1 s, doubling to 30 s while the process keeps dying by itself within 5 s of its start (a crash
# loop: a bad setting, a port in use); one that lived 5 s or more starts again at 1 s. One that a signal killed
# (status > 128: an operator's or the OOM killer's SIGKILL) is not crash-looping: it is started again after
# 0.1 s, compose's first delay (each second counts: a worker takes ~3 s to import and start). Under
# `make chaos`, which SIGKILLs the worker every ~10 s, the old rule (reset only after 10 s of life) let the
# delay grow to 30 s per kill: 150 s without a worker out of a 5-minute run (docs/chaos.md).
# SIGTERM/SIGINT stop the child and the supervisor.
supervise() {
  local name=$1; shift
  local delay=1 child=0 code started wait_s
  trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    started=$SECONDS
    "$@" & child=$!
    wait "$child" && code=0 || code=$?
    if (( code > 128 )); then  # killed: started again at once (compose's first delay, 0.1 s), the back-off reset
      delay=1 wait_s=0.1
    else
      if (( SECONDS - started >= 5 )); then delay=1; fi
      wait_s=$delay
      delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
    fi
    echo "kiln: $name exited with status $code; restarting it in ${wait_s}s" >&2
    sleep "$wait_s" & wait $! || true
  done
}
