"""Per-minute metric roll-ups (per function and account-wide) and the daily usage they are compacted into.

``MetricMinute`` holds one row per minute per function, plus one per minute for the whole account
(``function_name == ""``). The worker adds to both rows in one upsert as each run finishes
(``metrics.services.metrics_record_run``); counters only ever grow, maxima only rise, so the order
of finishes does not matter. Rows are kept ``RETENTION_DAYS``; before they go, each day is summed into
``UsageDay`` (requests and GB-seconds), which usage and cost read for older days. Function names, not
foreign keys, so a deleted function's history stays as it was.
"""

from __future__ import annotations

from django.db import models

from metrics.histogram import BUCKET_COLUMNS

ACCOUNT = ""  # function_name of the account-wide rows
RETENTION_DAYS = 30


def _counter() -> models.PositiveIntegerField:
    return models.PositiveIntegerField(default=0, db_default=0)


class MetricMinute(models.Model):
    minute = models.DateTimeField()  # the minute's start, UTC
    function_name = models.CharField(max_length=64, blank=True)  # "" = the whole account
    invocations = _counter()  # runs (each attempt), throttles not included
    errors = _counter()  # runs that failed or timed out
    throttles = _counter()
    duration_count = _counter()
    duration_sum_ms = models.FloatField(default=0.0, db_default=0.0)
    duration_max_ms = models.FloatField(default=0.0, db_default=0.0)
    init_count = _counter()  # cold starts
    init_sum_ms = models.FloatField(default=0.0, db_default=0.0)
    init_max_ms = models.FloatField(default=0.0, db_default=0.0)
    concurrency_max = _counter()  # leases held when a run of the minute started, at most
    billed_mb_ms = models.PositiveBigIntegerField(default=0, db_default=0)  # sum of billed ms x memory MB
    async_received = _counter()  # Event invocations queued in the minute (sampled from history)
    async_queued_max = _counter()  # Event invocations waiting in the queue (sampled)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["function_name", "minute"], name="metric_minute_unique")]
        indexes = [models.Index(fields=["minute"], name="metric_minute_prune")]

    def __str__(self) -> str:
        return f"{self.function_name or '(account)'} {self.minute:%Y-%m-%d %H:%M}"

    def histogram(self) -> list[int]:
        return [getattr(self, c) for c in BUCKET_COLUMNS]


for _column in BUCKET_COLUMNS:
    MetricMinute.add_to_class(_column, _counter())


class UsageDay(models.Model):
    """A day's requests and billed MB-milliseconds of one function (and ``""``: the account)."""

    date = models.DateField()
    function_name = models.CharField(max_length=64, blank=True)
    requests = models.PositiveBigIntegerField(default=0)
    billed_mb_ms = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "function_name"], name="usage_day_unique")]

    def __str__(self) -> str:
        return f"{self.function_name or '(account)'} {self.date}"
