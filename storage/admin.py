"""Console: buckets list and the bucket browser (folders, drag-and-drop upload with progress, details)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from storage.models import Bucket, Object


@admin.register(Bucket)
class BucketAdmin(admin.ModelAdmin):
    list_display = ["name", "browse_link", "object_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bucket]:
        return super().get_queryset(request).annotate(objects_in=Count("contents"))  # one query for the page, not one per bucket

    @admin.display(description="Objects", ordering="objects_in")
    def object_count(self, obj: Bucket) -> int:
        return obj.objects_in if hasattr(obj, "objects_in") else obj.contents.count()

    @admin.display(description="Browse")
    def browse_link(self, obj: Bucket) -> str:
        return format_html('<a href="{}">Browse</a>', reverse("admin:storage_bucket_browse", args=[obj.name]))

    def get_urls(self) -> list[URLPattern]:
        extra = [path("browse/<str:name>/", self.admin_site.admin_view(self.browse_view), name="storage_bucket_browse")]
        return extra + super().get_urls()

    def browse_view(self, request: HttpRequest, name: str) -> HttpResponse:
        bucket = get_object_or_404(Bucket, name=name)
        if not self.has_view_permission(request, bucket):
            raise PermissionDenied
        context: dict[str, Any] = {**self.admin_site.each_context(request), "title": f"Bucket {bucket.name}", "bucket": bucket, "opts": self.model._meta}
        return TemplateResponse(request, "storage/browse.html", context)


@admin.register(Object)
class ObjectAdmin(admin.ModelAdmin):
    list_display = ["key", "bucket", "size", "content_type", "last_modified"]
    list_filter = ["bucket"]
    search_fields = ["key"]
    readonly_fields = ["bucket", "key", "size", "etag", "content_type", "metadata", "blob", "sequencer", "last_modified"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
