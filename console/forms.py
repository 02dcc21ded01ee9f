"""Console forms: a function's configuration and code, a layer version, a role.

The forms only parse what the browser sent; every rule (limits, names, policies) is the services'.
``save()`` calls the service and turns a ``KilnError`` into a form error carrying its message, so a
rejected save stores nothing and shows why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import QueryDict

from core.errors import KilnError
from functions import limits
from functions.models import Function, LayerVersion, Runtime
from functions.models import runtime_family as model_runtime_family
from functions.runtimes import available_runtimes
from functions.services import Code, FunctionConfig, function_create, function_update, layer_version_publish
from iam.models import Role
from iam.policy import policy_parse
from iam.services import ROLE_NAME


@dataclass(frozen=True)
class Starter:
    """The code a new function starts with, per runtime family, and the handler that runs it."""

    files: dict[str, str]
    handler: str


PROVIDED_BOOTSTRAP = r"""#!/bin/sh
# A custom runtime: this bootstrap asks Lambda's Runtime API for each event and posts the response.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "event: $EVENT"
  rm -f "$HEADERS"
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\"ok\": true, \"event\": $EVENT}" > /dev/null
done
"""

RUBY_STARTER = """def lambda_handler(event:, context:)
  puts "event: #{event}"
  { ok: true, event: event }
end
"""

JAVA_STARTER = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

// Kiln compiles a package of Java sources when the function starts; a zip of classes or a fat jar runs as it is.
public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        context.getLogger().log("event: " + event + "\\n");
        return Map.of("ok", true, "event", event);
    }
}
"""

# As the Lambda console starts them: Python ``index.py``/``index.handler`` (Kiln's form always has),
# Node.js an ES module ``index.mjs``/``index.handler``, Ruby ``lambda_function.rb``/
# ``lambda_function.lambda_handler``, Java a ``RequestHandler`` class, a custom runtime its ``bootstrap``.
STARTERS = {
    "python": Starter({"index.py": "def handler(event, context):\n    print('event:', event)\n    return {'ok': True, 'event': event}\n"}, "index.handler"),
    "nodejs": Starter({"index.mjs": "export const handler = async (event, context) => {\n  console.log('event:', event);\n  return { ok: true, event };\n};\n"}, "index.handler"),
    "ruby": Starter({"lambda_function.rb": RUBY_STARTER}, "lambda_function.lambda_handler"),
    "java": Starter({"example/Handler.java": JAVA_STARTER}, "example.Handler::handleRequest"),
    "provided": Starter({"bootstrap": PROVIDED_BOOTSTRAP}, "function.handler"),
}
DEFAULT_FILES = STARTERS["python"].files


def runtime_family(runtime: str | None) -> str:
    """The starter family of a runtime: its own, or ``provided`` for a family without an inline starter."""
    family = model_runtime_family(runtime or "")
    return family if family in STARTERS else "provided"


def starter_for(runtime: str | None) -> Starter:
    return STARTERS[runtime_family(runtime)]


def _rows(data: QueryDict | dict[str, Any], *names: str) -> list[tuple[str, ...]]:
    """Zip the repeated inputs ``names`` (rows of a table the page can grow) into tuples."""
    getlist = data.getlist if hasattr(data, "getlist") else (lambda key: list(data.get(key, [])))
    columns = [getlist(name) for name in names]
    length = max((len(c) for c in columns), default=0)
    return [tuple(c[i] if i < len(c) else "" for c in columns) for i in range(length)]


class ServiceErrorsMixin:
    """Put a service's ``KilnError`` on the field it names, else at the top of the form."""

    field_aliases: dict[str, str] = {}

    def add_service_error(self, error: KilnError) -> None:
        field = error.details.get("field") if isinstance(error.details, dict) else None
        field = self.field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, error.message)  # type: ignore[attr-defined]


class FunctionForm(ServiceErrorsMixin, forms.Form):
    """Create (``function=None``) or edit a function; code comes from the editor rows or a zip."""

    field_aliases = {"code": "code_zip", "layers": "layers", "environment": "environment"}

    name = forms.CharField(max_length=200, help_text="Letters, digits, hyphens and underscores; cannot be changed later.")
    description = forms.CharField(max_length=1000, required=False, widget=forms.TextInput(attrs={"class": "vTextField"}))
    runtime = forms.ChoiceField()
    handler = forms.CharField(max_length=500, initial="index.handler", help_text="file.function, such as index.handler.")
    memory_size = forms.IntegerField(initial=limits.MEMORY_DEFAULT_MB, label="Memory (MB)", help_text=f"{limits.MEMORY_MIN_MB}-{limits.MEMORY_MAX_MB} MB.")
    timeout = forms.IntegerField(initial=limits.TIMEOUT_DEFAULT_S, label="Timeout (s)", help_text=f"{limits.TIMEOUT_MIN_S}-{limits.TIMEOUT_MAX_S} seconds.")
    ephemeral_storage = forms.IntegerField(initial=limits.EPHEMERAL_DEFAULT_MB, label="Ephemeral storage (MB)", help_text=f"{limits.EPHEMERAL_MIN_MB}-{limits.EPHEMERAL_MAX_MB} MB of /tmp.")
    network = forms.ChoiceField(choices=[(limits.NETWORK_OUTBOUND, "Outbound: other hosts (the internet) and Kiln's endpoint"), (limits.NETWORK_NONE, "None: only the Runtime API")],
                                initial=limits.NETWORK_OUTBOUND, required=False, label="Network", help_text="What the function's sandbox may reach besides Kiln's endpoint; the host's own services never.")
    code_zip = forms.FileField(required=False, label="Zip upload", help_text="Optional: a .zip replaces the inline files above.")
    role = forms.ModelChoiceField(queryset=Role.objects.order_by("name"), required=False, empty_label="(no role)")
    # Not rendered as widgets: the page's tables of rows fill these (see ``clean``).
    environment = forms.Field(required=False, widget=forms.HiddenInput)
    layers = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, function: Function | None = None, **kwargs: Any) -> None:
        self.function = function
        revision = function.latest if function else None
        if revision is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "description": function.description,
                "runtime": revision.runtime,
                "handler": revision.handler,
                "memory_size": revision.memory_size,
                "timeout": revision.timeout,
                "ephemeral_storage": revision.ephemeral_storage,
                "network": revision.network,
                "role": revision.role_id,
            }
        super().__init__(*args, **kwargs)
        self.fields["runtime"].choices = [(r, r) for r in available_runtimes()] or [(r, r) for r in Runtime.values]
        if revision is None and not self.is_bound:
            runtime = self.initial.get("runtime") or self.fields["runtime"].choices[0][0]
            self.initial.setdefault("runtime", runtime)
            self.initial.setdefault("handler", starter_for(runtime).handler)
        if function is not None:
            del self.fields["name"]
        self.layer_choices = list(LayerVersion.objects.select_related("layer").order_by("layer__name", "-version"))
        self.revision = revision

    # -- what the page shows in its row tables ----------------------------------------------------
    def code_files(self) -> list[tuple[str, str]]:
        if self.is_bound:
            return [(n, c) for n, c in _rows(self.data, "code_filename", "code_content") if n or c] or [("", "")]
        if self.revision is not None:
            return list((self.revision.inline_files or {}).items()) or [("", "")]
        return list(starter_for(self.initial.get("runtime")).files.items())

    def starters_json(self) -> dict[str, dict[str, Any]]:
        """The starters for the page's script, which swaps an untouched one when the runtime changes."""
        return {family: {"files": starter.files, "handler": starter.handler} for family, starter in STARTERS.items()}

    def env_rows(self) -> list[tuple[str, str]]:
        if self.is_bound:
            return [(k, v) for k, v in _rows(self.data, "env_key", "env_value") if k or v]
        return list((self.revision.environment or {}).items()) if self.revision else []

    def layer_rows(self) -> list[int]:
        if self.is_bound:
            return [int(v) for (v,) in _rows(self.data, "layer") if v.isdigit()]
        return [link.layer_version_id for link in self.revision.layer_links.order_by("position")] if self.revision else []

    def code_is_zip(self) -> bool:
        return self.revision is not None and self.revision.inline_files is None

    # -- parsing ----------------------------------------------------------------------------------
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        environment: dict[str, str] = {}
        for key, value in _rows(self.data, "env_key", "env_value"):
            key = key.strip()
            if not key and not value:
                continue
            if not key:
                self.add_error("environment", f"Environment variable with value {value!r} needs a name.")
            elif key in environment:
                self.add_error("environment", f"Environment variable {key} is given twice.")
            environment[key] = value
        cleaned["environment"] = environment

        by_id = {lv.pk: lv for lv in self.layer_choices}
        chosen = []
        for (value,) in _rows(self.data, "layer"):
            if not value:
                continue
            layer_version = by_id.get(int(value)) if value.isdigit() else None
            if layer_version is None:
                self.add_error("layers", f"Layer version {value!r} does not exist.")
            else:
                chosen.append(layer_version.arn)
        cleaned["layers"] = chosen

        files: dict[str, str] = {}
        for filename, content in _rows(self.data, "code_filename", "code_content"):
            filename = filename.strip()
            content = content.replace("\r\n", "\n")  # browsers send textareas with CRLF
            if not filename and not content.strip():
                continue
            if not filename:
                self.add_error(None, "Every code file needs a file name.")
            elif filename in files:
                self.add_error(None, f"File {filename} is given twice.")
            files[filename] = content
        files = self._starter_for_runtime(files, cleaned)
        upload = cleaned.get("code_zip")
        if upload is not None:
            cleaned["code"] = Code(zip_bytes=upload.read())
        elif files and files != (self.revision.inline_files if self.revision else None):
            cleaned["code"] = Code(files=files)
        elif files and self.revision is not None:
            cleaned["code"] = None  # unchanged inline code
        elif self.function is None:
            self.add_error(None, "Give the function some code: type at least one file or upload a zip.")
        else:
            cleaned["code"] = None  # keep the current code (e.g. a zip uploaded earlier)
        return cleaned

    @staticmethod
    def _starter_for_runtime(files: dict[str, str], cleaned: dict[str, Any]) -> dict[str, str]:
        """Untouched starter code of another runtime family (the page's runtime changed, its script did
        not run) becomes this runtime's starter, and that starter's handler replaces the old default."""
        runtime = cleaned.get("runtime")
        if not runtime:
            return files
        wanted = starter_for(runtime)
        for starter in STARTERS.values():
            if starter is not wanted and files == starter.files:
                if cleaned.get("handler") in (None, "", starter.handler):
                    cleaned["handler"] = wanted.handler
                return dict(wanted.files)
        return files

    def config(self) -> FunctionConfig:
        data = self.cleaned_data
        role = data.get("role")
        return FunctionConfig(
            runtime=data["runtime"],
            handler=data["handler"],
            memory_size=data["memory_size"],
            timeout=data["timeout"],
            ephemeral_storage=data["ephemeral_storage"],
            network=data.get("network") or None,  # not sent: outbound for a new function, unchanged for an old one
            environment=data["environment"],
            role=role.name if role else None,
            layers=data["layers"],
        )

    def save(self) -> Function | None:
        """Create or update through the services; ``None`` (with form errors) when they refuse."""
        data = self.cleaned_data
        try:
            if self.function is None:
                return function_create(name=data["name"], config=self.config(), code=data["code"], description=data["description"])
            changes = {k: v for k, v in vars(self.config()).items()}
            return function_update(function=self.function, changes=changes, code=data["code"], description=data["description"])
        except KilnError as error:
            self.add_service_error(error)
            return None


class LayerVersionForm(ServiceErrorsMixin, forms.Form):
    """Publish a new version of a layer (a new layer when ``name`` is new)."""

    field_aliases = {"compatible_runtimes": "compatible_runtimes"}

    name = forms.CharField(max_length=200, help_text="Letters, digits, hyphens and underscores.")
    zip_file = forms.FileField(label="Zip", help_text="The layer's files, unpacked under /opt (python/, nodejs/node_modules/, bin/ ...).")
    description = forms.CharField(max_length=1000, required=False, widget=forms.TextInput(attrs={"class": "vTextField"}))
    compatible_runtimes = forms.MultipleChoiceField(choices=[(r, r) for r in Runtime.values], required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, layer_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.layer_name = layer_name
        if layer_name is not None:
            del self.fields["name"]

    def save(self) -> LayerVersion | None:
        data = self.cleaned_data
        try:
            return layer_version_publish(
                name=self.layer_name or data["name"],
                zip_bytes=data["zip_file"].read(),
                compatible_runtimes=list(data["compatible_runtimes"]),
                description=data["description"],
            )
        except KilnError as error:
            self.add_service_error(error)
            return None


class PolicyDocumentField(forms.CharField):
    """A policy document edited as JSON text; validated by ``iam.policy.policy_parse``."""

    widget = forms.Textarea(attrs={"class": "kiln-code", "rows": 16, "cols": 80, "spellcheck": "false", "data-kiln-editor": "policy.json"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2)
        return value

    def clean(self, value: Any) -> dict[str, Any]:
        text = super().clean(value)
        try:
            return policy_parse(text)
        except KilnError as error:
            raise forms.ValidationError(error.message, code="policy") from None


class RoleForm(forms.ModelForm):
    """A role; the admin saves it through ``iam.services`` (see ``console.admin.RoleAdmin``)."""

    policy_document = PolicyDocumentField(help_text='JSON: {"Version": "2012-10-17", "Statement": [...]}.')

    class Meta:
        model = Role
        fields = ["name", "description", "policy_document"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not self.instance.pk and not ROLE_NAME.match(name or ""):
            raise forms.ValidationError("Role name must be 1-64 characters of letters, digits and +=,.@_-.", code="name")
        return name


class ThrottledLoginForm(AdminAuthenticationForm):
    """The admin login, saying so when sign-in is throttled (``console.security``) instead of "wrong password"."""

    def clean(self) -> dict[str, Any]:
        from console.security import THROTTLED_MESSAGE, login_throttled

        username = self.cleaned_data.get("username")
        if username and login_throttled(username, self.request):
            raise forms.ValidationError(THROTTLED_MESSAGE, code="throttled")
        return super().clean()

    def confirm_login_allowed(self, user: Any) -> None:
        """Staff, or a login with a persona (``iam/personas.py``): the site's own rule (``KilnAdminSite.has_permission``)."""
        from iam.personas import user_personas

        if user.is_active and not user.is_staff and user_personas(user):
            return
        super().confirm_login_allowed(user)
