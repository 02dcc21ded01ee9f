"""A server that answers every request at once with a fixed DynamoDB JSON body (``python -m bench.instant PORT``):
the floor of a boto3 call, what the client itself and the loopback cost before any server does any work.

One process, one thread per connection, HTTP/1.1 keep-alive; it reads each request's headers and body and
sends ``{}`` with the ``x-amz-crc32`` botocore checks. ``bench.dynamodb`` times PutItem and GetItem against it.
"""

from __future__ import annotations

import socket
import sys
import threading
import zlib

BODY = b"{}"
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: instant\r\n"
          + f"x-amz-crc32: {zlib.crc32(BODY) & 0xFFFFFFFF}\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY)


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
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            conn.sendall(ANSWER)


def main() -> None:
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
