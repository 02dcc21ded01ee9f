"""The statements on every invocation's hot path, written as SQL: the queued insert, the claim and the finish.

The claim and the finish are the same conditional updates the ORM would make (``filter(status=...).update(...)``), so the
row stays the source of truth and each move happens at most once. They are written by hand because
the ORM builds and compiles its query on every call: measured on this 2-core machine, the ORM's claim,
joined read and finish cost 1.7 ms of a worker's CPU per invocation, these two statements 0.15 ms
(docs/benchmarks.md). The claim returns, in the same statement, what the worker needs to run the
invocation, including the function's concurrency and retry settings read fresh.

The SQL is plain enough for PostgreSQL and SQLite (3.35+: ``UPDATE ... RETURNING``); values go
through the fields' own adaptation so both backends get what the ORM would send them.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import rows as core_rows
from core.db import prepared_cursor
from functions.models import Function
from invoker.models import Invocation, InvocationStatus, transition

CLAIM_COLUMNS = ("revision_id", "payload", "invocation_type", "function_id", "function_name", "attempt", "retries", "queued_at", "executed_version",
                 "client_context")
FUNCTION_COLUMNS = ("reserved_concurrency", "async_max_retries", "async_max_event_age_s", "async_on_success", "async_on_failure", "dead_letter_target")
FINISH_RETURNING = ("function_name", "memory_size")
FINISH_FIELDS = ("status", "result", "error", "finished_at", "duration_ms", "billed_duration_ms", "max_memory_used_mb", "init_duration_ms", "cold_start")


@cache
def _claim_sql() -> str:
    table = connection.ops.quote_name(Invocation._meta.db_table)
    functions = connection.ops.quote_name(Function._meta.db_table)
    returning = [connection.ops.quote_name(c) for c in CLAIM_COLUMNS]
    returning += [
        f"(SELECT f.{connection.ops.quote_name(c)} FROM {functions} f WHERE f.id = {table}.function_id)" for c in FUNCTION_COLUMNS
    ]
    return (
        f"UPDATE {table} SET status = %s, started_at = %s, worker = %s WHERE id = %s AND status = %s "
        f"RETURNING {', '.join(returning)}"
    )


@cache
def _finish_sql() -> str:
    table = connection.ops.quote_name(Invocation._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in FINISH_FIELDS)
    # Logs go after those of earlier attempts, if any.
    # What the metrics of the run need comes back from the same statement.
    returning = ", ".join(connection.ops.quote_name(c) for c in FINISH_RETURNING)
    return f"UPDATE {table} SET {sets}, logs = logs || %s WHERE id = %s AND status = %s RETURNING {returning}"


@cache
def _fields() -> dict[str, Any]:
    return {f.name: f for f in Invocation._meta.concrete_fields}


def _pk(invocation_id: str) -> Any:
    return _fields()["id"].get_db_prep_value(invocation_id, connection)


def _datetime_out(value: Any) -> datetime.datetime:
    """A timestamp read back from the database as the ORM would give it (aware, UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def row_claim(invocation_id: str, worker: str) -> dict[str, Any] | None:
    """Move a ``QUEUED`` invocation to ``RUNNING`` for ``worker``; return what it runs with, or
    ``None`` when the row was not queued (another worker has it, or it is final)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with prepared_cursor() as cursor:
        source, target = transition(InvocationStatus.QUEUED, InvocationStatus.RUNNING)
        cursor.execute(_claim_sql(), [target, now, worker, _pk(invocation_id), source])
        found = cursor.fetchone()
    if found is None:
        return None
    row = dict(zip(CLAIM_COLUMNS, found))
    row.update(zip((f"function__{c}" for c in FUNCTION_COLUMNS), found[len(CLAIM_COLUMNS):]))
    row["queued_at"] = _datetime_out(row["queued_at"])
    return row


def row_finish_returning(invocation_id: str, values: dict[str, Any], logs: str) -> tuple[str, int] | None:
    """Move a ``RUNNING`` invocation to its final state with ``values`` (the ``FINISH_FIELDS``) and
    append ``logs``; ``(function_name, memory_size)`` of the row, or ``None`` when it was not running
    (finished already, or requeued)."""
    fields = _fields()
    source, values["status"] = transition(InvocationStatus.RUNNING, values["status"])
    values = {**values, "finished_at": timezone.now()}
    params = [fields[name].get_db_prep_save(values[name], connection) for name in FINISH_FIELDS]
    params += [logs, _pk(invocation_id), source]
    with prepared_cursor() as cursor:
        cursor.execute(_finish_sql(), params)
        found = cursor.fetchone()
    return (found[0], found[1]) if found is not None else None


def row_finish(invocation_id: str, values: dict[str, Any], logs: str) -> bool:
    """``row_finish_returning`` as a yes or no."""
    return row_finish_returning(invocation_id, values, logs) is not None


@cache
def _by_attname() -> dict[str, Any]:
    return {f.attname: f for f in Invocation._meta.concrete_fields}


@cache
def _insert_sql(columns: tuple[str, ...]) -> str:
    table = connection.ops.quote_name(Invocation._meta.db_table)
    names = ", ".join(connection.ops.quote_name(_by_attname()[c].column) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING RETURNING id"


INSERT_DEFAULTS = {"attempt": 1, "retries": 0}


def row_insert_final(values: dict[str, Any]) -> bool:
    """Write a finished synchronous call's row in one statement (invoker/calls.py); ``False`` when a row
    with its id exists already (the first record of a call is the only one)."""
    fields = _by_attname()
    values = {**INSERT_DEFAULTS, **values}
    columns = tuple(sorted(values))
    params = [fields[name].get_db_prep_save(values[name], connection) for name in columns]
    with prepared_cursor() as cursor:
        cursor.execute(_insert_sql(columns), params)
        return cursor.fetchone() is not None


def row_insert(invocation: Invocation) -> Invocation:
    """Write a new invocation (built with ``Invocation(...)``, unsaved) in one statement, as ``objects.create``
    would (``core.rows.row_insert``: every column, ``queued_at``'s ``auto_now_add``, a duplicate id an
    ``IntegrityError``). Half of the ORM's create was compiling the same INSERT again for each asynchronous
    submission (docs/chaos.md); the model has no save signals to send."""
    return core_rows.row_insert(invocation)
