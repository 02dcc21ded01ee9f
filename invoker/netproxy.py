"""Kiln's endpoint inside a sandbox's network namespace: a listener there, forwarded by the worker.

``listen()`` (called inside the namespace, ``invoker.network.entered``) binds ``127.0.0.1:KILN_PORT``
there; ``serve()`` (called outside it) hands the listener to one selector thread per worker, which
accepts and connects each connection to Kiln's web port on the host, one small thread per connection
copying both ways. Nothing else on the host is reachable this way: the upstream address is fixed.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading

from django.conf import settings

log = logging.getLogger(__name__)
BUFFER = 65536


def listen() -> socket.socket:
    """The endpoint's listener in the current thread's network namespace."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(settings.KILN_PORT)))
    sock.listen(64)
    sock.setblocking(False)
    return sock


def _pump(inside: socket.socket, upstream: tuple[str, int]) -> None:
    try:
        outside = socket.create_connection(upstream, timeout=10)
    except OSError:
        inside.close()
        return
    outside.settimeout(None)
    for sock in (inside, outside):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pair = selectors.DefaultSelector()
    pair.register(inside, selectors.EVENT_READ, outside)
    pair.register(outside, selectors.EVENT_READ, inside)
    open_ends = 2
    try:
        while open_ends:
            for key, _ in pair.select():
                source, target = key.fileobj, key.data
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(BUFFER)
                except OSError:
                    data = b""
                if data:
                    target.sendall(data)
                    continue
                pair.unregister(source)
                open_ends -= 1
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
    except OSError:
        pass
    finally:
        pair.close()
        inside.close()
        outside.close()


class EndpointProxy:
    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: list[tuple[str, socket.socket]] = []
        self._thread: threading.Thread | None = None

    def serve(self, listener: socket.socket) -> None:
        self._change("add", listener)

    def drop(self, listener: socket.socket) -> None:
        self._change("drop", listener)

    def _change(self, action: str, listener: socket.socket) -> None:
        with self._lock:
            self._pending.append((action, listener))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kiln-endpoint-proxy", daemon=True)
                self._thread.start()
        self._wake_w.send(b"x")

    def _apply(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for action, listener in pending:
            if action == "add" and listener.fileno() >= 0:
                self._selector.register(listener, selectors.EVENT_READ, listener)
            elif action == "drop":
                try:
                    self._selector.unregister(listener)
                except (KeyError, ValueError):
                    pass
                listener.close()

    def _run(self) -> None:
        upstream = ("127.0.0.1", int(settings.KILN_PORT))
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    try:
                        self._wake_r.recv(4096)
                    except BlockingIOError:
                        pass
                    self._apply()
                    continue
                try:
                    conn, _ = key.data.accept()
                except OSError:
                    continue
                conn.setblocking(True)
                threading.Thread(target=_pump, args=(conn, upstream), name="kiln-endpoint-conn", daemon=True).start()


_proxy = EndpointProxy()


def serve(listener: socket.socket) -> None:
    _proxy.serve(listener)


def drop(listener: socket.socket) -> None:
    _proxy.drop(listener)
