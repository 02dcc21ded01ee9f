"""Which worker this process is, and whether another one is alive (its heartbeat key, invoker/worker.py).

A worker's heartbeat key outlives a SIGKILL by up to its expiry (15 s), and everything that waits on a dead
worker (its lease locks, its SQS batches, a re-send it held, a caller waiting for its answer) waited that long
too. The heartbeat therefore says which process wrote it (``process_identity``: the boot, the PID namespace, the
pid and its start time); a process that shares the boot and the namespace looks in ``/proc`` and knows at once
that the worker is gone, and a process elsewhere (another host, another container) trusts the key as before.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from functools import cache

from django.conf import settings

from invoker.redis_client import get_redis

log = logging.getLogger(__name__)


# The host part: the machine's name, or KILN_WORKER_HOST where several workers share one (containers, tests).
WORKER_NAME = f"{settings.KILN_WORKER_HOST or socket.gethostname()}:{os.getpid()}"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22), None when there is none
    or it is a zombie (killed, not yet reaped by its parent): with the pid, it names one process for the life of
    the boot (a reused pid starts later)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


@cache
def _namespace() -> str:
    """This boot and this PID namespace; '' where /proc cannot say (then no one trusts a pid check against us)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot:
            boot_id = boot.read().strip()
        return f"{boot_id}/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return ""


def process_identity() -> dict[str, object]:
    """What the heartbeat records of this process, for ``worker_alive``'s look in /proc."""
    return {"namespace": _namespace(), "pid": os.getpid(), "start": _start_time(os.getpid())}


def worker_alive(name: str) -> bool:
    """Whether the worker named ``name`` still runs: its heartbeat key exists and, when it was written by a process
    this one can see (same boot and PID namespace), that process is still there."""
    if not name:
        return False
    if name.rpartition(":")[0] != WORKER_NAME.rpartition(":")[0] or not _namespace():
        return get_redis().exists(f"kiln:worker:{name}") == 1  # another host's worker: its heartbeat is all there is to go by
    raw = get_redis().get(f"kiln:worker:{name}")  # the whole heartbeat (environments too): only for this host's workers
    if raw is None:
        return False
    try:
        process = json.loads(raw).get("process") or {}
    except (ValueError, AttributeError):
        return True
    if process.get("namespace") != _namespace() or not isinstance(process.get("pid"), int):
        return True  # written by a process in another namespace (a container sharing the host's name), or long ago
    return _start_time(process["pid"]) == process.get("start")
