"""Celery tasks of the topics app: thin wrappers over ``topics.delivery``. Ids in, nothing out."""

from __future__ import annotations

from celery import shared_task

from topics import delivery


@shared_task(name="topics.tasks.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(delivery_id: int) -> None:
    delivery.delivery_run(int(delivery_id))


@shared_task(name="topics.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Beat: re-send lost deliveries, then prune old messages."""
    sent = delivery.deliveries_sweep()
    delivery.messages_prune()
    return sent
