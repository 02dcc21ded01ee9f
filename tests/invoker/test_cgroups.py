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
