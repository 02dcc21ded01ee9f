"""Request bodies of the REST API: a JSON object with the fields an operation takes, and nothing else.

A misspelled field (``memory`` for ``memory_size``) silently ignored is a setting the caller thinks they made;
as AWS's APIs do, Kiln refuses it: 400 ``InvalidParameterValueException`` naming the unknown fields and the
accepted ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.errors import ValidationFailed


def json_object(data: Any, *, allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Any]:
    """``data`` (a parsed request body) as a dict with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    allowed = set(allowed)
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ValidationFailed(f"Unknown field(s): {', '.join(unknown)}. Accepted: {', '.join(sorted(allowed))}.",
                               details={"fields": unknown, "accepted": sorted(allowed)})
    for field in required:
        if field not in data:
            raise ValidationFailed(f"{field} is required.", details={"field": field})
    return dict(data)
