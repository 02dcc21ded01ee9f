"""Selectors for a function page's configuration panels: what triggers it, its URL, concurrency, async settings.

Every event source that points at a function is listed as one ``Trigger`` (kind, what fires it, where to
edit it), so a new source adds rows here and nothing else changes in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from events.models import BucketNotification
from functions.models import Function
from httpapi.models import FunctionUrl, Route


@dataclass(frozen=True)
class Trigger:
    kind: str
    source: str
    detail: str
    edit_url: str
    call_path: str = ""  # an HTTP path the page can call (routes and URLs)
    method: str = ""


def function_triggers(function: Function) -> list[Trigger]:
    triggers: list[Trigger] = []
    for route in Route.objects.filter(function=function).select_related("api").order_by("api__name", "route_key"):
        triggers.append(Trigger(
            kind="HTTP API route", source=f"{route.api.name} ({route.api_id})", detail=f"{route.route_key} · payload {route.payload_format_version}",
            edit_url=reverse("admin:httpapi_httpapi_change", args=[route.api_id]), call_path=f"/gw/{route.api_id}{route.path or '/'}", method=route.method,
        ))
    url = FunctionUrl.objects.filter(function=function).first()
    if url is not None:
        triggers.append(Trigger(kind="Function URL", source=f"/url/{url.url_id}/", detail=f"auth {url.auth_type}",
                                edit_url=reverse("admin:httpapi_functionurl_change", args=[url.url_id]), call_path=f"/url/{url.url_id}/", method="ANY"))
    for notification in BucketNotification.objects.filter(function=function).select_related("bucket").order_by("bucket__name", "position"):
        rules = ", ".join(part for part in (f"prefix {notification.prefix!r}" if notification.prefix else "", f"suffix {notification.suffix!r}" if notification.suffix else "") if part)
        triggers.append(Trigger(
            kind="S3 bucket", source=notification.bucket.name, detail=f"{', '.join(notification.events)}{' · ' + rules if rules else ''} ({notification.config_id})",
            edit_url=reverse("admin:storage_bucket_browse", args=[notification.bucket.name]),
        ))
    return triggers


def function_panels(function: Function) -> dict[str, Any]:
    url = FunctionUrl.objects.filter(function=function).first()
    versions = list(function.versions.select_related("revision").order_by("-version"))
    return {
        "triggers": function_triggers(function),
        "url": url,
        "auth_types": FunctionUrl._meta.get_field("auth_type").choices,
        "versions": versions,
        "aliases": list(function.aliases.order_by("name")),
        "version_choices": ["$LATEST"] + [str(v.version) for v in versions],
        "destinations": [(f.arn, f.name) for f in Function.objects.exclude(pk=function.pk).order_by("name")],
    }
