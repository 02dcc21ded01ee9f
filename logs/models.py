"""Log groups, streams, events and subscription filters (CloudWatch Logs), durable in the database.

A user group (``CreateLogGroup``) holds its streams and their events here. A function's group
``/aws/lambda/<name>`` exists while the function does; its events are the function's invocation logs
(``invoker.selectors.log_events``), never copied here, so the console's live tail and the Logs API read
the same rows and nothing is logged twice. A ``LogGroup`` row for such a group is made when it is given
settings (retention, tags, a subscription filter) or a stream of its own; events a user writes with
``PutLogEvents`` into such a stream are ``LogEvent`` rows that reads merge with the invocation lines.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from logs import limits

LAMBDA_PREFIX = "/aws/lambda/"


class LogGroup(models.Model):
    name = models.CharField(max_length=limits.GROUP_NAME_MAX, unique=True)
    retention_in_days = models.PositiveIntegerField(null=True, blank=True)
    kms_key_id = models.CharField(max_length=256, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    log_group_class = models.CharField(max_length=32, default="STANDARD")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return group_arn(self.name)

    @property
    def function_name(self) -> str | None:
        """The function whose invocation logs this group also holds, for ``/aws/lambda/<name>``."""
        return self.name[len(LAMBDA_PREFIX):] if self.name.startswith(LAMBDA_PREFIX) and len(self.name) > len(LAMBDA_PREFIX) else None


def group_arn(name: str) -> str:
    return f"arn:aws:logs:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:log-group:{name}"


class LogStream(models.Model):
    group = models.ForeignKey(LogGroup, on_delete=models.CASCADE, related_name="streams")
    name = models.CharField(max_length=limits.STREAM_NAME_MAX)
    created_at = models.DateTimeField(auto_now_add=True)
    first_event_timestamp = models.BigIntegerField(null=True, blank=True)  # ms since the epoch
    last_event_timestamp = models.BigIntegerField(null=True, blank=True)
    last_ingestion_time = models.BigIntegerField(null=True, blank=True)
    upload_sequence_token = models.CharField(max_length=64, blank=True, default="")
    stored_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="logs_unique_stream")]
        indexes = [models.Index(fields=["group", "last_event_timestamp"], name="logs_stream_last_event")]

    def __str__(self) -> str:
        return self.name


class LogEvent(models.Model):
    """One event; ``id`` orders events of the same timestamp (and is the event id, zero-padded)."""

    stream = models.ForeignKey(LogStream, on_delete=models.CASCADE, related_name="events")
    group = models.ForeignKey(LogGroup, on_delete=models.CASCADE, related_name="events")  # the stream's, for group-wide reads
    timestamp = models.BigIntegerField()
    message = models.TextField()
    ingestion_time = models.BigIntegerField()

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["group", "timestamp", "id"], name="logs_event_group_time"),
                   models.Index(fields=["stream", "timestamp", "id"], name="logs_event_stream_time")]

    def __str__(self) -> str:
        return f"{self.timestamp} {self.message[:40]}"

    @property
    def event_id(self) -> str:
        return f"{self.id:056d}"


class SubscriptionFilter(models.Model):
    """Events of the group matching ``filter_pattern`` go to the Lambda function ``destination_arn``.

    For a ``/aws/lambda/<fn>`` group, the invocation logs finished after ``scanned_until`` (and, at that
    instant, with a request id after ``scanned_id``) have not been looked at yet: the delivery task moves
    this checkpoint in the transaction that submits their deliveries."""

    group = models.ForeignKey(LogGroup, on_delete=models.CASCADE, related_name="subscription_filters")
    filter_name = models.CharField(max_length=limits.FILTER_NAME_MAX)
    filter_pattern = models.CharField(max_length=1024, blank=True, default="")
    destination_arn = models.CharField(max_length=2048)
    distribution = models.CharField(max_length=16, default="ByLogStream")
    role_arn = models.CharField(max_length=2048, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    scanned_until = models.DateTimeField(null=True, blank=True)
    scanned_id = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        ordering = ["filter_name"]
        constraints = [models.UniqueConstraint(fields=["group", "filter_name"], name="logs_unique_filter")]

    def __str__(self) -> str:
        return self.filter_name
