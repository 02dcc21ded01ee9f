"""Concurrency leases across all workers, in Redis, with expiry so a dead worker leaks no slot.

Two sorted sets hold the running invocations (member: invocation id, score: expiry time): one for
the account, one per function. ``lease_acquire`` admits an invocation only if both have room (the
function's reserved concurrency, the account limit less every function's reservation); expired
members are dropped first. ``lease_release`` frees both. An admitted lease also reports how many leases the function and the
account hold with it (the ConcurrentExecutions metric), from the same script.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

from redis.commands.core import Script

from invoker.redis_client import get_redis

ACCOUNT_KEY = "kiln:leases:account"
RESERVED_KEY = "kiln:leases:reserved-total"

_ACQUIRE = """
for i = 4, #KEYS do
  local at = 7 + 2 * (i - 4)
  redis.call('SET', KEYS[i], ARGV[at], 'EX', ARGV[at + 1])
end
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local reserved = tonumber(ARGV[4])
local account_limit = tonumber(ARGV[5])
if reserved >= 0 then
  if redis.call('ZCARD', KEYS[2]) >= reserved then return 'function' end
else
  local unreserved_pool = account_limit - tonumber(ARGV[6])
  if redis.call('ZCARD', KEYS[3]) >= unreserved_pool then return 'account' end
end
if redis.call('ZCARD', KEYS[1]) >= account_limit then return 'account' end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
if reserved < 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
end
return {'ok', redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[1])}
"""
UNRESERVED_KEY = "kiln:leases:unreserved"


def _function_key(function_name: str) -> str:
    return f"kiln:leases:function:{function_name}"


@functools.cache
def _acquire_script() -> Script:
    """The script, sent by its SHA (``EVALSHA``; loaded again if Redis lost it). Called with the client of the moment
    (``get_redis()``), not the one it was registered with: that one may have been replaced since."""
    return get_redis().register_script(_ACQUIRE)


Mark = tuple[str, str, float]  # a key set with a value for some seconds


def lease_acquire_counted(*, invocation_id: str, function_name: str, reserved: int | None, reserved_total: int, account_limit: int, seconds: float,
                          marks: Sequence[Mark] = ()) -> tuple[str, int, int]:
    """Return ``("ok", leases of the function, leases of the account)`` counting this one, or
    ``("function" | "account", 0, 0)`` naming the limit that is full. Each of ``marks`` (key, value, seconds) is set by
    the same script, whatever the verdict, in no round trip of its own: a synchronous call's "taken by" note
    (invoker/calls.py), the invocation a warm environment runs (invoker/credentials.py)."""
    now = time.time()
    keys = [ACCOUNT_KEY, _function_key(function_name), UNRESERVED_KEY]
    args: list[Any] = [now, now + seconds, invocation_id, -1 if reserved is None else reserved, account_limit, reserved_total]
    for key, value, ttl_s in marks:
        keys.append(key)
        args += [value, max(1, int(ttl_s))]
    result = _acquire_script()(keys=keys, args=args, client=get_redis())
    if isinstance(result, list):
        verdict = result[0].decode() if isinstance(result[0], bytes) else str(result[0])
        return verdict, int(result[1]), int(result[2])
    return (result.decode() if isinstance(result, bytes) else str(result)), 0, 0


def lease_acquire(*, invocation_id: str, function_name: str, reserved: int | None, reserved_total: int, account_limit: int, seconds: float) -> str:
    """Return ``ok``, or ``function``/``account`` naming the limit that is full."""
    return lease_acquire_counted(invocation_id=invocation_id, function_name=function_name, reserved=reserved, reserved_total=reserved_total,
                                 account_limit=account_limit, seconds=seconds)[0]


def lease_release(*, invocation_id: str, function_name: str) -> None:
    pipe = get_redis().pipeline(transaction=False)
    lease_release_on(pipe, invocation_id=invocation_id, function_name=function_name)
    pipe.execute()


def lease_release_on(pipe: Any, *, invocation_id: str, function_name: str) -> None:
    """Queue the release on a caller's pipeline (three results), sent with the caller's other commands."""
    pipe.zrem(ACCOUNT_KEY, invocation_id)
    pipe.zrem(_function_key(function_name), invocation_id)
    pipe.zrem(UNRESERVED_KEY, invocation_id)
