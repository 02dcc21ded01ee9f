"""Per-environment control groups: a memory limit, a process limit, peak memory and OOM detection.

Kiln creates ``kiln/<env-id>`` beneath its own cgroup in the memory and pids hierarchies (v1) or in
the unified hierarchy (v2), when the host lets it write there; else ``Cgroup.create`` returns None
and the sandbox falls back to rlimits. The sandbox's first process joins the group before it execs
anything, so nothing the function starts escapes the limits.

Moving a process into a cgroup takes the kernel's global threadgroup lock for writing, which by default
waits for an RCU grace period once the lock has been idle: 5-11 ms per cold start, measured here.
``favor_dynamic_modifications`` asks for the cgroup2 mount option ``favordynmods`` (Linux 6.0+), which
makes that move cost ~0.1 ms at the price of slightly dearer fork and exit; the worker applies it at
start when ``KILN_CGROUP_FAVORDYNMODS`` is on and it may remount (root), and reports the outcome.

A group's name starts with its owner, ``w<pid>-<start time>.`` (the worker's pid and its start time in
clock ticks since boot, which a reused pid does not share), so a worker starting up
(``cgroups_remove_orphans``) can tell the groups of dead workers from those of live ones when several
workers share a host (and a ``kiln`` directory): it kills what is left in a dead owner's groups and
removes them, and touches nothing else. Workers that share a cgroup directory must share a PID namespace
(one host, or one container).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
ROOT = Path("/sys/fs/cgroup")
MS_REMOUNT = 32
_remount_error = ""


def _cgroup2_mount(mountinfo: str) -> tuple[str, list[str]] | None:
    """The mount point and super-block options of the cgroup2 hierarchy, from /proc/self/mountinfo."""
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        parts, rest = fields.split(), tail.split()
        if len(parts) >= 5 and len(rest) >= 3 and rest[0] == "cgroup2":
            return parts[4].replace("\\040", " "), rest[2].split(",")
    return None


def _read_cgroup2_mount() -> tuple[str, list[str]] | None:
    try:
        return _cgroup2_mount(Path("/proc/self/mountinfo").read_text())
    except OSError:
        return None


def favor_dynamic_modifications() -> str:
    """Turn on ``favordynmods`` on the cgroup2 mount if it is off (other options of the mount are
    kept); return ``migration_status()``."""
    global _remount_error
    found = _read_cgroup2_mount()
    if found is not None and "favordynmods" not in found[1]:
        target, options = found
        data = ",".join([o for o in options if o not in ("rw", "ro")] + ["favordynmods"])
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.mount(b"cgroup2", target.encode(), b"cgroup2", MS_REMOUNT, data.encode()) == 0:
            _remount_error = ""
            log.info("remounted %s with favordynmods: cgroup moves no longer wait for RCU", target)
        else:
            _remount_error = os.strerror(ctypes.get_errno())
            log.warning("cgroup moves stay slow (5-11 ms per cold start): could not remount %s with favordynmods (%s)", target, _remount_error)
    return migration_status()


def migration_status() -> str:
    """How fast moving a process into a cgroup is here: ``fast (favordynmods)`` or ``slow: <why>``."""
    found = _read_cgroup2_mount()
    if found is None:
        return "slow: no cgroup2 mount to set favordynmods on"
    if "favordynmods" in found[1]:
        return "fast (favordynmods)"
    why = f"could not remount {found[0]} with favordynmods ({_remount_error})" if _remount_error else f"favordynmods is off on {found[0]}"
    return f"slow: {why}"


def _start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, field 22 of /proc/<pid>/stat), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def owner_tag() -> str:
    """This process's prefix of the groups it creates: ``w<pid>-<start ticks>``."""
    pid = os.getpid()
    return f"w{pid}-{_start_ticks(pid) or 0}"


_OWNED = re.compile(r"^w(\d+)-(\d+)\.")


def _owner_alive(name: str) -> bool | None:
    """Whether the worker that created group ``name`` still runs; None for a name without an owner (left alone)."""
    found = _OWNED.match(name)
    if found is None:
        return None
    return _start_ticks(int(found.group(1))) == int(found.group(2))


def _kiln_dirs() -> list[tuple[Path, bool]]:
    """The ``kiln`` directories this process creates its groups in (with: is it cgroup v2)."""
    if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
        found = []
        for controller in ("memory", "pids"):
            base = _own_path(controller)
            if base is not None:
                found.append((ROOT / controller / base.lstrip("/") / "kiln", False))
        return found
    if (ROOT / "cgroup.controllers").exists():
        base = _own_path("")
        return [(ROOT / base.lstrip("/") / "kiln", True)] if base is not None else []
    return []


def cgroups_remove_orphans(wait_s: float = 2.0) -> int:
    """At worker start: kill what is left in the groups of workers that are gone and remove those groups
    (never a live worker's, nor a group without an owner in its name); how many were removed."""
    orphans: list[Cgroup] = []
    for directory, v2 in _kiln_dirs():
        try:
            entries = [entry for entry in directory.iterdir() if entry.is_dir()]
        except OSError:
            continue
        for entry in entries:
            if _owner_alive(entry.name) is False:
                orphans.append(Cgroup([entry], entry, v2=v2))
    for group in orphans:
        group.kill_all()
    removed = 0
    deadline = time.monotonic() + wait_s
    for group in orphans:
        while True:  # a killed process leaves its group a moment later
            try:
                group.memory_dir.rmdir()
                removed += 1
                break
            except FileNotFoundError:
                break  # another starting worker removed it
            except OSError:
                if time.monotonic() > deadline:
                    log.warning("could not remove the cgroup %s of a dead worker: still busy", group.memory_dir)
                    break
                time.sleep(0.05)
    if removed:
        log.info("removed %d cgroups left by dead workers", removed)
    return removed


@functools.cache
def cgroups_usable() -> bool:
    """Whether Kiln can create groups here (checked once, with a probe group)."""
    probe = Cgroup.create(f"probe-{os.getpid()}", memory_mb=64, max_pids=8)
    if probe is None:
        return False
    probe.remove()
    return True


def _own_path(controller: str) -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path
    return None


@dataclass
class Cgroup:
    """A created group; ``dirs`` are the directories whose ``cgroup.procs`` the sandbox must join."""

    dirs: list[Path]
    memory_dir: Path
    v2: bool

    @staticmethod
    def create(name: str, *, memory_mb: int, max_pids: int) -> Cgroup | None:
        name = f"{owner_tag()}.{name}"
        try:
            if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
                mem_base, pid_base = _own_path("memory"), _own_path("pids")
                if mem_base is None or pid_base is None:
                    return None
                memory = ROOT / "memory" / mem_base.lstrip("/") / "kiln" / name
                pids = ROOT / "pids" / pid_base.lstrip("/") / "kiln" / name
                memory.mkdir(parents=True, exist_ok=True)
                pids.mkdir(parents=True, exist_ok=True)
                limit = str(memory_mb * 1024 * 1024)
                (memory / "memory.limit_in_bytes").write_text(limit)
                swap = memory / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(limit)
                (pids / "pids.max").write_text(str(max_pids))
                return Cgroup([memory, pids], memory, v2=False)
            if (ROOT / "cgroup.controllers").exists():
                base = _own_path("")
                if base is None:
                    return None
                group = ROOT / base.lstrip("/") / "kiln" / name
                group.mkdir(parents=True, exist_ok=True)
                (group / "memory.max").write_text(str(memory_mb * 1024 * 1024))
                (group / "memory.swap.max").write_text("0")
                (group / "pids.max").write_text(str(max_pids))
                return Cgroup([group], group, v2=True)
        except OSError as exc:
            log.debug("cgroups unavailable: %s", exc)
        return None

    def set_memory_limit(self, memory_mb: int) -> None:
        """Change the memory limit of a running group (a pre-started runtime given its function).

        Under v1 the memory+swap limit may never be below the memory limit, so the order of the two
        writes follows the direction of the change."""
        limit = str(memory_mb * 1024 * 1024)
        if self.v2:
            (self.memory_dir / "memory.max").write_text(limit)
            return
        memory, swap = self.memory_dir / "memory.limit_in_bytes", self.memory_dir / "memory.memsw.limit_in_bytes"
        current = int(memory.read_text())
        order = [swap, memory] if int(limit) > current else [memory, swap]
        for path in order:
            if path.exists():
                path.write_text(limit)

    def peak_bytes(self) -> int:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:  # per invocation: a bare read, not pathlib's buffered text file
            fd = os.open(self.memory_dir / name, os.O_RDONLY)
            try:
                return int(os.read(fd, 64))
            finally:
                os.close(fd)
        except (OSError, ValueError):
            return 0

    def oom_killed(self) -> bool:
        try:
            if self.v2:
                text = (self.memory_dir / "memory.events").read_text()
            else:
                text = (self.memory_dir / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill_all(self) -> None:
        """SIGKILL every process in the group. Forks are stopped first (``pids.max`` 0, or ``cgroup.kill`` on v2),
        so a fork bomb cannot refill the group while its processes are killed one by one."""
        for directory in self.dirs:
            for control, value in (("cgroup.kill", "1"), ("pids.max", "0")):
                if (directory / control).exists():
                    try:
                        (directory / control).write_text(value)
                    except OSError:
                        pass
            try:
                pids = (directory / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass

    def remove(self) -> None:
        for directory in self.dirs:
            try:
                directory.rmdir()
            except OSError:
                pass
