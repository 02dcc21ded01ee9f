"""Running deliveries in the test process: every due one, until none is open (or a deadline); ``deliver_here`` keeps them here."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from topics.delivery import delivery_run
from topics.models import OPEN_STATUSES, Delivery, DeliveryStatus


def drain(seconds: float = 10.0, *, wait_retries: bool = True) -> list[Delivery]:
    """Run due deliveries here (a worker may run some too; claims decide) until none is open; the deliveries, by id."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        due = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()).order_by("id").values_list("pk", flat=True))
        for pk in due:
            delivery_run(pk)
        if not Delivery.objects.filter(status__in=OPEN_STATUSES).exists():
            break
        if not due and not wait_retries:
            break
        time.sleep(0.05)
    return list(Delivery.objects.order_by("id"))


@pytest.fixture(autouse=True)
def deliver_here(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries of tests that run them here (``drain``) are not sent to the broker, so a worker that an earlier test
    started cannot take them (with its own settings); tests using the ``worker`` fixture keep the broker."""
    if "worker" not in request.fixturenames:
        monkeypatch.setattr("topics.dispatch._publish", lambda delivery_id, countdown: None)
