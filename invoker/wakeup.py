"""Waking a synchronous caller when its invocation is finished.

The worker pushes to ``kiln:done:<id>`` (kept 120 s) after the row is final; the caller blocks on it
with ``BLPOP`` and then reads the row. A push that comes before the caller waits is not lost.
"""

from __future__ import annotations

from invoker.redis_client import get_redis

KEEP_SECONDS = 120


def key(invocation_id: str) -> str:
    return f"kiln:done:{invocation_id}"


def wake(invocation_id: str) -> None:
    pipe = get_redis().pipeline(transaction=False)
    pipe.rpush(key(invocation_id), b"1")
    pipe.expire(key(invocation_id), KEEP_SECONDS)
    pipe.execute()


def wait(invocation_id: str, timeout_s: float) -> bool:
    """Block until woken or ``timeout_s`` passes; True when woken."""
    return get_redis().blpop([key(invocation_id)], timeout=max(timeout_s, 0.01)) is not None
