"""Console: the Tables page (keys, indexes, item counts, stream status) and a read-only table detail with a page of items."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from tables.models import Item, Table
from tables.selectors import table_arn

ITEMS_SHOWN = 50


@admin.register(Table)
class TableAdmin(admin.ModelAdmin):
    list_display = ["name", "keys", "indexes", "item_count", "stream", "billing_mode", "status", "created_at"]
    search_fields = ["name"]
    list_filter = ["billing_mode", "stream_enabled"]
    fields = ["name", "arn", "status", "keys", "attribute_definitions", "billing_mode", "provisioned_throughput", "global_indexes",
              "local_indexes", "stream", "ttl", "table_class", "deletion_protection", "tags", "created_at", "updated_at", "items_page"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Table]:
        return super().get_queryset(request).annotate(n_items=Count("items"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Table | None = None) -> bool:
        return False

    @admin.display(description="ARN")
    def arn(self, obj: Table) -> str:
        return table_arn(obj)

    @admin.display(description="Keys")
    def keys(self, obj: Table) -> str:
        types = {d["AttributeName"]: d["AttributeType"] for d in obj.attribute_definitions}
        return ", ".join(f"{e['AttributeName']} ({types.get(e['AttributeName'], '?')}, {e['KeyType']})" for e in obj.key_schema)

    @admin.display(description="Indexes")
    def indexes(self, obj: Table) -> str:
        names = [f"{i['IndexName']} (GSI)" for i in obj.global_indexes] + [f"{i['IndexName']} (LSI)" for i in obj.local_indexes]
        return ", ".join(names) or "-"

    @admin.display(description="Items", ordering="n_items")
    def item_count(self, obj: Table) -> int:
        return getattr(obj, "n_items", None) or obj.items.count()

    @admin.display(description="Stream")
    def stream(self, obj: Table) -> str:
        return f"{obj.stream_view_type} ({obj.stream_label})" if obj.stream_enabled else "off"

    @admin.display(description="Time to live")
    def ttl(self, obj: Table) -> str:
        return f"on ({obj.ttl_attribute})" if obj.ttl_enabled else "off"

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Table | None:
        table = super().get_object(request, object_id, from_field)
        if table is not None:
            try:
                table.items_page_number = max(1, int(request.GET.get("items", "1")))  # type: ignore[attr-defined]
            except ValueError:
                table.items_page_number = 1  # type: ignore[attr-defined]
        return table

    @admin.display(description=f"Items ({ITEMS_SHOWN} a page, in key order)")
    def items_page(self, obj: Table) -> str:
        number = getattr(obj, "items_page_number", 1)
        start = (number - 1) * ITEMS_SHOWN
        rows = list(Item.objects.filter(table=obj).order_by("hash_key", "range_key").values_list("data", flat=True)[start:start + ITEMS_SHOWN + 1])
        if not rows:
            return "-"
        links = []
        if number > 1:
            links.append(format_html("<a href='?items={}'>previous page</a>", number - 1))
        if len(rows) > ITEMS_SHOWN:
            links.append(format_html("<a href='?items={}'>next page</a>", number + 1))
        shown = format_html_join("", "<pre style='margin:0 0 6px'>{}</pre>", ((json.dumps(r, sort_keys=True),) for r in rows[:ITEMS_SHOWN]))
        return format_html("<div>{}<p>Page {} {}</p></div>", shown, number, format_html_join(" · ", "{}", ((link,) for link in links)))
