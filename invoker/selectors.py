"""Reads of invocation history, through access checks: the filtered list, one invocation, its lineage."""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from core.errors import NotFound, ValidationFailed
from invoker.models import FINAL_STATUSES, Invocation, InvocationStatus

LIST_FIELDS = ("id", "function_name", "qualifier", "executed_version", "invocation_type", "trigger", "trigger_detail", "status", "queued_at", "started_at",
               "finished_at", "duration_ms", "billed_duration_ms", "memory_size", "max_memory_used_mb", "init_duration_ms", "cold_start", "attempt", "retries", "error", "parent")
CAUSED_MAX = 100
_REQUEST_ID_PREFIX = re.compile(r"^[0-9a-fA-F-]{1,36}$")


def _time(value: str, field: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO-8601 time such as 2026-12-01T10:00:00Z, not {value!r}.", details={"field": field}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def request_id_range(prefix: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The smallest and largest request ids starting with ``prefix`` (hex digits, hyphens optional):
    a prefix is a range of the primary key, so it is found through its index on every backend."""
    if not _REQUEST_ID_PREFIX.match(prefix):
        raise ValidationFailed("request_id must be the start of a request id (hex digits and hyphens).", details={"field": "request_id"})
    digits = prefix.replace("-", "").lower()
    if len(digits) > 32:
        raise ValidationFailed("request_id is longer than a request id.", details={"field": "request_id"})
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def invocation_list(user: AbstractBaseUser | AnonymousUser, *, function: str | None = None, status: str | None = None, trigger: str | None = None, bucket: str | None = None,
                    since: str | None = None, until: str | None = None, request_id: str | None = None) -> QuerySet[Invocation]:
    """Invocations newest first, filtered by function name, status, trigger, bucket, queued time
    (``since`` inclusive, ``until`` exclusive, ISO-8601) and request id prefix."""
    if not user.is_authenticated:
        return Invocation.objects.none()
    queryset = Invocation.objects.only(*LIST_FIELDS)
    if function:
        queryset = queryset.filter(function_name=function)
    if status:
        if status not in InvocationStatus.values:
            raise ValidationFailed(f"status must be one of: {', '.join(InvocationStatus.values)}.", details={"field": "status"})
        queryset = queryset.filter(status=status)
    if trigger:
        queryset = queryset.filter(trigger=trigger)
    if bucket:
        queryset = queryset.filter(trigger_detail__bucket=bucket)
    if since:
        queryset = queryset.filter(queued_at__gte=_time(since, "since"))
    if until:
        queryset = queryset.filter(queued_at__lt=_time(until, "until"))
    if request_id:
        low, high = request_id_range(request_id)
        queryset = queryset.filter(id__gte=low, id__lte=high)
    return queryset.order_by("-queued_at", "-id")


def access_invocation(user: AbstractBaseUser | AnonymousUser, request_id: str) -> Invocation:
    """The invocation with this request id, else ``NotFound`` (also for a malformed id)."""
    try:
        key = uuid.UUID(request_id)
    except ValueError:
        raise NotFound(f"Invocation not found: {request_id}") from None
    invocation = Invocation.objects.filter(pk=key).first() if user.is_authenticated else None
    if invocation is None:
        raise NotFound(f"Invocation not found: {request_id}")
    return invocation


def _link(invocation: Invocation) -> dict[str, Any]:
    return {"request_id": str(invocation.id), "function": invocation.function_name, "status": invocation.status, "trigger": invocation.trigger, "queued_at": invocation.queued_at}


def invocation_lineage(invocation: Invocation) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """What caused ``invocation`` (its parent, ``{"request_id", ...}``; only the id when that row is
    gone) and what it caused (its children, oldest first, at most ``CAUSED_MAX``)."""
    parent = None
    if invocation.parent_id is not None:
        found = Invocation.objects.only("id", "function_name", "status", "trigger", "queued_at").filter(pk=invocation.parent_id).first()
        parent = _link(found) if found else {"request_id": str(invocation.parent_id), "function": None, "status": None, "trigger": None, "queued_at": None}
    children = Invocation.objects.only("id", "function_name", "status", "trigger", "queued_at").filter(parent_id=invocation.pk).order_by("queued_at", "id")[:CAUSED_MAX]
    return parent, [_link(c) for c in children]


def invocation_chain(*, invocation_id: str) -> tuple[str, int]:
    """The chain of invocations ``invocation_id`` belongs to and its depth in it (1: it started the chain).

    An invocation caused by another's write carries ``chain_id``/``chain_depth`` in its trigger detail
    (events/loops.py); any other starts a chain of its own."""
    detail = Invocation.objects.filter(pk=invocation_id).values_list("trigger_detail", flat=True).first() or {}
    return str(detail.get("chain_id") or invocation_id), int(detail.get("chain_depth") or 1)


# -- invocation logs as CloudWatch Logs events (the Logs API's FilterLogEvents / GetLogEvents) -------------
@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # ms since the epoch
    message: str
    stream: str
    event_id: str
    ingestion: int
    position: tuple[str, str, int] = ("", "", 0)  # (started_at, request id, line): where a read resumes at this event


LOG_SCAN_BATCH = 200


def log_group_function(group: str) -> str | None:
    """The function a ``/aws/lambda/NAME`` log group belongs to, or ``None`` for another group."""
    return group[len("/aws/lambda/"):] if group.startswith("/aws/lambda/") and len(group) > len("/aws/lambda/") else None


def log_stream_name(started_at: datetime.datetime, version: str, worker: str) -> str:
    """Lambda's stream naming (``2026/12/01/[$LATEST]<32 hex>``): one stream per day, version and worker."""
    return f"{started_at:%Y/%m/%d}/[{version}]{hashlib.md5(worker.encode(), usedforsecurity=False).hexdigest()}"


def _ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _invocation_events(row: Mapping[str, Any]) -> list[LogEvent]:
    started, finished = row["started_at"], row["finished_at"] or row["started_at"]
    stream = log_stream_name(started, row["executed_version"], row["worker"])
    events = []
    for index, line in enumerate(row["logs"].splitlines()):
        stamp = _ms(finished) if line.startswith(("END RequestId", "REPORT RequestId")) else _ms(started)
        events.append(LogEvent(stamp, line + "\n", stream, f"{row['id'].hex}{index:06d}", _ms(finished), (started.isoformat(), str(row["id"]), index)))
    return events


def log_events(*, function_name: str, start_ms: int | None = None, end_ms: int | None = None, after: tuple[str, str, int] | None = None,
               limit: int = 10_000, streams: list[str] | None = None, stream_prefix: str | None = None,
               matches: Callable[[str], bool] | None = None) -> tuple[list[LogEvent], tuple[str, str, int] | None]:
    """The function's finished invocations' log lines as events, oldest first, from ``after`` (an opaque
    ``(started_at, request id, line)`` position) on; with the position to continue from when ``limit`` is reached.
    ``matches`` keeps only the messages it accepts (the Logs app compiles CloudWatch filter patterns to it)."""
    query: QuerySet[Invocation, Any] = Invocation.objects.filter(function_name=function_name, status__in=FINAL_STATUSES, started_at__isnull=False)
    if start_ms is not None:
        query = query.filter(started_at__gte=datetime.datetime.fromtimestamp(start_ms / 1000, datetime.UTC))
    if end_ms is not None:
        query = query.filter(started_at__lte=datetime.datetime.fromtimestamp(end_ms / 1000, datetime.UTC))
    if after is not None:
        started = datetime.datetime.fromisoformat(after[0])
        query = query.filter(Q(started_at__gt=started) | Q(started_at=started, id__gte=uuid.UUID(after[1])))  # the resumed one again, from its line
    query = query.order_by("started_at", "id").values("id", "started_at", "finished_at", "executed_version", "worker", "logs")
    found: list[LogEvent] = []
    resume_id = uuid.UUID(after[1]) if after is not None else None
    offset = 0
    while True:
        batch = list(query[offset:offset + LOG_SCAN_BATCH])
        for row in batch:
            skip = after[2] if after is not None and row["id"] == resume_id else 0
            for index, event in enumerate(_invocation_events(row)):
                if index < skip:
                    continue
                if (streams and event.stream not in streams) or (stream_prefix and not event.stream.startswith(stream_prefix)) or (matches is not None and not matches(event.message)):
                    continue
                if len(found) == limit:
                    assert row["started_at"] is not None  # filtered on started_at__isnull=False
                    return found, (row["started_at"].isoformat(), str(row["id"]), index)
                found.append(event)
        if len(batch) < LOG_SCAN_BATCH:
            return found, None
        offset += LOG_SCAN_BATCH


def log_streams(*, function_name: str, limit: int = 50) -> list[tuple[str, int, int]]:
    """``(stream name, first event ms, last event ms)`` of the function's recent invocations, newest first."""
    rows = (Invocation.objects.filter(function_name=function_name, status__in=FINAL_STATUSES, started_at__isnull=False)
            .order_by("-started_at").values_list("started_at", "finished_at", "executed_version", "worker")[:5000])
    streams: dict[str, tuple[int, int]] = {}
    for started, finished, version, worker in rows:
        assert started is not None  # filtered on started_at__isnull=False
        name = log_stream_name(started, version, worker)
        first, last = streams.get(name, (_ms(started), _ms(finished or started)))
        streams[name] = (min(first, _ms(started)), max(last, _ms(finished or started)))
    ordered = sorted(streams.items(), key=lambda item: -item[1][1])[:limit]
    return [(name, first, last) for name, (first, last) in ordered]


def log_events_finished(*, function_name: str, after: tuple[datetime.datetime, str] | None, until: datetime.datetime,
                        limit: int = 500) -> tuple[list[LogEvent], tuple[datetime.datetime, str] | None]:
    """The log lines of the function's invocations finished after ``after`` (``(finished_at, request id)``)
    and by ``until``, in finish order, with the checkpoint of the last one read (``None``: none found).

    An asynchronous invocation's row keeps the lines of its earlier attempts; only its last attempt's (after
    the previous attempt's ``REPORT`` line) are returned, as those were returned when that attempt finished."""
    query = Invocation.objects.filter(function_name=function_name, status__in=FINAL_STATUSES, started_at__isnull=False,
                                      finished_at__isnull=False, finished_at__lte=until)
    if after is not None:
        query = query.filter(Q(finished_at__gt=after[0]) | Q(finished_at=after[0], id__gt=uuid.UUID(after[1])))
    rows: list[Mapping[str, Any]] = list(query.order_by("finished_at", "id").values("id", "started_at", "finished_at", "executed_version", "worker", "logs", "attempt")[:limit])
    found: list[LogEvent] = []
    for row in rows:
        events = _invocation_events(row)
        if row["attempt"] > 1:
            reports = [i for i, e in enumerate(events) if e.message.startswith("REPORT RequestId")]
            if len(reports) > 1:
                events = events[reports[-2] + 1:]
        found.extend(events)
    return found, ((rows[-1]["finished_at"], str(rows[-1]["id"])) if rows else None)


def worker_snapshots() -> list[dict[str, Any]]:
    """The live workers' heartbeats (``invoker.worker``): name, sandbox and environments, by name."""
    import json

    from invoker.redis_client import get_redis

    client = get_redis()
    found = []
    for key in client.scan_iter(match="kiln:worker:*", count=100):
        raw = client.get(key)
        if raw:
            found.append(json.loads(raw))
    return sorted(found, key=lambda w: w["name"])


def provisioned_ready(revision_uuid: str, version: str) -> int:
    """How many provisioned environments of ``revision_uuid`` run as ``version`` are initialised on live workers."""
    key = revision_uuid if version == "$LATEST" else f"{revision_uuid}@{version}"
    return sum(1 for worker in worker_snapshots() for env in worker.get("environments", [])
               if env.get("revision") == key and env.get("initialization_type") == "provisioned-concurrency" and env.get("state") in ("ready", "busy"))
