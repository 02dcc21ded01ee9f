"""Beat's periodic work for tables: delete items whose time to live has passed (REMOVEs by the service), and
trim streams to their 24 hours."""

from __future__ import annotations

from celery import shared_task

from tables.items import items_expire
from tables.streams import streams_trim


@shared_task(name="tables.tasks.expire_items", ignore_result=True)
def expire_items() -> int:
    return items_expire()


@shared_task(name="tables.tasks.trim_streams", ignore_result=True)
def trim_streams() -> int:
    return streams_trim()
