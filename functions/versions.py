"""Published versions, aliases (with weighted routing), qualifiers, tags and resource policies of functions.

A version is an immutable name for one ``FunctionRevision``; an alias names ``$LATEST`` or a version, and
may send a weight of calls to one more version. ``qualified_resolve`` turns what a caller wrote (``name``,
``name:qualifier``, a partial or full ARN, plus a separate ``Qualifier``) into the function and the revision
and version to run, so every qualifier-taking operation resolves names the same way.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum

from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from functions import limits
from functions.models import Function, FunctionAlias, FunctionRevision, FunctionVersion, ProvisionedConcurrencyConfig
from iam.credentials import Principal
from iam.evaluation import policy_evaluate

LATEST = "$LATEST"
ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
VERSION = re.compile(r"^[0-9]+$")
# name | name:qualifier | ACCOUNT:function:name[:qualifier] | arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]
_NAME_FORMS = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):function:)?(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)
TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX = 128, 256, 50
STATEMENT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,100}$")


@dataclass(frozen=True)
class Resolved:
    """What a qualified name runs: the function, the revision, and the version (a number or ``$LATEST``)."""

    function: Function
    revision: FunctionRevision
    version: str
    qualifier: str | None  # as the caller gave it (an alias name, a version, $LATEST) or None
    alias: FunctionAlias | None = None


def name_split(text: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """``(function name, qualifier)`` from any of Lambda's name forms; a separate ``qualifier`` must agree."""
    match = _NAME_FORMS.match(text or "")
    if not match or len(match.group("name")) > limits.FUNCTION_NAME_MAX:
        raise ValidationFailed(
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    if match.group("account") and match.group("account") != settings.KILN_ACCOUNT_ID:
        raise NotFound(f"Function not found: {text}")
    embedded = match.group("qualifier")
    if embedded and qualifier and embedded != qualifier:
        raise ValidationFailed("The derived qualifier from the function name does not match the specified qualifier.")
    return match.group("name"), embedded or qualifier or None


def function_for(text: str) -> Function:
    name, _ = name_split(text)
    try:
        return Function.objects.select_related("latest").get(name=name)
    except Function.DoesNotExist:
        raise NotFound(f"Function not found: {function_unqualified_arn(name)}") from None


def function_unqualified_arn(name: str) -> str:
    return f"arn:aws:lambda:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:function:{name}"


def version_get(function: Function, version: str) -> FunctionVersion:
    found = FunctionVersion.objects.select_related("revision").filter(function=function, version=int(version)).first() if VERSION.match(version) else None
    if found is None:
        raise NotFound(f"Function not found: {function.arn}:{version}")
    return found


def alias_get(function: Function, name: str) -> FunctionAlias:
    found = FunctionAlias.objects.filter(function=function, name=name).first()
    if found is None:
        raise NotFound(f"Alias not found: {function.arn}:{name}")
    return found


def qualified_resolve(text: str, qualifier: str | None = None, *, rng: random.Random | None = None) -> Resolved:
    """The function and what to run for a qualified name; an alias with weights picks its version here."""
    name, qualifier = name_split(text, qualifier)
    try:
        function = Function.objects.select_related("latest").get(name=name)
    except Function.DoesNotExist:
        raise NotFound(f"Function not found: {function_unqualified_arn(name)}" + (f":{qualifier}" if qualifier else "")) from None
    if qualifier is None or qualifier == LATEST:
        assert function.latest is not None
        return Resolved(function, function.latest, LATEST, qualifier)
    if VERSION.match(qualifier):
        version = version_get(function, qualifier)
        return Resolved(function, version.revision, str(version.version), qualifier)
    alias = FunctionAlias.objects.filter(function=function, name=qualifier).first()
    if alias is None:
        raise NotFound(f"Function not found: {function.arn}:{qualifier}")
    chosen = alias.function_version
    if alias.additional_version and (rng or random).random() < alias.additional_weight:
        chosen = alias.additional_version
    if chosen == LATEST:
        assert function.latest is not None
        return Resolved(function, function.latest, LATEST, qualifier, alias)
    return Resolved(function, version_get(function, chosen).revision, chosen, qualifier, alias)


def version_publish(*, function: Function, description: str = "", code_sha256: str | None = None, revision_id: str | None = None) -> FunctionVersion:
    """Publish ``$LATEST`` as the next version, or return the newest version when ``$LATEST`` has not changed since.

    ``code_sha256`` (hex or base64) and ``revision_id`` are the caller's preconditions on ``$LATEST``.
    """
    if len(description or "") > limits.DESCRIPTION_MAX:
        raise ValidationFailed(f"Description must be at most {limits.DESCRIPTION_MAX} characters.")
    with transaction.atomic():
        locked = Function.objects.select_for_update(of=("self",)).select_related("latest").get(pk=function.pk)
        latest = locked.latest
        assert latest is not None
        if revision_id and revision_id != str(latest.revision_id):
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
        if code_sha256 and code_sha256 not in (latest.code_sha256, _b64_sha(latest.code_sha256)):
            raise ValidationFailed(f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST ({_b64_sha(latest.code_sha256)}). Please try again with the CodeSHA256 in $LATEST.")
        newest = FunctionVersion.objects.filter(function=locked).order_by("-version").first()
        if newest is not None and newest.revision_id == latest.pk:
            return newest
        number = (FunctionVersion.objects.filter(function=locked).aggregate(n=Max("version"))["n"] or 0) + 1
        return FunctionVersion.objects.create(function=locked, version=number, revision=latest, description=description or locked.description)


def _b64_sha(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _routing_checked(function: Function, primary: str, routing: dict[str, Any] | None) -> tuple[str, float]:
    if not routing:
        return "", 0.0
    if not isinstance(routing, dict) or len(routing) > 1:
        raise ValidationFailed("RoutingConfig.AdditionalVersionWeights takes at most one additional version.")
    (version, weight), = routing.items()
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0.0 <= float(weight) <= 1.0:
        raise ValidationFailed(f"The weight of version {version} must be between 0.0 and 1.0; got {weight}.")
    if primary == LATEST:
        raise ValidationFailed("$LATEST is not supported for an alias pointing to more than 1 version")
    if version == primary:
        raise ValidationFailed(f"Alias's primary version {primary} cannot also be its additional version.")
    version_get(function, version)
    return version, float(weight)


def _target_checked(function: Function, version: str) -> str:
    if version != LATEST:
        version_get(function, version)
    return version


def alias_create(*, function: Function, name: str, function_version: str, description: str = "", routing: dict[str, Any] | None = None) -> FunctionAlias:
    if not isinstance(name, str) or not ALIAS_NAME.match(name):
        raise ValidationFailed(f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    if len(description or "") > limits.DESCRIPTION_MAX:
        raise ValidationFailed(f"Description must be at most {limits.DESCRIPTION_MAX} characters.")
    version = _target_checked(function, function_version)
    extra, weight = _routing_checked(function, version, routing)
    with transaction.atomic():
        if FunctionAlias.objects.select_for_update().filter(function=function, name=name).exists():
            raise Conflict(f"Alias already exists: {function.arn}:{name}")
        return FunctionAlias.objects.create(function=function, name=name, function_version=version, description=description or "",
                                            additional_version=extra, additional_weight=weight)


def alias_update(*, alias: FunctionAlias, function_version: str | None = None, description: str | None = None,
                 routing: dict[str, Any] | None = None, revision_id: str | None = None) -> FunctionAlias:
    """Change an alias; ``routing`` ``{}`` clears the additional version, ``None`` keeps it."""
    with transaction.atomic():
        alias = FunctionAlias.objects.select_for_update().select_related("function").get(pk=alias.pk)
        if revision_id and revision_id != str(alias.revision_id):
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
        if function_version is not None:
            alias.function_version = _target_checked(alias.function, function_version)
        if description is not None:
            if len(description) > limits.DESCRIPTION_MAX:
                raise ValidationFailed(f"Description must be at most {limits.DESCRIPTION_MAX} characters.")
            alias.description = description
        if routing is not None:
            alias.additional_version, alias.additional_weight = _routing_checked(alias.function, alias.function_version, routing)
        elif alias.additional_version:
            alias.additional_version, alias.additional_weight = _routing_checked(
                alias.function, alias.function_version, {alias.additional_version: alias.additional_weight})
        alias.revision_id = uuid.uuid4()
        alias.save()
        return alias


def alias_delete(*, alias: FunctionAlias) -> None:
    alias.delete()


def version_delete(*, function: Function, version: str) -> None:
    """Delete a published version; refused while an alias points at it."""
    found = version_get(function, version)
    used = FunctionAlias.objects.filter(function=function).filter(function_version=version).values_list("name", flat=True)
    extra = FunctionAlias.objects.filter(function=function, additional_version=version).values_list("name", flat=True)
    names = sorted(set(used) | set(extra))
    if names:
        raise Conflict(f"Unable to delete version because the following aliases reference it: [{', '.join(names)}]")
    found.delete()


def tags_checked(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise ValidationFailed("Tags must be a map of string keys to string values.")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or key.lower().startswith("aws:"):
            raise ValidationFailed(f"Tag key {key!r} must be 1-{TAG_KEY_MAX} characters and must not start with 'aws:'.")
        if len(value) > TAG_VALUE_MAX:
            raise ValidationFailed(f"The value of tag {key!r} is longer than {TAG_VALUE_MAX} characters.")
    return tags


def function_tag(*, function: Function, tags: Any) -> Function:
    with transaction.atomic():
        locked = Function.objects.select_for_update().get(pk=function.pk)
        merged = {**locked.tags, **tags_checked(tags)}
        if len(merged) > TAGS_MAX:
            raise ValidationFailed(f"A function can have at most {TAGS_MAX} tags; this would give it {len(merged)}.")
        locked.tags = merged
        locked.save(update_fields=["tags", "updated_at"])
        return locked


def function_untag(*, function: Function, keys: list[str]) -> Function:
    with transaction.atomic():
        locked = Function.objects.select_for_update().get(pk=function.pk)
        locked.tags = {k: v for k, v in locked.tags.items() if k not in set(keys)}
        locked.save(update_fields=["tags", "updated_at"])
        return locked


def permission_add(*, function: Function, statement_id: str, action: str, principal: str, qualifier: str | None = None,
                   source_arn: str | None = None, source_account: str | None = None, url_auth_type: str | None = None,
                   revision_id: str | None = None) -> dict[str, Any]:
    """Add a statement to the function's resource policy; ``Sid`` must be new."""
    if not isinstance(statement_id, str) or not STATEMENT_ID.match(statement_id):
        raise ValidationFailed("StatementId must be 1-100 letters, digits, hyphens and underscores.")
    if not isinstance(action, str) or not re.match(r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$", action):
        raise ValidationFailed(f"Action {action!r} must be lambda:<Operation> (lambda:InvokeFunction, lambda:InvokeFunctionUrl, ...) or lambda:*.")
    if not principal:
        raise ValidationFailed("Principal is required.")
    resource = function.arn + (f":{qualifier}" if qualifier else "")
    if qualifier and qualifier != LATEST and VERSION.match(qualifier):
        version_get(function, qualifier)  # 404 for a version that does not exist
    elif qualifier and qualifier != LATEST:
        alias_get(function, qualifier)
    if principal == "*":
        who: Any = "*"
    elif principal.endswith(".amazonaws.com"):
        who = {"Service": principal}
    elif re.match(r"^\d{12}$", principal):
        who = {"AWS": f"arn:aws:iam::{principal}:root"}
    else:
        who = {"AWS": principal}
    statement: dict[str, Any] = {"Sid": statement_id, "Effect": "Allow", "Principal": who, "Action": action, "Resource": resource}
    condition: dict[str, Any] = {}
    if source_arn:
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
    if source_account:
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = source_account
    if url_auth_type:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = url_auth_type
    if condition:
        statement["Condition"] = condition
    with transaction.atomic():
        locked = Function.objects.select_for_update(of=("self",)).select_related("latest").get(pk=function.pk)
        if revision_id and locked.latest and revision_id != str(locked.latest.revision_id):
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
        if any(s.get("Sid") == statement_id for s in locked.policy_statements):
            raise Conflict(f"The statement id ({statement_id}) provided already exists. Please provide a new statement id, or remove the existing statement.")
        locked.policy_statements = [*locked.policy_statements, statement]
        locked.save(update_fields=["policy_statements", "updated_at"])
    return statement


def permission_remove(*, function: Function, statement_id: str) -> None:
    with transaction.atomic():
        locked = Function.objects.select_for_update().get(pk=function.pk)
        kept = [s for s in locked.policy_statements if s.get("Sid") != statement_id]
        if len(kept) == len(locked.policy_statements):
            raise NotFound(f"Statement {statement_id} is not found in resource policy.")
        locked.policy_statements = kept
        locked.save(update_fields=["policy_statements", "updated_at"])


def function_policy(function: Function) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(function.policy_statements)}


def function_policy_allows(function: Function, principal: Principal, *, action: str, resource: str, context: dict[str, Any] | None = None) -> bool:
    """Whether the function's resource policy (AddPermission statements) lets ``principal`` do ``action``."""
    if not function.policy_statements:
        return False
    callers = [principal.arn, f"arn:aws:iam::{principal.account}:root", principal.account]
    return policy_evaluate([function_policy(function)], action=action, resource=resource, context=context, principal={"AWS": callers}).allowed


def provisioned_put(*, function: Function, qualifier: str | None, requested: Any) -> ProvisionedConcurrencyConfig:
    """Keep ``requested`` environments initialised for a version or alias (not ``$LATEST``, as on Lambda)."""
    if not qualifier or qualifier == LATEST:
        raise ValidationFailed("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    if VERSION.match(qualifier):
        version_get(function, qualifier)
    else:
        alias_get(function, qualifier)
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise ValidationFailed("ProvisionedConcurrentExecutions must be an integer of at least 1.")
    with transaction.atomic():
        locked = Function.objects.select_for_update().get(pk=function.pk)
        others = ProvisionedConcurrencyConfig.objects.filter(function=locked).exclude(qualifier=qualifier).aggregate(n=Sum("requested"))["n"] or 0
        limit = locked.reserved_concurrency if locked.reserved_concurrency is not None else settings.KILN_ACCOUNT_CONCURRENCY
        if others + requested + locked.provisioned_concurrency > limit:
            raise ValidationFailed(f"Requested Provisioned Concurrency ({requested}) plus the function's other provisioned environments ({others + locked.provisioned_concurrency}) "
                                   f"exceeds its {'reserved concurrency' if locked.reserved_concurrency is not None else 'account limit'} ({limit}).")
        config, _ = ProvisionedConcurrencyConfig.objects.update_or_create(function=locked, qualifier=qualifier, defaults={"requested": requested})
    return config


def provisioned_get(function: Function, qualifier: str | None) -> ProvisionedConcurrencyConfig:
    found = ProvisionedConcurrencyConfig.objects.filter(function=function, qualifier=qualifier or "").first()
    if found is None:
        raise NotFound(f"No Provisioned Concurrency Config found for this function: {function.arn}" + (f":{qualifier}" if qualifier else ""),
                       code="ProvisionedConcurrencyConfigNotFoundException")
    return found


def provisioned_targets() -> list[tuple[int, str, int]]:
    """``(revision pk, version, environments)`` for every provisioned config, an alias counted on its primary version."""
    targets = []
    for config in ProvisionedConcurrencyConfig.objects.select_related("function"):
        try:
            if VERSION.match(config.qualifier):
                version = version_get(config.function, config.qualifier)
            else:
                alias = alias_get(config.function, config.qualifier)
                if alias.function_version == LATEST:
                    continue
                version = version_get(config.function, alias.function_version)
        except NotFound:
            continue  # the version or alias went; the config goes with the next write
        targets.append((version.revision_id, str(version.version), config.requested))
    return targets
