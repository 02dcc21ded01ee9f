"""`make run` (scripts/run.sh) supervises its processes: a SIGKILLed worker, web server or beat comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests import handlers
from tests.stack import Stack


def group_pids(stack: Stack, pattern: str) -> list[int]:
    """Pids in the stack's process group whose command line matches (the top process of each kind)."""
    out = subprocess.run(["pgrep", "-g", str(stack.process.pid), "-f", pattern], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in out.split())


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s")


@pytest.mark.parametrize("kind, pattern", [("worker", r"celery -A console worker"), ("web", r"gunicorn console.wsgi"), ("beat", r"celery -A console beat")])
def test_a_killed_process_is_restarted_and_kiln_keeps_serving(kiln_stack: Stack, kind: str, pattern: str) -> None:
    stack = kiln_stack
    before = group_pids(stack, pattern)
    assert before, f"no {kind} process in the stack"
    os.kill(before[0], signal.SIGKILL)
    if kind == "web":  # gunicorn's workers follow their master; the supervisor starts a new master
        for pid in before[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # Every old pid gone and a new one there: a killed gunicorn worker still listed for a moment is not a new start
    # (CI saw the master gone, its dying workers matched, and the supervisor's line not yet written).
    wait_for(lambda: (now := group_pids(stack, pattern)) and not set(now) & set(before), 30, f"a new {kind} started")
    wait_for(lambda: f"kiln: {kind} exited with status" in stack.log_tail(200_000), 10, f"the supervisor's note that {kind} exited")

    def healthy() -> bool:
        answer = stack.request("GET", "/healthz", auth=False)
        return answer.status == 200 and answer.json()["checks"]["workers"]["ok"]

    wait_for(healthy, 60, "Kiln healthy again")
    # A live worker (not a stale heartbeat) runs a function through a live web server.
    files, handler = handlers.code("echo", "python3.11")
    name = stack.unique(f"after-{kind}")
    stack.api("POST", "/functions/", {"name": name, "runtime": "python3.11", "handler": handler, "code": {"files": files}}, expect=201)
    answer = stack.request("POST", f"/api/v1/functions/{name}/invoke/", {"back": kind})
    assert answer.status == 200 and answer.json() == {"back": kind}, answer.body
    assert stack.process.poll() is None, "make run's script itself must not exit"
