"""REST API for functions, layers and runtimes (``/api/v1/``). Thin: parse, call a service, render."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound, ValidationFailed
from functions import limits, selectors, services, versions
from functions.code import code_token_revision
from functions.event_templates import template_list
from functions.models import Function, FunctionAlias, FunctionRevision, FunctionVersion, LayerVersion, SavedTestEvent
from functions.runtimes import RuntimeStatus, known_runtimes
from restapi.bodies import json_object
from restapi.permissions import can_see_secrets


def decode_zip_base64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a base64 string of a zip file.", details={"field": field})
    # Refuse before decoding when the text alone proves the zip is too large.
    if len(value) > (limits.ZIP_MAX_BYTES * 4) // 3 + 8:
        from core.errors import TooLarge

        raise TooLarge(f"The zip is larger than {limits.ZIP_MAX_BYTES} bytes (50 MB), the limit for an upload.", code="RequestEntityTooLargeException", details={"limit": limits.ZIP_MAX_BYTES})
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{field} is not valid base64.", details={"field": field}) from None


def parse_code(data: Any) -> services.Code:
    if not isinstance(data, dict):
        raise ValidationFailed('code must be {"files": {"name": "text"}} or {"zip_base64": "..."}.', details={"field": "code"})
    if "files" in data and "zip_base64" in data:
        raise ValidationFailed('code must give exactly one of "files" or "zip_base64".', details={"field": "code"})
    if "files" in data:
        return services.Code(files=data["files"])
    if "zip_base64" in data:
        return services.Code(zip_bytes=decode_zip_base64(data["zip_base64"], "code.zip_base64"))
    raise ValidationFailed('code must give "files" or "zip_base64".', details={"field": "code"})


SECRET_MASK = "********"


def function_data(function: Function, *, secrets: bool = True) -> dict[str, Any]:
    """A function as the API shows it; without ``secrets`` (a viewer) environment values are masked."""
    revision = function.latest
    assert revision is not None
    data: dict[str, Any] = {
        "name": function.name,
        "arn": function.arn,
        "description": function.description,
        "runtime": revision.runtime,
        "handler": revision.handler,
        "memory_size": revision.memory_size,
        "timeout": revision.timeout,
        "ephemeral_storage": revision.ephemeral_storage,
        "network": revision.network,
        "environment": revision.environment if secrets else {key: SECRET_MASK for key in revision.environment or {}},
        "role": revision.role.arn if revision.role_id else None,
        "layers": [lv.arn for lv in revision.ordered_layers()],
        "code": {"sha256": revision.code_sha256, "size": revision.code_size, "unzipped_size": revision.code_unzipped_size, "files": revision.inline_files},
        "revision": revision.number,
        "revision_id": str(revision.revision_id),
        "reserved_concurrency": function.reserved_concurrency,
        "provisioned_concurrency": function.provisioned_concurrency,
        "created_at": function.created_at,
        "updated_at": function.updated_at,
    }
    if hasattr(function, "last_status"):
        data["last_invocation_status"] = function.last_status
        data["last_invoked_at"] = function.last_invoked_at
    return data


_CONFIG_KEYS = ("runtime", "handler", "memory_size", "timeout", "ephemeral_storage", "environment", "role", "layers", "network")


class FunctionInput(serializers.Serializer):
    """Documents the request body; validation is the service's, so limits live in one place."""

    name = serializers.CharField(max_length=limits.FUNCTION_NAME_MAX)
    runtime = serializers.CharField()
    handler = serializers.CharField()
    code = serializers.DictField(help_text='{"files": {"index.js": "..."}} or {"zip_base64": "..."}')
    memory_size = serializers.IntegerField(required=False, default=limits.MEMORY_DEFAULT_MB)
    timeout = serializers.IntegerField(required=False, default=limits.TIMEOUT_DEFAULT_S)
    ephemeral_storage = serializers.IntegerField(required=False, default=limits.EPHEMERAL_DEFAULT_MB)
    network = serializers.ChoiceField(choices=list(limits.NETWORK_MODES), required=False, default=limits.NETWORK_OUTBOUND,
                                      help_text='"outbound": other hosts reachable (as on Lambda); "none": only the Runtime API')
    environment = serializers.DictField(child=serializers.CharField(), required=False)
    layers = serializers.ListField(child=serializers.CharField(), required=False)
    role = serializers.CharField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)


def _body(request: Request, *allowed: str) -> dict[str, Any]:
    """The JSON object body with only the ``allowed`` fields (restapi/bodies.py)."""
    return json_object(request.data, allowed=allowed)


class FunctionListView(APIView):
    permission_model = "functions.function"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List functions", operation_id="v1_functions_list")
    def get(self, request: Request) -> Response:
        return Response({"functions": [function_data(f, secrets=can_see_secrets(request.user)) for f in selectors.function_list(request.user)]})

    @extend_schema(request=FunctionInput, responses={201: dict}, summary="Create a function")
    def post(self, request: Request) -> Response:
        body = json_object(request.data, allowed=(*_CONFIG_KEYS, "name", "code", "description"), required=("name", "runtime", "handler", "code"))
        config = services.FunctionConfig(runtime=body["runtime"], handler=body["handler"])
        for key in _CONFIG_KEYS[2:]:
            if key in body and body[key] is not None:
                setattr(config, key, body[key])
        function = services.function_create(name=body["name"], config=config, code=parse_code(body["code"]), description=body.get("description") or "")
        function = selectors.access_function_by_name(request.user, function.name)
        return Response(function_data(function), status=status.HTTP_201_CREATED)


class FunctionDetailView(APIView):
    permission_model = "functions.function"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a function")
    def get(self, request: Request, name: str) -> Response:
        return Response(function_data(selectors.access_function_by_name(request.user, name), secrets=can_see_secrets(request.user)))

    @extend_schema(request=FunctionInput, responses={200: dict}, summary="Update a function's code and/or configuration")
    def patch(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        body = _body(request, *_CONFIG_KEYS, "code", "description", "name")
        if "name" in body and body["name"] != function.name:
            raise ValidationFailed("A function cannot be renamed; create a new one.", details={"field": "name"})
        changes = {k: body[k] for k in _CONFIG_KEYS if k in body}
        if "environment" in changes and changes["environment"] is None:
            changes["environment"] = {}
        if "layers" in changes and changes["layers"] is None:
            changes["layers"] = []
        code = parse_code(body["code"]) if "code" in body else None
        services.function_update(function=function, changes=changes, code=code, description=body.get("description"))
        return Response(function_data(selectors.access_function_by_name(request.user, name)))

    @extend_schema(responses={204: None}, summary="Delete a function")
    def delete(self, request: Request, name: str) -> Response:
        services.function_delete(function=selectors.access_function_by_name(request.user, name))
        return Response(status=status.HTTP_204_NO_CONTENT)


def layer_version_data(lv: LayerVersion) -> dict[str, Any]:
    return {
        "name": lv.layer.name,
        "version": lv.version,
        "arn": lv.arn,
        "layer_arn": lv.layer.arn,
        "description": lv.description,
        "compatible_runtimes": lv.compatible_runtimes,
        "sha256": lv.sha256,
        "size": lv.size,
        "unzipped_size": lv.unzipped_size,
        "created_at": lv.created_at,
    }


class LayerListView(APIView):
    permission_model = "functions.layer"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List layers and their versions")
    def get(self, request: Request) -> Response:
        layers = []
        for layer in selectors.layer_list(request.user):
            versions = sorted(layer.versions.all(), key=lambda v: -v.version)
            for v in versions:
                v.layer = layer
            layers.append({"name": layer.name, "arn": layer.arn, "latest_version": versions[0].version if versions else None, "versions": [layer_version_data(v) for v in versions]})
        return Response({"layers": layers})

    @extend_schema(request=dict, responses={201: dict}, summary="Publish a layer version (JSON with zip_base64, or multipart with a zip file)")
    def post(self, request: Request) -> Response:
        data = request.data
        upload = request.FILES.get("zip") if hasattr(request, "FILES") else None
        if upload is not None:
            if upload.size > limits.ZIP_MAX_BYTES:
                from core.errors import TooLarge

                raise TooLarge(f"The layer zip is {upload.size} bytes; a zip upload may be at most {limits.ZIP_MAX_BYTES} bytes (50 MB).", code="RequestEntityTooLargeException")
            zip_bytes = upload.read()
            runtimes = data.getlist("compatible_runtimes") if hasattr(data, "getlist") else data.get("compatible_runtimes", [])
        else:
            data = json_object(data, allowed=("name", "zip_base64", "compatible_runtimes", "description"))
            if "zip_base64" not in data:
                raise ValidationFailed("zip_base64 (or a multipart file named zip) is required.", details={"field": "zip_base64"})
            zip_bytes = decode_zip_base64(data["zip_base64"], "zip_base64")
            runtimes = data.get("compatible_runtimes", [])
        lv = services.layer_version_publish(name=data.get("name", ""), zip_bytes=zip_bytes, compatible_runtimes=runtimes, description=data.get("description", "") or "")
        return Response(layer_version_data(lv), status=status.HTTP_201_CREATED)


class RuntimeListView(APIView):
    permissions_for = {"GET": ("functions.view_function",)}  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Every runtime Kiln knows: installed on this host or not, and why not")
    def get(self, request: Request) -> Response:
        return Response({"runtimes": [runtime_data(status) for status in known_runtimes().values()]})


def runtime_data(status: RuntimeStatus) -> dict[str, Any]:
    data: dict[str, Any] = {"identifier": status.identifier, "family": status.family, "version": status.info.version if status.info else "", "installed": status.installed}
    if not status.installed:
        data["reason"] = status.reason
    return data


def concurrency_data(function: Function) -> dict[str, Any]:
    return {"function": function.name, "reserved": function.reserved_concurrency, "provisioned": function.provisioned_concurrency}


class FunctionConcurrencyView(APIView):
    permission_model = "functions.function"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a function's reserved and provisioned concurrency")
    def get(self, request: Request, name: str) -> Response:
        return Response(concurrency_data(selectors.access_function_by_name(request.user, name)))

    @extend_schema(request=dict, responses={200: dict}, summary='Set {"reserved": N|null} and/or {"provisioned": N}')
    def put(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response(concurrency_data(services.function_concurrency_put(function=function, changes=_body(request, "reserved", "provisioned"))))


def event_invoke_config_data(function: Function) -> dict[str, Any]:
    return {"function": function.name, "maximum_retry_attempts": function.async_max_retries, "maximum_event_age_seconds": function.async_max_event_age_s,
            "on_success": function.async_on_success or None, "on_failure": function.async_on_failure or None}


class FunctionEventInvokeConfigView(APIView):
    permission_model = "functions.function"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get how asynchronous invocations of a function are retried")
    def get(self, request: Request, name: str) -> Response:
        return Response(event_invoke_config_data(selectors.access_function_by_name(request.user, name)))

    @extend_schema(request=dict, responses={200: dict}, summary='Set {"maximum_retry_attempts": 0-2, "maximum_event_age_seconds": 60-21600, "on_success": ARN, "on_failure": ARN}')
    def put(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response(event_invoke_config_data(services.function_event_invoke_config_put(function=function, changes=_body(request, *services.EVENT_CONFIG_KEYS))))


def version_data(version: FunctionVersion) -> dict[str, Any]:
    revision = version.revision
    return {"version": str(version.version), "arn": version.arn, "description": version.description, "revision": revision.number,
            "revision_id": str(revision.revision_id), "code_sha256": revision.code_sha256, "runtime": revision.runtime, "handler": revision.handler,
            "memory_size": revision.memory_size, "timeout": revision.timeout, "created_at": version.created_at}


def alias_data(alias: FunctionAlias) -> dict[str, Any]:
    return {"name": alias.name, "arn": alias.arn, "function_version": alias.function_version, "description": alias.description,
            "routing": {alias.additional_version: alias.additional_weight} if alias.additional_version else {}, "revision_id": str(alias.revision_id)}


class FunctionVersionListView(APIView):
    permission_model = "functions.functionversion"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List a function's published versions")
    def get(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response({"versions": [version_data(v) for v in function.versions.select_related("revision", "function")]})

    @extend_schema(request=dict, responses={201: dict}, summary='Publish $LATEST as a new version: {"description": "..."}')
    def post(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        body = _body(request, "description", "revision_id")
        version = versions.version_publish(function=function, description=body.get("description") or "", revision_id=body.get("revision_id"))
        return Response(version_data(version), status=status.HTTP_201_CREATED)


class FunctionAliasListView(APIView):
    permission_model = "functions.functionalias"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List a function's aliases", operation_id="v1_functions_aliases_list")
    def get(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response({"aliases": [alias_data(a) for a in function.aliases.select_related("function")]})

    @extend_schema(request=dict, responses={201: dict}, summary='Create {"name", "function_version", "description", "routing": {"2": 0.1}}')
    def post(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        body = _body(request, "name", "function_version", "description", "routing")
        alias = versions.alias_create(function=function, name=body.get("name"), function_version=str(body.get("function_version") or ""),
                                      description=body.get("description") or "", routing=body.get("routing"))
        return Response(alias_data(alias), status=status.HTTP_201_CREATED)


class FunctionAliasDetailView(APIView):
    permission_model = "functions.functionalias"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get an alias")
    def get(self, request: Request, name: str, alias: str) -> Response:
        return Response(alias_data(versions.alias_get(selectors.access_function_by_name(request.user, name), alias)))

    @extend_schema(request=dict, responses={200: dict}, summary='Change {"function_version", "description", "routing"} ({} clears routing)')
    def put(self, request: Request, name: str, alias: str) -> Response:
        found = versions.alias_get(selectors.access_function_by_name(request.user, name), alias)
        body = _body(request, "function_version", "description", "routing", "revision_id")
        version = body.get("function_version")
        return Response(alias_data(versions.alias_update(alias=found, function_version=str(version) if version is not None else None,
                                                         description=body.get("description"), routing=body.get("routing"), revision_id=body.get("revision_id"))))

    @extend_schema(responses={204: None}, summary="Delete an alias")
    def delete(self, request: Request, name: str, alias: str) -> Response:
        versions.alias_delete(alias=versions.alias_get(selectors.access_function_by_name(request.user, name), alias))
        return Response(status=status.HTTP_204_NO_CONTENT)


def test_event_data(test_event: SavedTestEvent) -> dict[str, Any]:
    return {"name": test_event.name, "event": test_event.event, "shared": test_event.shared,
            "owner": test_event.owner.get_username() if test_event.owner else None, "created_at": test_event.created_at, "updated_at": test_event.updated_at}


class TestEventListView(APIView):
    permission_model = "functions.savedtestevent"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="A function's saved test events: shared ones and the caller's private ones", operation_id="v1_functions_test_events_list")
    def get(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response({"test_events": [test_event_data(e) for e in selectors.test_event_list(request.user, function)]})

    @extend_schema(request=dict, responses={201: dict}, summary='Save a test event {"name", "event", "shared"} (at most 10 per function)')
    def post(self, request: Request, name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        body = _body(request, "name", "event", "shared")
        if "event" not in body:
            raise ValidationFailed("event is required (any JSON value).", details={"field": "event"})
        saved = services.test_event_create(function=function, owner=request.user, name=body.get("name"), event=body["event"], shared=body.get("shared", False))
        return Response(test_event_data(saved), status=status.HTTP_201_CREATED)


class TestEventDetailView(APIView):
    permission_model = "functions.savedtestevent"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a saved test event")
    def get(self, request: Request, name: str, event_name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        return Response(test_event_data(selectors.access_test_event(request.user, function, event_name)))

    @extend_schema(request=dict, responses={200: dict}, summary='Change a saved test event ({"event"}, {"shared"}, {"name"})')
    def put(self, request: Request, name: str, event_name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        saved = selectors.access_test_event(request.user, function, event_name)
        return Response(test_event_data(services.test_event_update(test_event=saved, changes=_body(request, "name", "event", "shared"))))

    @extend_schema(responses={204: None}, summary="Delete a saved test event")
    def delete(self, request: Request, name: str, event_name: str) -> Response:
        function = selectors.access_function_by_name(request.user, name)
        services.test_event_delete(test_event=selectors.access_test_event(request.user, function, event_name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventTemplateListView(APIView):
    permissions_for = {"GET": ("functions.view_function",)}  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Templates of the events Kiln's sources deliver (API Gateway 1.0 and 2.0, S3 put, ...)")
    def get(self, request: Request) -> Response:
        return Response({"templates": template_list()})


class CodeDownloadView(APIView):
    """``GET /api/v1/code/{token}/``: a revision's code zip or a layer version's zip, for the Lambda API's
    presigned ``Code.Location`` and ``Content.Location``.

    The token is the credential (signed, 10 minutes), so the view asks for no login, as S3's presigned URLs.
    """

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request, token: str) -> Any:
        named = code_token_revision(token)
        if named and named.startswith("layer:"):
            layer = LayerVersion.objects.select_related("layer").filter(pk=int(named[6:])).first()
            if layer is not None:
                return FileResponse(layer.zip_file.open("rb"), content_type="application/zip", as_attachment=True, filename=f"{layer.layer.name}-{layer.version}.zip")
        revision = FunctionRevision.objects.select_related("function").filter(revision_id=named).first() if named and not named.startswith("layer:") else None
        if revision is None:
            raise NotFound("This code location has expired or is not valid; call GetFunction (or GetLayerVersion) again for a fresh one.")
        return FileResponse(revision.code_zip.open("rb"), content_type="application/zip", as_attachment=True, filename=f"{revision.function.name}.zip")
