"""Kiln as ``make run`` starts it (``scripts/run.sh``: migrate, then web, worker and beat, each supervised),
pointed at the harness's PostgreSQL and Redis, and the pids of its processes for the faults.

Every pid comes from the session ``scripts/run.sh`` was started in, so a signal can only reach a process
of this Kiln, never another gunicorn or Celery worker on the machine.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.infra import free_port

ROOT = Path(__file__).resolve().parent.parent
WORKER_PATTERN = "celery -A console worker"
WEB_PATTERN = "gunicorn console.wsgi"


@dataclass
class Kiln:
    data_dir: Path
    database_url: str
    redis_url: str
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    root_key: tuple[str, str] = field(default_factory=lambda: ("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)))
    worker_concurrency: int = 8
    static_root: Path | None = None  # collected static files to reuse (collecting them takes a minute on a busy machine)
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    last_health: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "run.log"

    def start(self, timeout_s: float = 300) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o711)  # the sandbox uid binds code from the work dir below it
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KILN_", "DJANGO_", "PYTEST", "CELERY_", "REDIS_URL", "PROMETHEUS"))}
        env.update({
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "KILN_DATA_DIR": str(self.data_dir), "KILN_PORT": str(self.port),
            "KILN_ADMIN_USER": "admin", "KILN_ADMIN_PASSWORD": self.password, "KILN_WORKER_CONCURRENCY": str(self.worker_concurrency),
            "KILN_ROOT_ACCESS_KEY_ID": self.root_key[0], "KILN_ROOT_SECRET_ACCESS_KEY": self.root_key[1],
            # Retries of a failed asynchronous attempt after 2 s and 4 s instead of Lambda's 1 and 2 minutes, so the
            # run stays bounded; a function error is rare here (the function's own writes retry through a fault).
            "KILN_ASYNC_RETRY_DELAYS": "2,4",
            # No pre-started Node.js, Ruby and Java runtimes: each restart of the worker would start them again, for a
            # Python function that does not use them.
            "KILN_PREWARM": "0",
        })
        if self.static_root is not None:
            env["KILN_STATIC_ROOT"] = str(self.static_root)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_healthy(timeout_s)
        status, body = self.request("POST", "/api/v1/auth/token/", {"username": "admin", "password": self.password}, auth=False)
        if status != 200:
            raise RuntimeError(f"could not get a token: {status} {body[:500]!r}")
        self.token = json.loads(body)["token"]

    def worker_ready(self, pid: int) -> bool:
        """Whether the worker of ``pid`` has sent its heartbeat (it is consuming, not still starting)."""
        try:
            status, body = self.request("GET", "/healthz", auth=False, timeout=10)
            return any(str(name).endswith(f":{pid}") for name in json.loads(body)["checks"]["workers"]["names"])
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            return False

    def healthy(self) -> bool:
        try:
            status, body = self.request("GET", "/healthz", auth=False, timeout=10)
            self.last_health = f"{status} {body[:300]!r}"
            return status == 200 and bool(json.loads(body)["checks"]["workers"]["ok"])
        except (OSError, ValueError, KeyError, http.client.HTTPException) as exc:
            self.last_health = f"{type(exc).__name__}: {exc}"
            return False

    def wait_healthy(self, timeout_s: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("scripts/run.sh exited:\n" + self.log_tail())
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"Kiln was not healthy within {timeout_s:.0f} s (/healthz: {self.last_health}):\n" + self.log_tail())

    def request(self, method: str, path: str, body: Any = None, *, auth: bool = True, timeout: float = 30) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"}
            if auth and self.token:
                headers["Authorization"] = f"Token {self.token}"
            conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- the processes of this Kiln ---------------------------------------------------------
    def pids(self, pattern: str) -> list[int]:
        """Pids in this Kiln's session whose command line matches ``pattern``."""
        if self.process is None:
            return []
        out = subprocess.run(["pgrep", "-s", str(self.process.pid), "-f", pattern], capture_output=True, text=True).stdout
        return sorted(int(pid) for pid in out.split())

    def worker_pid(self) -> int | None:
        found = self.pids(WORKER_PATTERN)
        return found[0] if found else None

    def web_worker_pids(self) -> list[int]:
        """Gunicorn's workers (the gunicorns whose parent is a gunicorn: the master)."""
        found = set(self.pids(WEB_PATTERN))
        return sorted(pid for pid in found if _parent(pid) in found)

    def kill(self, pid: int) -> None:
        """SIGKILL one of this Kiln's processes (checked to be in its session)."""
        if self.process is None or os.getsid(pid) != self.process.pid:
            raise RuntimeError(f"pid {pid} is not a process of this Kiln")
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0
