"""Kiln started the way the README starts it, for browser and end-to-end tests.

``scripts/run.sh`` (what ``make run`` runs) on a free port and a temporary data directory: the real gunicorn
with WhiteNoise, the Celery worker and beat, SQLite as the embedded default, and its own Redis database.
Tests reach it only over HTTP (REST API with the admin's token, or a browser), as a user would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stack:
    """A running Kiln: its base URL, the admin's credentials and a token for the REST API."""

    url: str
    username: str
    password: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    token: str = ""
    # The root access key the stack was started with (KILN_ROOT_ACCESS_KEY_ID / _SECRET_ACCESS_KEY), for boto3.
    root_key: tuple[str, str] = ("", "")
    _names: set[str] = field(default_factory=set)

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None, auth: bool = True) -> Response:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None and raw is None:
            request.add_header("Content-Type", "application/json")
        if auth and self.token:
            request.add_header("Authorization", f"Token {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def api(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        answer = self.request(method, "/api/v1" + path, body)
        if expect is not None:
            assert answer.status == expect, (answer.status, answer.body[:2000])
        return answer.json() if answer.body else None

    def unique(self, base: str) -> str:
        """A name no other test of this session has used (the stack's database lives for the session)."""
        name = f"{base}-{secrets.token_hex(3)}"
        self._names.add(name)
        return name

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_final(self, request_id: str, seconds: float = 30.0) -> dict[str, Any]:
        deadline = time.time() + seconds
        while time.time() < deadline:
            record = self.api("GET", f"/invocations/{request_id}/")
            if record["status"] not in ("queued", "running"):
                return record
            time.sleep(0.1)
        raise AssertionError(f"invocation {request_id} still {record['status']}")


def start(redis_db: int, *, private_redis: bool = False) -> Stack:
    """``private_redis``: the stack's own redis-server on a free port (scripts/redis.sh starts it; ``stop`` ends
    it), for a session whose neighbouring Redis database (``redis_db``) another session uses."""
    data_dir = Path(tempfile.mkdtemp(prefix="kiln-stack."))
    data_dir.chmod(0o711)  # the sandbox uid binds code from the work dir below it
    port = free_port()
    password = secrets.token_urlsafe(12)
    root_key = ("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    # Nothing of the test process's own: its Prometheus directory too (scripts/run.sh empties the one it is given).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "KILN_", "DJANGO_", "PYTEST", "PROMETHEUS_"))}
    env.update({
        "KILN_DATA_DIR": str(data_dir), "KILN_PORT": str(port), "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0" if private_redis else f"redis://127.0.0.1:6379/{redis_db}",
        "KILN_ADMIN_USER": "admin", "KILN_ADMIN_PASSWORD": password, "KILN_WORKER_CONCURRENCY": "4",
        "KILN_ROOT_ACCESS_KEY_ID": root_key[0], "KILN_ROOT_SECRET_ACCESS_KEY": root_key[1],
        # No veth pairs for this stack's sandboxes: a host interface appearing makes Chromium abort its
        # requests in flight (net::ERR_NETWORK_CHANGED). Egress itself is tested in tests/invoker.
        "KILN_SANDBOX_EGRESS": "deny",
    })
    import redis

    if not private_redis:
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    log_path = data_dir / "run.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(url=f"http://127.0.0.1:{port}", username="admin", password=password, data_dir=data_dir, process=process, log_path=log_path,
                  root_key=root_key)
    deadline = time.time() + START_SECONDS
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("make run's script exited at start:\n" + stack.log_tail())
        try:
            health = stack.request("GET", "/healthz", auth=False)
            if health.status == 200 and health.json()["checks"]["workers"]["ok"]:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    else:
        tail = stack.log_tail()  # before stop(), which removes the data dir and its log
        stop(stack)
        raise RuntimeError(f"Kiln did not become healthy within {START_SECONDS} s:\n" + tail)
    token = stack.request("POST", "/api/v1/auth/token/", {"username": "admin", "password": password}, auth=False)
    assert token.status == 200, token.body
    stack.token = token.json()["token"]
    return stack


def stop(stack: Stack) -> None:
    try:
        os.killpg(stack.process.pid, signal.SIGTERM)
        stack.process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(stack.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pidfile = stack.data_dir / "redis" / "redis.pid"  # a private redis-server (scripts/redis.sh daemonizes it)
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    if not os.environ.get("KILN_KEEP_STACK"):
        shutil.rmtree(stack.data_dir, ignore_errors=True)
