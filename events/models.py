"""Triggers: a bucket's notification configurations, and event source mappings (a poller per queue or stream)."""

from __future__ import annotations

import uuid

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


class MappingState(models.TextChoices):
    """An event source mapping's states, as Lambda names them."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


class EventSourceMapping(models.Model):
    """A poller's configuration: read batches from a queue or stream (``event_source_arn``) and invoke the function.

    The state moves only along ``events.mappings.TRANSITIONS``; the source kinds (SQS, DynamoDB Streams) plug in
    through ``events.mappings.source_kind_register`` and run the polling.
    """

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    function = models.ForeignKey("functions.Function", on_delete=models.CASCADE, related_name="event_source_mappings")
    qualifier = models.CharField(max_length=128, blank=True, default="")  # "" for $LATEST, else a version or an alias
    event_source_arn = models.CharField(max_length=1024)
    kind = models.CharField(max_length=32)  # the source kind's name ("sqs", "dynamodb")
    state = models.CharField(max_length=16, choices=MappingState.choices, default=MappingState.CREATING)
    state_reason = models.CharField(max_length=256, blank=True, default="User action")
    enabled = models.BooleanField(default=True)  # what the user asked for; the state follows it
    batch_size = models.PositiveIntegerField(default=10)
    batching_window_s = models.PositiveIntegerField(default=0)
    maximum_concurrency = models.PositiveIntegerField(null=True, blank=True)
    filter_criteria = models.JSONField(default=dict, blank=True)
    function_response_types = models.JSONField(default=list, blank=True)
    starting_position = models.CharField(max_length=16, blank=True, default="")
    starting_position_timestamp = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)  # the kind's own settings (retries, bisect, record age, on-failure destination)
    last_processing_result = models.CharField(max_length=256, blank=True, default="No records processed")
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["function", "last_modified"]

    def __str__(self) -> str:
        return f"{self.event_source_arn} -> {self.function_id}"


class StreamCheckpoint(models.Model):
    """Where a stream mapping's reading stands in one of its partitions (``ParallelizationFactor`` of them, records
    split by a hash of their keys so one key's records stay in order): the last sequence done, and the state of
    the batch after it (failed invokes, bisection's smaller batch). Written only by the partition's poller."""

    mapping = models.ForeignKey(EventSourceMapping, on_delete=models.CASCADE, related_name="checkpoints")
    partition = models.PositiveSmallIntegerField(default=0)
    partitions = models.PositiveSmallIntegerField(default=1)  # the ParallelizationFactor the partitions were cut for
    after = models.BigIntegerField(default=0)  # records with a higher sequence are still to do
    attempts = models.PositiveIntegerField(default=0)  # failed invokes of the batch that starts after ``after``
    batch_cap = models.PositiveIntegerField(default=0)  # a bisected batch's size; 0: the mapping's BatchSize
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mapping", "partition"], name="events_checkpoint_partition")]

    def __str__(self) -> str:
        return f"{self.mapping_id}#{self.partition} after {self.after}"
