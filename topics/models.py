"""Topics, their subscriptions, published messages and the deliveries that carry them, durable in the database.

A publish writes one ``Message`` and one ``Delivery`` per subscription whose filter policy matches, in one
transaction; each delivery is then sent by a task (``topics.tasks.deliver``) that claims it with a conditional
update and finishes it exactly once (``DeliveryStatus`` and ``TRANSITIONS``). A failed attempt goes back to
``pending`` with ``next_attempt_at`` in the future; when the policy is spent the message goes to the
subscription's dead-letter queue (``RedrivePolicy``) or is dropped. An http/https subscription's
``SubscriptionConfirmation`` is a delivery too (``kind = confirmation``, no message).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from topics import limits


class Topic(models.Model):
    name = models.CharField(max_length=limits.TOPIC_NAME_MAX, unique=True)
    fifo = models.BooleanField(default=False)
    content_based_deduplication = models.BooleanField(default=False)
    display_name = models.CharField(max_length=limits.DISPLAY_NAME_MAX, blank=True, default="")
    policy = models.TextField(blank=True, default="")  # empty: AWS's default policy, rendered from the ARN
    delivery_policy = models.TextField(blank=True, default="")
    # Attributes Kiln stores and returns but does not act on (KmsMasterKeyId, SignatureVersion, TracingConfig, ...).
    extra_attributes = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    subscriptions_deleted = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:sns:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{self.name}"


class Protocol(models.TextChoices):
    LAMBDA = "lambda"
    SQS = "sqs"
    HTTP = "http"
    HTTPS = "https"


class Subscription(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    protocol = models.CharField(max_length=16, choices=Protocol.choices)
    endpoint = models.CharField(max_length=2048)
    owner = models.CharField(max_length=12, default="")
    confirmed = models.BooleanField(default=False)
    token = models.CharField(max_length=128, blank=True, default="")  # the confirmation token of a pending subscription
    raw_message_delivery = models.BooleanField(default=False)
    filter_policy = models.TextField(blank=True, default="")
    filter_policy_scope = models.CharField(max_length=20, default="MessageAttributes")
    redrive_policy = models.JSONField(null=True, blank=True)  # {"deadLetterTargetArn": an SQS queue's ARN}
    delivery_policy = models.TextField(blank=True, default="")
    extra_attributes = models.JSONField(default=dict, blank=True)  # SubscriptionRoleArn, ReplayPolicy, ...
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["topic", "protocol", "endpoint"], name="topics_sub_endpoint")]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.endpoint}"

    @property
    def arn(self) -> str:
        return f"{self.topic.arn}:{self.subscription_id}"


class Message(models.Model):
    """One published message, as the subscribers receive it."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="messages")
    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.CharField(max_length=limits.SUBJECT_MAX, blank=True, default="")
    body = models.TextField()  # the "default" message when MessageStructure is json
    per_protocol = models.JSONField(null=True, blank=True)  # MessageStructure=json: {"default": ..., "sqs": ..., ...}
    attributes = models.JSONField(default=dict, blank=True)  # {name: {DataType, StringValue|BinaryValue(base64)}}
    group_id = models.CharField(max_length=limits.GROUP_ID_MAX, blank=True, default="")
    deduplication_id = models.CharField(max_length=limits.DEDUP_ID_MAX, blank=True, default="")
    published_at = models.DateTimeField()
    # The invocation whose function published it (signed with its environment's credentials): the parent of the
    # invocations it causes, for the console's causal chain. No constraint: the id outlives the invocation's row.
    parent_invocation_id = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["published_at"], name="topics_message_published")]

    def __str__(self) -> str:
        return str(self.message_id)

    @property
    def sequence_number(self) -> str:
        return f"{self.id:020d}"

    def body_for(self, protocol: str) -> str:
        if self.per_protocol:
            return str(self.per_protocol.get(protocol, self.per_protocol.get("default", self.body)))
        return self.body


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"  # the policy is spent and there is no dead-letter queue: dropped, as SNS drops it
    DEAD_LETTERED = "dead_lettered"


TRANSITIONS: dict[str, set[str]] = {
    DeliveryStatus.PENDING: {DeliveryStatus.DELIVERING},
    DeliveryStatus.DELIVERING: {DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.DEAD_LETTERED},
    DeliveryStatus.DELIVERED: set(),
    DeliveryStatus.FAILED: set(),
    DeliveryStatus.DEAD_LETTERED: set(),
}
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING)


class DeliveryKind(models.TextChoices):
    NOTIFICATION = "notification"
    CONFIRMATION = "confirmation"


class Delivery(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=16, choices=DeliveryKind.choices, default=DeliveryKind.NOTIFICATION)
    group_id = models.CharField(max_length=limits.GROUP_ID_MAX, blank=True, default="")  # FIFO: delivered in order per group
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "topic delivery"
        verbose_name_plural = "topic deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="topics_delivery_due"),
                   models.Index(fields=["subscription", "group_id", "status"], name="topics_delivery_group")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class Deduplication(models.Model):
    """A FIFO topic's deduplication id seen in the last five minutes, and the message it was given to."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="deduplications")
    deduplication_id = models.CharField(max_length=limits.DEDUP_ID_MAX)
    message_id = models.CharField(max_length=36)
    sequence_number = models.CharField(max_length=20, blank=True, default="")
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "deduplication_id"], name="unique_topic_dedup")]
