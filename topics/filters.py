"""Subscription filter policies over ``core.patterns`` (its ``sns`` dialect): validation in SNS's words, and matching.

``MessageAttributes`` scope matches the message's attributes by DataType; ``MessageBody`` scope matches the
published body as JSON (a body that is not a JSON object matches nothing). With MessageStructure=json the body
matched is the message as published (the JSON document), as SNS matches it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from core.patterns import Pattern, PatternError, pattern_compile
from topics.errors import invalid


@lru_cache(maxsize=1024)
def _compiled(policy: str, scope: str) -> Pattern:
    return pattern_compile(policy, dialect="sns", scope=scope)


def filter_policy_check(policy: str, scope: str) -> None:
    """``InvalidParameter`` "Invalid parameter: FilterPolicy: <reason>" for a policy SNS would refuse."""
    try:
        _compiled(policy, scope)
    except PatternError as error:
        raise invalid(f"FilterPolicy: {error.message}") from None


def filter_matches(policy: str, scope: str, *, attributes: dict[str, Any], body: str) -> bool:
    """Whether a message passes the policy (no policy: every message does)."""
    if not policy:
        return True
    pattern = _compiled(policy, scope)
    return pattern.matches(body if scope == "MessageBody" else attributes)
