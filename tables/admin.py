"""Console: the Tables page (keys, indexes, item counts, stream status), a table's detail with a page of items, and
its item browser (``tables/console.py``: scan, query and filter, PartiQL; create, edit and delete items)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from core.errors import KilnError
from tables import console
from tables.models import Item, StreamRecord, Table
from tables.selectors import table_arn

ITEMS_SHOWN = 50
RECORDS_SHOWN = 20
# What apps above this one show on a table's page (events: the mappings reading its stream), from their ready().
TABLE_PANELS: list[Callable[[Table], str]] = []


def table_panel_register(render: Callable[[Table], str]) -> None:
    if render not in TABLE_PANELS:
        TABLE_PANELS.append(render)


@admin.register(Table)
class TableAdmin(admin.ModelAdmin):
    list_display = ["name", "keys", "indexes", "item_count", "stream", "billing_mode", "status", "created_at"]
    search_fields = ["name"]
    list_filter = ["billing_mode", "stream_enabled"]
    fields = ["name", "arn", "status", "keys", "attribute_definitions", "billing_mode", "provisioned_throughput", "global_indexes",
              "local_indexes", "stream", "ttl", "table_class", "deletion_protection", "tags", "created_at", "updated_at", "browse", "items_page",
              "stream_records", "mappings"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Table]:
        return super().get_queryset(request).annotate(n_items=Count("items"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Table | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [path("<path:object_id>/items/", self.admin_site.admin_view(self.items_view), name="tables_table_items"), *super().get_urls()]

    @admin.display(description="Item browser")
    def browse(self, obj: Table) -> str:
        return format_html("<a class='button' id='browse-items' href='{}'>Scan, query and edit items</a>", reverse("admin:tables_table_items", args=[obj.pk]))

    def items_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Scan or query with a filter, or a PartiQL SELECT: a page of items; POST puts (create or edit) or deletes one item,
        or runs a PartiQL statement (a SELECT is sent on to the search, a write needs the right to change the table)."""
        table = get_object_or_404(Table, pk=object_id)
        if not self.has_view_permission(request, table):
            return HttpResponseRedirect(reverse("admin:index"))
        can_write = request.user.is_superuser or request.user.has_perm("tables.change_table")
        form = "dynamodb" if (request.POST.get("format") or request.GET.get("format")) == "dynamodb" else "plain"
        editor_text, error = "", ""
        if request.method == "POST" and request.POST.get("action") == "statement":
            statement = request.POST.get("statement", "")
            try:
                returned = console.statement_submit(table, statement, may_write=can_write)
                if returned is None:  # a SELECT is a search: its pages are links
                    return HttpResponseRedirect(f"{request.path}?{urlencode({'mode': 'partiql', 'statement': statement, 'format': form})}")
                messages.success(request, "Statement ran." + (f" It returned: {json.dumps(returned)}" if returned else ""))
                return HttpResponseRedirect(f"{request.path}?{urlencode({'statement': statement, 'format': form})}")
            except KilnError as failure:
                error = f"{failure.code}: {failure.message}"
        elif request.method == "POST" and can_write:
            try:
                if request.POST.get("action") == "delete":
                    console.item_remove(table, request.POST.get("key", ""))
                    messages.success(request, "Item deleted.")
                else:
                    console.item_save(table, request.POST.get("item", ""), form)
                    messages.success(request, "Item saved.")
                return HttpResponseRedirect(request.get_full_path())
            except KilnError as failure:
                error, editor_text = f"{failure.code}: {failure.message}", request.POST.get("item", "")
        search = console.Search.of(request.POST if request.POST.get("action") == "statement" else request.GET)
        try:
            page = console.search_run(table, search)
        except KilnError as failure:
            page, error = {"Items": [], "next": "", "Count": 0, "ScannedCount": 0}, error or f"{failure.code}: {failure.message}"
        base = {k: v for k, v in request.GET.items() if k not in ("start", "edit", "format")}
        rows = []
        for item in page["Items"]:
            key = console.key_of(table, item)
            text = console.plain(item) if form == "plain" else json.dumps(item, sort_keys=True, indent=1)
            whole = len(key) == len(table.key_schema)  # a SELECT's item may be a projection without its key
            edit_query = urlencode({**base, "format": form, "edit": json.dumps(key)})
            if search.mode == "partiql":  # edited as the table holds it, found by its key
                hash_value = next(iter(key[table.key_schema[0]["AttributeName"]].values())) if whole else ""
                edit_query = urlencode({"mode": "query", "hash": hash_value, "format": form, "edit": json.dumps(key)}) if whole else ""
            rows.append({"text": text, "key": json.dumps(key) if whole else "", "edit_query": edit_query})
            if request.GET.get("edit") == json.dumps(key) and not editor_text:
                editor_text = text
        keys = {e["KeyType"]: e["AttributeName"] for e in table.key_schema}
        context = {**self.admin_site.each_context(request), "title": f"Items of {table.name}", "table": table, "search": search, "page": page,
                   "rows": rows, "form": form, "error": error, "editor_text": editor_text, "editing": bool(request.GET.get("edit")), "can_write": can_write,
                   "statement": search.statement or f'SELECT * FROM "{table.name}"', "hash_name": keys.get("HASH"), "range_name": keys.get("RANGE"), "range_operators": list(console.RANGE_OPERATORS),
                   "filter_operators": console.FILTER_OPERATORS, "next_query": urlencode({**base, "format": form, "start": page["next"]}),
                   "plain_query": urlencode({**base, "format": "plain"}), "dynamodb_query": urlencode({**base, "format": "dynamodb"})}
        return TemplateResponse(request, "tables/items.html", context)

    @admin.display(description=f"Stream's recent records (newest {RECORDS_SHOWN})")
    def stream_records(self, obj: Table) -> str:
        records = list(StreamRecord.objects.filter(table=obj, stream_label=obj.stream_label).order_by("-sequence")[:RECORDS_SHOWN])
        if not records:
            return "-"
        return format_html_join("", "<div class='stream-record'><code>{}</code> {} <code>{}</code></div>",
                                ((str(r.sequence).zfill(21), r.event_name, json.dumps(r.keys, sort_keys=True)) for r in records))

    @admin.display(description="Event source mappings reading the stream")
    def mappings(self, obj: Table) -> str:
        return format_html_join("", "{}", ((render(obj),) for render in TABLE_PANELS)) or "-"

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
                table.items_page_number = max(1, int(request.GET.get("items", "1")))
            except ValueError:
                table.items_page_number = 1
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
