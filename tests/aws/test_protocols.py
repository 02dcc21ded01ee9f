"""Unit tests without a server: AWS's own documented SigV4 examples (a GET with Range; a chunked PUT with its
seed and chunk signatures) verify through ``aws.sigv4`` / ``aws.payloads``, and the model-driven protocol
layers parse and match what the SDKs send."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.test import RequestFactory

from aws.errors import AuthFailure, AwsError
from aws.models import service_model
from aws.payloads import body_reader
from aws.protocols.query import query_parse
from aws.protocols.restxml import operation_match
from aws.sigv4 import chunk_signature, signature_verify, signed_request_parse

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"


def _get_example(signature: str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"):
    auth = f"AWS4-HMAC-SHA256 Credential={SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}"
    return RequestFactory().get("/test.txt", HTTP_HOST="examplebucket.s3.amazonaws.com", HTTP_RANGE="bytes=0-9", HTTP_X_AMZ_DATE="20130524T000000Z",
                                HTTP_X_AMZ_CONTENT_SHA256=hashlib.sha256(b"").hexdigest(), HTTP_AUTHORIZATION=auth)


def test_aws_documented_get_example() -> None:
    request = _get_example()
    signature_verify(request, signed_request_parse(request), secret=SECRET)
    with pytest.raises(AuthFailure) as wrong:
        signature_verify(request, signed_request_parse(request), secret=SECRET[:-1] + "X")
    assert wrong.value.meaning == "bad_signature" and "CanonicalRequest" in wrong.value.fields


def _chunked_example(body: bytes = b""):
    auth = (f"AWS4-HMAC-SHA256 Credential={SCOPE},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
    request = RequestFactory().generic("PUT", "/examplebucket/chunkObject.txt", data=body, content_type="", HTTP_HOST="s3.amazonaws.com",
                                       HTTP_CONTENT_ENCODING="aws-chunked", HTTP_X_AMZ_STORAGE_CLASS="REDUCED_REDUNDANCY",
                                       HTTP_X_AMZ_CONTENT_SHA256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", HTTP_X_AMZ_DATE="20130524T000000Z",
                                       HTTP_X_AMZ_DECODED_CONTENT_LENGTH="66560", HTTP_AUTHORIZATION=auth)
    request.META.pop("CONTENT_TYPE", None)
    request.META["CONTENT_LENGTH"] = "66824"
    return request


DOC_CHUNKS = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
              "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]


def test_aws_documented_chunk_signatures() -> None:
    request = _chunked_example()
    verification = signature_verify(request, signed_request_parse(request), secret=SECRET)
    previous = verification.signature
    for chunk, expected in zip([b"a" * 65536, b"a" * 1024, b""], DOC_CHUNKS, strict=True):
        previous = chunk_signature(verification, previous=previous, chunk_sha256=hashlib.sha256(chunk).hexdigest())
        assert previous == expected


def _encoded(signatures: list[str]) -> bytes:
    chunks = [b"a" * 65536, b"a" * 1024, b""]
    return b"".join(f"{len(c):x};chunk-signature={s}\r\n".encode() + c + b"\r\n" for c, s in zip(chunks, signatures, strict=True))


def test_aws_documented_chunked_body_decodes() -> None:
    body = _encoded(DOC_CHUNKS)
    assert len(body) == 66824
    request = _chunked_example(body)
    verification = signature_verify(request, signed_request_parse(request), secret=SECRET)
    reader = body_reader(io.BytesIO(body), request.headers, verification=verification, content_length=len(body))
    decoded = b""
    while piece := reader.read(10_000):
        decoded += piece
    assert decoded == b"a" * 66560 and reader.finished
    tampered = _encoded([DOC_CHUNKS[0], "0" * 64, DOC_CHUNKS[2]])
    reader = body_reader(io.BytesIO(tampered), request.headers, verification=verification, content_length=len(tampered))
    with pytest.raises(AwsError) as exc:
        while reader.read(10_000):
            pass
    assert exc.value.code == "SignatureDoesNotMatch"


def test_query_parse_lists_maps_and_required() -> None:
    iam = service_model("iam")
    form = {"Action": "SimulatePrincipalPolicy", "PolicySourceArn": "arn:aws:iam::0:user/u", "ActionNames.member.1": "s3:GetObject",
            "ActionNames.member.2": "s3:PutObject", "ContextEntries.member.1.ContextKeyName": "aws:TagKeys",
            "ContextEntries.member.1.ContextKeyValues.member.1": "a", "ContextEntries.member.1.ContextKeyValues.member.2": "b",
            "ContextEntries.member.1.ContextKeyType": "stringList", "MaxItems": "5"}
    params = query_parse(iam.operation_model("SimulatePrincipalPolicy"), form)
    assert params["ActionNames"] == ["s3:GetObject", "s3:PutObject"] and params["MaxItems"] == 5
    assert params["ContextEntries"] == [{"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["a", "b"], "ContextKeyType": "stringList"}]
    with pytest.raises(AwsError) as missing:
        query_parse(iam.operation_model("GetRole"), {"Action": "GetRole"})
    assert missing.value.code == "ValidationError"
    with pytest.raises(AwsError) as bad_number:
        query_parse(iam.operation_model("ListRoles"), {"MaxItems": "many"})
    assert bad_number.value.code == "ValidationError"


@pytest.mark.parametrize("method, path, query, headers, expected", [
    ("GET", "/", {}, {}, "ListBuckets"),
    ("PUT", "/b", {}, {}, "CreateBucket"),
    ("HEAD", "/b", {}, {}, "HeadBucket"),
    ("GET", "/b", {}, {}, "ListObjects"),
    ("GET", "/b/", {}, {}, "ListObjects"),
    ("GET", "/b", {"list-type": "2"}, {}, "ListObjectsV2"),
    ("GET", "/b", {"location": ""}, {}, "GetBucketLocation"),
    ("GET", "/b", {"acl": ""}, {}, "GetBucketAcl"),
    ("POST", "/b", {"delete": ""}, {}, "DeleteObjects"),
    ("GET", "/b/k/with/slashes", {}, {}, "GetObject"),
    ("PUT", "/b/k", {}, {}, "PutObject"),
    ("PUT", "/b/k", {}, {"x-amz-copy-source": "b/src"}, "CopyObject"),
    ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
    ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {"x-amz-copy-source": "b/src"}, "UploadPartCopy"),
    ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
    ("POST", "/b/k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
    ("DELETE", "/b/k", {}, {}, "DeleteObject"),
    ("DELETE", "/b/k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
    ("GET", "/b/k", {"uploadId": "u"}, {}, "ListParts"),
    # the deprecated GetBucketNotification / PutBucketNotification share the route and lose to the current ones
    ("GET", "/b", {"notification": ""}, {}, "GetBucketNotificationConfiguration"),
    ("PUT", "/b", {"notification": ""}, {}, "PutBucketNotificationConfiguration"),
])
def test_rest_xml_operation_match(method: str, path: str, query: dict, headers: dict, expected: str) -> None:
    operation, labels = operation_match(service_model("s3"), method=method, path=path, query=query, headers=headers)
    assert operation.name == expected
    assert labels.get("Bucket") == ("b" if path != "/" else None)
