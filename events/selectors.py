"""Reads of triggers: a bucket's notification configurations, and the invocations its objects triggered."""

from __future__ import annotations

from django.db.models import QuerySet

from core.arns import function_arn
from core.generations import GenerationCache
from events.models import BucketNotification
from functions.models import Function
from invoker.models import Invocation, Trigger
from storage.models import Bucket


def bucket_notifications(bucket: Bucket) -> QuerySet[BucketNotification]:
    return BucketNotification.objects.filter(bucket=bucket).select_related("function").order_by("position")


def notification_function(arn: str) -> Function | None:
    """The function an S3 destination ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME``) names in this
    region and account; ``None`` if none does. Kiln has no versions or aliases yet, so a qualified ARN
    names none."""
    name = arn.rsplit(":", 1)[-1]
    if not name or arn != function_arn(name):
        return None
    return Function.objects.filter(name=name).first()


# Which buckets have notifications at all, asked on every object write: cached per process, the generation bumped by
# every notification saved or deleted (events/apps.py), so a write to a bucket without any costs no query.
NOTIFIED_BUCKETS: GenerationCache[frozenset[str]] = GenerationCache("bucket-notifications", ttl_s=30.0)


def _notified_buckets() -> frozenset[str]:
    return NOTIFIED_BUCKETS.get("all", lambda: frozenset(BucketNotification.objects.values_list("bucket__name", flat=True).distinct()))


def matching_notifications(bucket_name: str, key: str, event_name: str) -> list[BucketNotification]:
    from events.s3 import expand

    if bucket_name not in _notified_buckets():
        return []
    concrete = f"s3:{event_name}"
    found = []
    for config in BucketNotification.objects.filter(bucket__name=bucket_name).select_related("function", "function__latest").order_by("position"):
        if not key.startswith(config.prefix) or not key.endswith(config.suffix):
            continue
        if any(concrete in expand(e) for e in config.events):
            found.append(config)
    return found


def bucket_invocations(bucket: Bucket, *, key: str | None = None) -> QuerySet[Invocation]:
    queryset = Invocation.objects.filter(trigger=Trigger.S3, trigger_detail__bucket=bucket.name)
    if key is not None:
        queryset = queryset.filter(trigger_detail__key=key)
    return queryset.order_by("-queued_at", "-id")
