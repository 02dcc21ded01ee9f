"""The Kiln console: Django's admin site, branded, mounted at ``/console/`` as the default site.

``KilnAdminConfig`` replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` so that every app's
``@admin.register`` (and ``admin.site``) lands on ``KilnAdminSite``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path


class KilnAdminSite(admin.AdminSite):
    site_header = "Kiln"
    site_title = "Kiln console"
    index_title = "Functions, layers, roles and invocations"
    enable_nav_sidebar = True
    index_template = "console/index.html"

    def get_urls(self) -> list[URLPattern]:
        return [path("environments/", self.admin_view(self.environments_view), name="environments"), *super().get_urls()]

    def environments_view(self, request: HttpRequest) -> HttpResponse:
        """Each worker (from its heartbeat) with its sandbox mode and execution environments."""
        from console.health import workers
        from invoker.sandbox import sandbox_status

        try:
            found, error = workers(), ""
        except Exception as exc:  # noqa: BLE001 - Redis down: say so on the page
            found, error = [], str(exc)
        context: dict[str, Any] = {**self.each_context(request), "title": "Workers and execution environments",
                                   "workers": found, "error": error, "sandbox": sandbox_status()}
        return TemplateResponse(request, "console/environments.html", context)


class KilnAdminConfig(AdminConfig):
    default_site = "console.admin_site.KilnAdminSite"
