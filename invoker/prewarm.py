"""Runtimes started before they are needed, so a cold start skips the sandbox and interpreter start.

A cold start spends most of its time outside the function: creating its cgroups, bubblewrap's
namespaces and mounts, and the interpreter's own start. The ``Prewarmer`` keeps one runtime ready per
kind of environment recently cold-started (runtime, ephemeral storage, network setting, and for Node.js and Java, whose heap
size is a start-up flag, the memory size; a Python or Ruby runtime gets its memory limit when assigned): sandboxed, in its cgroups, its bootstrap loaded and blocked
on ``GET /runtime/kiln/configuration``. Taking one hands it the function: hard links to the code in its
bound ``/var/task`` (and layers in ``/opt``), then its environment over the Runtime API; it imports the
handler and asks for its first event. A slot serves one environment only and is never shared between
functions. Kinds not cold-started for ``KILN_ENV_IDLE_SECONDS`` are dropped. Only Kiln's Python,
Node.js, Ruby and Java bootstraps take part (a JVM only without ``JAVA_TOOL_OPTIONS``, which must be
there when it starts); ``provided`` runtimes start as before. Python and Node.js spares also load the
AWS SDK while they wait (invoker/sdkpreload.py): such a spare is taken only once it holds, and not by a
function that brings its own copy of what it loaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings

from invoker import sdkpreload
from invoker.cgroups import cgroups_usable
from invoker.environment import EnvironmentConfig, EnvState, ExecutionEnvironment, holdable

log = logging.getLogger(__name__)
MAX_KINDS = 8
Kind = tuple[str, int, int, str]  # runtime identifier, memory size (0: any), ephemeral storage, network


def kind_of(config: EnvironmentConfig) -> Kind | None:
    """The kind a pre-started runtime must match. A Python (or Ruby) runtime's memory is only its cgroup's
    limit, which ``assign`` sets, so where cgroups work one such runtime serves any memory size (0 here);
    Node.js sizes its heap from a flag at start, and rlimits are fixed at start too. The network setting
    is part of the kind: a runtime's network namespace (egress, Kiln's endpoint) is made before it starts."""
    if not holdable(config):
        return None
    memory = 0 if config.runtime.family in ("python", "ruby") and cgroups_usable() else config.memory_size
    return (config.runtime.identifier, memory, config.ephemeral_storage, config.network)


class Prewarmer:
    def __init__(self, *, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._wanted: OrderedDict[Kind, tuple[EnvironmentConfig, float]] = OrderedDict()
        self._ready: dict[Kind, ExecutionEnvironment] = {}
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def take(self, config: EnvironmentConfig) -> ExecutionEnvironment | None:
        """A ready runtime of this kind (to ``assign``), else None; either way, keep one ready next time.

        The refill waits for ``started``: a cold start in progress comes before the spare for later ones."""
        kind = kind_of(config)
        if kind is None:
            return None
        with self._lock:
            self._wanted[kind] = (config, time.monotonic())
            self._wanted.move_to_end(kind)
            env = self._ready.get(kind)
            if self._thread is None:
                self._thread = threading.Thread(target=self._refill, name="kiln-prewarm", daemon=True)
                self._thread.start()
        if env is not None and env.preloads_sdk and not sdkpreload.serves(env, config):
            return None  # still loading the SDK, or the function brings its own: it stays for the next cold start
        with self._lock:
            env = self._ready.pop(kind, None) if self._ready.get(kind) is env else None
        if env is not None and env.state == EnvState.STARTING and env.alive:
            return env
        if env is not None:
            env.stop()
        return None

    def started(self) -> None:
        """The cold start that ``take`` was asked for is done (ready or failed): refill now."""
        self._wake.set()

    def want_defaults(self) -> None:
        """Keep a runtime ready for each installed runtime Kiln's own bootstrap runs (Python, Node.js, Ruby, Java) at Lambda's default memory
        and ephemeral storage, so even the first cold start of a default-configured function is fast."""
        from functions import limits
        from functions.runtimes import available_runtimes

        for runtime in available_runtimes().values():
            if runtime.kiln_bootstrap:
                template = EnvironmentConfig(
                    key="prewarm", function_name="", function_arn="", version="$LATEST", runtime=runtime, handler="",
                    memory_size=limits.MEMORY_DEFAULT_MB, timeout=limits.TIMEOUT_DEFAULT_S, ephemeral_storage=limits.EPHEMERAL_DEFAULT_MB,
                    environment={}, code_sha256="", code_zip="",
                )
                with self._lock:
                    kind = kind_of(template)
                    assert kind is not None  # holdable: Kiln's own bootstrap, no environment
                    self._wanted.setdefault(kind, (template, time.monotonic()))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._refill, name="kiln-prewarm", daemon=True)
                self._thread.start()
        self._wake.set()

    def _refill(self) -> None:
        while not self._stopped:
            self._wake.wait(timeout=5)
            self._wake.clear()
            try:
                self._refill_once()
            except Exception:  # noqa: BLE001 - a failed pre-start only costs the next cold start its speed
                log.exception("could not pre-start a runtime")

    def _refill_once(self) -> None:
        now = time.monotonic()
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            for kind, (_, seen) in list(self._wanted.items()):
                if now - seen > self.idle_seconds or len(self._wanted) > MAX_KINDS:
                    del self._wanted[kind]
                    if kind in self._ready:
                        stale.append(self._ready.pop(kind))
            for kind, env in list(self._ready.items()):
                if not env.alive:
                    stale.append(self._ready.pop(kind))
            missing = [(kind, config) for kind, (config, _) in self._wanted.items() if kind not in self._ready]
        for env in stale:
            env.stop()
        for kind, config in missing:
            env = ExecutionEnvironment(config)
            if env.start_prewarmed() is not None:
                continue
            with self._lock:
                if self._stopped or kind in self._ready or kind not in self._wanted:
                    surplus = env
                else:
                    self._ready[kind], surplus = env, None
            if surplus is not None:
                surplus.stop()

    def spares(self) -> list[dict[str, object]]:
        """The runtimes started ahead of need, for the worker's heartbeat: their kind and whether they hold."""
        with self._lock:
            ready = list(self._ready.items())
        return [{"runtime": kind[0], "memory_size": kind[1], "ephemeral_storage": kind[2], "network": kind[3],
                 "holding": env.holding(), "preloads_sdk": env.preloads_sdk} for kind, env in ready]

    def ready_count(self) -> int:
        with self._lock:
            return len(self._ready)

    def stop_all(self) -> None:
        with self._lock:
            self._stopped = True
            envs = list(self._ready.values())
            self._ready.clear()
            self._wanted.clear()
        self._wake.set()
        for env in envs:
            env.stop()


def prewarm_enabled() -> bool:
    return bool(settings.KILN_PREWARM)
