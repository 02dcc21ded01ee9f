"""The REST API's OpenAPI schema documents its errors too: every operation lists the statuses it may answer in the
one error envelope (``restapi.errors``), so a client (and ``make fuzz``'s Schemathesis ``status_code_conformance``
check) knows a 404 or a 409 is part of the contract and what its body looks like.

Which statuses: any operation may answer 400 (a bad parameter or body), 401 (no or a bad token), 403 (not
allowed), 404 (the resource in the path, or one a parameter names, does not exist) and 503 (the database is away
for a moment: try again); one that writes also 409 (a conflict) and 412 (a stale revision); one that takes a body
also 413 (too large) and 415 (a media type it does not parse); a POST may also answer 429 (throttled: an
invocation). 414 is gunicorn's own answer to a request line over 4,094 bytes, in HTML, before Kiln sees it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ALL = ("400", "401", "403", "404", "503")
WRITES = ("409", "412")
BODIES = ("413", "415")
THROTTLED = ("429",)


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="The error's code, as the AWS API names it where it has one (ResourceNotFoundException, ...)")
    message = serializers.CharField(help_text="What went wrong and what to change")
    details = serializers.DictField(help_text="The fields concerned, the limits, ...")


class ErrorEnvelope(serializers.Serializer):
    error = ErrorDetail()


def error_statuses(method: str) -> tuple[str, ...]:
    """The error statuses an operation of ``method`` may answer (the module's docstring says why each)."""
    method = method.upper()
    statuses: tuple[str, ...] = ALL
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        statuses += WRITES
    if method in ("POST", "PUT", "PATCH"):
        statuses += BODIES
    if method == "POST":
        statuses += THROTTLED
    return statuses


class KilnAutoSchema(AutoSchema):
    """drf-spectacular's schema of a view, with the error responses of ``error_statuses`` added where the view names none."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in error_statuses(self.method):
            if status not in responses:
                responses[status] = self._get_response_for_code(ErrorEnvelope, status, media_types=["application/json"], direction=direction)
        responses.setdefault("414", {"description": "Request line over 4,094 bytes (gunicorn's limit, answered by the HTTP server in HTML)",
                                     "content": {"text/html": {"schema": {"type": "string"}}}})
        return responses
