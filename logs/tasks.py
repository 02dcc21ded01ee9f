"""Celery tasks of CloudWatch Logs (beat): retention, and subscription deliveries of invocation logs. Thin."""

from __future__ import annotations

from celery import shared_task

from logs import delivery, services


@shared_task(name="logs.tasks.apply_retention", ignore_result=True)
def apply_retention() -> dict[str, int]:
    return services.retention_apply()


@shared_task(name="logs.tasks.deliver_invocation_logs", ignore_result=True)
def deliver_invocation_logs() -> int:
    return delivery.invocation_logs_deliver()
