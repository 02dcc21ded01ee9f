"""Roll-ups gathered in the worker's memory and written once a second: the default way runs reach
``MetricMinute`` (``KILN_METRICS_FLUSH_SECONDS``, 1 s; 0 writes each run through at once).

A finished run costs the finish path a dictionary update under a lock (a few microseconds) instead
of a database round trip and a contended row lock on the account's minute: a background thread of the
process writes everything gathered since its last write as one multi-row ``INSERT ... ON CONFLICT
DO UPDATE`` (rows in key order, so workers writing the same rows never deadlock), adding counts and
raising maxima exactly as the per-run upsert does. What a process gathered is written at its exit
(``metrics_flush``, also called at worker shutdown); a process killed outright loses up to a second
of counts, and a failed write is kept for the next one.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from metrics.histogram import BUCKET_COLUMNS, BUCKETS
from metrics.models import MetricMinute

log = logging.getLogger(__name__)
SUMS = ("invocations", "errors", "throttles", "duration_count", "duration_sum_ms", "init_count", "init_sum_ms", "billed_mb_ms")
MAXES = ("duration_max_ms", "init_max_ms", "concurrency_max")
ROWS_PER_STATEMENT = 200


@dataclass
class Gathered:
    """What the runs of one minute of one function (or the account) added, since the last write."""

    sums: list[float] = field(default_factory=lambda: [0] * len(SUMS))
    maxes: list[float] = field(default_factory=lambda: [0] * len(MAXES))
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, sums: list[float], maxes: list[float], bucket: int | None) -> None:
        for i, value in enumerate(sums):
            self.sums[i] += value
        for i, value in enumerate(maxes):
            if value > self.maxes[i]:
                self.maxes[i] = value
        if bucket is not None:
            self.buckets[bucket] += 1

    def merge(self, other: Gathered) -> None:
        self.add(other.sums, other.maxes, None)
        for i, count in enumerate(other.buckets):
            self.buckets[i] += count


_lock = threading.Lock()
_pending: dict[tuple[datetime.datetime, str], Gathered] = {}
_flusher: threading.Thread | None = None
_flush_lock = threading.Lock()


def buffer_add(key: tuple[datetime.datetime, str], sums: list[float], maxes: list[float], bucket: int | None) -> None:
    """Gather one run into ``key`` (minute, function name); starts the writer thread on first use."""
    with _lock:
        gathered = _pending.get(key)
        if gathered is None:
            gathered = _pending[key] = Gathered()
        gathered.add(sums, maxes, bucket)
    if _flusher is None:
        _start()


def _start() -> None:
    global _flusher
    with _lock:
        if _flusher is not None:
            return
        _flusher = threading.Thread(target=_loop, name="kiln-metrics-flush", daemon=True)
        _flusher.start()
        atexit.register(_flush_at_exit)


def _flush_at_exit() -> None:
    try:
        metrics_flush()
    except Exception as exc:  # noqa: BLE001 - the process is ending; say what is lost
        log.warning("could not write the last metrics at exit: %s", exc)


def _loop() -> None:
    while True:
        threading.Event().wait(max(settings.KILN_METRICS_FLUSH_SECONDS, 0.05))
        try:
            close_old_connections()
            metrics_flush()
        except Exception as exc:  # noqa: BLE001 - try again next time
            log.warning("could not write metrics: %s", exc)
            connection.close()


def _sql(rows: int) -> str:
    q = connection.ops.quote_name
    table = q(MetricMinute._meta.db_table)
    columns = ["minute", "function_name", *SUMS, *MAXES, *BUCKET_COLUMNS]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sets = [f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in (*SUMS, *BUCKET_COLUMNS)]
    sets += [f"{q(c)} = CASE WHEN excluded.{q(c)} > {table}.{q(c)} THEN excluded.{q(c)} ELSE {table}.{q(c)} END" for c in MAXES]
    return (f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES {', '.join([row] * rows)} "
            f"ON CONFLICT ({q('function_name')}, {q('minute')}) DO UPDATE SET {', '.join(sets)}")


def metrics_flush() -> int:
    """Write what this process gathered; the number of rows written. A failed write is put back."""
    with _flush_lock:
        with _lock:
            if not _pending:
                return 0
            taken = dict(_pending)
            _pending.clear()
        keys = sorted(taken, key=lambda k: (k[1], k[0]))
        try:
            for start in range(0, len(keys), ROWS_PER_STATEMENT):
                chunk = keys[start:start + ROWS_PER_STATEMENT]
                params: list[Any] = []
                for minute, name in chunk:
                    gathered = taken[(minute, name)]
                    params += [connection.ops.adapt_datetimefield_value(minute), name, *gathered.sums, *gathered.maxes, *gathered.buckets]
                with connection.cursor() as cursor:
                    cursor.execute(_sql(len(chunk)), params)
                for key in chunk:
                    del taken[key]
        except Exception:
            with _lock:
                for key, gathered in taken.items():
                    _pending.setdefault(key, Gathered()).merge(gathered)
            raise
        return len(keys)
