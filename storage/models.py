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
    bucket = models.ForeignKey(Bucket, on_delete=models.PROTECT, related_name="contents", db_index=False)  # the unique (bucket, key) leads with it
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


class MultipartUpload(models.Model):
    """An upload in progress: parts arrive one by one and become one object when completed."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="uploads")
    key = models.CharField(max_length=limits.KEY_MAX_BYTES)
    upload_id = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=255, default="binary/octet-stream")
    metadata = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    initiated = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "initiated"]

    def __str__(self) -> str:
        return f"{self.bucket.name}/{self.key} ({self.upload_id})"


class UploadPart(models.Model):
    upload = models.ForeignKey(MultipartUpload, on_delete=models.CASCADE, related_name="parts")
    part_number = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    etag = models.CharField(max_length=64)
    blob = models.CharField(max_length=255)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["part_number"]
        constraints = [models.UniqueConstraint(fields=["upload", "part_number"], name="unique_upload_part")]
