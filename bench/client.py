"""A tiny JSON client of Kiln's REST API on one persistent ``http.client.HTTPConnection``.

Gunicorn's sync workers close the connection after each response; ``http.client`` then reconnects
on the next request (a loopback connect, ~0.1 ms), which is what any client of such a server pays.
"""

from __future__ import annotations

import http.client
import json
from typing import Any


class Api:
    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.token = token

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = 200) -> Any:
        status, _, payload = self.request(method, path, body)
        wanted = (expect,) if isinstance(expect, int) else expect
        if status not in wanted:
            raise RuntimeError(f"{method} {path} answered {status}: {payload[:500]!r}")
        return json.loads(payload) if payload else None
