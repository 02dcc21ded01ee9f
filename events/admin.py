"""Console: bucket notification configurations (also edited on the bucket browser page), and event source
mappings, read-only (written through the Lambda API), with where a stream mapping's partitions stand; and the
panel on a table's page listing the mappings that read its stream."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from events.models import BucketNotification, EventSourceMapping, StreamCheckpoint


@admin.register(BucketNotification)
class BucketNotificationAdmin(admin.ModelAdmin):
    list_display = ["config_id", "bucket", "function", "prefix", "suffix"]
    list_filter = ["bucket"]


class StreamCheckpointInline(admin.TabularInline):
    model = StreamCheckpoint
    fields = ["partition", "partitions", "after", "attempts", "batch_cap", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "stream partition"
    verbose_name_plural = "Stream partitions (the last sequence number done, and the failed attempts of the batch after it)"

    def has_add_permission(self, request: HttpRequest, obj: EventSourceMapping | None = None) -> bool:
        return False


@admin.register(EventSourceMapping)
class EventSourceMappingAdmin(admin.ModelAdmin):
    list_display = ["uuid", "function", "kind", "event_source_arn", "state", "batch_size", "last_processing_result", "last_modified"]
    list_filter = ["kind", "state"]
    search_fields = ["event_source_arn", "function__name"]
    fields = ["uuid", "function", "qualifier", "kind", "event_source_arn", "state", "state_reason", "enabled", "batch_size", "batching_window_s",
              "starting_position", "filter_criteria", "function_response_types", "options", "last_processing_result", "last_modified"]
    readonly_fields = fields
    inlines = [StreamCheckpointInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventSourceMapping]:
        return super().get_queryset(request).select_related("function")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EventSourceMapping | None = None) -> bool:
        return False


def table_stream_mappings(table: Any) -> str:
    """A table page's panel (tables.admin): the mappings reading the table's current stream."""
    from tables.selectors import stream_arn

    if not table.stream_label:
        return ""
    rows = EventSourceMapping.objects.filter(event_source_arn=stream_arn(table)).select_related("function")
    return format_html_join("", "<div class='stream-mapping'>{} → {} ({}, batch {}, {})</div>",
                            ((str(m.uuid), m.function.name, m.state, m.batch_size, m.last_processing_result) for m in rows))
