"""Console: the Topics page (subscriptions inline) and the deliveries, read-only as the queues' pages are."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from topics.models import Delivery, Subscription, Topic
from topics.selectors import deliveries_recent

RECENT_DELIVERIES = 50


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SubscriptionInline(_ReadOnly, admin.TabularInline):
    model = Subscription
    fields = ["protocol", "endpoint", "confirmed", "raw_message_delivery", "filter_policy", "filter_policy_scope", "redrive_policy", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = False


@admin.register(Topic)
class TopicAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["name", "fifo", "confirmed", "pending", "display_name", "created_at"]
    search_fields = ["name"]
    list_filter = ["fifo"]
    fields = ["name", "arn", "fifo", "content_based_deduplication", "display_name", "delivery_policy", "extra_attributes", "tags",
              "subscriptions_deleted", "created_at", "recent_deliveries"]
    readonly_fields = fields
    inlines = [SubscriptionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(n_confirmed=Count("subscriptions", filter=Q(subscriptions__confirmed=True)),
                                                      n_pending=Count("subscriptions", filter=Q(subscriptions__confirmed=False)))

    @admin.display(description="Subscriptions", ordering="n_confirmed")
    def confirmed(self, obj: Topic) -> int:
        return obj.n_confirmed  # type: ignore[attr-defined]

    @admin.display(description="Pending", ordering="n_pending")
    def pending(self, obj: Topic) -> int:
        return obj.n_pending  # type: ignore[attr-defined]

    @admin.display(description="ARN")
    def arn(self, obj: Topic) -> str:
        return obj.arn

    @admin.display(description="Recent deliveries")
    def recent_deliveries(self, obj: Topic) -> str:
        rows = deliveries_recent(obj, limit=RECENT_DELIVERIES)
        if not rows:
            return "No deliveries."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((d.message.message_id if d.message else d.kind, f"{d.subscription.protocol}:{d.subscription.endpoint}", d.status,
                                  d.attempts, d.created_at.strftime("%Y-%m-%d %H:%M:%S"), d.last_error[:200] or "-") for d in rows))
        return format_html("<table><thead><tr><th>Message</th><th>Subscription</th><th>Status</th><th>Attempts</th><th>Published</th><th>Last error</th></tr></thead>"
                           "<tbody>{}</tbody></table>", body)


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["id", "kind", "subscription", "message", "status", "attempts", "next_attempt_at", "finished_at"]
    list_filter = ["status", "kind", "subscription__protocol"]
    list_select_related = ["subscription", "message"]
    search_fields = ["message__message_id", "subscription__endpoint"]
    readonly_fields = ["subscription", "message", "kind", "group_id", "status", "attempts", "next_attempt_at", "claimed_at", "finished_at", "last_error", "created_at"]
