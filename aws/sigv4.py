"""AWS Signature Version 4: detect, parse and verify a signed request by recomputing it with botocore's signer.

Nothing here canonicalises by hand: the request is rebuilt as a botocore ``AWSRequest`` holding exactly the
headers the client signed, and botocore's ``SigV4Auth`` / ``S3SigV4Auth`` (Authorization header) or
``SigV4QueryAuth`` / ``S3SigV4QueryAuth`` (presigned URL) compute the canonical request, string to sign
and signature, compared in constant time. Header-signed requests more than 15 minutes off the server's
clock are ``RequestTimeTooSkewed``; presigned URLs live for ``X-Amz-Expires`` seconds (at most 7 days).
Chunk signatures of ``aws-chunked`` bodies are checked in ``aws.payloads`` with the same signer.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from django.http import HttpRequest

from aws.errors import AuthFailure

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = datetime.timedelta(minutes=15)
PRESIGN_MAX_SECONDS = 7 * 24 * 3600
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTH_HEADER = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.DOTALL)
_SCOPE = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")


@dataclass(frozen=True)
class SignedRequest:
    """What the client claims: key, scope, time, signed headers and signature."""

    access_key_id: str
    date: str
    region: str
    service: str
    timestamp: str
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool
    session_token: str | None
    expires: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def is_signed(request: HttpRequest) -> bool:
    """A request the AWS endpoint should answer: SigV4 Authorization header or presigned query."""
    return request.META.get("HTTP_AUTHORIZATION", "").startswith(ALGORITHM) or "X-Amz-Algorithm" in request.GET


def _scope(credential: str, *, presigned: bool) -> tuple[str, str, str, str]:
    match = _SCOPE.match(credential)
    if not match:
        raise AuthFailure("malformed_query" if presigned else "malformed", f"Credential scope {credential!r} is not <key>/<date>/<region>/<service>/aws4_request.")
    return match.group(1), match.group(2), match.group(3), match.group(4)


def service_hint(request: HttpRequest) -> str:
    """The service named in the credential scope, best effort (for answering in the right format)."""
    credential = request.GET.get("X-Amz-Credential", "")
    if not credential:
        match = re.search(r"Credential=([^,\s]+)", request.META.get("HTTP_AUTHORIZATION", ""))
        credential = match.group(1) if match else ""
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else "s3"


def signed_request_parse(request: HttpRequest) -> SignedRequest:
    """Parse the Authorization header or the presigned query; ``AuthFailure("malformed...")`` if incomplete."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith(ALGORITHM):
        match = _AUTH_HEADER.match(header)
        fields: dict[str, str] = {}
        for part in (match.group(1) if match else "").split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value.strip()
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise AuthFailure("malformed", "It must hold Credential, SignedHeaders and Signature.")
        key, date, region, service = _scope(fields["Credential"], presigned=False)
        timestamp = request.META.get("HTTP_X_AMZ_DATE", "")
        if not timestamp and request.META.get("HTTP_DATE"):
            try:
                timestamp = datetime.datetime.strptime(request.META["HTTP_DATE"], "%a, %d %b %Y %H:%M:%S GMT").strftime(TIMESTAMP_FORMAT)
            except ValueError:
                timestamp = ""
        return SignedRequest(access_key_id=key, date=date, region=region, service=service, timestamp=timestamp,
                             signed_headers=tuple(h for h in fields["SignedHeaders"].lower().split(";") if h), signature=fields["Signature"],
                             presigned=False, session_token=request.META.get("HTTP_X_AMZ_SECURITY_TOKEN"))
    query = request.GET
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
    if any(not query.get(name) for name in needed) or query.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthFailure("malformed_query")
    key, date, region, service = _scope(query["X-Amz-Credential"], presigned=True)
    try:
        expires = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        raise AuthFailure("malformed_query", "X-Amz-Expires must be a number of seconds.") from None
    if not 1 <= expires <= PRESIGN_MAX_SECONDS:
        raise AuthFailure("malformed_query", "X-Amz-Expires must be less than a week (in seconds) that is 604800.")
    return SignedRequest(access_key_id=key, date=date, region=region, service=service, timestamp=query["X-Amz-Date"],
                         signed_headers=tuple(h for h in query["X-Amz-SignedHeaders"].lower().split(";") if h), signature=query["X-Amz-Signature"],
                         presigned=True, session_token=query.get("X-Amz-Security-Token"), expires=expires)


def request_time_check(signed: SignedRequest, *, now: datetime.datetime | None = None) -> None:
    """Skew for header signatures, the validity window for presigned URLs."""
    now = now or datetime.datetime.now(datetime.UTC)
    try:
        at = datetime.datetime.strptime(signed.timestamp, TIMESTAMP_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise AuthFailure("malformed_query" if signed.presigned else "malformed", "X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.") from None
    server_time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if signed.presigned:
        assert signed.expires is not None
        if now > at + datetime.timedelta(seconds=signed.expires):
            raise AuthFailure("expired_url", fields={"X-Amz-Expires": signed.expires, "Expires": (at + datetime.timedelta(seconds=signed.expires)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                     "ServerTime": server_time})
        if at - now > MAX_SKEW:
            raise AuthFailure("skewed", fields={"RequestTime": signed.timestamp, "ServerTime": server_time, "MaxAllowedSkewMilliseconds": 900000})
        return
    if abs(now - at) > MAX_SKEW:
        raise AuthFailure("skewed", fields={"RequestTime": signed.timestamp, "ServerTime": server_time, "MaxAllowedSkewMilliseconds": 900000})


class _Exact:
    """Sign exactly the headers the client listed (botocore's default would add or skip some)."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers


class _HeaderSigner(_Exact, SigV4Auth):
    pass


class _S3HeaderSigner(_Exact, S3SigV4Auth):
    pass


class _QuerySigner(_Exact, SigV4QueryAuth):
    pass


class _S3QuerySigner(_Exact, S3SigV4QueryAuth):
    pass


def _raw_query_pairs(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


@dataclass
class Verification:
    """A verified request: the signer and rebuilt request (for chunk signatures), and the signature."""

    signer: SigV4Auth
    aws_request: AWSRequest
    signature: str
    canonical_request: str
    string_to_sign: str


def signature_verify(request: HttpRequest, signed: SignedRequest, *, secret: str, body: bytes | None = None) -> Verification:
    """Recompute the signature with botocore and compare; ``AuthFailure("bad_signature")`` if it differs.

    ``body`` is the payload for services whose payload hash is not sent in ``x-amz-content-sha256``.
    """
    is_s3 = signed.service == "s3"
    headers: dict[str, str] = {}
    for name in signed.signed_headers:
        value = request.META.get("HTTP_HOST") if name == "host" else request.headers.get(name)
        if value is None:
            raise AuthFailure("bad_signature")
        headers[name] = value
    pairs = [(k, v) for k, v in _raw_query_pairs(request.META.get("QUERY_STRING", "")) if not (signed.presigned and k == "X-Amz-Signature")]
    scheme = "https" if request.is_secure() else "http"
    path = quote(request.path, safe="/~")
    aws_request = AWSRequest(method=request.method, url=f"{scheme}://{request.META.get('HTTP_HOST', 'localhost')}{path}", headers=headers,
                             data=body if body is not None else b"", params=pairs)
    credentials = Credentials(signed.access_key_id, secret)
    signer_class = (_S3QuerySigner if is_s3 else _QuerySigner) if signed.presigned else (_S3HeaderSigner if is_s3 else _HeaderSigner)
    signer = signer_class(credentials, signed.service, signed.region)
    aws_request.context["timestamp"] = signed.timestamp
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    expected = signer.signature(string_to_sign, aws_request)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise AuthFailure("bad_signature", fields={"AWSAccessKeyId": signed.access_key_id, "StringToSign": string_to_sign, "CanonicalRequest": canonical})
    return Verification(signer=signer, aws_request=aws_request, signature=expected, canonical_request=canonical, string_to_sign=string_to_sign)


def chunk_signature(verification: Verification, *, previous: str, chunk_sha256: str, kind: str = "AWS4-HMAC-SHA256-PAYLOAD") -> str:
    """The signature of one ``aws-chunked`` chunk (or, with ``kind="AWS4-HMAC-SHA256-TRAILER"``, of the trailer)."""
    request = verification.aws_request
    scope = verification.signer.credential_scope(request)
    if kind == "AWS4-HMAC-SHA256-TRAILER":
        string_to_sign = "\n".join([kind, request.context["timestamp"], scope, previous, chunk_sha256])
    else:
        string_to_sign = "\n".join([kind, request.context["timestamp"], scope, previous, hashlib.sha256(b"").hexdigest(), chunk_sha256])
    return verification.signer.signature(string_to_sign, request)
