"""Invocations: every run of a function, its state, result, timings and log.

The row is the source of truth: it is written ``QUEUED`` before any message is sent, claimed with a
conditional update, and finished exactly once. ``TRANSITIONS`` lists the moves a service may make, and
every conditional update names its move through ``transition(from, to)``, which refuses any other; a
synchronous call's row is written once, already final (invoker/calls.py).
"""

from __future__ import annotations

import uuid

from django.db import models


class InvocationStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    THROTTLED = "throttled"


FINAL_STATUSES = frozenset({InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TIMED_OUT, InvocationStatus.THROTTLED})

TRANSITIONS: dict[str, frozenset[str]] = {
    InvocationStatus.QUEUED: frozenset({InvocationStatus.RUNNING, InvocationStatus.THROTTLED, InvocationStatus.FAILED}),
    # RUNNING → QUEUED: a reaper requeues an invocation whose worker vanished, a throttled asynchronous
    # one waits for concurrency, or a failed asynchronous one waits for its retry.
    InvocationStatus.RUNNING: frozenset({InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TIMED_OUT, InvocationStatus.QUEUED, InvocationStatus.THROTTLED}),
    InvocationStatus.SUCCEEDED: frozenset(),
    InvocationStatus.FAILED: frozenset(),
    InvocationStatus.TIMED_OUT: frozenset(),
    InvocationStatus.THROTTLED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move of an invocation's status that ``TRANSITIONS`` does not allow."""


def transition(source: str, target: str) -> tuple[str, str]:
    """``(source, target)`` as the values a conditional update filters on and sets, if the move is allowed."""
    source, target = InvocationStatus(source), InvocationStatus(target)
    if target not in TRANSITIONS[source]:
        raise IllegalTransition(f"an invocation cannot go from {source.value} to {target.value}")
    return source.value, target.value


class InvocationType(models.TextChoices):
    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"


class Trigger(models.TextChoices):
    CONSOLE = "console"
    API = "api"
    HTTP = "http"
    S3 = "s3"
    SCHEDULE = "schedule"
    QUEUE = "queue"
    TOPIC = "topic"
    STREAM = "stream"
    BUS = "bus"
    AWS = "aws", "AWS API"
    LOGS = "logs", "CloudWatch Logs"
    REPLAY = "replay"


class Invocation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="request id")
    function = models.ForeignKey("functions.Function", null=True, on_delete=models.SET_NULL, related_name="invocations")
    function_name = models.CharField(max_length=64)  # kept when the function is deleted
    revision = models.ForeignKey("functions.FunctionRevision", null=True, on_delete=models.SET_NULL, related_name="invocations")
    qualifier = models.CharField(max_length=128, default="$LATEST")  # as the caller named it: $LATEST, a version or an alias
    executed_version = models.CharField(max_length=16, default="$LATEST")  # the version that ran (an alias's pick)
    client_context = models.TextField(blank=True, default="")  # Invoke's ClientContext, decoded JSON text
    invocation_type = models.CharField(max_length=16, choices=InvocationType.choices, default=InvocationType.REQUEST_RESPONSE)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    trigger_detail = models.JSONField(default=dict, blank=True)
    payload = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=InvocationStatus.choices, default=InvocationStatus.QUEUED)
    result = models.TextField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {"errorType", "errorMessage", "stackTrace"}
    logs = models.TextField(blank=True, default="")
    queued_at = models.DateTimeField(auto_now_add=True, db_index=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    billed_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    memory_size = models.PositiveIntegerField(default=128)
    max_memory_used_mb = models.PositiveIntegerField(null=True, blank=True)
    init_duration_ms = models.FloatField(null=True, blank=True)
    cold_start = models.BooleanField(default=False)
    attempt = models.PositiveSmallIntegerField(default=1)  # 1, then one more each time it goes back to the queue
    retries = models.PositiveSmallIntegerField(default=0)  # of those, retries after a function error (async)
    worker = models.CharField(max_length=255, blank=True, default="")
    # The invocation whose run caused this one (its function's write triggered it, or it is a replay of
    # it). No database constraint: the id is kept when the parent's row is gone.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="children")

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["function", "-queued_at"], name="invocation_function_newest"),
            models.Index(fields=["status", "-queued_at"], name="invocation_status_newest"),
            models.Index(fields=["-queued_at"], name="invocation_newest"),
            # The history list filters by function name and by trigger, newest first.
            models.Index(fields=["function_name", "-queued_at"], name="invocation_fname_newest"),
            models.Index(fields=["trigger", "-queued_at"], name="invocation_trigger_newest"),
        ]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def request_id(self) -> str:
        return str(self.id)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES
