"""Beat's periodic work for triggers: settle event source mappings a crashed process left half-way."""

from __future__ import annotations

from celery import shared_task

from events.mappings import mappings_settle


@shared_task(name="events.tasks.settle_mappings", ignore_result=True)
def settle_mappings() -> int:
    return mappings_settle()
