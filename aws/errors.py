"""Errors of the AWS endpoint: a code, a message, an HTTP status and extra fields, before any wire format.

Each protocol serializer renders an ``AwsError`` in its service's format (S3's ``<Error>``, the query
protocol's ``<ErrorResponse>``). Authentication failures have different codes per service family, so they
are raised by meaning (``AuthFailure``) and named here by the service that answers.
"""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, KilnError, NotFound, TooLarge, ValidationFailed


class AwsError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, sender: bool = True, fields: dict[str, Any] | None = None,
                 query_code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        # A JSON service that was a query service (SQS) also names the legacy code, in ``x-amzn-query-error``.
        self.query_code = query_code
        self.message = message
        self.status = status
        self.sender = sender
        self.fields = fields or {}


# meaning -> {service family: (code, status, message)}
_AUTH: dict[str, dict[str, tuple[str, int, str]]] = {
    "unknown_key": {
        "s3": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
        "query": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
        "json": ("UnrecognizedClientException", 403, "The security token included in the request is invalid."),
    },
    "bad_signature": {
        "s3": ("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."),
        "query": ("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
        "json": ("InvalidSignatureException", 403, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
    },
    "expired_token": {
        "s3": ("ExpiredToken", 400, "The provided token has expired."),
        "query": ("ExpiredToken", 403, "The security token included in the request is expired"),
        "json": ("ExpiredTokenException", 403, "The security token included in the request is expired"),
    },
    "invalid_token": {
        "s3": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        "query": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
        "json": ("UnrecognizedClientException", 403, "The security token included in the request is invalid."),
    },
    "skewed": {
        "s3": ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
        "query": ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
        "json": ("InvalidSignatureException", 403, "Signature expired: the difference between the request time and the current time is too large."),
    },
    "malformed": {
        "s3": ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed."),
        "query": ("IncompleteSignature", 400, "The request signature does not conform to AWS standards."),
        "json": ("IncompleteSignatureException", 403, "The request signature does not conform to AWS standards."),
    },
    "malformed_query": {
        "s3": ("AuthorizationQueryParametersError", 400, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."),
        "query": ("IncompleteSignature", 400, "The request signature does not conform to AWS standards."),
        "json": ("IncompleteSignatureException", 403, "The request signature does not conform to AWS standards."),
    },
    "expired_url": {
        "s3": ("AccessDenied", 403, "Request has expired"),
        "query": ("AccessDenied", 403, "Request has expired"),
        "json": ("AccessDeniedException", 403, "Request has expired"),
    },
}


class AuthFailure(Exception):
    """An authentication failure by meaning (a key of ``_AUTH``); ``error_for`` names it per service."""

    def __init__(self, meaning: str, detail: str = "", *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(meaning)
        self.meaning = meaning
        self.detail = detail
        self.fields = fields or {}

    def error_for(self, family: str) -> AwsError:
        code, status, message = _AUTH[self.meaning][family if family in ("s3", "json") else "query"]
        return AwsError(code, f"{message} {self.detail}".strip() if self.detail and self.meaning in ("malformed", "malformed_query") else message,
                        status=status, fields=self.fields)


# The REST API's generic codes (``core.errors``): a service names these in its own words; other codes are AWS's already.
_GENERIC_CODES = {"InvalidParameterValueException", "InvalidRequestContentException", "ResourceNotFoundException", "ResourceConflictException",
                  "RequestTooLargeException", "InvalidRequest"}


def from_domain(exc: KilnError, *, codes: dict[str, tuple[str, int]] | None = None) -> AwsError:
    """A domain error as an AWS error: its own code, or the service's name for that kind of error."""
    code, status = exc.code, exc.status
    if codes and code in codes:
        code, status = codes[code]
    elif codes and code in _GENERIC_CODES:
        for kind, key in ((NotFound, "*NotFound"), (Conflict, "*Conflict"), (ValidationFailed, "*Invalid"), (TooLarge, "*TooLarge")):
            if isinstance(exc, kind) and key in codes:
                code, status = codes[key]
                break
    fields = {k[:1].upper() + k[1:]: v for k, v in exc.details.items() if isinstance(v, str | int)}
    return AwsError(code, exc.message, status=status, sender=status < 500, fields=fields)
