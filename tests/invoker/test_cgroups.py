"""Fast cgroup moves: the worker turns on ``favordynmods`` on the cgroup2 mount and says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from invoker.cgroups import _cgroup2_mount
from invoker.redis_client import get_redis

HYBRID = """\
30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
41 30 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
"""
PURE_V1 = "35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"


def test_the_cgroup2_mount_and_its_options_are_found():
    assert _cgroup2_mount(HYBRID) == ("/sys/fs/cgroup/unified", ["rw", "nsdelegate"])
    pure_v2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot,favordynmods\n"
    assert _cgroup2_mount(pure_v2) == ("/sys/fs/cgroup", ["rw", "nsdelegate", "memory_recursiveprot", "favordynmods"])
    assert _cgroup2_mount(PURE_V1) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_worker_turns_on_favordynmods_where_it_may_and_reports_it(client):
    redis = get_redis()
    status = json.loads(redis.get(next(redis.scan_iter(match="kiln:worker:*"))))["sandbox"]["cgroup_migrations"]
    mount = _cgroup2_mount(Path("/proc/self/mountinfo").read_text())
    assert client.get("/healthz").json()["checks"]["sandbox"]["cgroup_migrations"] == status  # the web process reads the same
    if os.geteuid() == 0 and mount is not None:
        assert "favordynmods" in mount[1]
        assert status == "fast (favordynmods)"
    else:  # not root, or no cgroup2 hierarchy: slow, with the reason
        assert status.startswith("slow: ") and len(status) > len("slow: ")


def _kiln_dirs_writable() -> list[tuple[Path, bool]]:
    from invoker.cgroups import _kiln_dirs, cgroups_usable

    return _kiln_dirs() if os.geteuid() == 0 and cgroups_usable() else []


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_groups_are_named_after_their_owning_worker():
    from invoker.cgroups import Cgroup, _owner_alive, owner_tag

    if not _kiln_dirs_writable():
        pytest.skip("cgroups are not writable here")
    group = Cgroup.create("naming-probe", memory_mb=64, max_pids=8)
    assert group is not None
    try:
        assert group.memory_dir.name == f"{owner_tag()}.naming-probe" and owner_tag().startswith(f"w{os.getpid()}-")
        assert _owner_alive(group.memory_dir.name) is True
    finally:
        group.remove()


def test_a_starting_worker_removes_only_the_groups_of_dead_workers_and_kills_what_was_left_in_them():
    """Issue 15: cgroups of environments whose worker was SIGKILLed were never removed. Several workers share a host
    (and the pids hierarchy's ``kiln`` directory), so only a group whose owner is gone (or whose pid now belongs to
    another process: a different start time) goes; a live worker's group and a group without an owner stay."""
    import subprocess

    from invoker.cgroups import _start_ticks, cgroups_remove_orphans, owner_tag

    dirs = _kiln_dirs_writable()
    if not dirs:
        pytest.skip("cgroups are not writable here")
    mine = _start_ticks(os.getpid())
    names = {
        "dead": f"w{_dead_pid()}-12345.env1",
        "reused": f"w{os.getpid()}-{mine + 1}.env2",  # this pid, but another process's start time
        "live": f"{owner_tag()}.env3",
        "legacy": "0123456789abcdef",  # no owner in the name (an older Kiln): never touched
    }
    made: list[Path] = []
    leftover = None
    try:
        for directory, _ in dirs:
            for name in names.values():
                (directory / name).mkdir(parents=True, exist_ok=True)
                made.append(directory / name)
        # A process left behind in a dead worker's group (a runtime that outlived its worker).
        leftover = subprocess.Popen(["sleep", "60"])
        for directory, _ in dirs:
            (directory / names["dead"] / "cgroup.procs").write_text(str(leftover.pid))
        assert cgroups_remove_orphans() >= 2 * len(dirs)  # ours, and whatever dead workers of this host left
        assert leftover.wait(timeout=5) == -9
        for directory, _ in dirs:
            assert not (directory / names["dead"]).exists() and not (directory / names["reused"]).exists()
            assert (directory / names["live"]).is_dir() and (directory / names["legacy"]).is_dir()
        cgroups_remove_orphans()  # a second worker starting: still never a live worker's group, nor one without an owner
        for directory, _ in dirs:
            assert (directory / names["live"]).is_dir() and (directory / names["legacy"]).is_dir()
    finally:
        if leftover is not None and leftover.poll() is None:
            leftover.kill()
        for path in made:
            try:
                path.rmdir()
            except OSError:
                pass
