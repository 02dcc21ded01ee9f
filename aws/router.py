"""The AWS endpoint's front door: a middleware that answers signed AWS requests before Django's URLs do.

A request is the endpoint's when its ``Authorization`` header starts with ``AWS4-HMAC-SHA256`` (or ``AWS ``,
S3's Signature V2), its query holds ``X-Amz-Algorithm`` (or ``AWSAccessKeyId``: presigned URLs), or its host
is Kiln's S3 host (``s3.localhost``, ``<bucket>.s3.localhost``). The service in the credential scope (``s3``,
``iam``, ``sts``, ``lambda``, ``logs``, ``sqs``, ``sns``, ...) picks the adapter (``service_for``: DynamoDB Streams is signed as ``dynamodb`` and
told apart by its ``X-Amz-Target`` prefix); the key is resolved, the time checked, the signature recomputed
(``aws.sigv4``, ``aws.sigv2``) and session tokens checked before any handler runs. Every other request, and
every request on an HTTP trigger's host, continues to the console, REST API and HTTP triggers unchanged.
Failures answer in the service's own wire format.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import logging
import uuid
from collections.abc import Callable
from types import ModuleType

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from aws.context import AwsContext
from aws.errors import AuthFailure, AwsError, from_domain
from aws.hosts import virtual_bucket
from aws.models import service_model
from aws.protocols.awsjson import json_error
from aws.protocols.query import query_error
from aws.protocols.restjson import restjson_error
from aws.protocols.restxml import s3_error
from aws.sigv2 import is_signed_v2, request_time_check_v2, signature_verify_v2, signed_v2_parse
from aws.sigv4 import is_signed, request_time_check, service_hint, signature_verify, signed_request_parse
from core.errors import KilnError
from core.generations import generations_read
from iam.credentials import Credential, Principal, access_key_note_use, credential_resolve
from invoker.credentials import environment_invocation

logger = logging.getLogger(__name__)

ADAPTERS = {"s3": "aws.services.s3", "iam": "aws.services.iam", "sts": "aws.services.sts", "lambda": "aws.services.lambda_", "logs": "aws.services.logs", "sqs": "aws.services.sqs",
            "events": "aws.services.events", "scheduler": "aws.services.scheduler", "dynamodb": "aws.services.dynamodb", "dynamodbstreams": "aws.services.dynamodbstreams",
            "sns": "aws.services.sns"}
# The wire format of each service's answers (errors included); S3 streams its bodies, the others are read whole.
# "json" families (rest-json and awsJson) share the authentication errors' codes.
FAMILIES = {"s3": "s3", "lambda": "json", "logs": "json", "sqs": "json", "events": "json", "scheduler": "json", "dynamodb": "json", "dynamodbstreams": "json"}
# Services signed under another's name (botocore's signingName), told apart by X-Amz-Target's prefix.
TARGETS = {"dynamodb": {"DynamoDBStreams_20120810": "dynamodbstreams"}}
QUERY_BODY_MAX = 1024 * 1024
# Lambda's largest request: CreateFunction with a 50 MB zip, base64 in JSON.
JSON_BODY_MAX = 70 * 1024 * 1024


def service_for(scope_service: str, request: HttpRequest) -> str:
    """The adapter's service for a request signed for ``scope_service`` (DynamoDB Streams is signed as ``dynamodb``)."""
    prefix = request.headers.get("x-amz-target", "").partition(".")[0]
    return TARGETS.get(scope_service, {}).get(prefix, scope_service)


def _family(service: str) -> str:
    return FAMILIES.get(service, "query")


def _adapter(service: str) -> ModuleType | None:
    path = ADAPTERS.get(service)
    return importlib.import_module(path) if path else None


def _render_error(service: str, error: AwsError, request_id: str, request: HttpRequest) -> HttpResponse:
    if service == "s3":
        return s3_error(error, request_id=request_id, head=request.method == "HEAD")
    if _family(service) == "json":
        model = service_model(service)
        return restjson_error(error, request_id) if model.protocol == "rest-json" else json_error(model, error, request_id)
    try:
        model = service_model(service) if service in ADAPTERS else None
    except Exception:  # pragma: no cover - an unknown service name
        model = None
    return query_error(model, error, request_id)


def _guarded(service: str, adapter: ModuleType | None, request: HttpRequest, request_id: str, run: Callable[[], HttpResponse]) -> HttpResponse:
    """``run()``, with every failure answered in the service's own format."""
    family = _family(service)
    try:
        return run()
    except AuthFailure as failure:
        return _render_error(service, failure.error_for(family), request_id, request)
    except AwsError as error:
        return _render_error(service, error, request_id, request)
    except KilnError as error:
        return _render_error(service, from_domain(error, codes=getattr(adapter, "DOMAIN_CODES", None)), request_id, request)
    except Exception:
        logger.exception("AWS request %s failed", request_id)
        return _render_error(service, AwsError("InternalError", "We encountered an internal error. Please try again.", status=500, sender=False), request_id, request)


def _context(request: HttpRequest, credential: Credential, *, service: str, region: str, request_id: str) -> AwsContext:
    if not credential.token_matches(request.GET.get("X-Amz-Security-Token") or request.GET.get("x-amz-security-token")
                                    or request.META.get("HTTP_X_AMZ_SECURITY_TOKEN")):
        raise AuthFailure("invalid_token")
    if credential.expired():
        raise AuthFailure("expired_token")
    access_key_note_use(credential=credential, service=service)
    return AwsContext(request=request, principal=_running(credential.principal), service=service, region=region, request_id=request_id,
                      source_ip=request.META.get("REMOTE_ADDR") or "127.0.0.1", secure=request.is_secure())


def _running(principal: Principal) -> Principal:
    """An execution environment's principal names the invocation the environment runs now (noted by its worker)."""
    if not principal.environment_id:
        return principal
    return dataclasses.replace(principal, invocation_id=environment_invocation(principal.environment_id) or principal.invocation_id)


def _resolve(access_key_id: str, family: str) -> Credential:
    credential = credential_resolve(access_key_id)
    if credential is None:
        raise AuthFailure("unknown_key", fields={"AWSAccessKeyId": access_key_id} if family == "s3" else None)
    return credential


def aws_dispatch(request: HttpRequest) -> HttpResponse:
    """Authenticate a signed request and run its operation; every failure in the service's format.

    The per-process caches it asks (keys, tables, queues, mappings) read their generations in one Redis
    round trip for the whole request (``core.generations.generations_read``)."""
    with generations_read():
        return _dispatch(request)


def _dispatch(request: HttpRequest) -> HttpResponse:
    request_id = uuid.uuid4().hex[:16].upper()
    if not is_signed(request) and is_signed_v2(request):
        return _guarded("s3", _adapter("s3"), request, request_id, lambda: _run_v2(request, request_id))
    service = service_for(service_hint(request), request) if is_signed(request) else "s3"
    adapter = _adapter(service)
    return _guarded(service, adapter, request, request_id, lambda: _run_v4(request, request_id, service, adapter))


def _run_v4(request: HttpRequest, request_id: str, service: str, adapter: ModuleType | None) -> HttpResponse:
    family = _family(service)
    if adapter is None:
        raise AwsError("UnrecognizedService", f"Kiln's AWS endpoint does not serve the service {service!r}.")
    if not is_signed(request):
        raise AwsError("AccessDenied", "Anonymous access is not allowed: sign the request with an access key.", status=403)
    signed = signed_request_parse(request)
    request_time_check(signed)
    credential = _resolve(signed.access_key_id, family)
    body: bytes | None = None
    if family != "s3":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > (JSON_BODY_MAX if family == "json" else QUERY_BODY_MAX):
            raise AwsError("RequestEntityTooLargeException" if family == "json" else "RequestEntityTooLarge", "Request body is too large.", status=413)
        body = request.body
    verification = signature_verify(request, signed, secret=credential.secret, body=body)
    if body is not None and request.headers.get("x-amz-content-sha256") and request.headers["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest():
        raise AuthFailure("bad_signature")
    ctx = _context(request, credential, service=service, region=signed.region, request_id=request_id)
    return adapter.dispatch(ctx, verification=verification, body=body)


def _run_v2(request: HttpRequest, request_id: str) -> HttpResponse:
    """S3 requests signed with Signature Version 2 (boto3's default presigned URLs)."""
    adapter = _adapter("s3")
    assert adapter is not None
    signed = signed_v2_parse(request)
    request_time_check_v2(signed)
    credential = _resolve(signed.access_key_id, "s3")
    _, bucket = virtual_bucket(request)
    path = f"/{bucket}" + (request.path if request.path != "/" else "") if bucket else request.path
    signature_verify_v2(request, signed, secret=credential.secret, path=path)
    ctx = _context(request, credential, service="s3", region=settings.KILN_REGION, request_id=request_id)
    return adapter.dispatch(ctx, verification=None, body=None)


def url_signer(request: HttpRequest) -> Principal | None:
    """Who signed a call to a function URL (SigV4, service ``lambda``), or ``None`` when the signature does not verify."""
    try:
        signed = signed_request_parse(request)
        if signed.service != "lambda":
            return None
        request_time_check(signed)
        credential = _resolve(signed.access_key_id, "json")
        signature_verify(request, signed, secret=credential.secret, body=request.body)
        ctx = _context(request, credential, service="lambda", region=signed.region, request_id="")
    except (AuthFailure, AwsError):
        return None
    return ctx.principal


class AwsRouterMiddleware:
    """Signed requests (and anything on the S3 host) go to ``aws_dispatch``; the rest continue unchanged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = (request.META.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower()
        if host.endswith(".lambda-url.localhost") or request.path.startswith("/url/"):
            # A function URL answers on its own host; a signed call (AuthType AWS_IAM) carries who signed it.
            request.aws_principal = url_signer(request) if is_signed(request) else None  # type: ignore[attr-defined]
            return self.get_response(request)
        if host.endswith(".execute-api.localhost"):
            return self.get_response(request)  # HTTP triggers keep their hosts, signed or not
        if is_signed(request) or is_signed_v2(request) or virtual_bucket(request)[0]:
            return aws_dispatch(request)
        return self.get_response(request)
