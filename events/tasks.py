"""Beat's periodic work for triggers (settle event source mappings a crashed process left half-way, sweep for lost wake-ups) and the pollers' tasks."""

from __future__ import annotations

from celery import shared_task

from events.mappings import mappings_settle


@shared_task(name="events.tasks.settle_mappings", ignore_result=True)
def settle_mappings() -> int:
    return mappings_settle()


@shared_task(name="events.tasks.poll_sqs", ignore_result=True, acks_late=True)
def poll_sqs(mapping_id: str, extra: bool = False) -> int:
    from events.sqs import sqs_poll

    return sqs_poll(mapping_id, extra=extra)


@shared_task(name="events.tasks.sweep_sqs", ignore_result=True)
def sweep_sqs() -> int:
    from events.sqs import sqs_sweep

    return sqs_sweep()


@shared_task(name="events.tasks.poll_dynamodb", ignore_result=True, acks_late=True)
def poll_dynamodb(mapping_id: str, partition: int = 0) -> int:
    from events.dynamodb import dynamodb_poll

    return dynamodb_poll(mapping_id, partition)


@shared_task(name="events.tasks.sweep_dynamodb", ignore_result=True)
def sweep_dynamodb() -> int:
    from events.dynamodb import dynamodb_sweep

    return dynamodb_sweep()
