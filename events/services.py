"""Bucket notification configurations: validate, refuse overlaps as S3 does, replace the set."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from core.errors import ValidationFailed
from events.models import NOTIFICATION_ID_MAX, BucketNotification
from events.s3 import EVENT_TYPES, expand
from events.selectors import NOTIFIED_BUCKETS
from functions.selectors import access_function_by_name
from storage.models import Bucket

NOTIFICATIONS_MAX = 100


class InvalidNotification(ValidationFailed):
    code = "InvalidArgument"


class NotificationsOverlap(InvalidNotification):
    """Two configurations share an event type and some key matches both filters (S3 refuses the set)."""


def _overlap(a: BucketNotification, b: BucketNotification) -> bool:
    """S3's rule: two configurations overlap when they share an event and a key could match both filters."""
    if not (frozenset().union(*map(expand, a.events)) & frozenset().union(*map(expand, b.events))):
        return False
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def _parse(user: AbstractBaseUser | AnonymousUser, bucket: Bucket, index: int, item: Any) -> BucketNotification:
    where = {"index": index}
    if not isinstance(item, dict):
        raise InvalidNotification(f"Configuration {index} must be an object with id, events, filter and function.", details=where)
    config_id = str(item.get("id") or uuid.uuid4())
    if len(config_id) > NOTIFICATION_ID_MAX:
        raise InvalidNotification(f"Configuration id is longer than {NOTIFICATION_ID_MAX} characters.", details=where)
    events = item.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidNotification(f"Configuration {config_id}: events must be a non-empty list.", details=where)
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise InvalidNotification(f"Configuration {config_id}: the event {unknown[0]!r} is not supported; use one of {', '.join(EVENT_TYPES)}.", details=where)
    key_filter = item.get("filter") or {}
    if not isinstance(key_filter, dict) or set(key_filter) - {"prefix", "suffix"}:
        raise InvalidNotification(f"Configuration {config_id}: filter accepts only prefix and suffix.", details=where)
    function_name = item.get("function")
    if not isinstance(function_name, str) or not function_name:
        raise InvalidNotification(f"Configuration {config_id}: function (a function name) is required.", details=where)
    function = access_function_by_name(user, function_name)
    return BucketNotification(bucket=bucket, config_id=config_id, events=list(dict.fromkeys(events)), prefix=str(key_filter.get("prefix") or ""),
                              suffix=str(key_filter.get("suffix") or ""), function=function, position=index)


def bucket_notifications_put(*, user: AbstractBaseUser | AnonymousUser, bucket: Bucket, configurations: Any) -> list[BucketNotification]:
    """Replace the bucket's notification configurations with ``configurations`` (the REST API's JSON list; all or nothing)."""
    if not isinstance(configurations, list):
        raise InvalidNotification("The body must be a list of notification configurations.")
    if len(configurations) > NOTIFICATIONS_MAX:
        raise InvalidNotification(f"A bucket has at most {NOTIFICATIONS_MAX} notification configurations.")
    return bucket_notifications_replace(bucket=bucket, notifications=[_parse(user, bucket, index, item) for index, item in enumerate(configurations)])


def bucket_notifications_replace(*, bucket: Bucket, notifications: list[BucketNotification]) -> list[BucketNotification]:
    """Replace the bucket's configurations with ``notifications`` (unsaved rows, in order) in one transaction.

    Checks what every caller must (count, unique ids, known events, no overlap) before anything is written,
    so a refused set leaves the old one whole. ``bucket``, ``position`` and a missing id are filled in here.
    """
    if len(notifications) > NOTIFICATIONS_MAX:
        raise InvalidNotification(f"A bucket has at most {NOTIFICATIONS_MAX} notification configurations.")
    for index, config in enumerate(notifications):
        config.bucket, config.position = bucket, index
        config.config_id = config.config_id or str(uuid.uuid4())
        if len(config.config_id) > NOTIFICATION_ID_MAX:
            raise InvalidNotification(f"Configuration id is longer than {NOTIFICATION_ID_MAX} characters.", details={"index": index})
        if not config.events or any(e not in EVENT_TYPES for e in config.events):
            raise InvalidNotification(f"Configuration {config.config_id}: events must be a non-empty list of {', '.join(EVENT_TYPES)}.", details={"index": index})
    ids = [p.config_id for p in notifications]
    if len(set(ids)) != len(ids):
        raise InvalidNotification("Configuration ids must be unique within a bucket.")
    for i, a in enumerate(notifications):
        for b in notifications[i + 1:]:
            if _overlap(a, b):
                raise NotificationsOverlap(
                    f"Configurations overlap. Configurations on the same bucket cannot share a common event type: {a.config_id!r} and {b.config_id!r} "
                    f"both match some keys for the same event.", details={"ids": [a.config_id, b.config_id]})
    with transaction.atomic():
        BucketNotification.objects.filter(bucket=bucket).delete()
        BucketNotification.objects.bulk_create(notifications)
        NOTIFIED_BUCKETS.bump_now()  # bulk_create sends no post_save: at once, and again after commit
        NOTIFIED_BUCKETS.bump()
    return notifications
