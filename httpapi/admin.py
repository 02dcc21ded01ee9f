"""Console pages for HTTP APIs (with stages and routes, a function picker for each route, each route's
full URL and a button to call it) and for function URLs. Saves go through ``httpapi.services`` rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from core.errors import KilnError
from httpapi import services
from httpapi.cors_form import CORS_FIELDS, CorsFormMixin
from httpapi.models import DEFAULT_STAGE, FunctionUrl, HttpApi, Route, Stage


def call_widget(path: str, method: str = "GET") -> str:
    return format_html(
        # A <div>: the admin wraps read-only values in <p>, which the parser would close before the <pre>.
        '<div class="kiln-call-box"><a class="kiln-invoke-url" data-path="{}" href="{}">{}</a> '
        '<button type="button" class="button kiln-call" data-path="{}" data-method="{}">Call</button>'
        '<pre class="kiln-call-out" style="white-space:pre-wrap;max-height:20em;overflow:auto;margin:4px 0 0"></pre></div>',
        path, path, path, path, method,
    )


class RouteForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = ["route_key", "function", "payload_format_version"]
        help_texts = {"route_key": 'e.g. "GET /users/{id}", "ANY /files/{proxy+}" or "$default"'}

    def clean_route_key(self) -> str:
        try:
            method, path = services.route_key_parse(self.cleaned_data.get("route_key"))
        except KilnError as exc:
            raise forms.ValidationError(exc.message) from None
        self.instance.method, self.instance.path = method, path
        return f"{method} {path}" if method else "$default"


class RouteInline(admin.TabularInline):
    model = Route
    form = RouteForm
    extra = 1
    fields = ["route_key", "function", "payload_format_version", "invoke"]
    readonly_fields = ["invoke"]
    autocomplete_fields = []

    @admin.display(description="URL ($default stage) — call it")
    def invoke(self, obj: Route) -> str:
        if not obj.pk:
            return "—"
        return call_widget(f"/gw/{obj.api_id}{obj.path or '/'}", obj.method)


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "variables"]

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name")
        if name != DEFAULT_STAGE and not services._STAGE_NAME.match(name or ""):
            raise forms.ValidationError("Use $default or 1-128 letters, digits, '-' or '_'.")
        return name or ""


class StageInline(admin.TabularInline):
    model = Stage
    form = StageForm
    extra = 0
    fields = ["name", "variables", "base_url"]
    readonly_fields = ["base_url"]

    @admin.display(description="Base URL")
    def base_url(self, obj: Stage) -> str:
        if not obj.pk:
            return "—"
        prefix = "" if obj.name == DEFAULT_STAGE else f"/{obj.name}"
        return format_html('<a class="kiln-invoke-url" data-path="{}" href="{}">{}</a>', f"/gw/{obj.api_id}{prefix}/", f"/gw/{obj.api_id}{prefix}/", f"/gw/{obj.api_id}{prefix}/")


class HttpApiForm(CorsFormMixin):
    class Meta:
        model = HttpApi
        fields = ["name", "description", "cors"]


@admin.register(HttpApi)
class HttpApiAdmin(admin.ModelAdmin):
    form = HttpApiForm
    list_display = ["name", "id", "endpoint", "route_count", "created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "endpoint"]
    fieldsets = [(None, {"fields": ["id", "name", "description", "endpoint"]}), ("CORS", {"fields": CORS_FIELDS})]
    inlines = [RouteInline, StageInline]

    class Media:
        js = ["httpapi/call.js"]

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_routes=Count("routes"))

    @admin.display(description="Routes", ordering="n_routes")
    def route_count(self, obj: HttpApi) -> int:
        return getattr(obj, "n_routes", 0)

    @admin.display(description="Invoke URL")
    def endpoint(self, obj: HttpApi) -> str:
        if not obj.pk:
            return "—"
        return format_html('<a class="kiln-invoke-url" data-path="{}" href="{}">{}</a>', f"/gw/{obj.pk}/", f"/gw/{obj.pk}/", f"/gw/{obj.pk}/")

    def save_model(self, request: HttpRequest, obj: HttpApi, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.save()
            return
        created = services.http_api_create(name=obj.name, cors=obj.cors, description=obj.description)
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding = False


class FunctionUrlForm(CorsFormMixin):
    class Meta:
        model = FunctionUrl
        fields = ["function", "auth_type", "cors"]


@admin.register(FunctionUrl)
class FunctionUrlAdmin(admin.ModelAdmin):
    form = FunctionUrlForm
    list_display = ["function", "auth_type", "invoke"]
    readonly_fields = ["invoke"]
    fieldsets = [(None, {"fields": ["function", "auth_type", "invoke"]}), ("CORS", {"fields": CORS_FIELDS})]
    list_select_related = ["function"]

    class Media:
        js = ["httpapi/call.js"]

    @admin.display(description="URL — call it")
    def invoke(self, obj: FunctionUrl) -> str:
        if not obj.pk:
            return "—"
        return call_widget(f"/url/{obj.pk}/", "ANY")

    def save_model(self, request: HttpRequest, obj: FunctionUrl, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.url_id = services._random_id(services.URL_ID_LENGTH)
        obj.save()
