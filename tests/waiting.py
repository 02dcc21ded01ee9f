"""Waiting in tests for what a real worker does asynchronously: a condition, or a queue's messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], seconds: float = 60.0) -> None:
    """Return once ``check()`` is true; fail after ``seconds``."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def queue_bodies(queue: Any, count: int, seconds: float = 30.0) -> list[str]:
    """The bodies of a ``queues.models.Queue``'s messages in order, once it holds at least ``count``."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        bodies = list(queue.messages.order_by("id").values_list("body", flat=True))
        if len(bodies) >= count:
            return bodies
        time.sleep(0.2)
    raise AssertionError(f"{queue.name} holds {queue.messages.count()} messages, wanted {count}")
