"""Poller locks (events/locks.py) against the real Redis: held in a worker's name, taken over from a worker that
is gone, respected while its worker beats, released only by their holder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from events.locks import held_by_live_worker, lock_acquire, lock_release
from invoker.redis_client import get_redis
from invoker.workers import WORKER_NAME

KEY = "kiln:test:poller-lock"


@pytest.fixture
def redis() -> Iterator[object]:
    client = get_redis()
    client.delete(KEY, f"kiln:worker:{WORKER_NAME}", "kiln:worker:other-host:7")
    yield client
    client.delete(KEY, f"kiln:worker:{WORKER_NAME}", "kiln:worker:other-host:7")


def test_a_free_lock_is_taken_in_this_workers_name(redis) -> None:
    assert lock_acquire(redis, KEY, 60)
    assert redis.get(KEY) == WORKER_NAME.encode() and 0 < redis.ttl(KEY) <= 60


def test_a_live_holder_is_respected_and_a_gone_one_taken_over(redis) -> None:
    redis.set(KEY, "other-host:7", ex=900)
    redis.set("kiln:worker:other-host:7", "{}", ex=30)
    assert held_by_live_worker(redis.get(KEY)) and not lock_acquire(redis, KEY, 60)
    redis.delete("kiln:worker:other-host:7")  # its heartbeat expired: SIGKILLed
    assert not held_by_live_worker(redis.get(KEY))
    assert lock_acquire(redis, KEY, 60) and redis.get(KEY) == WORKER_NAME.encode() and redis.ttl(KEY) <= 60


def test_an_old_anonymous_lock_expires_by_itself(redis) -> None:
    redis.set(KEY, b"1", ex=900)
    assert held_by_live_worker(b"1") and not lock_acquire(redis, KEY, 60)


def test_only_the_holder_releases(redis) -> None:
    redis.set(KEY, "other-host:7", ex=900)  # taken over by another worker meanwhile
    lock_release(redis, KEY, None)
    assert redis.get(KEY) == b"other-host:7"
    redis.set(KEY, WORKER_NAME, ex=900)
    lock_release(redis, KEY)
    assert redis.get(KEY) is None
