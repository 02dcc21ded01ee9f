"""Enqueueing delivery tasks: always after the transaction that wrote the row commits.

A publish that fails (broker down) is logged; the row is the source of truth and ``topics.tasks.sweep``
(beat) sends every delivery that is due and unclaimed, or claimed too long ago, again.
"""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def _publish(delivery_id: int, countdown: float | None) -> None:
    from topics.tasks import deliver

    try:
        deliver.apply_async((delivery_id,), countdown=countdown, retry=True, retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2})
    except Exception as exc:  # noqa: BLE001 - the sweep sends it again
        log.warning("could not enqueue SNS delivery %s (%s); the sweep will retry", delivery_id, exc)


def dispatch_delivery(delivery_id: int, *, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: _publish(delivery_id, countdown))
