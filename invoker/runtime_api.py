"""The AWS Lambda Runtime API, served by the worker to one execution environment.

Each environment gets its own listener (``AWS_LAMBDA_RUNTIME_API``): at ``127.0.0.1:9001`` inside the
sandbox's own network namespace (``invoker/network.py``), where nothing but that sandbox reaches it, or
on the host's 127.0.0.1 where Kiln makes no namespaces. An environment whose runtime is Kiln's own
bootstrap serves only the connection Kiln handed over (``handed_connection``: the peer address is
known before it connects) and closes any other, so even a reachable port answers no one else. The runtime long-polls
``GET /2018-06-01/runtime/invocation/next`` and answers with ``POST .../{id}/response`` or
``.../{id}/error``; a failed init posts ``/runtime/init/error``. A runtime started ahead of need (``invoker/prewarm.py``) first
long-polls Kiln's own ``GET /2018-06-01/runtime/kiln/configuration`` for its function's environment.
Everything the runtime says is put on
``events`` as ``RuntimeEvent`` for the environment to consume. A hand-written HTTP/1.1 server keeps the
warm round trip to tens of microseconds: headers and body go out in one ``sendall`` with
``TCP_NODELAY`` set (Python's http.server stalls ~40 ms per exchange on Nagle + delayed ACK).
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import IO

from functions.limits import SYNC_PAYLOAD_MAX_BYTES

PREFIX = "/2018-06-01/runtime"
MAX_REQUEST_BYTES = SYNC_PAYLOAD_MAX_BYTES + 1024 * 1024  # read at most this much of any body


@dataclass
class Work:
    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None
    delivered_at: float = 0.0


@dataclass
class RuntimeEvent:
    kind: str  # next | response | error | init_error | too_large | closed
    request_id: str = ""
    body: bytes = b""
    error_type: str = ""
    at: float = 0.0


def initial_environment(env: dict[str, str]) -> dict[str, str]:
    """What a runtime held for its ``kiln/configuration`` starts with (the rest comes over the API)."""
    # HOME too: the SDK a spare preloads derives paths from it at import (botocore's ~/.aws/models).
    return {k: env[k] for k in ("AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "NODE_PATH", "HOME") if k in env}


def make_listener(port: int = 0) -> socket.socket:
    """A listener on 127.0.0.1 of the calling thread's network namespace (port 0: any free one)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    return listener


class RuntimeApiServer:
    def __init__(self, events: queue.Queue[RuntimeEvent], listener: socket.socket | None = None) -> None:
        self.events = events
        self._listener = listener if listener is not None else make_listener()
        self.address = "127.0.0.1:%d" % self._listener.getsockname()[1]
        self._only_peer: tuple[str, int] | None = None  # set by handed_connection: serve that peer alone
        self.refused = 0
        self._work: Work | None = None
        self._configuration: bytes | None = None
        self.holding = threading.Event()  # a pre-started runtime asked for its configuration: it is ready for a function
        self.held_body = b""  # what it sent with that request (the SDK it preloaded, invoker/sdkpreload.py)
        self._work_ready = threading.Condition()
        self._closed = False
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, name=f"runtime-api-{self.address}", daemon=True).start()

    # -- the environment's side ---------------------------------------------------------------
    def deliver(self, work: Work) -> None:
        with self._work_ready:
            self._work = work
            self._work_ready.notify_all()

    def handed_connection(self) -> socket.socket:
        """A connection to this server for the runtime to inherit; from now on it is the only one served.
        Made in the thread's current network namespace (the sandbox's, see ``invoker.network.entered``)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            self._only_peer = sock.getsockname()
            sock.connect(self._listener.getsockname())
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        return sock

    def configure(self, configuration: bytes) -> None:
        """Answer a pre-started runtime's ``GET /runtime/kiln/configuration`` (Kiln's own bootstraps only)."""
        with self._work_ready:
            self._configuration = configuration
            self._work_ready.notify_all()

    def close(self) -> None:
        with self._work_ready:
            self._closed = True
            self._work_ready.notify_all()
        for sock in [self._listener, *self._connections]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    # -- the runtime's side -------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, peer = self._listener.accept()
            except OSError:
                return
            if self._only_peer is not None and peer != self._only_peer:
                self.refused += 1
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while not self._closed:
                request_line = reader.readline(8192)
                if not request_line:
                    return
                parts = request_line.decode("latin-1").split()
                if len(parts) < 2:
                    self._send(conn, 400, b'{"errorMessage":"bad request"}')
                    return
                method, path = parts[0], parts[1]
                headers: dict[str, str] = {}
                while True:
                    line = reader.readline(65536)
                    if line in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = line.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                body, too_large = self._read_body(reader, headers)
                if not self._route(conn, method, path, headers, body, too_large):
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _read_body(reader: IO[bytes], headers: dict[str, str]) -> tuple[bytes, bool]:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks, total, too_large = [], 0, False
            while True:
                size = int(reader.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    reader.readline()
                    break
                data = reader.read(size)
                reader.readline()
                total += size
                if total > MAX_REQUEST_BYTES:
                    too_large = True
                else:
                    chunks.append(data)
            return b"".join(chunks), too_large
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_REQUEST_BYTES:
            remaining = length
            while remaining > 0:  # drain, keeping the connection usable
                remaining -= len(reader.read(min(remaining, 1 << 20)) or b"x" * remaining)
            return b"", True
        return (reader.read(length) if length else b""), False

    def _route(self, conn: socket.socket, method: str, path: str, headers: dict[str, str], body: bytes, too_large: bool) -> bool:
        now = time.monotonic()
        if method == "GET" and path == f"{PREFIX}/invocation/next":
            self.events.put(RuntimeEvent("next", at=now))
            work = self._wait_for_work()
            if work is None:
                return False
            work.delivered_at = time.monotonic()
            extra = {
                "Lambda-Runtime-Aws-Request-Id": work.request_id,
                "Lambda-Runtime-Deadline-Ms": str(work.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": work.function_arn,
                "Lambda-Runtime-Trace-Id": work.trace_id,
            }
            if work.client_context:
                extra["Lambda-Runtime-Client-Context"] = work.client_context
            self._send(conn, 200, work.payload, extra)
            return True
        if method == "GET" and path == f"{PREFIX}/kiln/configuration":
            self.held_body = body
            self.holding.set()
            with self._work_ready:
                while self._configuration is None and not self._closed:
                    self._work_ready.wait()
                configuration = self._configuration
            if configuration is None:
                return False
            self._send(conn, 200, configuration)
            return True
        if method == "POST" and path == f"{PREFIX}/init/error":
            self.events.put(RuntimeEvent("init_error", body=body, error_type=headers.get("lambda-runtime-function-error-type", ""), at=now))
            self._send(conn, 202, b'{"status":"OK"}')
            return True
        if method == "POST" and path.startswith(f"{PREFIX}/invocation/"):
            request_id, _, action = path[len(PREFIX) + len("/invocation/"):].partition("/")
            if action not in ("response", "error"):
                self._send(conn, 404, b'{"errorMessage":"unknown path","errorType":"InvalidRequest"}')
                return True
            if too_large or (action == "response" and len(body) > SYNC_PAYLOAD_MAX_BYTES):
                self.events.put(RuntimeEvent("too_large", request_id=request_id, at=now))
                self._send(conn, 413, json.dumps({"errorMessage": f"Exceeded maximum allowed payload size ({SYNC_PAYLOAD_MAX_BYTES} bytes).", "errorType": "RequestEntityTooLarge"}).encode())
                return True
            kind = "response" if action == "response" else "error"
            self.events.put(RuntimeEvent(kind, request_id=request_id, body=body, error_type=headers.get("lambda-runtime-function-error-type", ""), at=now))
            self._send(conn, 202, b'{"status":"OK"}')
            return True
        self._send(conn, 404, b'{"errorMessage":"unknown path","errorType":"InvalidRequest"}')
        return True

    def _wait_for_work(self) -> Work | None:
        with self._work_ready:
            while self._work is None and not self._closed:
                self._work_ready.wait()
            work, self._work = self._work, None
            return None if self._closed else work

    @staticmethod
    def _send(conn: socket.socket, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}.get(status, "OK")
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        for key, value in (headers or {}).items():
            head += f"{key}: {value}\r\n"
        conn.sendall(head.encode("latin-1") + b"\r\n" + body)
