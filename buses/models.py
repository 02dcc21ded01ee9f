"""Event buses, rules, targets, and the deliveries that are the source of truth for every event sent.

A ``Delivery`` is written per (event, target) in the same transaction that accepts the event (PutEvents, a
schedule's tick, a bus-to-bus forward), with a snapshot of what to send and how to retry, then enqueued
on commit; a worker claims it with a conditional update and finishes it exactly once (succeeded, or after
the retry policy: dead-lettered to the target's SQS queue, or failed). ``ScheduleTick`` (rule, tick)
is unique: the once-only guard of a schedule's tick across any number of beat processes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from buses import limits

DEFAULT_BUS = "default"


def _arn(kind: str, rest: str) -> str:
    return f"arn:aws:events:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{kind}/{rest}"


class EventBus(models.Model):
    name = models.CharField(max_length=limits.BUS_NAME_MAX, unique=True)
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "event buses"

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return _arn("event-bus", self.name)


class RuleState(models.TextChoices):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


class Rule(models.Model):
    bus = models.ForeignKey(EventBus, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=limits.RULE_NAME_MAX)
    event_pattern = models.TextField(blank=True, default="")
    schedule_expression = models.CharField(max_length=limits.SCHEDULE_EXPRESSION_MAX, blank=True, default="")
    state = models.CharField(max_length=48, choices=RuleState.choices, default=RuleState.ENABLED)
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    role_arn = models.CharField(max_length=1600, blank=True, default="")
    managed_by = models.CharField(max_length=128, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    # A schedule's next tick (UTC, on the minute); advanced by a conditional update when it fires.
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bus__name", "name"]
        constraints = [models.UniqueConstraint(fields=["bus", "name"], name="unique_bus_rule")]

    def __str__(self) -> str:
        return self.name if self.bus.name == DEFAULT_BUS else f"{self.bus.name}/{self.name}"

    @property
    def arn(self) -> str:
        return _arn("rule", self.name if self.bus.name == DEFAULT_BUS else f"{self.bus.name}/{self.name}")

    @property
    def enabled(self) -> bool:
        return self.state != RuleState.DISABLED


class Target(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="targets")
    target_id = models.CharField(max_length=limits.TARGET_ID_MAX)
    arn = models.CharField(max_length=1600)
    role_arn = models.CharField(max_length=1600, blank=True, default="")
    input = models.TextField(blank=True, default="")
    input_path = models.CharField(max_length=limits.INPUT_PATH_MAX, blank=True, default="")
    input_transformer = models.JSONField(null=True, blank=True)  # {"InputPathsMap": {...}, "InputTemplate": "..."}
    retry_attempts = models.PositiveIntegerField(default=limits.RETRY_ATTEMPTS_DEFAULT)
    max_event_age = models.PositiveIntegerField(default=limits.EVENT_AGE_DEFAULT)
    retry_policy_set = models.BooleanField(default=False)
    dead_letter_arn = models.CharField(max_length=1600, blank=True, default="")
    # Parameters Kiln keeps and returns (SqsParameters' MessageGroupId is used; the others are stored).
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["rule", "target_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "target_id"], name="unique_rule_target")]

    def __str__(self) -> str:
        return f"{self.target_id} → {self.arn}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD_LETTERED = "dead_lettered"
    FAILED = "failed"


FINAL_DELIVERY_STATES = (DeliveryState.SUCCEEDED, DeliveryState.DEAD_LETTERED, DeliveryState.FAILED)


class Delivery(models.Model):
    """One event to one target: the payload and retry policy as they were when the event matched."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.CharField(max_length=64, db_index=True)
    bus_name = models.CharField(max_length=limits.BUS_NAME_MAX)
    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    rule_arn = models.CharField(max_length=1600)
    target_id = models.CharField(max_length=limits.TARGET_ID_MAX)
    target_arn = models.CharField(max_length=1600)
    event = models.TextField()  # the envelope as JSON
    payload = models.TextField()  # what the target receives (Input / InputPath / InputTransformer applied)
    scheduled = models.BooleanField(default=False)
    hops = models.PositiveSmallIntegerField(default=0)
    parameters = models.JSONField(default=dict, blank=True)
    retry_attempts = models.PositiveIntegerField(default=limits.RETRY_ATTEMPTS_DEFAULT)
    max_event_age = models.PositiveIntegerField(default=limits.EVENT_AGE_DEFAULT)
    dead_letter_arn = models.CharField(max_length=1600, blank=True, default="")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)  # e.g. the invocation id, the SQS message id
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "event bus delivery"
        verbose_name_plural = "event bus deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="buses_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.target_id}"


class ScheduleTick(models.Model):
    """A scheduled rule's tick that fired; unique per (rule, tick) so no tick fires twice."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="ticks")
    tick_at = models.DateTimeField()
    event_id = models.CharField(max_length=64)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tick_at"]
        constraints = [models.UniqueConstraint(fields=["rule", "tick_at"], name="unique_rule_tick")]

    def __str__(self) -> str:
        return f"{self.rule_id} @ {self.tick_at:%Y-%m-%dT%H:%M}Z"


class Schedule(models.Model):
    """An EventBridge Scheduler schedule (group ``default``): its expression, window and one target."""

    name = models.CharField(max_length=64)
    group_name = models.CharField(max_length=64, default="default")
    expression = models.CharField(max_length=256)
    timezone = models.CharField(max_length=50, blank=True, default="")
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    description = models.CharField(max_length=512, blank=True, default="")
    state = models.CharField(max_length=16, default="ENABLED")
    flexible_mode = models.CharField(max_length=16, default="OFF")
    flexible_window_minutes = models.PositiveIntegerField(null=True, blank=True)
    target = models.JSONField(default=dict)
    action_after_completion = models.CharField(max_length=16, default="NONE")
    # The nominal tick that fires next, and when it fires (the tick plus its offset in a flexible window).
    next_tick_at = models.DateTimeField(null=True, blank=True)
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group_name", "name"]
        constraints = [models.UniqueConstraint(fields=["group_name", "name"], name="unique_schedule_name")]

    def __str__(self) -> str:
        return f"{self.group_name}/{self.name}"

    @property
    def arn(self) -> str:
        return f"arn:aws:scheduler:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:schedule/{self.group_name}/{self.name}"


class ScheduleFire(models.Model):
    """A Scheduler schedule's tick that fired, unique per (schedule, tick); ``fired_at`` within its window."""

    schedule = models.ForeignKey(Schedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="fires")
    schedule_arn = models.CharField(max_length=1600)
    tick_at = models.DateTimeField()
    fire_at = models.DateTimeField()  # when the window placed it
    fired_at = models.DateTimeField(auto_now_add=True)
    delivery_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-tick_at"]
        constraints = [models.UniqueConstraint(fields=["schedule_arn", "tick_at"], name="unique_schedule_tick")]

    def __str__(self) -> str:
        return f"{self.schedule_arn} @ {self.tick_at:%Y-%m-%dT%H:%M}Z"
