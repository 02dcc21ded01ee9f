"""Objects over REST: round trips, odd keys, metadata, ranges, listings, multipart, overwrite atomicity."""

from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage

from storage import limits, services
from storage.blobs import BLOB_PREFIX
from storage.errors import EntityTooLarge
from storage.models import Bucket, Object

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(api) -> Bucket:
    assert api.post("/api/v1/buckets/", {"name": "data"}, format="json").status_code == 201
    return Bucket.objects.get(name="data")


def url(key: str) -> str:
    return "/api/v1/buckets/data/objects/" + quote(key, safe="/")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def blob_files() -> list[str]:
    root = os.path.join(default_storage.location, BLOB_PREFIX)
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


@pytest.mark.parametrize("key", ["empty", "small.txt", "with space.txt", "plus+sign.txt", "ünïcødé/日本語 ファイル.txt", "a/b/c/deep.json", "../../etc/passwd", "/abs/path", "k" * limits.KEY_MAX_BYTES])
@pytest.mark.parametrize("body", [b"", b"hello world\n"])
def test_round_trip(api, bucket, key, body):
    put = api.put(url(key), data=body, content_type="text/plain", HTTP_X_AMZ_META_COLOR="blue", HTTP_X_KILN_META_OWNER="me")
    assert put.status_code == 200, put.content
    assert put.json()["etag"] == hashlib.md5(body).hexdigest()
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = api.get(url(key))
    assert got.status_code == 200
    assert body_of(got) == body
    assert got["Content-Type"] == "text/plain"
    assert got["x-amz-meta-color"] == "blue" and got["x-amz-meta-owner"] == "me"
    head = api.head(url(key))
    assert head.status_code == 200 and head["Content-Length"] == str(len(body)) and head.content == b""
    obj = Object.objects.get(key=key)
    assert obj.blob.startswith(BLOB_PREFIX + "/") and key not in obj.blob
    assert os.path.realpath(default_storage.path(obj.blob)).startswith(os.path.realpath(default_storage.location))


def test_key_limit_edge(api, bucket):
    assert api.put(url("é" * (limits.KEY_MAX_BYTES // 2)), data=b"x", content_type="text/plain").status_code == 200
    too_long = api.put(url("é" * (limits.KEY_MAX_BYTES // 2) + "x"), data=b"x", content_type="text/plain")
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "KeyTooLongError"


def test_missing_key_and_delete_idempotent(api, bucket):
    missing = api.get(url("nope"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NoSuchKey"
    assert api.delete(url("nope")).status_code == 204


def test_size_limit_edge(bucket):
    assert services.object_put(bucket=bucket, key="edge", body=io.BytesIO(b"x" * 10), size=10).size == 10
    from storage.blobs import blob_write

    assert blob_write(io.BytesIO(b"x" * 10), max_size=10).size == 10
    with pytest.raises(EntityTooLarge):
        blob_write(io.BytesIO(b"x" * 11), max_size=10)
    with pytest.raises(EntityTooLarge):
        blob_write(io.BytesIO(b""), expected_size=limits.OBJECT_MAX_BYTES + 1)


RANGES = [("bytes=0-4", 206, b"01234", "bytes 0-4/10"), ("bytes=5-", 206, b"56789", "bytes 5-9/10"), ("bytes=-3", 206, b"789", "bytes 7-9/10"),
          ("bytes=8-100", 206, b"89", "bytes 8-9/10"), ("bytes=9-9", 206, b"9", "bytes 9-9/10"), ("bytes=10-", 416, None, "bytes */10"),
          ("bytes=-0", 416, None, "bytes */10"), ("items=0-1", 200, b"0123456789", None)]


@pytest.mark.parametrize(("header", "status", "body", "content_range"), RANGES)
def test_range_reads(api, bucket, header, status, body, content_range):
    api.put(url("digits"), data=b"0123456789", content_type="text/plain")
    response = api.get(url("digits"), HTTP_RANGE=header)
    assert response.status_code == status
    if body is not None:
        assert body_of(response) == body
    else:
        assert response.json()["error"]["code"] == "InvalidRange"
    if content_range:
        assert response["Content-Range"] == content_range


def test_listing_prefix_delimiter_pagination(api, bucket):
    keys = ["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "d/4.txt", "e.txt", "f/5.txt", "z"]
    for key in keys:
        assert api.put(url(key), data=b"x", content_type="text/plain").status_code == 200
    flat = api.get("/api/v1/buckets/data/objects/").json()
    assert [o["key"] for o in flat["objects"]] == keys and not flat["is_truncated"]
    top = api.get("/api/v1/buckets/data/objects/?delimiter=/").json()
    assert [o["key"] for o in top["objects"]] == ["a.txt", "e.txt", "z"]
    assert top["common_prefixes"] == ["b/", "d/", "f/"]
    inner = api.get("/api/v1/buckets/data/objects/?prefix=b/&delimiter=/").json()
    assert [o["key"] for o in inner["objects"]] == ["b/1.txt", "b/2.txt"] and inner["common_prefixes"] == ["b/c/"]
    # pages of 2 with a delimiter: entries are keys and prefixes in order, nothing twice, nothing lost
    seen, cursor, pages = [], None, 0
    while True:
        query = "?delimiter=/&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get("/api/v1/buckets/data/objects/" + query).json()
        pages += 1
        seen += [o["key"] for o in page["objects"]] + page["common_prefixes"]
        assert len(page["objects"]) + len(page["common_prefixes"]) <= 2
        if not page["is_truncated"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == ["a.txt", "b/", "d/", "e.txt", "f/", "z"] and pages == 3
    # plain pagination of 3
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/buckets/data/objects/?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [o["key"] for o in page["objects"]]
        if not page["is_truncated"]:
            break
        cursor = page["next_cursor"]
    assert seen == keys
    assert api.get("/api/v1/buckets/data/objects/?limit=0").status_code == 400
    assert api.get(f"/api/v1/buckets/data/objects/?limit={limits.LIST_MAX_KEYS + 1}").status_code == 400
    assert api.get(f"/api/v1/buckets/data/objects/?limit={limits.LIST_MAX_KEYS}").status_code == 200


def test_listing_binary_order(api, bucket):
    for key in ["B", "a", "Z", "é", "_"]:
        api.put(url(key), data=b"x", content_type="text/plain")
    listed = [o["key"] for o in api.get("/api/v1/buckets/data/objects/").json()["objects"]]
    assert listed == sorted(["B", "a", "Z", "é", "_"], key=lambda k: k.encode())


def test_multipart_upload_of_several_files(api, bucket):
    files = [io.BytesIO(b"one"), io.BytesIO(b"two two")]
    files[0].name, files[1].name = "one.txt", "two words.txt"
    response = api.post("/api/v1/buckets/data/objects/", {"file": files, "prefix": "in/"}, format="multipart")
    assert response.status_code == 201, response.content
    assert [o["key"] for o in response.json()["objects"]] == ["in/one.txt", "in/two words.txt"]
    assert body_of(api.get(url("in/two words.txt"))) == b"two two"
    assert api.post("/api/v1/buckets/data/objects/", {"prefix": "x"}, format="multipart").status_code == 400


def test_overwrite_is_atomic_for_open_readers(api, bucket, django_capture_on_commit_callbacks):
    old = b"old" * 100_000
    api.put(url("doc"), data=old, content_type="text/plain")
    before = set(blob_files())
    reader = api.get(url("doc"))  # opened before the overwrite, streamed after it
    chunks = iter(reader.streaming_content)
    first = next(chunks)
    new = b"NEW" * 50_000
    with django_capture_on_commit_callbacks(execute=True):
        assert api.put(url("doc"), data=new, content_type="text/plain").status_code == 200
    assert first + b"".join(chunks) == old
    assert body_of(api.get(url("doc"))) == new
    after = set(blob_files())
    assert len(after) == len(before) and after != before  # the old body was deleted after commit, the new one is there


class Exploding(io.RawIOBase):
    def __init__(self, after: int) -> None:
        self.left = after

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        take = min(n if n > 0 else 65536, self.left)
        self.left -= take
        return b"y" * take


def test_failed_upload_keeps_previous_object_and_leaves_no_file(api, bucket):
    api.put(url("keep"), data=b"precious", content_type="text/plain")
    before = blob_files()
    with pytest.raises(ConnectionResetError):
        services.object_put(bucket=bucket, key="keep", body=Exploding(3 * limits.STREAM_CHUNK_BYTES), size=10 * limits.STREAM_CHUNK_BYTES)
    assert blob_files() == before
    assert body_of(api.get(url("keep"))) == b"precious"
    with pytest.raises(Exception) as info:
        services.object_put(bucket=bucket, key="keep", body=io.BytesIO(b"abc"), size=10)
    assert getattr(info.value, "code", "") == "IncompleteBody"
    assert blob_files() == before
