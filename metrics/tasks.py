"""Celery tasks of metrics: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from metrics import services


@shared_task(name="metrics.tasks.prune", ignore_result=True)
def prune() -> int:
    return services.metrics_prune()
