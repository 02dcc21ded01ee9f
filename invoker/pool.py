"""A worker's execution environments, keyed by function revision.

``acquire`` gives a warm idle environment of the revision when there is one (most recently used
first), else starts a new one (a cold start), first stopping least-recently-used idle environments
while the worker's memory budget (``KILN_WORKER_MEMORY_MB``) would be exceeded. ``release`` returns
a healthy environment to the idle list. ``reap_idle`` stops environments idle past
``KILN_ENV_IDLE_SECONDS``. One pool per worker process, shared by its threads.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from invoker.environment import EnvironmentConfig, EnvState, ExecutionEnvironment, RunResult
from invoker.prewarm import Prewarmer, prewarm_enabled

log = logging.getLogger(__name__)


@dataclass
class Lease:
    env: ExecutionEnvironment
    cold: bool
    init_failure: RunResult | None = None


class EnvironmentPool:
    def __init__(self, *, memory_budget_mb: int, idle_seconds: float) -> None:
        self.memory_budget_mb = memory_budget_mb
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: dict[str, list[ExecutionEnvironment]] = {}
        self._all: dict[str, ExecutionEnvironment] = {}
        self.prewarmer = Prewarmer(idle_seconds=idle_seconds)

    def take_warm(self, config: EnvironmentConfig) -> ExecutionEnvironment | None:
        """An idle environment of ``config``, taken for a run, or ``None``: no start is made. After its run it goes back
        with ``release``; if the run does not happen, with ``give_back`` (``release`` stops an environment still
        taken). Lets a run know its environment before its concurrency lease (invoker/run.py ``admit``)."""
        to_stop: list[ExecutionEnvironment] = []
        try:
            with self._lock:
                return self._take_idle(config, to_stop)
        finally:
            for old in to_stop:
                old.stop()

    def give_back(self, env: ExecutionEnvironment) -> None:
        """Return an environment ``take_warm`` took for a run that did not happen: idle and warm again, as it was."""
        env.untake()
        self.release(env)

    def _take_idle(self, config: EnvironmentConfig, to_stop: list[ExecutionEnvironment]) -> ExecutionEnvironment | None:
        """With the lock held: the warm environment to run in, if any; the dead ones met on the way go to ``to_stop``."""
        candidates = self._idle.get(config.key, [])
        # Warm on-demand environments first (most recently used last in the list), then provisioned.
        candidates.sort(key=lambda e: (e.initialization_type == "on-demand", e.last_used_at))
        while candidates:
            env = candidates.pop()
            if env.take():
                return env
            to_stop.append(env)
            self._all.pop(env.id, None)
        return None

    def acquire(self, config: EnvironmentConfig, *, initialization_type: str = "on-demand") -> Lease:
        to_stop: list[ExecutionEnvironment] = []
        with self._lock:
            warm = self._take_idle(config, to_stop)
            if warm is None:
                used = sum(e.config.memory_size for e in self._all.values())
                while used + config.memory_size > self.memory_budget_mb:
                    victim = self._least_recently_used_idle()
                    if victim is None:
                        break
                    used -= victim.config.memory_size
                    to_stop.append(victim)
                env = ExecutionEnvironment(config, initialization_type=initialization_type)
                self._all[env.id] = env
        for old in to_stop:
            old.stop()
        if warm is not None:
            return Lease(warm, cold=False)
        prewarming = initialization_type == "on-demand" and prewarm_enabled()
        ready = self.prewarmer.take(config) if prewarming else None
        if ready is not None:  # a runtime already started for this kind of environment: hand it the function
            with self._lock:
                self._all.pop(env.id, None)
                self._all[ready.id] = env = ready
        try:
            failure = env.assign(config) if ready is not None else env.start()
        except BaseException:
            with self._lock:
                self._all.pop(env.id, None)
            env.stop(failed=True)
            raise
        finally:
            if prewarming:
                self.prewarmer.started()
        if failure is not None:
            with self._lock:
                self._all.pop(env.id, None)
        else:
            env.take()
        return Lease(env, cold=True, init_failure=failure)

    def _least_recently_used_idle(self) -> ExecutionEnvironment | None:
        idle = [e for envs in self._idle.values() for e in envs]
        if not idle:
            return None
        victim = min(idle, key=lambda e: e.last_used_at)
        self._idle[victim.config.key].remove(victim)
        self._all.pop(victim.id, None)
        return victim

    def release(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            if env.state == EnvState.READY and env.alive:
                self._idle.setdefault(env.config.key, []).append(env)
                return
            self._all.pop(env.id, None)
        env.stop()

    def reap_idle(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            for key, envs in self._idle.items():
                keep = []
                for env in envs:
                    expired = now - env.last_used_at > self.idle_seconds and env.initialization_type == "on-demand"
                    if expired or not env.alive:
                        stale.append(env)
                        self._all.pop(env.id, None)
                    else:
                        keep.append(env)
                self._idle[key] = keep
        for env in stale:
            env.stop()
        return len(stale)

    def ensure_provisioned(self, wanted: dict[str, tuple[EnvironmentConfig, int]]) -> None:
        """Keep ``count`` initialised provisioned environments per configuration key; stop the rest."""
        surplus: list[ExecutionEnvironment] = []
        missing: list[EnvironmentConfig] = []
        with self._lock:
            for key in {e.config.key for e in self._all.values() if e.initialization_type != "on-demand"} | set(wanted):
                mine = [e for e in self._all.values() if e.config.key == key and e.initialization_type != "on-demand"]
                count = wanted.get(key, (None, 0))[1]
                idle = [e for e in self._idle.get(key, []) if e.initialization_type != "on-demand"]
                while len(mine) > count and idle:
                    env = idle.pop()
                    mine.remove(env)
                    self._idle[key].remove(env)
                    self._all.pop(env.id, None)
                    surplus.append(env)
                if key in wanted:
                    missing += [wanted[key][0]] * max(count - len(mine), 0)
        for env in surplus:
            env.stop()
        for config in missing:
            env = ExecutionEnvironment(config, initialization_type="provisioned-concurrency")
            with self._lock:
                self._all[env.id] = env
            if env.start() is None:
                self.release(env)
            else:
                with self._lock:
                    self._all.pop(env.id, None)

    def stop_all(self) -> None:
        with self._lock:
            envs = list(self._all.values())
            self._all.clear()
            self._idle.clear()
        # Every running event is flagged before anything is stopped: a run still in one goes back to its queue
        # (EnvironmentStopped), not failed. With the prewarmer's spares stopped first, a run could die unflagged, as the
        # function's Runtime.ExitError (seen with tests/invoker/test_admit.py then test_faults.py in one process).
        for env in envs:
            env.interrupt()
        for env in envs:
            env.stop(interrupt=True)
        self.prewarmer.stop_all()

    def snapshot(self) -> list[dict[str, object]]:
        with self._lock:
            envs = list(self._all.values())
        now = time.time()
        return [
            {
                "id": e.id,
                "function": e.config.function_name,
                "revision": e.config.key,
                "state": e.state.value,
                "age_s": round(now - e.created_at, 1),
                "idle_s": round(now - e.last_used_at, 1),
                "invocations": e.invocations,
                "memory_size": e.config.memory_size,
                "initialization_type": e.initialization_type,
                "prewarmed": e._slot is not None,
            }
            for e in envs
        ]


_pool: EnvironmentPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> EnvironmentPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = EnvironmentPool(memory_budget_mb=settings.KILN_WORKER_MEMORY_MB, idle_seconds=settings.KILN_ENV_IDLE_SECONDS)
        return _pool
