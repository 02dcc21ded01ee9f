"""The faults of a run, on a schedule relative to the start of the load: SIGKILL Kiln's Celery worker
every ``kill_every_s`` seconds (each time once its replacement is at work: its heartbeat sent, and at least
3 s later), SIGKILL one gunicorn worker,
crash and restart Redis, restart PostgreSQL. Each fault is logged with its time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.kiln import Kiln


@dataclass
class Plan:
    worker_kills: int = 8
    kill_every_s: float = 10.0
    first_kill_s: float = 4.0
    web_kill_at_s: float | None = 6.0
    redis_restart_at_s: float | None = 14.0
    postgres_restart_at_s: float | None = 30.0


@dataclass
class Fault:
    at_s: float  # since the load started
    what: str


@dataclass
class Faults:
    plan: Plan
    kiln: Kiln
    restart_redis: Callable[[], None]
    restart_postgres: Callable[[], None] | None
    log: list[Fault] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_fault_at: float = 0.0  # monotonic
    _started: float = 0.0
    _thread: threading.Thread | None = None

    def start(self, started: float) -> None:
        self._started = started
        self._thread = threading.Thread(target=self._run, name="chaos-faults", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _note(self, what: str) -> None:
        now = time.monotonic()
        self.last_fault_at = now
        self.log.append(Fault(round(now - self._started, 1), what))
        print(f"[chaos +{now - self._started:6.1f}s] {what}", flush=True)

    def _run(self) -> None:
        events: list[tuple[float, str]] = []
        if self.plan.web_kill_at_s is not None:
            events.append((self.plan.web_kill_at_s, "web"))
        if self.plan.redis_restart_at_s is not None:
            events.append((self.plan.redis_restart_at_s, "redis"))
        if self.plan.postgres_restart_at_s is not None and self.restart_postgres is not None:
            events.append((self.plan.postgres_restart_at_s, "postgres"))
        events.sort()
        kills = 0
        next_kill = self.plan.first_kill_s if self.plan.worker_kills else None
        worker_seen: tuple[int, float] | None = None  # the worker's pid and when the harness first saw it
        while events or (next_kill is not None and kills < self.plan.worker_kills):
            elapsed = time.monotonic() - self._started
            try:
                if events and elapsed >= events[0][0]:
                    self._fault(events.pop(0)[1])
                    continue
                if next_kill is not None and kills < self.plan.worker_kills:
                    pid = self.kiln.worker_pid()
                    if pid is not None and (worker_seen is None or worker_seen[0] != pid) and self.kiln.worker_ready(pid):
                        worker_seen = (pid, time.monotonic())  # a worker at work (its heartbeat sent), not one starting up
                    if (pid is not None and worker_seen is not None and worker_seen[0] == pid and elapsed >= next_kill
                            and time.monotonic() - worker_seen[1] >= min(self.plan.kill_every_s, 3.0)):
                        self.kiln.kill(pid)
                        kills += 1
                        self._note(f"SIGKILL Celery worker pid {pid} ({kills}/{self.plan.worker_kills})")
                        next_kill = elapsed + self.plan.kill_every_s
            except Exception as exc:  # noqa: BLE001 - a fault that could not be made is reported, the run goes on
                self.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.1)

    def _fault(self, kind: str) -> None:
        if kind == "web":
            pids = self.kiln.web_worker_pids()
            if not pids:
                raise RuntimeError("no gunicorn worker to kill")
            self.kiln.kill(pids[0])
            self._note(f"SIGKILL gunicorn worker pid {pids[0]}")
        elif kind == "redis":
            self._note("Redis: SIGKILL (no persistence unless --redis-aof) ...")
            self.restart_redis()
            self._note("Redis: started again")
        elif kind == "postgres" and self.restart_postgres is not None:
            self._note("PostgreSQL: fast shutdown ...")
            self.restart_postgres()
            self._note("PostgreSQL: started again")
