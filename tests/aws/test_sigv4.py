"""Signature V4 at the edges, with real boto3 against a live Kiln: bad signature, unknown key, skew,
presigned URLs (valid, expired, tampered, too long), session tokens (expired, wrong), unsigned requests
left to the console, and virtual-hosted S3 addressing."""

from __future__ import annotations

import datetime
import time
import urllib.error
import urllib.request
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from iam.credentials import session_create
from iam.models import AccessKey
from iam.services import role_create
from tests.aws.conftest import error_code, signed_send


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_root_key_works_everywhere(root) -> None:
    assert root("sts").get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    root("s3").create_bucket(Bucket="bk1")
    assert [b["Name"] for b in root("s3").list_buckets()["Buckets"]] == ["bk1"]


def test_bad_signature_in_each_wire_format(make_client, root_key) -> None:
    wrong = (root_key[0], "x" * 40)
    with pytest.raises(ClientError) as s3:
        make_client("s3", wrong).list_buckets()
    assert _code(s3) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as sts:
        make_client("sts", wrong).get_caller_identity()
    assert _code(sts) == ("SignatureDoesNotMatch", 403)
    assert sts.value.response["Error"]["Type"] == "Sender"


def test_unknown_key(make_client, root_key) -> None:
    unknown = ("AKIAUNKNOWNUNKNOWN00", "s" * 40)
    with pytest.raises(ClientError) as s3:
        make_client("s3", unknown).list_buckets()
    assert _code(s3) == ("InvalidAccessKeyId", 403)
    with pytest.raises(ClientError) as iam:
        make_client("iam", unknown).list_users()
    assert _code(iam) == ("InvalidClientTokenId", 403)


def test_inactive_key_is_unknown(make_client, root_key) -> None:
    AccessKey.objects.filter(access_key_id=root_key[0]).update(status="Inactive")
    with pytest.raises(ClientError) as exc:
        make_client("sts", root_key).get_caller_identity()
    assert _code(exc) == ("InvalidClientTokenId", 403)


def _clients_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime.datetime) -> None:
    """Set the time boto3 signs with: botocore's own signers, and the CRT ones it uses when awscrt is installed (Kiln needs it for CRC32C)."""
    import botocore.crt.auth

    def now(remove_tzinfo: bool = True) -> datetime.datetime:
        return moment if remove_tzinfo else moment.replace(tzinfo=datetime.UTC)

    monkeypatch.setattr(botocore.auth, "get_current_datetime", now)
    monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", now)


@pytest.mark.parametrize("minutes, ok", [(14, True), (-14, True), (16, False), (-16, False)])
def test_clock_skew_limit(make_client, root_key, monkeypatch, minutes: int, ok: bool) -> None:
    skewed = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(minutes=minutes)
    _clients_clock(monkeypatch, skewed)
    s3, sts = make_client("s3", root_key), make_client("sts", root_key)
    if ok:
        s3.list_buckets()
        sts.get_caller_identity()
        return
    with pytest.raises(ClientError) as exc:
        s3.list_buckets()
    assert _code(exc) == ("RequestTimeTooSkewed", 403)
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert _code(exc) == ("RequestTimeTooSkewed", 403)


def _fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=data), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_presigned_get_and_put(make_client, root_key) -> None:
    s3 = make_client("s3", root_key, signature_version="s3v4")
    s3.create_bucket(Bucket="pre")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "pre", "Key": "up/load.txt"}, ExpiresIn=60)
    assert _fetch(put_url, "PUT", b"via presigned put")[0] == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "pre", "Key": "up/load.txt"}, ExpiresIn=60)
    assert _fetch(get_url) == (200, b"via presigned put")
    tampered = get_url.replace("up/load.txt", "up/other.txt")
    status, body = _fetch(tampered)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")


def test_presigned_expiry_enforced(make_client, root_key, monkeypatch) -> None:
    s3 = make_client("s3", root_key, signature_version="s3v4")
    s3.create_bucket(Bucket="pre")
    s3.put_object(Bucket="pre", Key="k", Body=b"x")
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(seconds=120)
    _clients_clock(monkeypatch, past)
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": "pre", "Key": "k"}, ExpiresIn=60)
    alive = s3.generate_presigned_url("get_object", Params={"Bucket": "pre", "Key": "k"}, ExpiresIn=600)
    status, body = _fetch(expired)
    assert (status, error_code(body)) == (403, "AccessDenied") and b"Request has expired" in body
    assert _fetch(alive) == (200, b"x")
    too_long = alive.replace("X-Amz-Expires=600", "X-Amz-Expires=604801")
    status, body = _fetch(too_long)
    assert (status, error_code(body)) == (400, "AuthorizationQueryParametersError")


def test_session_tokens(make_client, transactional_db) -> None:
    role = role_create(name="worker")
    issued = session_create(role=role, session_name="s1", duration_seconds=900)
    key = (issued.key.access_key_id, issued.secret, issued.session_token)
    assert make_client("sts", key).get_caller_identity()["Arn"] == "arn:aws:sts::000000000000:assumed-role/worker/s1"
    with pytest.raises(ClientError) as wrong:
        make_client("s3", (key[0], key[1], "not-the-token")).list_buckets()
    assert _code(wrong) == ("InvalidToken", 400)
    with pytest.raises(ClientError) as missing:
        make_client("sts", key[:2]).get_caller_identity()
    assert _code(missing) == ("InvalidClientTokenId", 403)
    issued.key.expires_at = timezone.now() - datetime.timedelta(seconds=1)  # saved, so cached credentials are invalidated
    issued.key.save(update_fields=["expires_at"])
    with pytest.raises(ClientError) as s3:
        make_client("s3", key).list_buckets()
    assert _code(s3) == ("ExpiredToken", 400)
    with pytest.raises(ClientError) as sts:
        make_client("sts", key).get_caller_identity()
    assert _code(sts) == ("ExpiredToken", 403)


def test_unsigned_requests_reach_the_console(endpoint, root_key) -> None:
    status, body = _fetch(f"{endpoint}/healthz")
    assert status in (200, 503) and b"<Error>" not in body
    status, _ = _fetch(f"{endpoint}/api/v1/functions/")
    assert status in (401, 403)


def test_unsigned_request_to_s3_host_is_refused(endpoint, root_key) -> None:
    status, _, body, _ = signed_send(endpoint, "GET", "/", root_key, host=f"photos.s3.localhost:{endpoint.rsplit(':', 1)[1]}",
                                     tamper=lambda h: h.pop("Authorization"))
    assert (status, error_code(body)) == (403, "AccessDenied")


def test_virtual_hosted_addressing(endpoint, root, root_key) -> None:
    root("s3").create_bucket(Bucket="vhost")
    port = endpoint.rsplit(":", 1)[1]
    host = f"vhost.s3.localhost:{port}"
    sha = "UNSIGNED-PAYLOAD"
    status, headers, _, _ = signed_send(endpoint, "PUT", "/dir/file.txt", root_key, host=host, body=b"virtual", headers={"x-amz-content-sha256": sha})
    assert status == 200 and headers["etag"]
    status, _, body, _ = signed_send(endpoint, "GET", "/dir/file.txt", root_key, host=host, headers={"x-amz-content-sha256": sha})
    assert (status, body) == (200, b"virtual")
    status, _, body, _ = signed_send(endpoint, "GET", "/?list-type=2", root_key, host=host, headers={"x-amz-content-sha256": sha})
    assert status == 200 and b"<Key>dir/file.txt</Key>" in body
    assert root("s3").get_object(Bucket="vhost", Key="dir/file.txt")["Body"].read() == b"virtual"


def test_signed_header_removed_in_transit(endpoint, root_key) -> None:
    def drop(headers: dict[str, str]) -> None:
        headers["X-Amz-Date"] = headers["X-Amz-Date"][:-3] + "00Z"

    status, _, body, _ = signed_send(endpoint, "GET", "/", root_key, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, tamper=drop)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")


def test_malformed_authorization(endpoint, root_key) -> None:
    status, _, body, _ = signed_send(endpoint, "GET", "/", root_key, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
                                     tamper=lambda h: h.__setitem__("Authorization", "AWS4-HMAC-SHA256 Credential=nonsense"))
    assert (status, error_code(body)) == (400, "AuthorizationHeaderMalformed")


def test_signature_v2_presigned_urls_as_boto3_makes_them_by_default(root, monkeypatch) -> None:
    s3 = root("s3")  # no signature_version: boto3 presigns S3 URLs with Signature Version 2
    s3.create_bucket(Bucket="v2-pre")
    s3.put_object(Bucket="v2-pre", Key="dir/a b.txt", Body=b"legacy")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "v2-pre", "Key": "dir/a b.txt"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url and "X-Amz-Algorithm" not in url
    assert _fetch(url) == (200, b"legacy")
    status, body = _fetch(url.replace("a%20b", "a%20c"))
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    monkeypatch.setattr(botocore.auth.HmacV1QueryAuth, "_get_date", lambda self: str(int(time.time()) - 5))
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": "v2-pre", "Key": "dir/a b.txt"}, ExpiresIn=60)
    status, body = _fetch(expired)
    assert (status, error_code(body)) == (403, "AccessDenied")


def test_signature_v2_headers(make_client, root_key) -> None:
    s3 = make_client("s3", root_key, signature_version="s3")
    s3.create_bucket(Bucket="v2-head")
    s3.put_object(Bucket="v2-head", Key="k", Body=b"v2 body", Metadata={"x": "y"})
    assert s3.get_object(Bucket="v2-head", Key="k")["Body"].read() == b"v2 body"
    assert [o["Key"] for o in s3.list_objects(Bucket="v2-head")["Contents"]] == ["k"]
    with pytest.raises(ClientError) as bad:
        make_client("s3", (root_key[0], "wrong" * 8), signature_version="s3").list_buckets()
    assert _code(bad) == ("SignatureDoesNotMatch", 403)


def test_boto3_virtual_hosted_style(endpoint, root_key) -> None:
    """boto3 with ``addressing_style="virtual"`` on ``s3.localhost``; the connection is pointed at 127.0.0.1
    (this machine does not resolve ``*.localhost``), the signed Host stays ``<bucket>.s3.localhost``."""
    import boto3
    from botocore.config import Config

    port = endpoint.rsplit(":", 1)[1]
    client = boto3.client("s3", endpoint_url=f"http://s3.localhost:{port}", region_name="us-east-1", aws_access_key_id=root_key[0],
                          aws_secret_access_key=root_key[1], config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    seen: list[str] = []

    def to_loopback(request: Any, **kwargs: Any) -> None:
        host = request.url.split("//", 1)[1].split("/", 1)[0]
        seen.append(host)
        request.headers["Host"] = host
        request.url = request.url.replace(f"//{host}", f"//127.0.0.1:{port}", 1)

    client.meta.events.register_first("before-send.s3", to_loopback)
    client.create_bucket(Bucket="virtual-one")
    client.put_object(Bucket="virtual-one", Key="a/b.txt", Body=b"by host name")
    assert client.get_object(Bucket="virtual-one", Key="a/b.txt")["Body"].read() == b"by host name"
    assert [o["Key"] for o in client.list_objects_v2(Bucket="virtual-one")["Contents"]] == ["a/b.txt"]
    assert f"virtual-one.s3.localhost:{port}" in seen
