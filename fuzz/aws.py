"""The AWS endpoint under Hypothesis: malformed requests, each correctly signed (SigV4, botocore's ``SigV4Auth`` on an
``AWSRequest``, with the root key) unless the malformation is in the signing itself.

Each example picks a service Kiln serves and an operation of its botocore model (or one it does not have), then a
malformation: members of the wrong types (drawn from the operation's input shape: strings where numbers go,
huge numbers, nested junk, names of resources that exist beside ones that do not), a body that is not JSON or
XML or is truncated, the wrong Content-Type, huge headers (below gunicorn's limits: 8,190 bytes a field, 100
fields, so that Kiln answers and not the HTTP server), truncated or corrupted aws-chunked uploads
(``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``), bad ``X-Amz-Date`` values, unknown ``X-Amz-Target`` operations and
unknown query ``Action``\\ s. The checks: no 5xx, and every error in the service's own wire format (S3
``<Error><Code>``; query ``<ErrorResponse><Error><Code>``; awsJson ``{"__type"}``; rest-json a message and
``X-Amzn-ErrorType``). The examples are fixed in number and seeded, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import re
import string
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.model import OperationModel, ServiceModel, Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from chaos.kiln import Kiln
from fuzz.report import Part

REGION = "us-east-1"
SERVICES = ("s3", "iam", "sts", "lambda", "sqs", "sns", "events", "logs", "dynamodb", "dynamodbstreams", "scheduler")
SIGNING = {"dynamodbstreams": "dynamodb"}
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
# Resources made before the run, so that generated requests also get past "not found" into the operations.
NAMES = {"bucket": "fuzz-bucket", "key": "a.txt", "queue": "fuzz-queue", "table": "fuzz-table", "topic": "fuzz-topic", "function": "fuzz-fn",
         "group": "fuzz-group", "user": "fuzz-user", "role": "fuzz-role", "rule": "fuzz-rule", "schedule": "fuzz-schedule"}
# gunicorn answers a request line over 4,094 bytes itself (414, HTML) before Kiln sees it: URLs stay below that.
REQUEST_LINE_MAX = 3800
MUTATIONS = ("members", "members", "members", "body", "content_type", "unknown_operation", "date", "huge_headers", "chunked")


@dataclass
class Case:
    service: str
    operation: str  # the operation meant (``?name`` for one the service does not have)
    mutation: str
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    after_signing: dict[str, str] = field(default_factory=dict)  # headers set once signed (a bad X-Amz-Date)
    chunking: dict[str, str] = field(default_factory=dict)  # an aws-chunked body: chunk size, where it is cut, what is corrupted
    signed: bool = True

    def describe(self) -> str:
        shown = self.body[:300].decode("utf-8", "replace")
        return f"{self.service} {self.operation} [{self.mutation}] {self.method} {self.path}{'?' + self.query[:200] if self.query else ''}\n" \
               f"  headers {json.dumps({k: v[:80] for k, v in {**self.headers, **self.after_signing}.items()})[:600]}\n  body {shown!r}"


@dataclass
class Context:
    host: str
    port: int
    key: tuple[str, str]
    account: str = "000000000000"
    models: dict[str, ServiceModel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        session = botocore.session.get_session()
        self.models = {name: session.get_service_model(name) for name in SERVICES}

    @property
    def arns(self) -> dict[str, str]:
        return {"queue": f"arn:aws:sqs:{REGION}:{self.account}:fuzz-queue", "topic": f"arn:aws:sns:{REGION}:{self.account}:fuzz-topic",
                "function": f"arn:aws:lambda:{REGION}:{self.account}:function:fuzz-fn", "role": f"arn:aws:iam::{self.account}:role/fuzz-role",
                "table": f"arn:aws:dynamodb:{REGION}:{self.account}:table/fuzz-table", "rule": f"arn:aws:events:{REGION}:{self.account}:rule/fuzz-rule"}


# -- values -------------------------------------------------------------------------------------------

JUNK_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "null", "-1", "1e400", "NaN", "%", "%zz", "../..", "\u0000", "a" * 3000, "💥",
                                                            "<x>", "{", "[]", "arn:aws:", "arn:aws:sqs:us-east-1:0:q", "http://x/0/q"]))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), JUNK_TEXT)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _known_names(ctx: Context, member: str) -> list[str]:
    lowered = member.lower()
    pool = [value for hint, value in NAMES.items() if hint in lowered]
    pool += [value for hint, value in ctx.arns.items() if hint in lowered or "arn" in lowered]
    if "url" in lowered:
        pool.append(f"http://{ctx.host}:{ctx.port}/{ctx.account}/fuzz-queue")
    if lowered in ("name", "resource", "resourcearn", "resourcename"):
        pool += list(NAMES.values())[:6] + list(ctx.arns.values())
    return pool


def value_for(ctx: Context, shape: Shape, member: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for a member of ``shape``: mostly of the right type (often a name that exists), sometimes any JSON at all."""
    if depth > 3:
        return JSON_SCALARS
    kind = shape.type_name
    if kind == "structure":
        right: st.SearchStrategy[Any] = structure_for(ctx, shape, depth + 1)
    elif kind == "list":
        right = st.lists(value_for(ctx, shape.member, member, depth + 1), max_size=4)
    elif kind == "map":
        right = st.dictionaries(st.text(max_size=10), value_for(ctx, shape.value, member, depth + 1), max_size=3)
    elif kind == "string":
        choices = [st.text(max_size=30)]
        if shape.enum:
            choices.append(st.sampled_from(shape.enum))
        known = _known_names(ctx, member)
        if known:
            choices.append(st.sampled_from(known))
        right = st.one_of(*choices)
    elif kind in ("integer", "long"):
        right = st.one_of(st.integers(min_value=-5, max_value=1000), st.integers(min_value=-(2**66), max_value=2**66))
    elif kind in ("float", "double"):
        right = st.floats()  # NaN and infinities included: JSON has no literal for them, json.dumps writes one anyway
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "timestamp":
        right = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.floats(allow_nan=False), JUNK_TEXT, st.just("2026-01-01T00:00:00Z"))
    elif kind == "blob":
        right = st.one_of(st.just("aGVsbG8="), JUNK_TEXT)
    else:
        right = JSON_SCALARS
    return st.one_of(right, right, right, ANY_JSON)


def structure_for(ctx: Context, shape: Shape, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    members = dict(shape.members)
    if not members:
        return st.dictionaries(st.text(max_size=10), JSON_SCALARS, max_size=2)
    names = sorted(members)
    required = [name for name in getattr(shape, "required_members", []) if name in members]
    return st.lists(st.sampled_from(names), max_size=min(len(names), 6), unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: value_for(ctx, members[name], name, depth) for name in dict.fromkeys([*required, *chosen])}))


def _scalar_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# -- requests by protocol -------------------------------------------------------------------------------

def _operation(draw: Any, model: ServiceModel) -> OperationModel:
    return model.operation_model(draw(st.sampled_from(sorted(model.operation_names))))


def _json_case(draw: Any, ctx: Context, service: str, mutation: str) -> Case:
    model = ctx.models[service]
    prefix, version = model.metadata["targetPrefix"], model.metadata.get("jsonVersion", "1.0")
    content_type = f"application/x-amz-json-{version}"
    op = _operation(draw, model)
    name = op.name
    body = json.dumps(draw(structure_for(ctx, op.input_shape)) if op.input_shape is not None else {}).encode()
    if mutation == "unknown_operation":
        name = draw(st.sampled_from(["", "Nope", name.lower(), name + "X", "../" + name, " " + name]))
        target = draw(st.sampled_from([f"{prefix}.{name}", f"{prefix}", f"Other_2020.{op.name}", f"{prefix}.{op.name}.{name}", ""]))
    else:
        target = f"{prefix}.{name}"
    if mutation == "body":
        body = draw(_bad_document(body))
    if mutation == "content_type":
        content_type = draw(_bad_content_type())
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"])) if mutation == "unknown_operation" else "POST"
    headers = {"Content-Type": content_type} if content_type else {}
    if target:
        headers["X-Amz-Target"] = target
    return Case(service, name, mutation, method, "/", headers=headers, body=body)


def _query_case(draw: Any, ctx: Context, service: str, mutation: str) -> Case:
    model = ctx.models[service]
    op = _operation(draw, model)
    action = op.name
    if mutation == "unknown_operation":
        action = draw(st.sampled_from(["", "Nope", action.lower(), action + "X", "%00"]))
    params: dict[str, str] = {}
    if op.input_shape is not None:
        for name, value in draw(structure_for(ctx, op.input_shape)).items():
            _flatten(params, name, value)
    params.update(draw(st.dictionaries(st.sampled_from(["Foo", "Attribute.1.Name", "Tags.member.1.Key", "MaxItems", "Marker", "Version", "member.0"]),
                                       JUNK_TEXT.map(_scalar_text), max_size=2)))
    form = {"Action": action, "Version": model.metadata["apiVersion"], **params}
    if draw(st.booleans()):
        form.pop("Version")
    body = urlencode(form).encode()
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    if mutation == "body":
        body = draw(st.one_of(st.binary(max_size=200), st.sampled_from([b"Action", b"Action=%", b"=&=&", b"Action=" + action.encode() + b"&%ff%fe=1", b"\xff\xfe"]),
                              st.just(body[: max(len(body) // 2, 1)])))
    if mutation == "content_type":
        content_type = draw(_bad_content_type())
    method = "POST"
    query = ""
    if draw(st.integers(0, 4)) == 0 and len(body) < REQUEST_LINE_MAX:
        method, query, body = "GET", quote(body.decode("latin-1"), safe="&=%+"), b""
    headers = {"Content-Type": content_type} if content_type and method == "POST" else {}
    return Case(service, action, mutation, method, "/", query=query, headers=headers, body=body)


def _flatten(out: dict[str, str], prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in list(value.items())[:4]:
            _flatten(out, f"{prefix}.{key or 'x'}", inner)
    elif isinstance(value, list):
        for index, inner in enumerate(value[:4], start=1):
            _flatten(out, f"{prefix}.member.{index}", inner)
    else:
        out[prefix] = "" if value is None else _scalar_text(value) if not isinstance(value, bool) else str(value).lower()


def _rest_case(draw: Any, ctx: Context, service: str, mutation: str) -> Case:
    """rest-json (Lambda, Scheduler) and rest-xml (S3): the method and URI of the model, labels, query and headers from the input shape."""
    model = ctx.models[service]
    op = _operation(draw, model)
    http = op.http
    uri, _, fixed_query = http["requestUri"].partition("?")
    values = draw(structure_for(ctx, op.input_shape)) if op.input_shape is not None else {}
    members = dict(op.input_shape.members) if op.input_shape is not None else {}
    query: list[tuple[str, str]] = [tuple(part.partition("=")[::2]) for part in fixed_query.split("&") if part]  # type: ignore[misc]
    headers: dict[str, str] = {}
    body_doc: dict[str, Any] = {}
    payload = op.input_shape.serialization.get("payload") if op.input_shape is not None else None
    for label in re.findall(r"{([^}+]+)\+?}", uri):
        value = values.get(label)
        if value is None or draw(st.integers(0, 3)) == 0:
            value = draw(st.sampled_from(_known_names(ctx, label) or ["x"]) | JUNK_TEXT)
        greedy = "{" + label + "+}" in uri
        uri = uri.replace("{" + label + "+}" if greedy else "{" + label + "}", quote(_scalar_text(value)[:1000], safe="/" if greedy else "") or "x")
    for name, value in values.items():
        shape = members.get(name)
        location = shape.serialization.get("location") if shape is not None else None
        wire = shape.serialization.get("name", name) if shape is not None else name
        if location == "querystring":
            query.extend((wire, _scalar_text(v)) for v in (value if isinstance(value, list) else [value])[:3])
        elif location == "header":
            headers[wire] = re.sub(r"[\r\n\x00-\x1f\x7f]", "", _scalar_text(value))[:2000]
        elif location in ("uri", "headers"):
            continue
        elif name == payload:
            body_doc = value if isinstance(value, dict) else {"_": value}
        elif not location:
            body_doc[name] = value
    if service == "s3":
        body = draw(st.one_of(st.just(b""), st.just(_xml(payload or "Body", body_doc)), st.binary(max_size=64)))
        content_type = draw(st.sampled_from(["", "application/xml", "binary/octet-stream"]))
    else:
        body = json.dumps(body_doc).encode() if body_doc or http["method"] in ("POST", "PUT", "PATCH") else b""
        content_type = "application/json" if body else ""
    method = http["method"]
    if mutation == "unknown_operation":
        method = draw(st.sampled_from(["PATCH", "OPTIONS", method]))
        uri = draw(st.sampled_from([uri + "/nope", "/" + model.metadata["apiVersion"] + "/nope", uri + "x", "//", "/%", uri]))
        query.append((draw(st.sampled_from(["nope", "x-id", "acl", "uploads", "list-type", "delete"])), draw(JUNK_TEXT.map(_scalar_text))))
    if mutation == "body":
        body = draw(_bad_document(body) if service != "s3" else _bad_xml(body))
    if mutation == "content_type":
        content_type = draw(_bad_content_type())
    if content_type:
        headers["Content-Type"] = content_type
    while query and len(uri) + len(urlencode(query)) > REQUEST_LINE_MAX:
        query.pop()
    return Case(service, op.name, mutation, method, uri or "/", query=urlencode(query), headers=headers, body=body)


def _xml(root: str, doc: Any, depth: int = 0) -> bytes:
    def inner(value: Any, depth: int) -> str:
        if isinstance(value, dict):
            return "".join(f"<{_tag(k)}>{inner(v, depth + 1)}</{_tag(k)}>" for k, v in value.items()) if depth < 5 else ""
        if isinstance(value, list):
            return "".join(f"<member>{inner(v, depth + 1)}</member>" for v in value)
        return _escape(_scalar_text(value)) if value is not None else ""
    namespace = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    return f'<?xml version="1.0" encoding="UTF-8"?><{_tag(root)}{namespace}>{inner(doc, depth)}</{_tag(root)}>'.encode()


def _tag(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "", name)
    return cleaned if cleaned and cleaned[0].isalpha() else "X" + cleaned


def _escape(text: str) -> str:
    text = "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def _bad_document(draw: Any, good: bytes) -> bytes:
    return draw(st.one_of(
        st.just(good[: max(len(good) - 1, 0)]), st.just(good[: len(good) // 2]), st.binary(max_size=100),
        st.sampled_from([b"{", b"[]", b"null", b"1", b'"x"', b"{,}", b'{"a":}', b"\xff\xfe{}", b"{}" * 3, b'{"__proto__": 1}', b"[" * 5000 + b"]" * 5000,
                         b'{"a": NaN}', b'{"a": 1e999}', b"{" + b'"a":{' * 2000 + b"}" * 2001]),
        ANY_JSON.map(lambda v: json.dumps(v).encode())))


@st.composite
def _bad_xml(draw: Any, good: bytes) -> bytes:
    return draw(st.one_of(
        st.just(good[: len(good) // 2]), st.binary(max_size=100),
        st.sampled_from([b"<", b"<a>", b"<a></b>", b"<?xml version='1.0'?>", b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
                         b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete>&e;</Delete>', b"<Delete><Object><Key></Key></Object></Delete>",
                         b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>", b"<a>" * 3000 + b"</a>" * 3000,
                         b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>", b"\xef\xbb\xbf<x/>", b"<x>\x00</x>"]),
        ))


def _bad_content_type() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "text/plain", "application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/xml",
                            "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "*/*", ";;;", "a/b; c"])


@st.composite
def _chunked_case(draw: Any, ctx: Context) -> Case:
    """A PutObject (or UploadPart) in signed aws-chunked encoding, truncated, corrupted or with a wrong decoded length."""
    data = draw(st.binary(min_size=0, max_size=20_000))
    key = draw(st.sampled_from(["a.txt", "chunked.bin", "x/" + "k" * 200]))
    path = f"/fuzz-bucket/{quote(key)}"
    query = draw(st.sampled_from(["", "", "partNumber=1&uploadId=nope", "partNumber=0&uploadId=x"]))
    return Case("s3", "PutObject" if not query else "UploadPart", "chunked", "PUT", path, query=query,
                headers={"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": draw(st.sampled_from(["aws-chunked", "aws-chunked,gzip", ""])),
                         "x-amz-decoded-content-length": draw(st.sampled_from([str(len(data)), str(len(data) + 1), "-1", "x", "99999999999"]))},
                body=data, chunking={"chunk_size": str(draw(st.sampled_from([8192, 65536, 1]))), "cut": str(draw(st.integers(-1, len(data) + 200))),
                                          "corrupt": draw(st.sampled_from(["", "", "signature", "size", "crlf"]))})


@st.composite
def cases(draw: Any, ctx: Context) -> Case:
    service = draw(st.sampled_from(SERVICES))
    mutation = draw(st.sampled_from(MUTATIONS))
    if mutation == "chunked":
        return draw(_chunked_case(ctx))
    protocol = ctx.models[service].protocol
    if protocol == "json":
        case = _json_case(draw, ctx, service, mutation)
    elif protocol == "query" or (service == "sqs" and draw(st.integers(0, 4)) == 0):
        case = _query_case(draw, ctx, service, mutation)
    else:
        case = _rest_case(draw, ctx, service, mutation)
    if mutation == "date":
        case.after_signing["X-Amz-Date"] = draw(st.sampled_from(["", "x", "20261301T000000Z", "20260101T250000Z", "19700101T000000Z", "99991231T235959Z",
                                                                "2026-01-01T00:00:00Z", "20260101", "20260101T000000", "20260229T000000Z", "0" * 16]))
    if mutation == "huge_headers":
        count = draw(st.integers(1, 60))
        size = draw(st.sampled_from([100, 1000, 4000, 8000]))
        for index in range(count):
            case.headers[f"x-fuzz-{index}"] = draw(st.sampled_from(string.ascii_letters)) * min(size, 8100 // max(count // 20, 1))
        if draw(st.booleans()):
            case.headers["x-amz-meta-big"] = "v" * 8000
    return case


# -- signing and sending --------------------------------------------------------------------------------

def _signing_key(secret: str, date: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _chunked_body(case: Case, ctx: Context, seed_signature: str, amz_date: str) -> bytes:
    size = int(case.chunking["chunk_size"])
    data = case.body
    chunks = [data[i:i + size] for i in range(0, len(data), size)] + [b""]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    signing = _signing_key(ctx.key[1], amz_date[:8], "s3")
    previous, out = seed_signature, b""
    for chunk in chunks:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA, hashlib.sha256(chunk).hexdigest()])
        previous = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
        out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    corrupt = case.chunking["corrupt"]
    if corrupt == "signature":
        out = out.replace(b"chunk-signature=", b"chunk-signature=0", 1)
    elif corrupt == "size":
        out = b"zz" + out[out.index(b";"):] if b";" in out else out
    elif corrupt == "crlf":
        out = out.replace(b"\r\n", b"\n", 2)
    cut = int(case.chunking["cut"])
    return out[:cut] if 0 <= cut < len(out) else out


def send(case: Case, ctx: Context, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    netloc = f"{ctx.host}:{ctx.port}"
    url = f"http://{netloc}{case.path}" + (f"?{case.query}" if case.query else "")
    headers = dict(case.headers)
    chunked = bool(case.chunking)
    if case.service == "s3" and not chunked:
        headers["x-amz-content-sha256"] = hashlib.sha256(case.body).hexdigest()
    headers = {k: v.encode("ascii", "backslashreplace").decode() for k, v in headers.items()}
    request = AWSRequest(method=case.method, url=url, headers=headers, data=b"" if chunked else case.body)
    SigV4Auth(Credentials(*ctx.key), SIGNING.get(case.service, case.service), REGION).add_auth(request)
    sent = dict(request.headers.items())
    body = case.body
    if chunked:
        body = _chunked_body(case, ctx, sent["Authorization"].rsplit("Signature=", 1)[1], sent["X-Amz-Date"])
    sent.update(case.after_signing)
    # Header values go out as ASCII (a character beyond it escaped), the same as signed: http.client sends latin-1 only.
    sent = {k: v.encode("ascii", "backslashreplace").decode() for k, v in sent.items() if k.lower() not in ("content-length", "host")}
    sent["Host"] = netloc
    connection = http.client.HTTPConnection(ctx.host, ctx.port, timeout=timeout)
    try:
        connection.putrequest(case.method, url[len(f"http://{netloc}"):], skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# -- the checks -------------------------------------------------------------------------------------------

def wire_format_problem(case: Case, ctx: Context, status: int, headers: dict[str, str], body: bytes) -> str:
    """What is wrong with an error answer's format for ``case.service`` ('' when it is that service's error format)."""
    if status < 400:
        return ""
    protocol = ctx.models[case.service].protocol
    is_query = protocol == "query" or (case.service == "sqs" and not case.headers.get("X-Amz-Target") and "x-www-form-urlencoded" in case.headers.get("Content-Type", ""))
    if case.service == "s3":
        if case.method == "HEAD":
            return ""
        return "" if re.search(rb"<Error>\s*<Code>[^<]+</Code>", body) else "not S3's <Error><Code> XML"
    if is_query:
        return "" if re.search(rb"<ErrorResponse[^>]*>\s*<Error>.*<Code>[^<]+</Code>", body, re.S) else "not the query protocol's <ErrorResponse><Error><Code> XML"
    try:
        document = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(document, dict):
        return "not a JSON object"
    if protocol == "json":
        return "" if document.get("__type") else "no __type"
    if not (document.get("message") or document.get("Message")):
        return "no message"
    return "" if headers.get("x-amzn-errortype") else "no X-Amzn-ErrorType header"


# -- the run ------------------------------------------------------------------------------------------------

def setup(kiln: Kiln, ctx: Context) -> list[str]:
    """The resources the generated requests name (``NAMES``); what could not be made is noted, not fatal."""
    config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=kiln.url, region_name=REGION, aws_access_key_id=ctx.key[0], aws_secret_access_key=ctx.key[1], config=config)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    steps = [
        lambda: client("s3").create_bucket(Bucket="fuzz-bucket"),
        lambda: client("s3").put_object(Bucket="fuzz-bucket", Key="a.txt", Body=b"hello"),
        lambda: client("sqs").create_queue(QueueName="fuzz-queue"),
        lambda: client("dynamodb").create_table(TableName="fuzz-table", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                                                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}),
        lambda: client("sns").create_topic(Name="fuzz-topic"),
        lambda: client("logs").create_log_group(logGroupName="fuzz-group"),
        lambda: client("iam").create_user(UserName="fuzz-user"),
        lambda: client("iam").create_role(RoleName="fuzz-role", AssumeRolePolicyDocument=trust),
        lambda: client("lambda").create_function(FunctionName="fuzz-fn", Runtime="python3.11", Role=ctx.arns["role"], Handler="app.handler",
                                                 Code={"ZipFile": buf.getvalue()}),
        lambda: client("events").put_rule(Name="fuzz-rule", ScheduleExpression="rate(1 day)", State="DISABLED"),
    ]
    problems = []
    try:
        ctx.account = client("sts").get_caller_identity()["Account"]
    except Exception as exc:  # noqa: BLE001
        problems.append(f"GetCallerIdentity: {exc}")
    for step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"setup: {exc}")
    return problems


def run(kiln: Kiln, *, examples: int, seed: int) -> Part:
    part = Part("AWS endpoint (Hypothesis, SigV4-signed)")
    ctx = Context(host="127.0.0.1", port=kiln.port, key=kiln.root_key)
    part.notes.extend(setup(kiln, ctx))
    reached: set[str] = set()
    statuses: Counter[int] = Counter()
    not_implemented: Counter[str] = Counter()
    services: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    started = time.monotonic()

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False, phases=["generate"],
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=cases(ctx))
    def probe(case: Case) -> None:
        part.requests += 1
        services[case.service] += 1
        mutations[case.mutation] += 1
        reached.add(f"{case.service}:{case.operation}")
        try:
            status, headers, body = send(case, ctx)
        except (OSError, http.client.HTTPException) as exc:
            part.fail("answered (connection)", f"{type(exc).__name__}: {exc}\n{case.describe()}")
            return
        except Exception as exc:  # noqa: BLE001  (the harness could not send what it made: its own bug, shown and counted)
            part.fail("harness", f"{type(exc).__name__}: {exc}\n{case.describe()}")
            return
        statuses[status] += 1
        if status == 501 and (re.search(rb"<Code>NotImplemented</Code>|\"__type\": \"NotImplemented", body) or headers.get("x-amzn-errortype", "").startswith("NotImplemented")):
            not_implemented[case.service] += 1  # an operation Kiln does not serve, said so in S3's own code and status: no failure
        elif status >= 500:
            part.fail("no 5xx", f"{status} {body[:300]!r}\n{case.describe()}")
        problem = wire_format_problem(case, ctx, status, headers, body)
        if problem:
            part.fail("service wire format", f"{status} {problem}: {body[:200]!r} (content-type {headers.get('content-type')})\n{case.describe()}")

    try:
        probe()
    except Exception as exc:  # noqa: BLE001  (a bug of the generator itself: reported, never hidden)
        part.error = f"{type(exc).__name__}: {exc}"
    part.operations = len(reached)
    part.operations_total = sum(len(m.operation_names) for m in ctx.models.values())
    part.notes.append(f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(statuses.items()))}")
    part.notes.append(f"by service {dict(sorted(services.items()))}")
    part.notes.append(f"by malformation {dict(sorted(mutations.items()))}")
    if not_implemented:
        part.notes.append(f"501 NotImplemented (operations Kiln does not serve; not counted as failures): {dict(sorted(not_implemented.items()))}")
    return part
