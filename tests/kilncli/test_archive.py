"""The kiln command's pure logic, without services: the deterministic zip, change detection and its debounce,
``--since`` and the follower's de-duplication."""

from __future__ import annotations

import datetime
import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kilncli.archive import build_zip, packaged_files, snapshot
from kilncli.client import CommandError
from kilncli.deploy import wait_for_change
from kilncli.logs import Follower, event_line, since_ms


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "bootstrap").write_text("#!/bin/sh\necho hi\n")
    (root / "bootstrap").chmod(0o755)
    for litter in (".git/config", "__pycache__/app.cpython-311.pyc", "pkg/__pycache__/util.cpython-311.pyc", "node_modules/.cache/x.json", "stale.pyc"):
        (root / litter).parent.mkdir(parents=True, exist_ok=True)
        (root / litter).write_text("litter")
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1;\n")
    return root


def test_zip_holds_the_code_without_litter_and_keeps_modes(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    package = build_zip(root)
    archive = zipfile.ZipFile(io.BytesIO(package.data))
    assert archive.namelist() == ["app.py", "bootstrap", "node_modules/left-pad/index.js", "pkg/util.py"]
    assert package.files == 4
    modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
    assert modes["bootstrap"] == 0o755 and modes["app.py"] == stat.S_IMODE((root / "app.py").stat().st_mode)
    assert archive.read("pkg/util.py") == b"X = 1\n"
    assert archive.testzip() is None


def test_zip_is_deterministic(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    first = build_zip(root)
    os.utime(root / "app.py", (1_700_000_000, 1_700_000_000))  # a touch changes no byte of the zip
    (root / "__pycache__" / "new.pyc").write_text("more litter")
    assert build_zip(root).data == first.data
    copy = _tree(tmp_path / "elsewhere")  # the same files written anew, at another time, in another place
    assert build_zip(copy).sha256 == first.sha256
    (root / "app.py").write_text("def handler(e, c):\n    return 2\n")
    assert build_zip(root).sha256 != first.sha256
    (copy / "app.py").chmod(0o700)  # a mode is part of the package
    assert build_zip(copy).sha256 != first.sha256


def test_broken_symlink_is_skipped_and_a_linked_file_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (tmp_path / "shared.py").write_text("SHARED = 1\n")
    (root / "shared.py").symlink_to(tmp_path / "shared.py")
    (root / "dangling.py").symlink_to(tmp_path / "missing.py")
    assert [name for name, _ in packaged_files(root)] == ["shared.py"]
    assert zipfile.ZipFile(io.BytesIO(build_zip(root).data)).read("shared.py") == b"SHARED = 1\n"


def test_snapshot_sees_saves_and_ignores_litter(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    before = snapshot(root)
    (root / "__pycache__" / "app.cpython-311.pyc").write_text("recompiled")
    (root / ".git" / "index").write_text("staged")
    assert snapshot(root) == before
    (root / "pkg" / "util.py").write_text("X = 2\n")  # same size: the modification time tells
    os.utime(root / "pkg" / "util.py", ns=(before["pkg/util.py"][1] + 1_000_000, before["pkg/util.py"][1] + 1_000_000))
    assert snapshot(root) != before
    (root / "new.py").write_text("")
    assert "new.py" in snapshot(root)
    (root / "new.py").unlink()
    assert "new.py" not in snapshot(root)


def test_wait_for_change_returns_once_a_save_has_settled(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    last = snapshot(root)
    target = root / "app.py"
    # What the "editor" does during each nap of the loop: nothing, truncate, write, nothing.
    steps = [lambda: None, lambda: target.write_text(""), lambda: target.write_text("def handler(e, c):\n    return 'saved'\n"), lambda: None]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        steps[len(naps) - 1]()

    changed = wait_for_change(root, last, poll=0.2, settle=0.1, sleep=sleep)
    assert naps == [0.2, 0.2, 0.1, 0.1]  # a poll with no change, the change, a change while settling, settled
    assert changed == snapshot(root) != last and changed["app.py"][0] == target.stat().st_size > 0
    assert build_zip(root).files == 4


def test_since_and_event_lines() -> None:
    now = 1_800_000_000.0
    assert since_ms("10m", now) == int((now - 600) * 1000)
    assert since_ms("2h", now) == int((now - 7200) * 1000) and since_ms("30s", now) == int((now - 30) * 1000)
    assert since_ms("2026-12-01T10:00:00Z") == int(datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC).timestamp() * 1000)
    assert since_ms("2026-12-01T10:00:00") == since_ms("2026-12-01T10:00:00+00:00")
    with pytest.raises(CommandError, match="--since 'yesterday'"):
        since_ms("yesterday")
    line = event_line({"timestamp": 1_800_000_000_123, "message": "hello\n", "logStreamName": "2027/01/15/[$LATEST]abc", "eventId": "1"})
    assert line == "2027-01-15T08:00:00.123Z 2027/01/15/[$LATEST]abc hello"


class _Group:
    """FilterLogEvents over a list, two events a page, as the Logs API answers it (startTime inclusive)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, event_id: str, timestamp: int) -> None:
        self.events.append({"eventId": event_id, "timestamp": timestamp, "message": f"line {event_id}\n", "logStreamName": "s"})

    def filter_log_events(self, *, logGroupName: str, startTime: int, nextToken: str | None = None) -> dict[str, Any]:
        matching = [e for e in self.events if e["timestamp"] >= startTime]
        start = int(nextToken or 0)
        page: dict[str, Any] = {"events": matching[start:start + 2]}
        if start + 2 < len(matching):
            page["nextToken"] = str(start + 2)
        return page


def test_follower_prints_each_event_once_including_late_ones() -> None:
    group = _Group()
    for event_id, stamp in (("a", 1000), ("b", 1000), ("c", 2000)):
        group.add(event_id, stamp)
    follower = Follower(group, "/aws/lambda/f", start_ms=500)
    assert [e["eventId"] for e in follower.poll()] == ["a", "b", "c"]  # three pages' worth
    assert follower.poll() == []
    group.add("d", 2000)  # the same millisecond as the newest seen
    group.add("e", 1500)  # a longer invocation's line, written when it finished, stamped when it started
    assert [e["eventId"] for e in follower.poll()] == ["d", "e"]
    group.add("old", 100)  # before --since
    assert follower.poll() == []
