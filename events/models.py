"""Triggers: a bucket's notification configurations (which events, which keys, which function)."""

from __future__ import annotations

from django.db import models

from core.models import TimeStampedModel

NOTIFICATION_ID_MAX = 255


class BucketNotification(TimeStampedModel):
    bucket = models.ForeignKey("storage.Bucket", on_delete=models.CASCADE, related_name="notifications")
    config_id = models.CharField(max_length=NOTIFICATION_ID_MAX)
    events = models.JSONField(default=list)  # e.g. ["s3:ObjectCreated:*"]
    prefix = models.CharField(max_length=1024, blank=True, default="")
    suffix = models.CharField(max_length=1024, blank=True, default="")
    function = models.ForeignKey("functions.Function", on_delete=models.CASCADE, related_name="bucket_notifications")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["bucket", "position"]
        constraints = [models.UniqueConstraint(fields=["bucket", "config_id"], name="unique_notification_id")]

    def __str__(self) -> str:
        return f"{self.bucket.name}:{self.config_id}"
