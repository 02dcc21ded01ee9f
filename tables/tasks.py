"""Beat's periodic work for tables: streams keep their records 24 hours."""

from __future__ import annotations

from celery import shared_task

from tables.streams import streams_trim


@shared_task(name="tables.tasks.trim_streams", ignore_result=True)
def trim_streams() -> int:
    return streams_trim()
