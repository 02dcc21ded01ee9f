"""IAM policy evaluation, pure logic (no database): explicit deny wins, then an allow, else implicit deny.

``policy_evaluate`` takes the identity policies of a principal (and, for a role's trust policy, the
principal's identifiers) with the action, resource and request context, and answers a ``Decision`` naming
the deciding statement. ``Action``/``NotAction`` match case-insensitively with ``*`` and ``?``;
``Resource``/``NotResource`` match ARN part by ARN part; policy variables (``${aws:username}``,
``${s3:prefix}``, ``${*}``, ``${aws:username, 'default'}``) are replaced from the context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from iam.conditions import ContextValue, arn_match, condition_holds, glob_match, literal_protect

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class NamedPolicy:
    """A policy document and where it came from (for the simulator's "deciding statement")."""

    document: Mapping[str, Any]
    name: str = ""


@dataclass(frozen=True)
class MatchedStatement:
    policy: str
    index: int
    sid: str
    effect: str


@dataclass(frozen=True)
class Decision:
    decision: Literal["allowed", "explicitDeny", "implicitDeny"]
    statement: MatchedStatement | None = None
    matched: list[MatchedStatement] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def statements_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


class _Substituter:
    def __init__(self, context: Mapping[str, ContextValue]) -> None:
        self.context = context

    def __call__(self, text: str) -> str | None:
        if "${" not in text:
            return text
        missing = False

        def replace(match: re.Match[str]) -> str:
            nonlocal missing
            inner = match.group(1)
            if inner in ("*", "?", "$"):
                return literal_protect(inner)
            name, _, default = inner.partition(",")
            value = self.context.get(name.strip().lower())
            if isinstance(value, str):
                return literal_protect(value)
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                return literal_protect(default[1:-1])
            missing = True
            return ""

        result = _VARIABLE.sub(replace, text)
        return None if missing else result


def _action_matches(patterns: list[str], action: str) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: list[str], resource: str, substitute: _Substituter) -> bool:
    for pattern in patterns:
        concrete = substitute(pattern)
        if concrete is not None and arn_match(concrete, resource):
            return True
    return False


def _principal_matches(spec: Any, principal: Mapping[str, Sequence[str]]) -> bool:
    """``Principal`` of a resource policy against the caller's identifiers by type (``AWS``, ``Service``, ...)."""
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        return False
    for kind, wanted in spec.items():
        have = [str(h) for h in principal.get(kind, [])]
        for pattern in _strings(wanted):
            if pattern == "*" and have:
                return True
            if pattern in have:
                return True
    return False


def statement_applies(statement: Mapping[str, Any], *, action: str, resource: str, context: Mapping[str, ContextValue],
                      principal: Mapping[str, Sequence[str]] | None = None) -> bool:
    """Whether the statement's principal, action, resource and conditions all match the request."""
    substitute = _Substituter(context)
    if principal is not None and ("Principal" in statement or "NotPrincipal" in statement):
        if "Principal" in statement and not _principal_matches(statement["Principal"], principal):
            return False
        if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], principal):
            return False
    elif principal is not None:
        return False  # a resource policy's statement must name its principal
    if "Action" in statement:
        if not _action_matches(_strings(statement["Action"]), action):
            return False
    elif "NotAction" in statement:
        if _action_matches(_strings(statement["NotAction"]), action):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _resource_matches(_strings(statement["Resource"]), resource, substitute):
            return False
    elif "NotResource" in statement:
        if _resource_matches(_strings(statement["NotResource"]), resource, substitute):
            return False
    elif principal is None:
        return False
    condition = statement.get("Condition")
    if condition:
        return isinstance(condition, Mapping) and condition_holds(condition, context, substitute)
    return True


def context_normalise(context: Mapping[str, Any] | None) -> dict[str, ContextValue]:
    clean: dict[str, ContextValue] = {}
    for key, value in (context or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            clean[key.lower()] = [str(v) for v in value]
        elif isinstance(value, bool):
            clean[key.lower()] = "true" if value else "false"
        else:
            clean[key.lower()] = str(value)
    return clean


def policy_evaluate(policies: Sequence[NamedPolicy | Mapping[str, Any]], *, action: str, resource: str, context: Mapping[str, Any] | None = None,
                    principal: Mapping[str, Sequence[str]] | None = None) -> Decision:
    """Decide ``action`` on ``resource``: any matching Deny → explicitDeny; else any matching Allow → allowed."""
    ctx = context_normalise(context)
    allow: MatchedStatement | None = None
    matched: list[MatchedStatement] = []
    for entry in policies:
        named = entry if isinstance(entry, NamedPolicy) else NamedPolicy(document=entry)
        for index, statement in enumerate(statements_of(named.document)):
            if not isinstance(statement, Mapping):
                continue
            if not statement_applies(statement, action=action, resource=resource, context=ctx, principal=principal):
                continue
            found = MatchedStatement(policy=named.name, index=index, sid=str(statement.get("Sid", "")), effect=str(statement.get("Effect")))
            matched.append(found)
            if statement.get("Effect") == "Deny":
                return Decision("explicitDeny", found, matched)
            if statement.get("Effect") == "Allow" and allow is None:
                allow = found
    if allow is not None:
        return Decision("allowed", allow, matched)
    return Decision("implicitDeny", None, matched)
