"""Kiln's Celery app. Settings come from Django's (``CELERY_*``); tasks from each app's ``tasks.py``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("kiln")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _worker_hooks(**_: object) -> None:
    import invoker.worker  # noqa: F401 - connects the worker signals
