"""Generation caches against the real Redis: reuse while the generation holds, reload after a committed bump,
keep serving a rolled-back writer's readers, and read through to the loader when Redis is gone."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from core import generations
from core.generations import GenerationCache


@pytest.fixture
def cache() -> GenerationCache[int]:
    made = GenerationCache[int]("test-cache", ttl_s=30.0)
    generations._redis().delete(made.key)
    return made


def _counter() -> tuple[list[int], object]:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    return loads, load


def test_reused_until_a_committed_bump(cache: GenerationCache[int], transactional_db: None) -> None:
    loads, load = _counter()
    assert cache.get("k", load) == 1 and cache.get("k", load) == 1 and len(loads) == 1
    with transaction.atomic():
        cache.bump()
        assert cache.get("k", load) == 1  # not yet: the writer has not committed
    assert cache.get("k", load) == 2 and len(loads) == 2


def test_a_rolled_back_bump_invalidates_nothing(cache: GenerationCache[int], transactional_db: None) -> None:
    loads, load = _counter()
    cache.get("k", load)
    with pytest.raises(RuntimeError), transaction.atomic():
        cache.bump()
        raise RuntimeError("rolled back")
    assert cache.get("k", load) == 1 and len(loads) == 1


def test_entries_expire_and_uncacheable_values_reload(cache: GenerationCache[int], transactional_db: None) -> None:
    loads, load = _counter()
    cache.ttl_s = 0.0
    cache.get("k", load)
    cache.get("k", load)
    assert len(loads) == 2
    cache.ttl_s = 30.0
    never = GenerationCache[int]("test-cache")
    never.get("k", load, cacheable=lambda value: False)
    never.get("k", load, cacheable=lambda value: False)
    assert len(loads) == 4


def test_without_redis_every_read_loads(cache: GenerationCache[int], transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    loads, load = _counter()
    # A real client on a port nothing listens on: every call fails as with Redis down, and fails fast.
    monkeypatch.setattr(generations, "_client", generations.connect("redis://127.0.0.1:1/0"))
    started = time.monotonic()
    assert cache.get("k", load) == 1 and cache.get("k", load) == 2
    cache.bump()  # logs, does not raise
    assert time.monotonic() - started < 2.0


def test_one_read_per_request_and_own_bumps_seen(cache: GenerationCache[int], transactional_db: None) -> None:
    loads, load = _counter()
    cache.get("k", load)
    with generations.generations_read():
        generations._redis().incr(cache.key)  # another process bumps after this request read the generations
        assert cache.get("k", load) == 1  # the request goes on with what it read at its start
        cache.bump_now()  # this request's own change...
        assert cache.get("k", load) == 2  # ...is read afresh within it
    generations._redis().incr(cache.key)
    assert cache.get("k", load) == 3 and len(loads) == 3  # outside a request: asked on every read again


def test_request_read_without_redis_reads_through(cache: GenerationCache[int], transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    loads, load = _counter()
    monkeypatch.setattr(generations, "_client", generations.connect("redis://127.0.0.1:1/0"))
    with generations.generations_read():
        assert cache.get("k", load) == 1 and cache.get("k", load) == 2
