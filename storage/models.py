"""Buckets and the objects in them.

An object's body lives in the default Django storage under an opaque name (``buckets/ab/<uuid>``), never
under its key, so no key can reach outside the bucket's storage. A write streams a new body, then
points the row at it in one transaction; the previous body is deleted after commit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from storage import limits


class Bucket(TimeStampedModel):
    name = models.CharField(max_length=limits.BUCKET_NAME_MAX, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


class Object(models.Model):
    bucket = models.ForeignKey(Bucket, on_delete=models.PROTECT, related_name="contents")
    key = models.CharField(max_length=limits.KEY_MAX_BYTES)
    size = models.PositiveBigIntegerField(default=0)
    etag = models.CharField(max_length=64)
    content_type = models.CharField(max_length=255, default="binary/octet-stream")
    metadata = models.JSONField(default=dict, blank=True)
    # S3's stored system headers: Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires
    headers = models.JSONField(default=dict, blank=True)
    blob = models.CharField(max_length=255)  # name in the default storage
    sequencer = models.CharField(max_length=32)  # hex, increasing per key
    last_modified = models.DateTimeField()

    class Meta:
        ordering = ["bucket", "key"]
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="unique_object_key")]

    def __str__(self) -> str:
        return f"{self.bucket.name}/{self.key}"
