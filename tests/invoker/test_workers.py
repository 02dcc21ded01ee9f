"""Whether a worker is alive: its heartbeat key, and on its own host a look at the process that wrote it, so a
SIGKILLed worker is known gone at once instead of when its key expires (15 s: make chaos's locks, batches and
re-sends waited that long after each kill)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from invoker import workers
from invoker.redis_client import get_redis
from invoker.workers import WORKER_NAME, process_identity, worker_alive

HOST = WORKER_NAME.rpartition(":")[0]


@pytest.fixture
def heartbeat():
    redis = get_redis()
    written: list[str] = []

    def write(name: str, process: object | None) -> None:
        body = {"name": name} if process is None else {"name": name, "process": process}
        redis.set(f"kiln:worker:{name}", json.dumps(body), ex=30)
        written.append(f"kiln:worker:{name}")

    yield write
    if written:
        redis.delete(*written)


def _child() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def _identity_of(pid: int) -> dict[str, object]:
    return {**process_identity(), "pid": pid, "start": workers._start_time(pid)}


def test_a_live_worker_on_this_host_is_alive_and_a_sigkilled_one_is_gone_while_its_key_remains(heartbeat) -> None:
    child = _child()
    name = f"{HOST}:{child.pid}"
    try:
        heartbeat(name, _identity_of(child.pid))
        assert worker_alive(name) is True
        child.send_signal(signal.SIGKILL)
        # Not yet reaped by its parent (this test): a zombie is no worker either.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert workers._start_time(child.pid) is None
        assert worker_alive(name) is False
        child.wait()
        assert worker_alive(name) is False
        assert get_redis().exists(f"kiln:worker:{name}") == 1  # the key alone would have said alive for 15 s more
    finally:
        child.kill()
        child.wait()


def test_a_reused_pid_is_not_the_worker_that_wrote_the_heartbeat(heartbeat) -> None:
    name = f"{HOST}:{os.getpid()}"
    heartbeat(name, {**process_identity(), "start": "1"})  # this pid, but a process that started at another time
    assert worker_alive(name) is False
    heartbeat(name, process_identity())
    assert worker_alive(name) is True


def test_only_the_heartbeat_counts_where_the_process_cannot_be_seen(heartbeat) -> None:
    child = _child()
    child.kill()
    child.wait()
    gone = _identity_of(os.getpid()) | {"pid": child.pid, "start": "12345"}
    # Another host's worker, a process in another PID namespace (a container sharing this host's name), a
    # heartbeat from before processes were recorded: alive while the key is there.
    heartbeat(f"other-host:{child.pid}", gone)
    assert worker_alive(f"other-host:{child.pid}") is True
    heartbeat(f"{HOST}:{child.pid}", gone | {"namespace": "another-boot/4026531836"})
    assert worker_alive(f"{HOST}:{child.pid}") is True
    heartbeat(f"{HOST}:{child.pid}", None)
    assert worker_alive(f"{HOST}:{child.pid}") is True
    get_redis().delete(f"kiln:worker:{HOST}:{child.pid}")
    assert worker_alive(f"{HOST}:{child.pid}") is False  # no key: gone, wherever it ran
    assert worker_alive("") is False
