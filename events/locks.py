"""Poller locks and slots in Redis, held in a worker's name and taken over when that worker is gone.

A lock's value is the holder's worker name (``invoker.workers.WORKER_NAME``). One whose holder no longer beats
(SIGKILLed while it polled) is taken over at once by compare-and-set instead of blocking the mapping for the
lock's whole expiry; released only by its holder (compare-and-delete), so a poll that lost its lock to a
takeover cannot free the new holder's. Shared by the SQS and DynamoDB stream pollers (events/sqs.py,
events/dynamodb.py).
"""

from __future__ import annotations

import logging
from typing import Any

from invoker.workers import WORKER_NAME, worker_alive

log = logging.getLogger(__name__)

_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

_RELEASE = """
local freed = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key); freed = freed + 1 end
end
return freed
"""


def held_by_live_worker(holder: bytes | None) -> bool:
    """Whether a lock is held by a worker that still beats (``b"1"``: by an older Kiln, which named no holder;
    it expires by itself)."""
    return holder is not None and (holder == b"1" or worker_alive(holder.decode()))


def lock_acquire(redis: Any, key: str, seconds: int) -> bool:
    """Take ``key`` for this worker for ``seconds``, or take it over from a holder that is gone."""
    if redis.set(key, WORKER_NAME, nx=True, ex=seconds):
        return True
    holder = redis.get(key)
    if holder is None or held_by_live_worker(holder):
        return False
    if redis.eval(_TAKE_OVER, 1, key, holder, WORKER_NAME, seconds) == 1:
        log.warning("took over %s from worker %s, which is gone", key, holder.decode())
        return True
    return False


def lock_release(redis: Any, *keys: str | None) -> None:
    """Free those of ``keys`` this worker still holds."""
    held = [key for key in keys if key]
    if held:
        redis.eval(_RELEASE, len(held), *held, WORKER_NAME)
