"""The sandbox's /etc: a copy of the few host entries a function needs, renewed when they change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from invoker.sandbox import etc_dir


@pytest.fixture
def host_etc(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    (etc / "ssl" / "certs").mkdir(parents=True)
    (etc / "ssl" / "private").mkdir(mode=0o700)
    (etc / "ssl" / "private" / "host.key").write_text("SECRET")
    os.symlink("/usr/share/ca-certificates/x.crt", etc / "ssl" / "certs" / "x.pem")
    (etc / "hosts").write_text("127.0.0.1 localhost\n")
    (etc / "resolv.conf").write_text("nameserver 10.0.0.1\n")
    (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.symlink("/usr/share/zoneinfo/Etc/UTC", etc / "localtime")
    return etc


def test_only_the_listed_entries_are_copied_and_private_keys_stay_out(host_etc, settings, tmp_path):
    settings.KILN_WORK_DIR = tmp_path / "work"
    copy = etc_dir(host_etc)
    assert sorted(p.name for p in copy.iterdir()) == ["hosts", "localtime", "resolv.conf", "ssl"]
    assert os.readlink(copy / "localtime") == "/usr/share/zoneinfo/Etc/UTC"
    assert os.readlink(copy / "ssl" / "certs" / "x.pem") == "/usr/share/ca-certificates/x.crt"
    assert not (copy / "ssl" / "private").exists() and not (copy / "passwd").exists()
    assert etc_dir(host_etc) == copy  # unchanged host: the same copy


def test_an_edited_entry_gives_a_new_copy(host_etc, settings, tmp_path):
    settings.KILN_WORK_DIR = tmp_path / "work"
    first = etc_dir(host_etc)
    time.sleep(0.01)
    (host_etc / "resolv.conf").write_text("nameserver 10.0.0.2\n")
    second = etc_dir(host_etc)
    assert second != first and (second / "resolv.conf").read_text() == "nameserver 10.0.0.2\n"
    assert (first / "resolv.conf").read_text() == "nameserver 10.0.0.1\n"  # sandboxes already running keep theirs
