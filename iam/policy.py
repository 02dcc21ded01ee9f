"""Validation of IAM policy documents (the JSON grammar only; evaluation is ``iam.evaluation``).

A document is ``{"Version": "2012-10-17", "Statement": [...]}``; each statement has ``Effect``
(``Allow``/``Deny``), ``Action`` or ``NotAction`` (a string or list of ``service:Action`` patterns),
``Resource`` or ``NotResource``, and optionally ``Sid``, ``Principal``, ``Condition``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.errors import ValidationFailed
from iam.conditions import operator_known

POLICY_VERSIONS = ("2012-10-17", "2008-10-17")
MAX_POLICY_BYTES = 10_240  # IAM's role policy size quota
_ACTION = re.compile(r"^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$")
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}


def _strings(value: Any, where: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise ValidationFailed(f"{where} must be a non-empty string or a list of non-empty strings.", code="MalformedPolicyDocument")
    return items


def policy_parse(document: str | dict[str, Any], *, resource_policy: bool = False) -> dict[str, Any]:
    """Return the policy as a dict, or raise ``ValidationFailed`` naming the first thing to fix.

    ``resource_policy`` (a role's trust policy): each statement names a ``Principal`` and may omit ``Resource``.
    """
    if isinstance(document, str):
        if len(document.encode()) > MAX_POLICY_BYTES:
            raise ValidationFailed(f"Policy document is larger than {MAX_POLICY_BYTES} bytes.", code="MalformedPolicyDocument")
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"Policy document is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.", code="MalformedPolicyDocument") from None
    if not isinstance(document, dict):
        raise ValidationFailed("Policy document must be a JSON object.", code="MalformedPolicyDocument")
    if len(json.dumps(document).encode()) > MAX_POLICY_BYTES:
        raise ValidationFailed(f"Policy document is larger than {MAX_POLICY_BYTES} bytes.", code="MalformedPolicyDocument")
    unknown = set(document) - {"Version", "Statement", "Id"}
    if unknown:
        raise ValidationFailed(f"Unknown policy key(s): {', '.join(sorted(unknown))}.", code="MalformedPolicyDocument")
    if document.get("Version") not in POLICY_VERSIONS:
        raise ValidationFailed('Policy "Version" must be "2012-10-17".', code="MalformedPolicyDocument")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValidationFailed('Policy "Statement" must be a non-empty list of statements.', code="MalformedPolicyDocument")
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, dict):
            raise ValidationFailed(f"{where} must be an object.", code="MalformedPolicyDocument")
        unknown = set(statement) - _STATEMENT_KEYS
        if unknown:
            raise ValidationFailed(f"{where} has unknown key(s): {', '.join(sorted(unknown))}.", code="MalformedPolicyDocument")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValidationFailed(f'{where}.Effect must be "Allow" or "Deny".', code="MalformedPolicyDocument")
        if ("Action" in statement) == ("NotAction" in statement):
            raise ValidationFailed(f"{where} must have exactly one of Action or NotAction.", code="MalformedPolicyDocument")
        action_key = "Action" if "Action" in statement else "NotAction"
        for action in _strings(statement[action_key], f"{where}.{action_key}"):
            if not _ACTION.match(action):
                raise ValidationFailed(f'{where}.{action_key} "{action}" must look like "service:Action" (wildcards allowed).', code="MalformedPolicyDocument")
        if resource_policy and ("Principal" in statement) == ("NotPrincipal" in statement):
            raise ValidationFailed(f"{where} must have exactly one of Principal or NotPrincipal.", code="MalformedPolicyDocument")
        if not resource_policy and ("Principal" in statement or "NotPrincipal" in statement):
            raise ValidationFailed(f"{where} has Principal, which an identity policy must not have.", code="MalformedPolicyDocument")
        if resource_policy and "Resource" not in statement and "NotResource" not in statement:
            continue
        if ("Resource" in statement) == ("NotResource" in statement):
            raise ValidationFailed(f"{where} must have exactly one of Resource or NotResource.", code="MalformedPolicyDocument")
        resource_key = "Resource" if "Resource" in statement else "NotResource"
        for resource in _strings(statement[resource_key], f"{where}.{resource_key}"):
            if resource != "*" and not resource.startswith("arn:"):
                raise ValidationFailed(f'{where}.{resource_key} "{resource}" must be "*" or an ARN.', code="MalformedPolicyDocument")
        if "Condition" in statement:
            condition = statement["Condition"]
            if not isinstance(condition, dict):
                raise ValidationFailed(f"{where}.Condition must be an object.", code="MalformedPolicyDocument")
            for operator, keys in condition.items():
                if not operator_known(operator):
                    raise ValidationFailed(f'{where}.Condition has an unknown operator "{operator}".', code="MalformedPolicyDocument")
                if not isinstance(keys, dict) or not keys:
                    raise ValidationFailed(f'{where}.Condition["{operator}"] must map condition keys to values.', code="MalformedPolicyDocument")
    return document
