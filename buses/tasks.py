"""Celery tasks of the buses app: run one delivery; beat's schedule firing and delivery sweep."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="buses.tasks.deliver", ignore_result=True, acks_late=True)
def deliver(delivery_id: str) -> str | None:
    from buses.delivery import delivery_run

    return delivery_run(delivery_id)


@shared_task(name="buses.tasks.fire_due_schedules", ignore_result=True, expires=5)
def fire_due_schedules() -> int:
    from buses.scheduler import scheduler_fire_due
    from buses.services import schedules_fire

    return schedules_fire() + scheduler_fire_due()


@shared_task(name="buses.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    from buses.delivery import deliveries_sweep

    return deliveries_sweep()
