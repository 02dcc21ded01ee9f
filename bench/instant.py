"""A server that answers every request at once (``python -m bench.instant PORT``): the floor of a boto3 call, what
the client itself and the loopback cost before any server does any work.

One process, one thread per connection, HTTP/1.1 keep-alive; it reads each request's headers and body (after a
``100 Continue`` when asked, as boto3's S3 uploads ask) and answers a JSON protocol's request (``X-Amz-Target``:
DynamoDB, SQS) with ``{}`` and the ``x-amz-crc32`` botocore checks, any other (S3's REST) with an empty 200.
``bench.dynamodb``, ``bench.sqs`` and ``bench.s3api`` time their calls against it.
"""

from __future__ import annotations

import socket
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any

from bench.procs import free_port, wait_for

BODY = b"{}"
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: instant\r\n"
          + f"x-amz-crc32: {zlib.crc32(BODY) & 0xFFFFFFFF}\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY)
EMPTY = b"HTTP/1.1 200 OK\r\nx-amz-request-id: instant\r\nContent-Length: 0\r\n\r\n"


def _serve(conn: socket.socket) -> None:
    buffer = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length, json_protocol, expect = 0, False, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"x-amz-target":
                    json_protocol = True
                elif name == b"expect":
                    expect = value.strip().lower() == b"100-continue"
            if expect and len(buffer) < length:
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            conn.sendall(ANSWER if json_protocol else EMPTY)


def main() -> None:
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve, args=(conn,), daemon=True).start()



def floor_rates(procs: Any, env: dict[str, str], make_client: Callable[[str, tuple[str, str]], Any],
                rates: Callable[[Any], dict[str, float]]) -> dict[str, float]:
    """``rates`` of a client of ``make_client`` pointed at this server, started for the measure and stopped after."""
    port = free_port()
    server = procs.start("instant", [sys.executable, "-m", "bench.instant", str(port)], env)
    try:
        wait_for(lambda: _answers(port), timeout_s=30, what="the instant server", checks=[lambda: procs.check("instant", server)])
        return rates(make_client(f"http://127.0.0.1:{port}", ("testing", "testing")))
    finally:
        procs.stop(server)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
