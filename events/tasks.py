"""Beat's periodic work for triggers: settle event source mappings a crashed process left half-way."""

from __future__ import annotations

from celery import shared_task

from events.mappings import mappings_settle


@shared_task(name="events.tasks.settle_mappings", ignore_result=True)
def settle_mappings() -> int:
    return mappings_settle()


@shared_task(name="events.tasks.poll_sqs", ignore_result=True, acks_late=True)
def poll_sqs(mapping_id: str) -> int:
    from events.sqs import sqs_poll

    return sqs_poll(mapping_id)


@shared_task(name="events.tasks.sweep_sqs", ignore_result=True)
def sweep_sqs() -> int:
    from events.sqs import sqs_sweep

    return sqs_sweep()
