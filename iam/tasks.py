"""IAM's periodic work (beat): session keys expired for over an hour are deleted."""

from __future__ import annotations

from celery import shared_task

from iam.credentials import sessions_purge_expired


@shared_task(name="iam.tasks.purge_sessions", ignore_result=True)
def purge_sessions() -> int:
    return sessions_purge_expired()
