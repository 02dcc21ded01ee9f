"""Console: the topics page (subscriptions inline, recent deliveries) and the deliveries page render for an admin."""

from __future__ import annotations

from typing import Any

import pytest

from queues.services import queue_create
from tests.topics.helpers import deliver_here, drain  # noqa: F401  (deliver_here: an autouse fixture)
from topics import publish, services
from topics.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_topic_and_delivery_pages(client: Any, owner: Any) -> None:
    client.force_login(owner)
    topic = services.topic_create(name="shown")
    queue = queue_create(name="shown-q")
    services.subscription_create(topic=topic, protocol="sqs", endpoint=queue.arn)
    publish.message_publish(topic=topic, outgoing=publish.message_validate(topic=topic, message="hello"))
    drain()
    listing = client.get("/console/topics/topic/")
    assert listing.status_code == 200 and b"shown" in listing.content
    detail = client.get(f"/console/topics/topic/{topic.pk}/change/")
    assert detail.status_code == 200 and queue.arn.encode() in detail.content and b"delivered" in detail.content
    deliveries = client.get("/console/topics/delivery/")
    assert deliveries.status_code == 200 and b"delivered" in deliveries.content
    assert client.get(f"/console/topics/delivery/{Delivery.objects.get().pk}/change/").status_code == 200
