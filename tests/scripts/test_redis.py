"""``scripts/redis.sh`` (what ``make run`` runs first): a private Redis with an append-only file, so what was
queued survives a crash of it (issue 15: without persistence every queued message vanished on a restart)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(env: dict[str, str]) -> str:
    result = subprocess.run([str(ROOT / "scripts" / "redis.sh")], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _kill(pid_file: Path) -> None:
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_the_private_redis_keeps_queued_messages_through_a_crash(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/0", "KILN_DATA_DIR": str(tmp_path)}
    pid_file = tmp_path / "redis" / "redis.pid"
    assert "starting a private one" in _run(env)
    try:
        client = redis.Redis(port=port)
        client.rpush("invoke", "message-1", "message-2")  # what Celery's Redis transport holds for a queue
        time.sleep(1.5)  # appendfsync everysec: written to the file within a second
        _kill(pid_file)
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=port, socket_connect_timeout=1).ping()
        assert "starting a private one" in _run(env)  # nothing answered: started again, from its append-only file
        assert redis.Redis(port=port).lrange("invoke", 0, -1) == [b"message-1", b"message-2"]
        first_pid = pid_file.read_text()
        assert _run(env) == ""  # one answers now: nothing is started
        assert pid_file.read_text() == first_pid
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
