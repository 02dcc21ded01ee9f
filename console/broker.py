"""Kiln's Celery broker transport: kombu's Redis transport, with one publishing client per channel.

kombu's Redis channel builds a new ``redis.Redis`` around its connection pool for every publish and every
queue operation (``Channel.conn_or_acquire`` without a client). Under ``make chaos`` that constructor was
9% of the worker's GIL time and 6% of the web's (``Channel._create_client``/``Redis.__init__`` in py-spy):
a ``redis.Redis`` is only a pool and a table of callbacks, safe to share between threads, so one per channel
does the same work. It is rebuilt whenever the channel's pool is a new one (kombu drops its pools after a
fork and on a reconnect), so a client never outlives the connections it was made for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """A Redis channel that keeps the client it publishes with."""

    _kiln_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client or self._closing or self._pool is None:
            # A caller's own client, a channel closing (restoring its unacked messages), or pools just dropped (a fork,
            # a reconnect): kombu's own path, unchanged. The kept client is only for the open channel's own pool.
            self._kiln_client = None
            if client is None and self._pool is None and getattr(self.connection, "client", None) is None:
                # A channel closed after its transport was taken apart (Celery closing a connection it lost, make
                # chaos's Redis crash): kombu would fail building a pool with an AttributeError, which no caller
                # ignores, and the worker stopped ("Unrecoverable error"), killing the runs in flight. A broker error
                # is what the close ignores; unacknowledged messages stay in Redis for the reaper (invoker/reaper.py).
                raise RedisConnectionError("the broker connection was closed before this channel")
            with super().conn_or_acquire(client) as given:
                yield given
            return
        cached = self._kiln_client
        if cached is None or cached.connection_pool is not self._pool:
            cached = self._kiln_client = self._create_client()
        yield cached


    def get_table(self, exchange: str) -> list[tuple[str, str, str]]:
        """The exchange's bindings; for one of Kiln's own queues whose bindings Redis lost, Celery's binding again.

        kombu keeps bindings in Redis (``_kombu.binding.<exchange>``), written when a consumer declares its queues. A
        Redis restarted without its data has none until a worker starts and declares them again, and meanwhile kombu
        routes every publish to no queue at all (no dead-letter queue is set): make chaos lost 73 invocations
        submitted in the three seconds between the restart and a worker's reconnect, and they waited for the
        reaper. Kiln's queues are Celery's direct exchanges named like the queue, bound by the same routing key,
        so that binding is returned and written back."""
        table: list[tuple[str, str, str]] = super().get_table(exchange)
        if table or exchange not in routed_queues():
            return table
        binding = (exchange, "", exchange)  # routing key, pattern, queue, as Celery declares a queue it routes to
        with self.conn_or_acquire() as client:
            client.sadd(self.keyprefix_queue % exchange, self.sep.join(binding))
        return [binding]


def routed_queues() -> set[str]:
    """The queues Kiln sends tasks to: ``CELERY_TASK_ROUTES``'s, the default queue, and the synchronous invocations'
    (named at each send, invoker/dispatch.py)."""
    from django.conf import settings

    from invoker.dispatch import SYNC_QUEUE

    routes = getattr(settings, "CELERY_TASK_ROUTES", {}) or {}
    queues = {route["queue"] for route in routes.values() if isinstance(route, dict) and "queue" in route}
    queues.update({getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"), SYNC_QUEUE})
    return queues


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
