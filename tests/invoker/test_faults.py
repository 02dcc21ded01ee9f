"""Infrastructure faults are not the invocation's failure: an invocation claimed while Redis is away goes back to the
queue and runs, instead of ending ``failed`` with ``Kiln.InternalError`` (issue 15's finding).

The fault is real: this process's Redis client points at a port where nothing listens, while the broker and the real
worker keep theirs, so the invocation is claimed here, cannot take its concurrency lease, and is re-sent to the worker.
"""

from __future__ import annotations

import time
import uuid

from invoker import run
from invoker.models import Invocation, InvocationStatus
from invoker.redis_client import get_redis


def test_a_lease_that_cannot_be_taken_sends_the_invocation_back(api, make_function, worker, transactional_db, settings) -> None:
    function = make_function("fault-fn")
    from functions.models import Function

    fn = Function.objects.select_related("latest").get(name=function["name"])
    row = Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload='{"n": 1}')  # queued, not sent
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    get_redis.cache_clear()
    try:
        run.invocation_run(str(row.id))
    finally:
        get_redis.cache_clear()
    requeued = Invocation.objects.get(pk=row.pk)
    assert requeued.status in (InvocationStatus.QUEUED, InvocationStatus.RUNNING, InvocationStatus.SUCCEEDED) and requeued.attempt == 2
    deadline = time.monotonic() + 60
    while not Invocation.objects.filter(pk=row.pk, status=InvocationStatus.SUCCEEDED).exists():
        assert time.monotonic() < deadline, Invocation.objects.get(pk=row.pk).status
        time.sleep(0.2)
    done = Invocation.objects.get(pk=row.pk)
    assert done.result == '{"n": 1}' and done.error is None and done.attempt == 2


def test_after_its_attempts_an_infrastructure_fault_fails_the_invocation_saying_so(make_function, transactional_db, settings) -> None:
    function = make_function("fault-fn2")
    from functions.models import Function

    fn = Function.objects.select_related("latest").get(name=function["name"])
    row = Invocation.objects.create(id=uuid.uuid4(), function=fn, function_name=fn.name, revision=fn.latest, payload="{}", attempt=run.MAX_ATTEMPTS)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    try:
        run.invocation_run(str(row.id))
    finally:
        get_redis.cache_clear()
    failed = Invocation.objects.get(pk=row.pk)
    assert failed.status == InvocationStatus.FAILED and failed.error["errorType"] == "Kiln.InfrastructureError"
    assert "ConnectionError" in failed.error["errorMessage"]
