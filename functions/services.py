"""Writes to functions and layers. Every limit is checked before anything is stored.

``function_create`` and ``function_update`` validate the whole configuration, store the code zip
(content-addressed) and write a new immutable ``FunctionRevision``; a failed check stores nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models import Sum as models_sum
from django.utils import timezone

from core.errors import Conflict, NotFound, TooLarge, ValidationFailed
from functions import limits
from functions.code import CheckedZip, zip_check, zip_from_files, zip_store
from functions.destinations import destination_kind_for
from functions.models import Function, FunctionRevision, Layer, LayerVersion, RevisionLayer, Runtime, SavedTestEvent
from functions.runtimes import runtime_problem
from iam.models import Role
from iam.services import role_resolve

FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LAYER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LAYER_ARN = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:layer:([A-Za-z0-9_-]{1,64}):(\d+)$")
HANDLER = re.compile(r"^[^\s]+$")
TEST_EVENT_NAME = re.compile(r"^[A-Za-z0-9._-]{1,%d}$" % limits.TEST_EVENT_NAME_MAX)


@dataclass(frozen=True)
class Code:
    """Function code as given: inline files, or a zip's bytes."""

    files: dict[str, str] | None = None
    zip_bytes: bytes | None = None


@dataclass
class FunctionConfig:
    """The runnable configuration of a function, as validated input for a new revision."""

    runtime: str
    handler: str
    memory_size: int = limits.MEMORY_DEFAULT_MB
    timeout: int = limits.TIMEOUT_DEFAULT_S
    ephemeral_storage: int = limits.EPHEMERAL_DEFAULT_MB
    environment: dict[str, str] = field(default_factory=dict)
    role: str | None = None
    layers: list[str] = field(default_factory=list)
    # None: unchanged on an update (a form that does not show the field keeps it), "outbound" on create.
    network: str | None = None


def _bounded_int(value: Any, name: str, low: int, high: int, unit: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{name} must be an integer between {low} and {high} {unit}.", details={"field": name})
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high} {unit}; got {value}.", details={"field": name, "min": low, "max": high})
    return value


def validate_function_name(name: Any) -> str:
    if not isinstance(name, str) or not FUNCTION_NAME.match(name):
        raise ValidationFailed(
            f"Function name must be 1-{limits.FUNCTION_NAME_MAX} characters of letters, digits, hyphens and underscores.",
            details={"field": "name"},
        )
    return name


def validate_environment(environment: Any) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, dict):
        raise ValidationFailed("environment must be an object of string names to string values.", details={"field": "environment"})
    total = 0
    for key, value in environment.items():
        if key in limits.RESERVED_ENV_NAMES:
            raise ValidationFailed(f"Environment variable {key} is reserved by the Lambda runtime; choose another name.", details={"field": "environment", "reserved": key})
        if not isinstance(key, str) or not ENV_NAME.match(key):
            raise ValidationFailed(f"Environment variable name {key!r} must start with a letter and hold only letters, digits and underscores.", details={"field": "environment"})
        if not isinstance(value, str):
            raise ValidationFailed(f"Environment variable {key} must have a string value.", details={"field": "environment"})
        total += len(key.encode()) + len(value.encode())
    if total > limits.ENVIRONMENT_MAX_BYTES:
        raise ValidationFailed(
            f"Environment variables total {total} bytes; keys and values together may be at most {limits.ENVIRONMENT_MAX_BYTES} bytes (4 KB).",
            details={"field": "environment", "size": total, "limit": limits.ENVIRONMENT_MAX_BYTES},
        )
    return dict(environment)


def _validate_config(config: FunctionConfig) -> tuple[Role | None, list[LayerVersion]]:
    problem = runtime_problem(config.runtime) if isinstance(config.runtime, str) else f"Runtime must be one of: {', '.join(Runtime.values)}."
    if problem:
        raise ValidationFailed(problem, details={"field": "runtime"})
    if not isinstance(config.handler, str) or not HANDLER.match(config.handler) or len(config.handler) > limits.HANDLER_MAX:
        raise ValidationFailed(f"handler must be 1-{limits.HANDLER_MAX} characters without spaces, such as index.handler.", details={"field": "handler"})
    if config.runtime != Runtime.PROVIDED_AL2023 and ("." not in config.handler.strip(".") or config.handler.endswith(".")):
        raise ValidationFailed("handler must be file.function, such as index.handler or app.main.handler.", details={"field": "handler"})
    _bounded_int(config.memory_size, "memory_size", limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, "MB")
    _bounded_int(config.timeout, "timeout", limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S, "seconds")
    _bounded_int(config.ephemeral_storage, "ephemeral_storage", limits.EPHEMERAL_MIN_MB, limits.EPHEMERAL_MAX_MB, "MB")
    if config.network is None:
        config.network = limits.NETWORK_OUTBOUND
    if config.network not in limits.NETWORK_MODES:
        raise ValidationFailed(f"network must be \"outbound\" (reach other hosts) or \"none\" (only the Runtime API); got {config.network!r}.",
                               details={"field": "network", "allowed": list(limits.NETWORK_MODES)})
    config.environment = validate_environment(config.environment)
    if config.role is not None and not isinstance(config.role, str):
        raise ValidationFailed("role must be a role's name or ARN (a string), or null for none.", details={"field": "role"})
    role = role_resolve(config.role) if config.role else None
    return role, layer_versions_resolve(config.layers)


def layer_versions_resolve(arns: Any) -> list[LayerVersion]:
    """Return the layer versions named by ARN, in order; at most ``LAYERS_MAX``."""
    if arns is None:
        return []
    if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
        raise ValidationFailed("layers must be a list of layer version ARNs.", details={"field": "layers"})
    if len(arns) > limits.LAYERS_MAX:
        raise ValidationFailed(f"A function may use at most {limits.LAYERS_MAX} layers; got {len(arns)}.", details={"field": "layers", "limit": limits.LAYERS_MAX})
    resolved = []
    for arn in arns:
        match = LAYER_ARN.match(arn)
        if not match:
            raise ValidationFailed(f"{arn!r} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION).", details={"field": "layers"})
        try:
            resolved.append(LayerVersion.objects.select_related("layer").get(layer__name=match[1], version=int(match[2])))
        except LayerVersion.DoesNotExist:
            raise ValidationFailed(f"Layer version {arn} does not exist.", details={"field": "layers"}) from None
    if len({lv.layer_id for lv in resolved}) != len(resolved):
        raise ValidationFailed("A function may not use two versions of the same layer.", details={"field": "layers"})
    return resolved


def _checked_code(code: Code) -> CheckedZip:
    if (code.files is None) == (code.zip_bytes is None):
        raise ValidationFailed('code must give exactly one of "files" or "zip_base64".', details={"field": "code"})
    if code.files is not None:
        return zip_check(zip_from_files(code.files), what="code package")
    return zip_check(code.zip_bytes or b"", what="code package")


@dataclass(frozen=True)
class _StoredCode:
    zip_name: str
    sha256: str
    size: int
    unzipped_size: int
    inline_files: dict[str, str] | None


def _store_code(code: Code) -> _StoredCode:
    checked = _checked_code(code)
    return _StoredCode(zip_store(checked, folder="code"), checked.sha256, checked.size, checked.unzipped_size, code.files)


def _write_revision(*, function: Function, config: FunctionConfig, stored: _StoredCode) -> FunctionRevision:
    role, layer_versions = _validate_config(config)
    unzipped_total = stored.unzipped_size + sum(lv.unzipped_size for lv in layer_versions)
    if unzipped_total > limits.UNZIPPED_MAX_BYTES:
        raise ValidationFailed(
            f"Function code and layers unzip to {unzipped_total} bytes; together they must be at most {limits.UNZIPPED_MAX_BYTES} bytes (250 MB).",
            details={"unzipped_size": unzipped_total, "limit": limits.UNZIPPED_MAX_BYTES},
        )
    number = (function.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    assert config.network is not None  # _validate_config sets the default
    revision = FunctionRevision.objects.create(
        function=function,
        number=number,
        runtime=config.runtime,
        handler=config.handler,
        memory_size=config.memory_size,
        timeout=config.timeout,
        ephemeral_storage=config.ephemeral_storage,
        network=config.network,
        environment=config.environment,
        role=role,
        code_zip=stored.zip_name,
        code_sha256=stored.sha256,
        code_size=stored.size,
        code_unzipped_size=stored.unzipped_size,
        inline_files=stored.inline_files,
    )
    RevisionLayer.objects.bulk_create(RevisionLayer(revision=revision, layer_version=lv, position=i) for i, lv in enumerate(layer_versions))
    function.latest = revision
    function.save(update_fields=["latest", "updated_at"])
    return revision


def function_create(*, name: str, config: FunctionConfig, code: Code, description: str = "") -> Function:
    validate_function_name(name)
    _validate_description(description)
    stored = _store_code(code)
    try:
        with transaction.atomic():
            function = Function.objects.create(name=name, description=description)
            _write_revision(function=function, config=config, stored=stored)
    except IntegrityError:
        raise Conflict(f"Function {name!r} already exists; choose another name or update it.", details={"field": "name"}) from None
    return function


def _validate_description(description: str | None) -> None:
    if description is not None and (not isinstance(description, str) or len(description) > limits.DESCRIPTION_MAX):
        raise ValidationFailed(f"description must be text of at most {limits.DESCRIPTION_MAX} characters.", details={"field": "description"})


_CONFIG_FIELDS = {f.name for f in fields(FunctionConfig)}


def revision_config(revision: FunctionRevision) -> FunctionConfig:
    """The configuration of a revision, as input for the next one."""
    return FunctionConfig(
        runtime=revision.runtime,
        handler=revision.handler,
        memory_size=revision.memory_size,
        timeout=revision.timeout,
        ephemeral_storage=revision.ephemeral_storage,
        environment=dict(revision.environment),
        role=revision.role.name if revision.role is not None else None,
        layers=[lv.arn for lv in revision.ordered_layers()],
        network=revision.network,
    )


def function_update(*, function: Function, changes: dict[str, Any], code: Code | None = None, description: str | None = None) -> Function:
    """Apply configuration ``changes`` (FunctionConfig field names) and/or new code as a new revision.

    No revision is written when code and configuration equal the current revision's, so warm
    environments survive a no-op save.
    """
    unknown = set(changes) - _CONFIG_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown configuration field(s): {', '.join(sorted(unknown))}.")
    _validate_description(description)
    stored = _store_code(code) if code is not None else None
    with transaction.atomic():
        function = Function.objects.select_for_update().get(pk=function.pk)
        current = function.latest
        assert current is not None, "a function always has a latest revision"
        before = revision_config(current)
        config = replace(before, **{k: v for k, v in changes.items() if not (k == "network" and v is None)})
        if stored is None:
            stored = _StoredCode(current.code_zip.name, current.code_sha256, current.code_size, current.code_unzipped_size, current.inline_files)
        code_changed = stored.sha256 != current.code_sha256 or stored.inline_files != current.inline_files
        if config != before or code_changed:
            _write_revision(function=function, config=config, stored=stored)
        if description is not None and description != function.description:
            function.description = description
            function.save(update_fields=["description", "updated_at"])
    return function


def function_delete(*, function: Function) -> None:
    """Delete a function and its revisions; its invocation history stays, detached."""
    with transaction.atomic():
        Function.objects.filter(pk=function.pk).update(latest=None)  # the delete's signal invalidates the caches
        function.delete()


def layer_version_publish(*, name: str, zip_bytes: bytes, compatible_runtimes: list[str] | None = None, description: str = "",
                          compatible_architectures: list[str] | None = None, license_info: str = "") -> LayerVersion:
    if not isinstance(name, str) or not LAYER_NAME.match(name):
        raise ValidationFailed("Layer name must be 1-64 characters of letters, digits, hyphens and underscores.", details={"field": "name"})
    runtimes = compatible_runtimes or []
    if not isinstance(runtimes, list) or any(r not in Runtime.values for r in runtimes) or len(runtimes) > 15:
        raise ValidationFailed(f"compatible_runtimes must be a list of up to 15 of: {', '.join(Runtime.values)}.", details={"field": "compatible_runtimes"})
    _validate_description(description)
    architectures = compatible_architectures or []
    if not isinstance(architectures, list) or any(a not in ("x86_64", "arm64") for a in architectures) or len(architectures) > 2:
        raise ValidationFailed("compatible_architectures must be a list of x86_64 and/or arm64.", details={"field": "compatible_architectures"})
    if not isinstance(license_info, str) or len(license_info) > 512:
        raise ValidationFailed("license_info must be text of at most 512 characters.", details={"field": "license_info"})
    checked = zip_check(zip_bytes, what="layer zip")
    stored = zip_store(checked, folder="layers")
    with transaction.atomic():
        layer, _ = Layer.objects.get_or_create(name=name)
        layer = Layer.objects.select_for_update().get(pk=layer.pk)
        version = (layer.versions.aggregate(n=Max("version"))["n"] or 0) + 1
        return LayerVersion.objects.create(
            layer=layer,
            version=version,
            description=description,
            compatible_runtimes=runtimes,
            compatible_architectures=architectures,
            license_info=license_info,
            zip_file=stored,
            sha256=checked.sha256,
            size=checked.size,
            unzipped_size=checked.unzipped_size,
        )


def function_get_by_name(name: str) -> Function:
    try:
        return Function.objects.select_related("latest").get(name=name)
    except Function.DoesNotExist:
        raise NotFound(f"Function not found: {name}") from None


DESTINATION_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([a-zA-Z0-9_-]+)(:(\$LATEST|[a-zA-Z0-9_-]+))?$")


def _destination_checked(target: Any, field: str) -> str:
    """A destination for asynchronous invocation records: a function ARN, or "" for none."""
    if target in (None, ""):
        return ""
    if not isinstance(target, str):
        raise ValidationFailed(f"{field} must be a function ARN or empty.", details={"field": field})
    kind = destination_kind_for(target)
    if kind is not None:
        if not kind.check(target):
            raise ValidationFailed(f"The destination ARN {target} is invalid: the {kind.name} resource does not exist.", details={"field": field})
        return target
    if ":sqs:" in target or ":sns:" in target or ":events:" in target:
        raise ValidationFailed(f"Kiln delivers {field} records to Lambda functions, SQS queues and SNS topics; {target} needs the event bus service.", details={"field": field})
    match = DESTINATION_ARN.match(target)
    if not match:
        raise ValidationFailed(f"The destination ARN {target} is invalid.", details={"field": field})
    if not Function.objects.filter(name=match.group(1)).exists():
        raise ValidationFailed(f"The destination ARN {target} is invalid: function {match.group(1)} does not exist.", details={"field": field})
    return target


def dead_letter_checked(target: Any) -> str:
    """A ``DeadLetterConfig`` target: an existing SQS queue or SNS topic (a registered kind that takes dead letters), or "" for none."""
    if target in (None, ""):
        return ""
    kind = destination_kind_for(target) if isinstance(target, str) else None
    if kind is None or kind.dead_letter is None:
        raise ValidationFailed(f"The provided DeadLetterConfig target {target} is invalid: it must be the ARN of an SQS queue or SNS topic.",
                               details={"field": "DeadLetterConfig"})
    if not kind.check(target):
        raise ValidationFailed(f"The provided DeadLetterConfig target {target} does not exist.", details={"field": "DeadLetterConfig"})
    return target


def function_dead_letter_put(*, function: Function, target: str) -> Function:
    function.dead_letter_target = dead_letter_checked(target)
    function.save(update_fields=["dead_letter_target", "updated_at"])
    return function


EVENT_CONFIG_KEYS = {"maximum_retry_attempts", "maximum_event_age_seconds", "on_success", "on_failure"}


def function_event_invoke_config_put(*, function: Function, changes: dict[str, Any]) -> Function:
    """Set ``maximum_retry_attempts`` (0-2), ``maximum_event_age_seconds`` (60-21600) and the ``on_success`` /
    ``on_failure`` destinations (function ARNs, "" for none); every value is checked before any is saved."""
    unknown = set(changes) - EVENT_CONFIG_KEYS
    if unknown or not changes:
        raise ValidationFailed('Give "maximum_retry_attempts" (0-2), "maximum_event_age_seconds" (60-21600), "on_success" and/or "on_failure" (function ARNs).')
    retries = _bounded_int(changes["maximum_retry_attempts"], "maximum_retry_attempts", 0, limits.ASYNC_RETRIES_MAX, "retries") \
        if "maximum_retry_attempts" in changes else function.async_max_retries
    age = _bounded_int(changes["maximum_event_age_seconds"], "maximum_event_age_seconds", limits.EVENT_AGE_MIN_S, limits.EVENT_AGE_MAX_S, "seconds") \
        if "maximum_event_age_seconds" in changes else function.async_max_event_age_s
    on_success = _destination_checked(changes["on_success"], "on_success") if "on_success" in changes else function.async_on_success
    on_failure = _destination_checked(changes["on_failure"], "on_failure") if "on_failure" in changes else function.async_on_failure
    function.async_max_retries, function.async_max_event_age_s = retries, age
    function.async_on_success, function.async_on_failure = on_success, on_failure
    function.async_config_modified = timezone.now()
    function.save(update_fields=["async_max_retries", "async_max_event_age_s", "async_on_success", "async_on_failure", "async_config_modified", "updated_at"])
    return function


def function_event_invoke_config_delete(*, function: Function) -> Function:
    """Back to Lambda's defaults (2 retries, 6 hours, no destinations), with no config recorded."""
    function.async_max_retries, function.async_max_event_age_s = limits.ASYNC_RETRIES_MAX, limits.EVENT_AGE_MAX_S
    function.async_on_success = function.async_on_failure = ""
    function.async_config_modified = None
    function.save(update_fields=["async_max_retries", "async_max_event_age_s", "async_on_success", "async_on_failure", "async_config_modified", "updated_at"])
    return function


def function_concurrency_put(*, function: Function, changes: dict[str, Any]) -> Function:
    """Set reserved (``None`` = unreserved, 0 = throttle all) and/or provisioned concurrency."""
    from django.conf import settings

    unknown = set(changes) - {"reserved", "provisioned"}
    if unknown or not changes:
        raise ValidationFailed('Give "reserved" (an integer or null) and/or "provisioned" (an integer).')
    reserved = changes.get("reserved", function.reserved_concurrency)
    provisioned = changes.get("provisioned", function.provisioned_concurrency)
    limit = settings.KILN_ACCOUNT_CONCURRENCY
    if reserved is not None:
        reserved = _bounded_int(reserved, "reserved", 0, limit, "concurrent executions")
    provisioned = _bounded_int(provisioned, "provisioned", 0, limit, "environments")
    if reserved is not None and provisioned > reserved:
        raise ValidationFailed(f"provisioned ({provisioned}) may not exceed reserved concurrency ({reserved}).", details={"field": "provisioned"})
    with transaction.atomic():
        others = Function.objects.exclude(pk=function.pk).filter(reserved_concurrency__isnull=False).aggregate(n=models_sum("reserved_concurrency"))["n"] or 0
        if reserved is not None and others + reserved > limit:
            raise ValidationFailed(f"Reserving {reserved} would exceed the account limit of {limit} ({others} already reserved by other functions).", details={"field": "reserved"})
        function.reserved_concurrency, function.provisioned_concurrency = reserved, provisioned
        function.save(update_fields=["reserved_concurrency", "provisioned_concurrency"])  # its signal invalidates every cache of functions
    function.refresh_from_db()
    return function


# -- saved test events ---------------------------------------------------------------------------
def _test_event_checked(name: Any, event: Any, shared: Any) -> tuple[str, Any, bool]:
    if not isinstance(name, str) or not TEST_EVENT_NAME.match(name):
        raise ValidationFailed(f"name must be 1-{limits.TEST_EVENT_NAME_MAX} letters, digits, dots, hyphens or underscores.", details={"field": "name"})
    if not isinstance(shared, bool):
        raise ValidationFailed("shared must be true or false.", details={"field": "shared"})
    size = len(json.dumps(event).encode())
    if size > limits.TEST_EVENT_MAX_BYTES:
        raise TooLarge(f"The event is {size} bytes; a test event may be at most {limits.TEST_EVENT_MAX_BYTES} bytes.", details={"field": "event", "size": size, "limit": limits.TEST_EVENT_MAX_BYTES})
    return name, event, shared


def test_event_create(*, function: Function, owner: Any, name: Any, event: Any, shared: Any = False) -> SavedTestEvent:
    """Save a new test event of ``function``; at most ``TEST_EVENTS_MAX`` per function, names unique."""
    name, event, shared = _test_event_checked(name, event, shared)
    with transaction.atomic():
        Function.objects.select_for_update().filter(pk=function.pk).exists()  # serialises the count check
        count = SavedTestEvent.objects.filter(function=function).count()
        if count >= limits.TEST_EVENTS_MAX:
            raise ValidationFailed(f"Function {function.name} already has {count} saved test events, the most a function can keep ({limits.TEST_EVENTS_MAX}). Delete one first.",
                                   code="TestEventLimitExceeded", details={"limit": limits.TEST_EVENTS_MAX, "count": count})
        if SavedTestEvent.objects.filter(function=function, name=name).exists():
            raise Conflict(f"Function {function.name} already has a test event named {name}.", details={"field": "name"})
        return SavedTestEvent.objects.create(function=function, owner=owner, name=name, event=event, shared=shared)


def test_event_update(*, test_event: SavedTestEvent, changes: dict[str, Any]) -> SavedTestEvent:
    """Change a test event's ``event``, ``shared`` or ``name``."""
    unknown = set(changes) - {"name", "event", "shared"}
    if unknown:
        raise ValidationFailed(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    name, event, shared = _test_event_checked(changes.get("name", test_event.name), changes.get("event", test_event.event), changes.get("shared", test_event.shared))
    if name != test_event.name and SavedTestEvent.objects.filter(function_id=test_event.function_id, name=name).exists():
        raise Conflict(f"Function {test_event.function.name} already has a test event named {name}.", details={"field": "name"})
    test_event.name, test_event.event, test_event.shared = name, event, shared
    test_event.save(update_fields=["name", "event", "shared", "updated_at"])
    return test_event


def test_event_delete(*, test_event: SavedTestEvent) -> None:
    test_event.delete()
