"""Reading topics and subscriptions: lookups by ARN (in SNS's errors), listings by page, and counts."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db.models import Count, Q

from topics.errors import invalid, no_subscription, no_topic
from topics.models import Delivery, Subscription, Topic

_TOPIC_ARN = re.compile(r"^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$")


def topic_name_of(arn: str, *, parameter: str = "TopicArn") -> str:
    """The topic name an ARN names; a malformed ARN is ``InvalidParameter``, another account's ``NotFound``."""
    match = _TOPIC_ARN.match(arn or "")
    if not match:
        raise invalid(parameter)
    if match.group(2) != settings.KILN_ACCOUNT_ID or match.group(1) != settings.KILN_REGION:
        raise no_topic()
    return match.group(3)


def topic_get(arn: str, *, parameter: str = "TopicArn") -> Topic:
    topic = Topic.objects.filter(name=topic_name_of(arn, parameter=parameter)).first()
    if topic is None:
        raise no_topic()
    return topic


def topic_find(arn: str) -> Topic | None:
    match = _TOPIC_ARN.match(arn or "")
    if not match or match.group(2) != settings.KILN_ACCOUNT_ID:
        return None
    return Topic.objects.filter(name=match.group(3)).first()


def topic_list(*, after: str = "", limit: int = 100) -> list[Topic]:
    topics = Topic.objects.order_by("name")
    if after:
        topics = topics.filter(name__gt=after)
    return list(topics[:limit])


def subscription_get(arn: str) -> Subscription:
    """The subscription ``{topic arn}:{uuid}`` names, or ``NotFound``; a malformed ARN is ``InvalidParameter``."""
    topic_part, _, sub_id = (arn or "").rpartition(":")
    if not _TOPIC_ARN.match(topic_part):
        raise invalid("SubscriptionArn")
    try:
        key = uuid.UUID(sub_id)
    except ValueError:
        raise invalid("SubscriptionArn") from None
    found = Subscription.objects.select_related("topic").filter(subscription_id=key, topic__name=topic_part.rsplit(":", 1)[-1]).first()
    if found is None:
        raise no_subscription()
    return found


def subscription_list(*, topic: Topic | None = None, after: int = 0, limit: int = 100) -> list[Subscription]:
    subscriptions = Subscription.objects.select_related("topic").order_by("id")
    if topic is not None:
        subscriptions = subscriptions.filter(topic=topic)
    if after:
        subscriptions = subscriptions.filter(id__gt=after)
    return list(subscriptions[:limit])


def subscription_counts(topic: Topic) -> dict[str, int]:
    rows = Subscription.objects.filter(topic=topic).aggregate(n_confirmed=Count("id", filter=Q(confirmed=True)), n_pending=Count("id", filter=Q(confirmed=False)))
    return {"confirmed": int(rows["n_confirmed"] or 0), "pending": int(rows["n_pending"] or 0)}


def deliveries_recent(topic: Topic, *, limit: int = 50) -> list[Delivery]:
    return list(Delivery.objects.filter(subscription__topic=topic).select_related("subscription", "message").order_by("-id")[:limit])
