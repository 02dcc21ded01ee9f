"""Celery tasks of the invoker: thin wrappers over services. Ids in, nothing out."""

from __future__ import annotations

from celery import shared_task

from invoker import reaper, run


@shared_task(name="invoker.tasks.invoke", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def invoke(invocation_id: str) -> None:
    run.invocation_run(invocation_id)


@shared_task(name="invoker.tasks.reap_invocations", ignore_result=True)
def reap_invocations() -> dict[str, int]:
    return reaper.invocations_reap()


@shared_task(name="invoker.tasks.redispatch_queued", ignore_result=True)
def redispatch_queued(before_iso: str) -> int:
    from datetime import datetime

    from invoker.recovery import invocations_redispatch_queued

    return invocations_redispatch_queued(before=datetime.fromisoformat(before_iso))


@shared_task(name="invoker.tasks.sample_async_metrics", ignore_result=True)
def sample_async_metrics() -> int:
    from invoker.metering import async_events_sample

    return async_events_sample()
