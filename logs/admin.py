"""Console: log groups (read-only) with their streams, subscription filters and most recent written events."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from logs.models import LogEvent, LogGroup, LogStream

RECENT_EVENTS = 50


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False



def _when(milliseconds: int | None) -> str:
    """An event time (epoch milliseconds) as people read it, in UTC."""
    if milliseconds is None:
        return "-"
    return datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"

@admin.register(LogGroup)
class LogGroupAdmin(_ReadOnly):
    list_display = ["name", "retention_in_days", "n_streams", "n_filters", "created_at"]
    search_fields = ["name"]
    fields = ["name", "arn", "retention_in_days", "kms_key_id", "log_group_class", "tags", "created_at", "streams_table", "filters_table", "recent_events"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[LogGroup]:
        return super().get_queryset(request).annotate(streams_n=Count("streams", distinct=True), filters_n=Count("subscription_filters", distinct=True))

    @admin.display(description="Streams", ordering="streams_n")
    def n_streams(self, obj: LogGroup) -> int:
        return obj.streams_n  # type: ignore[attr-defined]

    @admin.display(description="Subscription filters", ordering="filters_n")
    def n_filters(self, obj: LogGroup) -> int:
        return obj.filters_n  # type: ignore[attr-defined]

    @admin.display(description="Streams")
    def streams_table(self, obj: LogGroup) -> str:
        rows = obj.streams.order_by("-last_event_timestamp")[:100]
        return format_html_join("", "<div><code>{}</code> · last event {} · {} bytes</div>", ((s.name, _when(s.last_event_timestamp), s.stored_bytes) for s in rows)) or "-"

    @admin.display(description="Subscription filters")
    def filters_table(self, obj: LogGroup) -> str:
        return format_html_join("", "<div>{} → <code>{}</code> pattern <code>{}</code></div>",
                                ((f.filter_name, f.destination_arn, f.filter_pattern or "(all)") for f in obj.subscription_filters.all())) or "-"

    @admin.display(description="Recent events (written; a function's invocation logs are on its invocations)")
    def recent_events(self, obj: LogGroup) -> str:
        events = LogEvent.objects.filter(group=obj).select_related("stream").order_by("-timestamp", "-id")[:RECENT_EVENTS]
        return format_html_join("", "<div><code>{}</code> {} <pre style='display:inline'>{}</pre></div>",
                                ((_when(e.timestamp), e.stream.name, e.message[:500]) for e in events)) or "-"


@admin.register(LogStream)
class LogStreamAdmin(_ReadOnly):
    list_display = ["name", "group", "first_event_timestamp", "last_event_timestamp", "stored_bytes"]
    search_fields = ["name", "group__name"]
    list_select_related = ["group"]
    fields = ["group", "name", "created_at", "first_event_timestamp", "last_event_timestamp", "last_ingestion_time", "stored_bytes", "recent_events"]
    readonly_fields = fields

    @admin.display(description="Recent events")
    def recent_events(self, obj: LogStream) -> str:
        events = obj.events.order_by("-timestamp", "-id")[:RECENT_EVENTS]
        return format_html_join("", "<div><code>{}</code> <pre style='display:inline'>{}</pre></div>", ((_when(e.timestamp), e.message[:500]) for e in events)) or "-"
