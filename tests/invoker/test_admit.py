"""invoker.run.admit: a run takes an idle warm environment before its concurrency lease (the lease's script notes the
invocation the environment runs, in the same round trip); an environment taken for a lease that is refused, or that
could not be asked, goes back to the pool, idle and warm, for the next run.

Invocations run in this test process's own pool (``run.invocation_run``), on the real sandbox and Redis.
"""

from __future__ import annotations

import uuid
from typing import Any

from functions.models import Function
from invoker import run
from invoker.environment import EnvState
from invoker.models import Invocation, InvocationStatus, InvocationType
from invoker.pool import get_pool
from invoker.redis_client import get_redis


def _environments(name: str) -> list[dict]:
    return [e for e in get_pool().snapshot() if e["function"] == name]


def _queued(fn: Function, n: int) -> Invocation:
    return Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload=f'{{"n": {n}}}',
                                     invocation_type=InvocationType.EVENT)


def test_a_warm_environment_taken_for_a_refused_or_failed_lease_goes_back_to_the_pool(make_function: Any, transactional_db: None, settings: Any) -> None:
    function = make_function("admit-fn")
    fn = Function.objects.select_related("latest").get(name=function["name"])
    first = _queued(fn, 1)
    run.invocation_run(str(first.id))
    ran = Invocation.objects.get(pk=first.pk)
    assert ran.status == InvocationStatus.SUCCEEDED, (ran.status, ran.error, ran.logs)
    (env,) = _environments("admit-fn")
    assert env["state"] == EnvState.READY.value

    Function.objects.filter(pk=fn.pk).update(reserved_concurrency=0)  # the lease is refused: throttled
    throttled = _queued(fn, 2)
    run.invocation_run(str(throttled.id))
    again = Invocation.objects.get(pk=throttled.pk)
    assert again.attempt == 2, (again.status, again.error)  # back to the queue with a back-off, as Lambda retries
    assert [(e["id"], e["state"], e["invocations"]) for e in _environments("admit-fn")] == [(env["id"], EnvState.READY.value, env["invocations"])]

    Function.objects.filter(pk=fn.pk).update(reserved_concurrency=None)
    redis_url, settings.REDIS_URL = settings.REDIS_URL, "redis://127.0.0.1:1/0"  # the lease cannot be asked: a fault
    get_redis.cache_clear()
    faulted = _queued(fn, 3)
    try:
        run.invocation_run(str(faulted.id))
    finally:
        settings.REDIS_URL = redis_url
        get_redis.cache_clear()
    again = Invocation.objects.get(pk=faulted.pk)
    assert again.attempt == 2, (again.status, again.error)
    assert [(e["id"], e["state"]) for e in _environments("admit-fn")] == [(env["id"], EnvState.READY.value)]

    warm = _queued(fn, 4)
    run.invocation_run(str(warm.id))  # the same environment serves the next run, warm
    done = Invocation.objects.get(pk=warm.pk)
    assert done.status == InvocationStatus.SUCCEEDED and done.result == '{"n": 4}' and not done.cold_start, (done.status, done.error, _environments("admit-fn"))
    assert [(e["id"], e["invocations"]) for e in _environments("admit-fn")] == [(env["id"], env["invocations"] + 1)]
