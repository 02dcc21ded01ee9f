"""A bench-only Celery app: one no-op task, Redis broker and Redis result backend, Celery's defaults.

It is the floor Kiln's invoke path is compared with: what a bare ``apply_async().get()`` costs on the
same Redis, the same machine and the same worker flags (``--pool threads -c 4``).
"""

from __future__ import annotations

import os

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
QUEUE = "bench-floor"

app = Celery("kiln-bench-floor", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    result_expires=600,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop() -> None:
    return None
