"""Waking long-polling receivers when a message may have become visible.

A send (or a visibility change to 0) publishes on ``kiln:sqs:<queue id>`` after commit; a waiting receiver
subscribes *before* it re-checks the database, so a publish between its check and its wait is not lost,
then blocks in ``get_message(timeout=...)`` until woken or its deadline (or the next delayed/invisible
message's time) passes. Redis being away only costs latency: receivers still wake at those times.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=30)


def channel(queue_id: int) -> str:
    return f"kiln:sqs:{queue_id}"


def wake(queue_id: int) -> None:
    try:
        _redis().publish(channel(queue_id), b"1")
    except redis.RedisError:  # pragma: no cover - receivers fall back to their deadline
        logger.warning("could not wake receivers of queue %s", queue_id)


class Waiter:
    """A subscription to one queue's wake-ups; use as a context manager."""

    def __init__(self, queue_id: int) -> None:
        self.queue_id = queue_id
        self._pubsub: Any = None

    def __enter__(self) -> Waiter:
        try:
            self._pubsub = _redis().pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(channel(self.queue_id))
        except redis.RedisError:  # pragma: no cover
            self._pubsub = None
        return self

    def wait(self, timeout_s: float) -> None:
        """Block until a wake-up arrives or ``timeout_s`` passes."""
        if timeout_s <= 0:
            return
        if self._pubsub is None:  # pragma: no cover
            time.sleep(min(timeout_s, 1.0))
            return
        deadline = time.monotonic() + timeout_s
        try:
            while (left := deadline - time.monotonic()) > 0:
                if self._pubsub.get_message(timeout=left) is not None:
                    return
        except redis.RedisError:  # pragma: no cover
            time.sleep(min(max(deadline - time.monotonic(), 0), 1.0))

    def __exit__(self, *exc: object) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except redis.RedisError:  # pragma: no cover
                pass
