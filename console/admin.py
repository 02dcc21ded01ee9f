"""The console's admin pages for functions, layers, roles and invocation history.

Functions and layers are edited on custom pages (``console/forms.py``) that save through
``functions.services``: every save is a new immutable revision, checked against every limit.
Each function also has a *Test* page that invokes it synchronously from the browser. Invocation
history is read-only. Other apps register their own models in their own ``admin.py``.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from console.forms import FunctionForm, LayerVersionForm, RoleForm
from console.function_panels import function_panels
from console.vendor import vendor_path
from core.errors import KilnError
from functions.models import Function, FunctionRevision, Layer
from functions.selectors import CODE_VIEW_MAX_BYTES, revision_code_entries, revision_code_text
from functions.services import function_delete
from iam.models import Role
from iam.services import role_create, role_delete, role_update
from invoker.api import invocation_data
from invoker.calls import invocation_call
from invoker.models import Invocation, Trigger
from invoker.selectors import invocation_lineage
from restapi.errors import error_envelope, kiln_error_envelope

REQUEST_ID_PREFIX = re.compile(r"[0-9a-f-]{4,36}")
STATUS_COLOURS = {"succeeded": "#2e7d32", "failed": "#c62828", "timed_out": "#c62828", "throttled": "#ef6c00", "running": "#1565c0", "queued": "#616161"}


def status_badge(status: str | None) -> str:
    if not status:
        return "—"
    return format_html('<span class="kiln-status" style="background:{}">{}</span>', STATUS_COLOURS.get(status, "#616161"), status)


class ConsoleMedia:
    css = {"all": ["console/console.css"]}


class CustomPagesMixin:
    """Rendering helpers shared by the custom (non-ModelForm) admin pages."""

    def render_page(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        opts = self.model._meta  # type: ignore[attr-defined]
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": opts,
            "app_label": opts.app_label,
            "title": title,
            "has_view_permission": True,
            **context,
        })


@admin.register(Function)
class FunctionAdmin(CustomPagesMixin, admin.ModelAdmin):
    list_display = ["name", "runtime", "memory", "timeout", "last_status", "last_invoked", "test_link"]
    search_fields = ["name"]
    list_per_page = 50
    Media = ConsoleMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Function]:
        last = Invocation.objects.filter(function=OuterRef("pk")).order_by("-queued_at")
        return (
            super().get_queryset(request)
            .select_related("latest")
            .annotate(last_status=Subquery(last.values("status")[:1]), last_invoked_at=Subquery(last.values("queued_at")[:1]))
        )

    @admin.display(ordering="latest__runtime")
    def runtime(self, obj: Function) -> str:
        return obj.latest.runtime if obj.latest else "—"

    @admin.display(description="Memory (MB)", ordering="latest__memory_size")
    def memory(self, obj: Function) -> int | str:
        return obj.latest.memory_size if obj.latest else "—"

    @admin.display(description="Timeout (s)", ordering="latest__timeout")
    def timeout(self, obj: Function) -> int | str:
        return obj.latest.timeout if obj.latest else "—"

    @admin.display(description="Last invocation", ordering="last_status")
    def last_status(self, obj: Function) -> str:
        return status_badge(getattr(obj, "last_status", None))

    @admin.display(description="Last invoked", ordering="last_invoked_at")
    def last_invoked(self, obj: Function) -> Any:
        return getattr(obj, "last_invoked_at", None) or "—"

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if request.user.has_perm("functions.invoke_function") else [c for c in shown if c != "test_link"]

    @admin.display(description="")
    def test_link(self, obj: Function) -> str:
        return format_html('<a class="button" href="{}">Test</a>', reverse("admin:functions_function_test", args=[quote(obj.pk)]))

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/test/", view(self.test_view), name="functions_function_test"),
            path("<path:object_id>/invoke/", view(self.invoke_view), name="functions_function_invoke"),
            path("<path:object_id>/code/", view(self.code_view), name="functions_function_code"),
        ] + super().get_urls()

    # -- add and change: the custom form, saved through the services ------------------------------
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._form_view(request, None)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        function = self.get_object(request, unquote(object_id))
        if function is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, function):
            raise PermissionDenied
        # Changing means seeing the values one saves: without the secrets permission the page is read-only.
        editable = self.has_change_permission(request, function) and request.user.has_perm("functions.view_function_secrets")
        if request.method == "POST" and not editable:
            raise PermissionDenied
        return self._form_view(request, function, read_only=not editable)

    def _form_view(self, request: HttpRequest, function: Function | None, *, read_only: bool = False) -> HttpResponse:
        if request.method == "POST":
            form = FunctionForm(request.POST, request.FILES, function=function)
            saved = form.save() if form.is_valid() else None
            if saved is not None:
                saved.refresh_from_db()
                revision = saved.latest
                if function is None:
                    self.log_addition(request, saved, [{"added": {}}])
                else:
                    self.log_change(request, saved, [{"changed": {"fields": ["configuration"]}}])
                messages.success(request, f"Function {saved.name} saved; $LATEST is revision {revision.number if revision else '?'}.")
                if "_test" in request.POST:
                    return redirect("admin:functions_function_test", quote(saved.pk))
                if "_continue" in request.POST or function is None:
                    return redirect("admin:functions_function_change", quote(saved.pk))
                return redirect("admin:functions_function_changelist")
        else:
            form = FunctionForm(function=function)
        title = f"Change function {function.name}" if function else "Add function"
        revision = function.latest if function else None
        zip_entries, zip_error = [], ""
        if revision is not None and revision.inline_files is None:
            try:
                zip_entries = revision_code_entries(revision)
            except (OSError, ValueError, zipfile.BadZipFile) as error:  # the stored package is gone or damaged: say so
                zip_error = f"Cannot read the code package: {error}"
        if read_only:
            title = f"Function {function.name}" if function else title
        return self.render_page(request, "console/function_form.html", title, form=form, function=function, original=function, revision=revision,
                                read_only=read_only, show_secrets=request.user.has_perm("functions.view_function_secrets"),
                                zip_entries=zip_entries, zip_error=zip_error, starters=form.starters_json(),
                                panels=function_panels(function) if function else None)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        # Django's collector sees Function.latest (PROTECT) as blocking; function_delete handles it.
        functions = list(objs)
        revisions = FunctionRevision.objects.filter(function__in=functions).count()
        perms_needed = set() if self.has_delete_permission(request) else {"function"}
        return [f"Function: {f.name}" for f in functions], {"functions": len(functions), "revisions": revisions}, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Function) -> None:
        function_delete(function=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Function]) -> None:
        for function in queryset:
            function_delete(function=function)

    # -- one file of the code package, as text (zip uploads are shown read-only) -------------------
    def code_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET ``?path=`` answers that file of ``$LATEST``'s package as UTF-8 text (200), or says why
        not in plain text: 404 (no such file), 413 (larger than the console shows), 415 (binary)."""
        function = self.get_object(request, unquote(object_id))
        if function is None or function.latest is None or not self.has_view_permission(request, function):
            return _plain("Function not found.", 404)
        path = request.GET.get("path", "")
        try:
            found = revision_code_text(function.latest, path)
        except KilnError as error:
            return _plain(error.message, error.status)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            return _plain(f"Cannot read the code package: {error}", 404)
        if found.too_large:
            response = _plain(f"{path} is {found.size} bytes; the console shows files of up to {CODE_VIEW_MAX_BYTES} bytes.", 413)
        elif found.binary or found.text is None:
            response = _plain(f"{path} is a binary file ({found.size} bytes).", 415)
        else:
            response = _plain(found.text, 200)
        response["X-Kiln-File-Size"] = str(found.size)
        return response

    # -- the Test page and its invoke endpoint ----------------------------------------------------
    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        function = self.get_object(request, unquote(object_id))
        if function is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("functions.invoke_function"):  # the page is for invoking: a viewer cannot
            raise PermissionDenied
        return self.render_page(request, "console/function_test.html", f"Test {function.name}", function=function, original=function, revision=function.latest)

    def invoke_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """POST the event (the body, JSON); answers the finished invocation as the API's JSON."""
        if request.method != "POST":
            return JsonResponse(error_envelope("MethodNotAllowed", "POST the event as the request body."), status=405)
        function = self.get_object(request, unquote(object_id))
        if function is None or not self.has_view_permission(request, function):
            return JsonResponse(error_envelope("ResourceNotFoundException", "Function not found."), status=404)
        if not request.user.has_perm("functions.invoke_function"):
            return JsonResponse(error_envelope("AccessDeniedException", "You may look at this function but not invoke it: that needs the Developers persona."), status=403)
        try:
            called = invocation_call(function=function, payload=request.body, trigger=Trigger.CONSOLE, user=request.user)
            invocation = Invocation.objects.select_related("revision").get(pk=called.pk)  # the whole row, as the history shows it
        except KilnError as error:
            return JsonResponse(kiln_error_envelope(error), status=error.status)
        data = dict(invocation_data(invocation))
        data["console_url"] = reverse("admin:invoker_invocation_change", args=[quote(invocation.pk)])
        return JsonResponse(data)


@admin.register(Layer)
class LayerAdmin(CustomPagesMixin, admin.ModelAdmin):
    list_display = ["name", "versions_list", "latest_description", "updated_at"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layer]:
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description="Versions")
    def versions_list(self, obj: Layer) -> str:
        return ", ".join(str(v.version) for v in sorted(obj.versions.all(), key=lambda v: -v.version)) or "—"

    @admin.display(description="Latest description")
    def latest_description(self, obj: Layer) -> str:
        versions = sorted(obj.versions.all(), key=lambda v: -v.version)
        return versions[0].description if versions else ""

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._publish_view(request, None)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        layer = self.get_object(request, unquote(object_id))
        if layer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self._publish_view(request, layer)

    def _publish_view(self, request: HttpRequest, layer: Layer | None) -> HttpResponse:
        can_publish = self.has_add_permission(request) or (layer is not None and self.has_change_permission(request, layer))
        if request.method == "POST" and can_publish:
            form = LayerVersionForm(request.POST, request.FILES, layer_name=layer.name if layer else None)
            version = form.save() if form.is_valid() else None
            if version is not None:
                messages.success(request, f"Published {version.arn}.")
                return redirect("admin:functions_layer_change", quote(version.layer_id))
        else:
            form = LayerVersionForm(layer_name=layer.name if layer else None)
        versions = list(layer.versions.order_by("-version")) if layer else []
        title = f"Layer {layer.name}" if layer else "Publish a layer"
        return self.render_page(request, "console/layer_form.html", title, form=form, layer=layer, original=layer, versions=versions, can_publish=can_publish)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "description", "arn", "updated_at"]
    search_fields = ["name", "description"]
    actions = None  # deleting goes one by one through role_delete, which refuses roles in use

    class Media:
        css = {"all": ["console/console.css", "console/editor.css"]}
        js = [vendor_path("codemirror"), "console/editor.js"]  # the policy document in a JSON editor

    def save_model(self, request: HttpRequest, obj: Role, form: RoleForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            role_update(role=obj, policy_document=data["policy_document"], description=data["description"])
            return
        created = role_create(name=data["name"], policy_document=data["policy_document"], description=data["description"])
        obj.pk = created.pk
        obj.created_at, obj.updated_at = created.created_at, created.updated_at
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Role) -> None:
        role_delete(role=obj)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except KilnError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:iam_role_change", args=[object_id]))


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


def _pretty(text: str | None) -> str:
    if text is None or text == "":
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


CHAIN_DEPTH = 16  # as far up as the console walks (Lambda stops recursive loops after 16)


def _cause_text(obj: Invocation) -> str:
    detail = obj.trigger_detail or {}
    if obj.trigger == Trigger.REPLAY:
        return f"replay of {detail.get('replay_of', '?')[:8]} on {detail.get('qualifier', '$LATEST')}" + (f" by {detail['user']}" if detail.get("user") else "")
    if detail.get("bucket"):
        return f"s3://{detail['bucket']}/{detail.get('key', '')} ({detail.get('event_name', obj.trigger)})"
    if detail.get("route_key"):
        return f"HTTP {detail['route_key']}"
    if obj.trigger == Trigger.LOGS:
        return f"log group {detail.get('log_group', '?')}, subscription filter {detail.get('filter_name', '?')} ({detail.get('events', 0)} events)"
    if detail.get("stream_arn"):
        table = detail["stream_arn"].split(":table/", 1)[-1].split("/stream/", 1)[0]
        return f"DynamoDB stream of {table}: {detail.get('batch_size', '?')} records, {detail.get('first_sequence', '?')}–{detail.get('last_sequence', '?')}"
    if detail.get("user"):
        return f"{obj.get_trigger_display()} call by {detail['user']}"
    return obj.get_trigger_display()


def _pre(text: str) -> str:
    return format_html('<pre class="kiln-pre">{}</pre>', text) if text else "—"


@admin.register(Invocation)
class InvocationAdmin(admin.ModelAdmin):
    """Invocation history, read-only: rows are written by the invoker only."""

    list_display = ["id", "function_name", "version_run", "status_badge", "trigger", "duration", "billed_duration_ms", "cold_start", "queued_at"]
    list_filter = ["status", "trigger", "function_name", "queued_at", "cold_start"]
    search_fields = ["function_name"]
    search_help_text = "A function name, or a request id (or its first characters)."
    ordering = ["-queued_at", "-id"]
    list_per_page = 100
    show_full_result_count = False
    actions = None
    change_form_template = "console/invocation_change_form.html"
    Media = ConsoleMedia
    fieldsets = [
        (None, {"fields": ["id", "function_link", "qualifier", "executed_version", "revision_number", "invocation_type", "trigger", "trigger_detail", "status_badge", "attempt", "worker"]}),
        ("Causal chain", {"fields": ["chain"]}),
        ("Timing and memory", {"fields": ["queued_at", "started_at", "finished_at", "duration", "billed_duration_ms", "init_duration", "cold_start", "memory_size", "max_memory_used_mb"]}),
        ("Event, result and log", {"fields": ["payload_pre", "result_pre", "error_pre", "logs_pre"]}),
    ]
    readonly_fields = [f for _, options in fieldsets for f in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invocation]:
        # The list never shows the big text fields; the detail page reads its row whole (get_object).
        return super().get_queryset(request).defer("payload", "result", "logs", "error", "trigger_detail")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Invocation], search_term: str) -> tuple[QuerySet[Invocation], bool]:
        term = search_term.strip().lower()
        if REQUEST_ID_PREFIX.fullmatch(term):
            try:
                return queryset.filter(pk=uuid.UUID(term)), False
            except ValueError:
                return queryset.filter(id__startswith=term.replace("-", "")) | queryset.filter(function_name__icontains=term), False
        return super().get_search_results(request, queryset, search_term)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Invocation | None:
        try:
            return Invocation.objects.select_related("revision").get(pk=Invocation._meta.pk.to_python(object_id))
        except (Invocation.DoesNotExist, ValidationError, ValueError):
            return None

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Invocation) -> str:
        return status_badge(obj.status)

    @admin.display(description="Caused by / caused")
    def chain(self, obj: Invocation) -> str:
        """The chain both ways as a small tree: ancestors (up to CHAIN_DEPTH), this one, what it caused."""
        ancestors = []
        current = obj
        while current.parent_id is not None and len(ancestors) < CHAIN_DEPTH:
            parent = Invocation.objects.only("id", "function_name", "status", "trigger", "parent_id").filter(pk=current.parent_id).first()
            if parent is None:
                ancestors.append(format_html('<li class="kiln-chain-gone">{} (no longer in history)</li>', current.parent_id))
                break
            ancestors.append(parent)
            current = parent
        _, caused = invocation_lineage(obj)

        def item(row: Invocation | dict[str, Any], css: str) -> str:
            rid, fn, status, trigger = (str(row.id), row.function_name, row.status, row.trigger) if isinstance(row, Invocation) else (row["request_id"], row["function"], row["status"], row["trigger"])
            return format_html('<li class="{}"><a href="{}">{}</a> <code>{}</code> {} · {}</li>', css, reverse("admin:invoker_invocation_change", args=[rid]), fn, rid[:8], status_badge(status), trigger)

        cause = format_html("<li class=\"kiln-chain-cause\">{}</li>", _cause_text(obj))
        parts = [cause] + [a if isinstance(a, str) else item(a, "kiln-chain-parent") for a in reversed(ancestors)]
        parts.append(format_html('<li class="kiln-chain-self"><strong>this invocation</strong> <code>{}</code>{}</li>', str(obj.id)[:8], self._hop(obj)))
        children = "".join(item(c, "kiln-chain-child") for c in caused) or format_html("<li>{}</li>", "nothing yet")
        return format_html('<ol class="kiln-chain">{}</ol><p class="kiln-chain-caused-label">Caused:</p><ul class="kiln-chain kiln-chain-children">{}</ul>', mark_safe("".join(parts)), mark_safe(children))

    @staticmethod
    def _hop(obj: Invocation) -> str:
        """Where it stands in a chain of writes (events/loops.py), and whether Kiln stopped the chain here."""
        detail = obj.trigger_detail or {}
        if not detail.get("chain_id"):
            return ""
        hop = format_html(" · hop {} of chain <code>{}</code>", detail.get("chain_depth", "?"), str(detail["chain_id"])[:8])
        if (obj.error or {}).get("errorType") == "RecursiveInvocationException":
            hop += format_html(' <strong class="kiln-chain-stopped">stopped: a recursive loop (more than {} invocations in one chain), not run</strong>',
                               CHAIN_DEPTH)
        return hop

    @admin.display(description="Duration (ms)", ordering="duration_ms")
    def duration(self, obj: Invocation) -> str:
        return f"{obj.duration_ms:.2f}" if obj.duration_ms is not None else "—"

    @admin.display(description="Init duration (ms)")
    def init_duration(self, obj: Invocation) -> str:
        return f"{obj.init_duration_ms:.2f}" if obj.init_duration_ms is not None else "—"

    @admin.display(description="Function")
    def function_link(self, obj: Invocation) -> str:
        if obj.function_id is None:
            return f"{obj.function_name} (deleted)"
        return format_html('<a href="{}">{}</a>', reverse("admin:functions_function_change", args=[quote(obj.function_id)]), obj.function_name)

    @admin.display(description="Version", ordering="executed_version")
    def version_run(self, obj: Invocation) -> str:
        """The version that ran, with the alias it was called through (``2 via prod``)."""
        named = obj.qualifier not in ("$LATEST", obj.executed_version)
        return f"{obj.executed_version} via {obj.qualifier}" if named else obj.executed_version

    @admin.display(description="Revision")
    def revision_number(self, obj: Invocation) -> str:
        return f"r{obj.revision.number}" if obj.revision else "—"

    @admin.display(description="Event")
    def payload_pre(self, obj: Invocation) -> str:
        return _pre(_pretty(obj.payload))

    @admin.display(description="Result")
    def result_pre(self, obj: Invocation) -> str:
        return _pre(_pretty(obj.result))

    @admin.display(description="Error")
    def error_pre(self, obj: Invocation) -> str:
        return _pre(json.dumps(obj.error, indent=2) if obj.error else "")

    @admin.display(description="Log")
    def logs_pre(self, obj: Invocation) -> str:
        return _pre(obj.logs)

