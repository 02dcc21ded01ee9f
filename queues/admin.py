"""Console: the Queues page (message counts per queue) and a read-only queue detail with its recent messages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from queues.models import Message, Queue
from queues.selectors import messages_recent, queue_counts

RECENT_MESSAGES = 50


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "fifo", "visible", "in_flight", "delayed", "visibility_timeout", "dead_letter", "created_at"]
    search_fields = ["name"]
    list_filter = ["fifo"]
    fields = ["name", "arn", "fifo", "counts", "visibility_timeout", "message_retention_period", "maximum_message_size", "delay_seconds",
              "receive_wait_time_seconds", "content_based_deduplication", "redrive_policy", "tags", "created_at", "updated_at", "recent_messages"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Queue]:
        now = timezone.now()
        return super().get_queryset(request).annotate(
            n_visible=Count("messages", filter=Q(messages__visible_at__lte=now)),
            n_in_flight=Count("messages", filter=Q(messages__visible_at__gt=now, messages__receive_count__gt=0)),
            n_delayed=Count("messages", filter=Q(messages__visible_at__gt=now, messages__receive_count=0)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Queue | None = None) -> bool:
        return False

    @admin.display(description="Messages available", ordering="n_visible")
    def visible(self, obj: Queue) -> int:
        return obj.n_visible  # type: ignore[attr-defined]

    @admin.display(description="In flight", ordering="n_in_flight")
    def in_flight(self, obj: Queue) -> int:
        return obj.n_in_flight  # type: ignore[attr-defined]

    @admin.display(description="Delayed", ordering="n_delayed")
    def delayed(self, obj: Queue) -> int:
        return obj.n_delayed  # type: ignore[attr-defined]

    @admin.display(description="Dead-letter queue")
    def dead_letter(self, obj: Queue) -> str:
        return (obj.redrive_policy or {}).get("deadLetterTargetArn", "").rsplit(":", 1)[-1] or "-"

    @admin.display(description="ARN")
    def arn(self, obj: Queue) -> str:
        return obj.arn

    @admin.display(description="Messages")
    def counts(self, obj: Queue) -> str:
        counts = queue_counts(obj)
        return f"{counts['visible']} available, {counts['not_visible']} in flight, {counts['delayed']} delayed"

    @admin.display(description="Recent messages")
    def recent_messages(self, obj: Queue) -> str:
        rows = messages_recent(obj, limit=RECENT_MESSAGES)
        if not rows:
            return "No messages."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                                ((m.message_id, m.sent_at.strftime("%Y-%m-%d %H:%M:%S"), m.receive_count, m.group_id or "-", m.size,
                                  m.body[:200] + ("…" if len(m.body) > 200 else "")) for m in rows))
        link = reverse("admin:queues_message_changelist") + f"?queue__id__exact={obj.pk}"
        return format_html('<table><thead><tr><th>Message id</th><th>Sent</th><th>Receives</th><th>Group</th><th>Bytes</th><th>Body</th></tr></thead>'
                           '<tbody>{}</tbody></table><p><a href="{}">All messages</a></p>', body, link)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "queue", "sent_at", "receive_count", "visible_at", "group_id", "size"]
    list_filter = ["queue"]
    list_select_related = ["queue"]
    search_fields = ["message_id", "body"]
    readonly_fields = ["queue", "message_id", "body", "body_md5", "attributes", "attributes_md5", "system_attributes", "sender_id", "sent_at", "visible_at",
                       "receive_count", "first_received_at", "group_id", "deduplication_id", "size"]
    exclude = ["receipt_token", "system_attributes_md5"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False
