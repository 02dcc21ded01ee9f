"""The Kiln console: Django's admin site, branded, mounted at ``/console/`` as the default site.

``KilnAdminConfig`` replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` so that every app's
``@admin.register`` (and ``admin.site``) lands on ``KilnAdminSite``. The navigation is regrouped the way
people think about Kiln (``NAVIGATION``) instead of by Django app, and app index pages redirect home: a
Django app here is a unit of code, not something a user looks for. The home page is a dashboard.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

# (app_label, model) in the order of the main navigation; "Workers" is a page of its own, appended.
NAVIGATION = [("functions", "function"), ("functions", "layer"), ("iam", "role"), ("invoker", "invocation"), ("storage", "bucket"), ("tables", "table"),
              ("queues", "queue"), ("topics", "topic"), ("buses", "rule"), ("logs", "loggroup"), ("httpapi", "httpapi")]
NAV_LABELS = {("httpapi", "httpapi"): "HTTP APIs"}
# The console's own pages and the permission each needs (the personas of iam/personas.py hold them).
PAGE_PERMISSIONS = {"environments": "invoker.view_invocation", "usage": "metrics.view_usageday", "policy_simulator": "iam.view_role",
                    "dashboard": "invoker.view_invocation"}


def _require(request: HttpRequest, page: str) -> None:
    if not request.user.has_perm(PAGE_PERMISSIONS[page]):
        raise PermissionDenied


class KilnAdminSite(admin.AdminSite):
    site_header = "Kiln"
    site_title = "Kiln console"
    index_title = "Dashboard"
    enable_nav_sidebar = True
    index_template = "console/index.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from console.forms import ThrottledLoginForm  # forms import the auth models: not at app-loading time

        self.login_form = ThrottledLoginForm
        return super().login(request, extra_context)

    def has_permission(self, request: HttpRequest) -> bool:
        """Signed in and active, and staff or in a persona group (``iam/personas.py``): what each page shows is
        then up to the login's permissions, so a staff login in no group (an outsider) sees nothing."""
        from iam.personas import user_personas

        user = request.user
        return bool(user.is_active and (user.is_staff or user_personas(user)))  # type: ignore[arg-type]

    def get_urls(self) -> list[URLPattern]:
        return [path("environments/", self.admin_view(self.environments_view), name="environments"),
                path("usage/", self.admin_view(self.usage_view), name="usage"),
                path("security-credentials/", self.admin_view(self.security_credentials_view), name="security_credentials"),
                path("policy-simulator/", self.admin_view(self.policy_simulator_view), name="policy_simulator"), *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """Two groups: Kiln's main sections in ``NAVIGATION`` order (plus Workers), then everything else."""
        apps = super().get_app_list(request, app_label)
        if app_label:
            return apps
        models = {(app["app_label"], model["object_name"].lower()): model for app in apps for model in app["models"]}
        main = []
        for key in NAVIGATION:
            if key in models:
                entry = models.pop(key)
                main.append({**entry, "name": NAV_LABELS.get(key, entry["name"])})
        for page, name, object_name in (("environments", "Workers", "Workers"), ("policy_simulator", "Policy simulator", "PolicySimulator"), ("usage", "Usage and cost", "Usage")):
            if request.user.has_perm(PAGE_PERMISSIONS[page]):
                main.append({"name": name, "object_name": object_name, "admin_url": reverse(f"admin:{page}", current_app=self.name), "add_url": None, "view_only": True, "perms": {}})
        groups = [{"name": "Kiln", "app_label": "kiln", "app_url": reverse("admin:index", current_app=self.name), "has_module_perms": True, "models": main}]
        rest = sorted(models.values(), key=lambda m: str(m["name"]))
        if rest:
            groups.append({"name": "More", "app_label": "more", "app_url": reverse("admin:index", current_app=self.name), "has_module_perms": True, "models": rest})
        return groups

    def app_index(self, request: HttpRequest, app_label: str, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """No app index pages: ``/console/<app>/`` leads to the dashboard, where every section is."""
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from console import dashboard
        from console.health import workers

        if not request.user.has_perm(PAGE_PERMISSIONS["dashboard"]):  # an outsider: the page without Kiln's data
            return super().index(request, {"no_access": True, **(extra_context or {})})
        try:
            found, error = workers(), ""
        except Exception as exc:  # noqa: BLE001 - Redis down: the dashboard says so
            found, error = [], str(exc)
        context = {
            "activity": dashboard.activity_last_day(), "failures": dashboard.recent_failures(),
            "busiest": dashboard.busiest_functions(), "workers": found, "workers_error": error,
            **(extra_context or {}),
        }
        return super().index(request, context)

    def usage_view(self, request: HttpRequest) -> HttpResponse:
        """This month's requests, GB-seconds and cost (Lambda's pricing model), drawn from ``/api/v1/usage/``."""
        _require(request, "usage")
        context: dict[str, Any] = {**self.each_context(request), "title": "Usage and cost", "month": request.GET.get("month", "")}
        return TemplateResponse(request, "console/usage.html", context)

    def security_credentials_view(self, request: HttpRequest) -> HttpResponse:
        """The signed-in login's own access keys (``console/credentials.py``): anyone with a persona."""
        from iam.personas import user_personas

        if not user_personas(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        from console.credentials import security_credentials_view

        return security_credentials_view(self, request)

    def policy_simulator_view(self, request: HttpRequest) -> HttpResponse:
        """Principal, action, resource in; IAM's decision and the deciding statement out (``console/simulator.py``)."""
        _require(request, "policy_simulator")
        from console.simulator import policy_simulator_view

        return policy_simulator_view(self, request)

    def environments_view(self, request: HttpRequest) -> HttpResponse:
        """Each worker (from its heartbeat) with its sandbox mode and execution environments."""
        _require(request, "environments")
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
