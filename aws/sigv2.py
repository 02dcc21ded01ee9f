"""S3's legacy Signature Version 2 (``Authorization: AWS key:signature`` and ``?AWSAccessKeyId=&Expires=&Signature=``),
verified by recomputing with botocore's ``HmacV1Auth`` / ``HmacV1QueryAuth``.

boto3's ``generate_presigned_url`` for S3 still produces these URLs unless told ``signature_version="s3v4"``,
so Kiln accepts them for S3 only; the string to sign is botocore's, never hand-built here.
"""

from __future__ import annotations

import datetime
import email.utils
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from django.http import HttpRequest

from aws.errors import AuthFailure
from aws.sigv4 import MAX_SKEW


@dataclass(frozen=True)
class SignedV2:
    access_key_id: str
    signature: str
    presigned: bool
    date: str  # the Date header, or the Expires epoch seconds of a presigned URL
    session_token: str | None


def is_signed_v2(request: HttpRequest) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").startswith("AWS ") or ("AWSAccessKeyId" in request.GET and "Signature" in request.GET)


def signed_v2_parse(request: HttpRequest) -> SignedV2:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("AWS "):
        key, _, signature = header[4:].strip().partition(":")
        if not key or not signature:
            raise AuthFailure("malformed")
        return SignedV2(access_key_id=key, signature=signature, presigned=False, date=request.headers.get("date", ""),
                        session_token=request.headers.get("x-amz-security-token"))
    query = request.GET
    if not query.get("Expires"):
        raise AuthFailure("malformed_query")
    return SignedV2(access_key_id=query["AWSAccessKeyId"], signature=query["Signature"], presigned=True, date=query["Expires"],
                    session_token=query.get("x-amz-security-token"))


def request_time_check_v2(signed: SignedV2, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if signed.presigned:
        try:
            expires = int(signed.date)
        except ValueError:
            raise AuthFailure("malformed_query") from None
        if now > expires:
            raise AuthFailure("expired_url", fields={"Expires": datetime.datetime.fromtimestamp(expires, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
        return
    try:
        at = email.utils.parsedate_to_datetime(signed.date).timestamp()
    except (TypeError, ValueError):
        raise AuthFailure("malformed", "AWS authentication requires a valid Date or x-amz-date header") from None
    if abs(now - at) > MAX_SKEW.total_seconds():
        raise AuthFailure("skewed")


class _FixedDate:
    date = ""

    def _get_date(self) -> str:
        return self.date


class _HeaderSigner(_FixedDate, HmacV1Auth):
    pass


class _QuerySigner(_FixedDate, HmacV1QueryAuth):
    pass


def _invented_content_type(request: HttpRequest) -> bool:
    """wsgiref (Django's development and live test server) reports a missing Content-Type as text/plain."""
    return request.META.get("CONTENT_TYPE") == "text/plain" and request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer")


def _headers(request: HttpRequest, signed: SignedV2, *, content_type: bool) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name in ("content-md5", "content-type"):
        if request.headers.get(name) and (content_type or name != "content-type"):
            headers[name] = request.headers[name]
    for name, value in request.headers.items():
        if name.lower().startswith("x-amz-") and name.lower() != "x-amz-security-token":
            headers[name.lower()] = value
    if signed.presigned:
        for name, value in request.GET.dict().items():
            if name.lower().startswith("x-amz-") and name.lower() != "x-amz-security-token":
                headers[name.lower()] = value
    return headers


def signature_verify_v2(request: HttpRequest, signed: SignedV2, *, secret: str, path: str) -> None:
    """Recompute with botocore; ``path`` is the canonical resource path (``/bucket/key``, also for virtual hosts)."""
    credentials = Credentials(signed.access_key_id, secret, signed.session_token)
    signer = _QuerySigner(credentials) if signed.presigned else _HeaderSigner(credentials)
    signer.date = signed.date
    paths = [path] + ([path + "/"] if path.count("/") == 1 and path != "/" else [])  # botocore signs a bucket as "/bucket/"
    content_types = [True, False] if _invented_content_type(request) else [True]
    string_to_sign = ""
    for candidate in paths:
        resource = quote(candidate, safe="/~")
        split = urlsplit(f"http://host{resource}?{request.META.get('QUERY_STRING', '')}")
        for content_type in content_types:
            headers = _headers(request, signed, content_type=content_type)
            expected = signer.get_signature(request.method, split, headers, auth_path=resource)
            if hmac.compare_digest(expected.encode(), signed.signature.encode()):
                return
            string_to_sign = string_to_sign or signer.canonical_string(request.method, split, headers, auth_path=resource)
    raise AuthFailure("bad_signature", fields={"AWSAccessKeyId": signed.access_key_id, "StringToSign": string_to_sign})
