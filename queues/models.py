"""Queues and their messages, durable in the database.

A message is visible when ``visible_at <= now``: sending sets it to now (+ ``DelaySeconds``), a receive
claims it by moving ``visible_at`` to now + the visibility timeout and giving it a new ``receipt_token``
(the receipt handle names the message and that token, so only the latest handle deletes it). Deleting a
message deletes its row. FIFO queues keep ``id`` order within a ``group_id`` and remember deduplication
ids for five minutes in ``Deduplication``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from queues import limits


class Queue(models.Model):
    name = models.CharField(max_length=limits.QUEUE_NAME_MAX, unique=True)
    fifo = models.BooleanField(default=False)
    visibility_timeout = models.PositiveIntegerField(default=limits.VISIBILITY_TIMEOUT_DEFAULT)
    message_retention_period = models.PositiveIntegerField(default=limits.RETENTION_DEFAULT)
    maximum_message_size = models.PositiveIntegerField(default=limits.MESSAGE_SIZE_MAX)
    delay_seconds = models.PositiveIntegerField(default=0)
    receive_wait_time_seconds = models.PositiveIntegerField(default=0)
    content_based_deduplication = models.BooleanField(default=False)
    redrive_policy = models.JSONField(null=True, blank=True)  # {"deadLetterTargetArn": ..., "maxReceiveCount": n}
    # Attributes Kiln stores and returns but does not act on (Policy, RedriveAllowPolicy, KmsMasterKeyId, ...).
    extra_attributes = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{self.name}"


class Message(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=36, db_index=True)
    body = models.TextField()
    body_md5 = models.CharField(max_length=32)
    attributes = models.JSONField(default=dict, blank=True)  # message attributes: {name: {DataType, StringValue|BinaryValue(base64)}}
    attributes_md5 = models.CharField(max_length=32, blank=True, default="")
    system_attributes = models.JSONField(default=dict, blank=True)  # AWSTraceHeader, DeadLetterQueueSourceArn
    system_attributes_md5 = models.CharField(max_length=32, blank=True, default="")
    sender_id = models.CharField(max_length=128, blank=True, default="")
    sent_at = models.DateTimeField()
    visible_at = models.DateTimeField()
    receive_count = models.PositiveIntegerField(default=0)
    first_received_at = models.DateTimeField(null=True, blank=True)
    receipt_token = models.CharField(max_length=32, blank=True, default="")
    group_id = models.CharField(max_length=limits.GROUP_ID_MAX, blank=True, default="")
    deduplication_id = models.CharField(max_length=limits.DEDUP_ID_MAX, blank=True, default="")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["queue", "visible_at", "id"], name="queues_msg_visible"),
                   models.Index(fields=["queue", "sent_at"], name="queues_msg_sent")]

    def __str__(self) -> str:
        return self.message_id

    @property
    def sequence_number(self) -> str:
        return f"{self.id:020d}"


class Deduplication(models.Model):
    """A FIFO queue's deduplication id seen in the last five minutes, and the message it was given to."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="deduplications")
    deduplication_id = models.CharField(max_length=limits.DEDUP_ID_MAX)
    message_id = models.CharField(max_length=36)
    sequence_number = models.CharField(max_length=20, blank=True, default="")
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue", "deduplication_id"], name="unique_queue_dedup")]
