"""Reads of CloudWatch Logs: groups (user groups and one per function), streams, events, subscription filters.

A function's group ``/aws/lambda/<fn>`` reads the function's invocation logs (``invoker.selectors``) merged
by timestamp with the ``LogEvent`` rows users wrote into streams of it; a user group reads its rows only.
Paging positions are plain values (the adapter turns them into tokens): a group's name, a stream's
name or last-event time, and for events the pair ``(history position, (timestamp, id) of the last row)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, Sum

from functions.models import Function
from invoker.selectors import LogEvent as HistoryEvent
from invoker.selectors import log_events, log_streams
from logs import limits
from logs.errors import invalid, no_group, no_stream
from logs.models import LAMBDA_PREFIX, LogEvent, LogGroup, LogStream, SubscriptionFilter
from logs.patterns import Matcher, PatternError, compile_pattern


@dataclass(frozen=True)
class GroupView:
    name: str
    created_ms: int
    retention_in_days: int | None
    stored_bytes: int
    kms_key_id: str
    log_group_class: str
    row: LogGroup | None


@dataclass(frozen=True)
class StreamView:
    name: str
    created_ms: int
    first_ms: int | None
    last_ms: int | None
    ingestion_ms: int | None
    stored_bytes: int
    sequence_token: str


@dataclass(frozen=True)
class EventView:
    stream: str
    timestamp: int
    message: str
    ingestion: int
    event_id: str


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def group_lookup(name: str) -> tuple[LogGroup | None, str | None]:
    """The group's row (if any) and its function (for an existing function's group); ``ResourceNotFoundException`` if neither."""
    row = LogGroup.objects.filter(name=name).first()
    function = name[len(LAMBDA_PREFIX):] if name.startswith(LAMBDA_PREFIX) and len(name) > len(LAMBDA_PREFIX) else None
    if function is not None and not Function.objects.filter(name=function).exists():
        function = None
    if row is None and function is None:
        raise no_group()
    return row, function


def groups_list(*, prefix: str = "", pattern: str = "", after: str = "", limit: int = limits.DESCRIBE_LIMIT_MAX) -> tuple[list[GroupView], str | None]:
    """Groups by name after ``after``: the rows and each function's group; with the name to continue after."""
    rows = LogGroup.objects.filter(name__startswith=prefix, name__gt=after).annotate(stored=Sum("streams__stored_bytes")).order_by("name")
    if pattern:
        rows = rows.filter(name__icontains=pattern)
    found: dict[str, GroupView] = {}
    for row in rows[:limit + 1]:
        found[row.name] = GroupView(row.name, _ms(row.created_at), row.retention_in_days, row.stored or 0, row.kms_key_id, row.log_group_class, row)
    candidates = {LAMBDA_PREFIX + name: created for name, created in Function.objects.values_list("name", "created_at")}
    candidates = {name: created for name, created in candidates.items()
                  if name not in found and name.startswith(prefix) and name > after and (not pattern or pattern.lower() in name.lower())}
    rowed = set(LogGroup.objects.filter(name__in=list(candidates)).values_list("name", flat=True))  # rows after this page's rows
    for name, created in candidates.items():
        if name not in rowed:
            found[name] = GroupView(name, _ms(created), None, 0, "", "STANDARD", None)
    ordered = sorted(found.values(), key=lambda g: g.name)
    return ordered[:limit], (ordered[limit - 1].name if len(ordered) > limit else None)


def streams_list(*, group_name: str, prefix: str = "", order_by: str = "LogStreamName", descending: bool = False, offset: int = 0,
                 limit: int = limits.DESCRIBE_LIMIT_MAX) -> tuple[list[StreamView], int | None]:
    """The group's streams (its rows and, for a function's group, the invocation-history streams), with the offset of the next page."""
    row, function = group_lookup(group_name)
    streams: dict[str, StreamView] = {}
    if function is not None:
        for name, first, last in log_streams(function_name=function, limit=5000):
            streams[name] = StreamView(name, first, first, last, last, 0, "")
    if row is not None:
        for stream in LogStream.objects.filter(group=row):
            streams[stream.name] = StreamView(stream.name, _ms(stream.created_at), stream.first_event_timestamp, stream.last_event_timestamp,
                                              stream.last_ingestion_time, stream.stored_bytes, stream.upload_sequence_token)
    chosen = [s for s in streams.values() if s.name.startswith(prefix)]
    if order_by == "LastEventTime":
        chosen.sort(key=lambda s: (s.last_ms or 0, s.name), reverse=descending)
    else:
        chosen.sort(key=lambda s: s.name, reverse=descending)
    page = chosen[offset:offset + limit]
    return page, (offset + limit if len(chosen) > offset + limit else None)


def _retained_from(row: LogGroup | None, start_ms: int | None) -> int | None:
    """The earliest timestamp the group's retention still shows (the beat purges older events hourly)."""
    if row is None or not row.retention_in_days:
        return start_ms
    cut = int(time.time() * 1000) - row.retention_in_days * 86_400_000
    return cut if start_ms is None else max(start_ms, cut)


def _history_view(event: HistoryEvent) -> EventView:
    return EventView(event.stream, event.timestamp, event.message, event.ingestion, event.event_id)


def _row_view(event: LogEvent, stream: str) -> EventView:
    return EventView(stream, event.timestamp, event.message, event.ingestion_time, event.event_id)


HistoryPosition = tuple[str, str, int] | None
RowPosition = tuple[int, int] | None


def events_filter(*, group_name: str, start_ms: int | None = None, end_ms: int | None = None, streams: list[str] | None = None,
                  stream_prefix: str | None = None, matches: Matcher | None = None, limit: int = limits.EVENTS_LIMIT_MAX,
                  history_after: HistoryPosition = None, history_done: bool = False, row_after: RowPosition = None
                  ) -> tuple[list[EventView], tuple[HistoryPosition, bool, RowPosition] | None]:
    """FilterLogEvents: the group's events by timestamp, invocation lines and written rows interleaved; with
    ``(history position, history done, last row)`` to continue from, or ``None`` at the end."""
    row, function = group_lookup(group_name)
    start_ms = _retained_from(row, start_ms)
    history: list[HistoryEvent] = []
    history_next: HistoryPosition = None
    if function is not None and not history_done:
        history, history_next = log_events(function_name=function, start_ms=start_ms, end_ms=end_ms, after=history_after, limit=limit,
                                           streams=streams, stream_prefix=stream_prefix, matches=matches)
    rows: list[tuple[LogEvent, str]] = []
    rows_more = False
    if row is not None:
        query = LogEvent.objects.filter(group=row).select_related("stream")
        if start_ms is not None:
            query = query.filter(timestamp__gte=start_ms)
        if end_ms is not None:
            query = query.filter(timestamp__lte=end_ms)
        if streams:
            query = query.filter(stream__name__in=streams)
        if stream_prefix:
            query = query.filter(stream__name__startswith=stream_prefix)
        if row_after is not None:
            query = query.filter(Q(timestamp__gt=row_after[0]) | Q(timestamp=row_after[0], id__gt=row_after[1]))
        for event in query.order_by("timestamp", "id").iterator(chunk_size=1000):
            if matches is None or matches(event.message):
                if len(rows) == limit:
                    rows_more = True
                    break
                rows.append((event, event.stream.name))
    # Merge by timestamp, taking at most ``limit``.
    merged: list[EventView] = []
    h = r = 0
    last_row: RowPosition = row_after
    while len(merged) < limit and (h < len(history) or r < len(rows)):
        if r >= len(rows) or (h < len(history) and history[h].timestamp <= rows[r][0].timestamp):
            merged.append(_history_view(history[h]))
            h += 1
        else:
            merged.append(_row_view(*rows[r]))
            last_row = (rows[r][0].timestamp, rows[r][0].pk)
            r += 1
    done = function is None or history_done or (h == len(history) and history_next is None)
    if done and r == len(rows) and not rows_more:
        return merged, None
    return merged, (history[h].position if h < len(history) else history_next, done, last_row)


def stream_events(*, group_name: str, stream_name: str, start_ms: int | None, end_ms: int | None, limit: int, from_head: bool,
                  after: RowPosition = None, before: RowPosition = None) -> list[EventView]:
    """GetLogEvents on a written stream: events after ``after`` (oldest first) or before ``before`` (the
    newest ones before it), or without either the first (``from_head``) or last ``limit`` of the range."""
    row, _function = group_lookup(group_name)
    stream = LogStream.objects.filter(group=row, name=stream_name).first() if row is not None else None
    if stream is None:
        raise no_stream()
    query = LogEvent.objects.filter(stream=stream)
    start_ms = _retained_from(row, start_ms)
    if start_ms is not None:
        query = query.filter(timestamp__gte=start_ms)
    if end_ms is not None:
        query = query.filter(timestamp__lt=end_ms)
    if after is not None:
        return [_row_view(e, stream.name) for e in query.filter(Q(timestamp__gt=after[0]) | Q(timestamp=after[0], id__gt=after[1])).order_by("timestamp", "id")[:limit]]
    if before is not None:
        query = query.filter(Q(timestamp__lt=before[0]) | Q(timestamp=before[0], id__lt=before[1]))
        return [_row_view(e, stream.name) for e in reversed(query.order_by("-timestamp", "-id")[:limit])]
    if from_head:
        return [_row_view(e, stream.name) for e in query.order_by("timestamp", "id")[:limit]]
    return [_row_view(e, stream.name) for e in reversed(query.order_by("-timestamp", "-id")[:limit])]


def history_stream_events(*, group_name: str, stream_name: str, start_ms: int | None, end_ms: int | None, limit: int,
                          after: HistoryPosition) -> tuple[list[HistoryEvent], HistoryPosition]:
    """GetLogEvents on an invocation-history stream of a function's group, forward from ``after``."""
    row, function = group_lookup(group_name)
    if function is None:
        raise no_stream()
    return log_events(function_name=function, start_ms=_retained_from(row, start_ms), end_ms=end_ms, after=after, limit=limit, streams=[stream_name])


def stream_is_written(group_name: str, stream_name: str) -> bool:
    """Whether the stream is a ``LogStream`` row (else, in a function's group, an invocation-history stream)."""
    return LogStream.objects.filter(group__name=group_name, name=stream_name).exists()


def filters_list(*, group_name: str, prefix: str = "", offset: int = 0, limit: int = limits.DESCRIBE_LIMIT_MAX) -> tuple[list[SubscriptionFilter], int | None]:
    row, _function = group_lookup(group_name)
    if row is None:
        return [], None
    found = list(SubscriptionFilter.objects.filter(group=row, filter_name__startswith=prefix).order_by("filter_name")[offset:offset + limit + 1])
    return found[:limit], (offset + limit if len(found) > limit else None)


def pattern_matcher(pattern: str | None) -> Matcher | None:
    """``None`` for no pattern (every event), else the compiled pattern (``InvalidParameterException`` when it does not parse)."""
    if not pattern or not pattern.strip():
        return None
    try:
        return compile_pattern(pattern)
    except PatternError as error:
        raise invalid(str(error)) from None
