"""The network isolation's edges, in the test process: egress denied for all, a Runtime API that serves
only its own runtime, and no quiet fallback to weaker isolation (no namespaces, an unreachable work dir)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from invoker import network, sandbox
from invoker.runtime_api import RuntimeApiServer, RuntimeEvent, Work

needs_netns = pytest.mark.skipif(sandbox.sandbox_mode() != "bwrap" or not network.own_namespaces()[0], reason="needs bubblewrap and root")


def _run_in_sandbox(tmp_path: Path, script: str, *, kind_of_network: str) -> str:
    ns = network.acquire(kind_of_network)
    task = tmp_path / "task"
    task.mkdir(exist_ok=True)
    try:
        with network.entered(ns):
            process = sandbox.spawn(sandbox.SandboxRequest(
                env_id=f"net-{os.getpid()}-{kind_of_network}", argv_inside=["/bin/bash", "-c", script], environment={"PATH": "/usr/bin:/bin"},
                task_dir=task, opt_dir=task, tmp_dir=tmp_path / "tmp", interpreter="", memory_mb=128, ephemeral_mb=16, own_netns=ns is not None))
        output = process.popen.stdout.read().decode()
        process.popen.wait()
        if process.cgroup:
            process.cgroup.remove()
        return output
    finally:
        if ns is not None:
            ns.close()


@pytest.fixture
def work_dir(tmp_path: Path, settings) -> Iterator[Path]:
    """A work dir the sandbox's uid can reach (pytest's tmp_path is under a 0700 directory)."""
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="kiln-net-"))
    base.chmod(0o711)
    settings.KILN_WORK_DIR = base / "work"
    sandbox.host_uid_switch.cache_clear()
    sandbox.python_sdk_dir.cache_clear()  # made under the work dir of its first caller
    yield base
    sandbox.host_uid_switch.cache_clear()
    sandbox.python_sdk_dir.cache_clear()
    subprocess.run(["rm", "-rf", str(base)], check=False)


@needs_netns
def test_egress_denied_for_all(work_dir: Path, settings, other_host_address: tuple[str, int]):
    host, port = other_host_address
    probe = f"(exec 3<>/dev/tcp/{host}/{port}) 2>&1 && echo ANSWERED || echo unreachable; ip -o -4 addr | grep -c eth0"
    assert "ANSWERED" in _run_in_sandbox(work_dir, probe, kind_of_network="outbound")
    settings.KILN_SANDBOX_EGRESS = "deny"
    network.egress_status.cache_clear()
    try:
        assert network.kind_for("outbound") == network.LOCAL
        assert network.status()["egress"] is False and "KILN_SANDBOX_EGRESS" in network.status()["egress_detail"]
        output = _run_in_sandbox(work_dir, probe, kind_of_network="outbound")
        assert "ANSWERED" not in output and "Network is unreachable" in output, output
    finally:
        settings.KILN_SANDBOX_EGRESS = "allow"
        network.egress_status.cache_clear()


@pytest.fixture
def other_host_address() -> Iterator[tuple[str, int]]:
    from tests.invoker.test_network import another_host

    with another_host() as address:
        yield address


def test_runtime_api_serves_only_the_connection_it_handed_over():
    events: queue.Queue[RuntimeEvent] = queue.Queue()
    server = RuntimeApiServer(events)
    try:
        handed = server.handed_connection()
        host, port = server.address.split(":")
        foreign = socket.create_connection((host, int(port)), timeout=2)
        foreign.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = foreign.recv(100)
        except ConnectionResetError:
            answer = b""
        assert answer == b"" and events.empty()  # closed without a word: no event, no request id
        server.deliver(Work("req-1", b'{"a": 1}', 0, "arn", "trace"))
        handed.settimeout(5)
        handed.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = handed.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200") and b"req-1" in answer
        assert server.refused == 1
        foreign.close()
        handed.close()
    finally:
        server.close()


@pytest.mark.django_db
def test_no_namespaces_no_functions_unless_told(monkeypatch, settings, client):
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: (False, "bubblewrap (bwrap) is not installed"))
    settings.KILN_SANDBOX = "auto"
    assert sandbox.sandbox_mode() == "refused"
    status = sandbox.sandbox_status()
    assert status["isolated"] is False and "KILN_SANDBOX=process" in status["detail"], status
    assert "will NOT start" in client.get("/healthz").json()["checks"]["sandbox"]["warning"]
    request = sandbox.SandboxRequest(env_id="refused", argv_inside=["/bin/true"], environment={}, task_dir=Path("/tmp"), opt_dir=Path("/tmp"),
                                     tmp_dir=Path("/tmp/x"), interpreter="", memory_mb=128, ephemeral_mb=16)
    with pytest.raises(sandbox.SandboxUnavailable, match="KILN_SANDBOX=process"):
        sandbox.spawn(request)
    settings.KILN_SANDBOX = "process"
    assert sandbox.sandbox_mode() == "process" and sandbox.refusal() is None
    assert sandbox.sandbox_status()["network"]["isolation"].startswith("none"), sandbox.sandbox_status()


@pytest.mark.skipif(os.geteuid() != 0 or sandbox.sandbox_mode() != "bwrap", reason="the uid switch happens for a root worker")
def test_a_private_data_dir_is_refused_not_run_as_root(settings, tmp_path: Path):
    private = Path(tempfile.mkdtemp())  # mode 0700, as `mktemp -d` makes it
    settings.KILN_WORK_DIR = private / "work"
    sandbox.host_uid_switch.cache_clear()
    try:
        reason = sandbox.refusal()
        assert reason and str(private) in reason and "chmod o+x" in reason and "KILN_WORK_DIR" in reason, reason
        assert sandbox.sandbox_status()["isolated"] is False
        request = sandbox.SandboxRequest(env_id=f"private-{os.getpid()}", argv_inside=["/bin/true"], environment={}, task_dir=tmp_path, opt_dir=tmp_path,
                                         tmp_dir=tmp_path / "tmp", interpreter="", memory_mb=128, ephemeral_mb=16)
        with pytest.raises(sandbox.SandboxUnavailable, match="does not fall back"):
            sandbox.spawn(request)
    finally:
        sandbox.host_uid_switch.cache_clear()
        subprocess.run(["rm", "-rf", str(private)], check=False)
