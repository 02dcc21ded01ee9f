"""Kiln's Node.js bootstrap speaks the Runtime API over the connection Kiln hands it, or over its own.

Kiln's environments always hand one over (``KILN_RUNTIME_FD``, covered by every Node.js invocation in
the other tests); here the bootstrap runs bare against Kiln's Runtime API server, both ways.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from invoker.runtime_api import RuntimeApiServer, RuntimeEvent, Work
from invoker.sandbox import RUNTIMES_DIR

NODE = shutil.which("node")


def _next_event(events: queue.Queue[RuntimeEvent], kind: str) -> RuntimeEvent:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        event = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if event.kind == kind:
            return event
    raise AssertionError(f"no {kind} event")


@pytest.mark.skipif(NODE is None, reason="needs node")
@pytest.mark.parametrize("handed_over", [True, False])
def test_bootstrap_round_trip(tmp_path: Path, handed_over: bool):
    (tmp_path / "index.js").write_text("exports.handler = async (event) => ({ echoed: event, big: 'x'.repeat(200000) });\n")
    events: queue.Queue[RuntimeEvent] = queue.Queue()
    server = RuntimeApiServer(events)
    env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": server.address, "_HANDLER": "index.handler", "LAMBDA_TASK_ROOT": str(tmp_path)}
    fds: tuple[int, ...] = ()
    handed = None
    if handed_over:
        host, _, port = server.address.rpartition(":")
        handed = socket.create_connection((host, int(port)))
        os.set_inheritable(handed.fileno(), True)
        env["KILN_RUNTIME_FD"] = str(handed.fileno())
        fds = (handed.fileno(),)
    process = subprocess.Popen([NODE, str(RUNTIMES_DIR / "nodejs" / "bootstrap.cjs")], env=env, pass_fds=fds, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if handed is not None:
        handed.close()
    try:
        _next_event(events, "next")
        for n in range(3):  # keep-alive: several exchanges on the one connection
            server.deliver(Work(f"req-{n}", f'{{"n": {n}}}'.encode(), int(time.time() * 1000) + 5000, "arn:aws:lambda:us-east-1:000000000000:function:f", "Root=1-0-0"))
            response = _next_event(events, "response")
            assert response.request_id == f"req-{n}" and response.body.startswith(f'{{"echoed":{{"n":{n}}},"big":"xxx'.encode())
            assert len(response.body) > 200000  # written in several pieces through the handed-over fd
    finally:
        process.kill()
        process.wait()
        server.close()
