"""The hand-written insert, claim and finish statements behave as the ORM statements they replace."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from functions.models import Function
from invoker import rows
from invoker.models import Invocation, InvocationStatus, InvocationType
from invoker.run import Outcome, invocation_finish
from invoker.submit import invocation_submit

pytestmark = pytest.mark.django_db


def _finished(status: str = InvocationStatus.SUCCEEDED, **values: object) -> dict[str, object]:
    return {"status": status, "result": '{"ok": true}', "error": None, "duration_ms": 1.25, "billed_duration_ms": 2,
            "max_memory_used_mb": 5, "init_duration_ms": None, "cold_start": False, **values}


@pytest.fixture
def queued(make_function) -> Invocation:
    make_function("rows", "echo")
    function = Function.objects.get(name="rows")
    return invocation_submit(function=function, payload=b'{"k": "v"}', invocation_type=InvocationType.EVENT)


def test_claim_moves_queued_to_running_once_and_returns_what_the_run_needs(queued):
    Function.objects.filter(pk=queued.function_id).update(reserved_concurrency=7, async_max_retries=1, async_max_event_age_s=120)
    row = rows.row_claim(str(queued.id), "worker-a")
    assert row is not None
    assert row["payload"] == '{"k": "v"}' and row["invocation_type"] == "Event" and row["function_name"] == "rows"
    assert row["revision_id"] == queued.revision_id and row["attempt"] == 1 and row["retries"] == 0
    # The function's settings are read in the claim itself, as they are now.
    assert (row["function__reserved_concurrency"], row["function__async_max_retries"], row["function__async_max_event_age_s"]) == (7, 1, 120)
    assert row["queued_at"] == Invocation.objects.get(pk=queued.pk).queued_at
    stored = Invocation.objects.get(pk=queued.pk)
    assert stored.status == InvocationStatus.RUNNING and stored.worker == "worker-a" and stored.started_at is not None
    assert rows.row_claim(str(queued.id), "worker-b") is None  # a second claim finds it running
    assert Invocation.objects.get(pk=queued.pk).worker == "worker-a"


def test_claim_of_a_missing_row_is_none():
    assert rows.row_claim("00000000-0000-4000-8000-000000000000", "worker-a") is None


def test_finish_happens_once_and_appends_logs(queued):
    Invocation.objects.filter(pk=queued.pk).update(logs="earlier attempt\n")
    assert rows.row_finish(str(queued.id), _finished(), "late\n") is False  # still queued: nothing to finish
    rows.row_claim(str(queued.id), "worker-a")
    error = {"errorType": "Boom", "errorMessage": "ünïcode", "stackTrace": ["a"]}
    assert rows.row_finish(str(queued.id), _finished(InvocationStatus.FAILED, error=error, cold_start=True, init_duration_ms=3.5), "this attempt\n")
    assert rows.row_finish(str(queued.id), _finished(), "again\n") is False
    stored = Invocation.objects.get(pk=queued.pk)
    assert stored.status == InvocationStatus.FAILED and stored.error == error and stored.result == '{"ok": true}'
    assert stored.logs == "earlier attempt\nthis attempt\n"
    assert (stored.duration_ms, stored.billed_duration_ms, stored.max_memory_used_mb, stored.init_duration_ms, stored.cold_start) == (1.25, 2, 5, 3.5, True)
    assert stored.finished_at >= stored.started_at


def test_invocation_finish_without_a_waiter_still_finishes(queued):
    rows.row_claim(str(queued.id), "worker-a")
    assert invocation_finish(str(queued.id), Outcome(InvocationStatus.SUCCEEDED, "null", None, "log\n", 1.0, 1, 4), wake=False)
    assert Invocation.objects.get(pk=queued.pk).status == InvocationStatus.SUCCEEDED


def test_the_queued_insert_writes_what_objects_create_would(queued):
    """``invocation_submit``'s one-statement INSERT: every default and ``queued_at`` filled, the JSON and the
    foreign keys stored, the instance usable as a saved row."""
    stored = Invocation.objects.get(pk=queued.pk)
    assert queued._state.adding is False and queued.queued_at is not None and stored.queued_at == queued.queued_at
    assert (stored.status, stored.payload, stored.invocation_type, stored.trigger) == (InvocationStatus.QUEUED, '{"k": "v"}', "Event", "api")
    assert (stored.function_id, stored.revision_id, stored.function_name) == (queued.function_id, queued.revision_id, "rows")
    assert (stored.attempt, stored.retries, stored.logs, stored.qualifier, stored.executed_version) == (1, 0, "", "$LATEST", "$LATEST")
    assert stored.trigger_detail == {} and stored.parent_id is None and stored.memory_size == queued.revision.memory_size
    queued.logs = "saved again"
    queued.save(update_fields=["logs"])  # an UPDATE of the inserted row, not a second INSERT
    assert Invocation.objects.get(pk=queued.pk).logs == "saved again" and Invocation.objects.count() == 1


def test_the_queued_insert_refuses_a_duplicate_request_id_and_leaves_the_first(queued):
    function = Function.objects.get(name="rows")
    with pytest.raises(IntegrityError), transaction.atomic():
        invocation_submit(function=function, payload=b'{"other": 1}', invocation_type=InvocationType.EVENT, request_id=str(queued.id))
    assert Invocation.objects.get(pk=queued.pk).payload == '{"k": "v"}' and Invocation.objects.count() == 1
    detailed = invocation_submit(function=function, payload=b"{}", invocation_type=InvocationType.EVENT, request_id=str(uuid.uuid4()),
                                 trigger_detail={"route": "/x", "n": [1, 2]}, parent_id=str(queued.id))
    stored = Invocation.objects.get(pk=detailed.pk)
    assert stored.trigger_detail == {"route": "/x", "n": [1, 2]} and stored.parent_id == queued.id
