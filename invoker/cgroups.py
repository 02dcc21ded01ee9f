"""Per-environment control groups: a memory limit, a process limit, peak memory and OOM detection.

Kiln creates ``kiln/<env-id>`` beneath its own cgroup in the memory and pids hierarchies (v1) or in
the unified hierarchy (v2), when the host lets it write there; else ``Cgroup.create`` returns None
and the sandbox falls back to rlimits. The sandbox's first process joins the group before it execs
anything, so nothing the function starts escapes the limits.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
ROOT = Path("/sys/fs/cgroup")


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
        for directory in self.dirs:
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
