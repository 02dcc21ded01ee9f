"""Blobs in an S3-compatible object store (``KILN_STORAGE=s3``), as several hosts share them.

The store is a real one: another Kiln (``kiln_stack``, started as ``make run`` starts it), reached with
boto3 through django-storages' ``S3Storage``. The test process's ``default_storage`` is switched to it
(``override_settings(STORAGES=...)``, whose ``setting_changed`` handler drops the cached backend); then
code zips, layer zips, bucket objects written through the REST API and Kiln's own S3 API (multipart
parts included) must land in the store's bucket, read back byte-exact (whole, ranged, copied) and go
when deleted, and a worker started with ``KILN_STORAGE=s3`` and an empty code cache must run a
function whose code and layer exist only in the store.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.test import override_settings
from storages.backends.s3 import S3Storage

from console.storage_settings import default_storage_setting
from functions.code import code_url_token, zip_entries
from functions.models import FunctionRevision, LayerVersion
from storage.models import MultipartUpload, Object
from tests.aws.conftest import endpoint as endpoint  # noqa: F401 - the fixtures: Kiln's S3 API in this process (live_server)
from tests.aws.conftest import make_client as make_client  # noqa: F401
from tests.aws.conftest import root_key as root_key  # noqa: F401
from tests.conftest import invoke
from tests.handlers import zip_base64 as _zip

pytestmark = [pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024


@dataclass
class Store:
    """The stack's bucket that holds this session's blobs under ``prefix``, and the variables that select it."""

    client: Any
    bucket: str
    prefix: str
    env: dict[str, str]

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def names(self, under: str = "") -> set[str]:
        """Blob names (storage names, without the prefix) in the bucket under ``under``."""
        found: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.key(under)):
            found.update(entry["Key"][len(self.prefix) + 1:] for entry in page.get("Contents", ()))
        return found

    def body(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()


@pytest.fixture(scope="module")
def store(kiln_stack: Any) -> Store:
    key_id, secret = kiln_stack.root_key
    client = boto3.client("s3", endpoint_url=kiln_stack.url, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    bucket = kiln_stack.unique("kiln-blobs")
    client.create_bucket(Bucket=bucket)
    prefix = f"hosts-{secrets.token_hex(3)}"
    env = {"KILN_STORAGE": "s3", "KILN_STORAGE_BUCKET": bucket, "KILN_STORAGE_ENDPOINT_URL": kiln_stack.url, "KILN_STORAGE_ACCESS_KEY_ID": key_id,
           "KILN_STORAGE_SECRET_ACCESS_KEY": secret, "KILN_STORAGE_REGION": "us-east-1", "KILN_STORAGE_PREFIX": prefix}
    return Store(client, bucket, prefix, env)


@pytest.fixture
def on_store(store: Store) -> Iterator[Store]:
    """This process's ``default_storage`` is the store, as the settings build it from the variables."""
    with mock.patch.dict(os.environ, store.env):  # only while the setting is built: a worker started later inherits none of it
        default = default_storage_setting()
    local = default_storage.__class__
    with override_settings(STORAGES={**settings.STORAGES, "default": default}):
        assert isinstance(default_storage, S3Storage), "override_settings(STORAGES) did not reset default_storage"
        yield store
    assert default_storage.__class__ is local is FileSystemStorage


def _local() -> FileSystemStorage:
    return FileSystemStorage(location=settings.MEDIA_ROOT)


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


HANDLER = """\
import kilnlayer

MARK = {mark!r}

def handler(event, context):
    return {{'mark': MARK, 'layer': kilnlayer.VALUE, 'event': event}}
"""


def test_code_and_layers_live_in_the_store_and_a_worker_runs_them_from_there(api: Any, on_store: Store, worker: Any) -> None:
    mark = secrets.token_hex(4)  # code of its own: no worker has it cached
    layer = api.post("/api/v1/layers/", {"name": f"storelib-{mark}", "zip_base64": _zip({"python/kilnlayer.py": f"VALUE = 'layer {mark}'\n"})}, format="json")
    assert layer.status_code == 201, layer.content
    body = {"name": f"from-store-{mark}", "runtime": "python3.11", "handler": "index.handler", "layers": [layer.json()["arn"]],
            "code": {"files": {"index.py": HANDLER.format(mark=mark)}}}
    created = api.post("/api/v1/functions/", body, format="json")
    assert created.status_code == 201, created.content
    revision = FunctionRevision.objects.filter(function__name=body["name"]).latest("pk")
    version = LayerVersion.objects.get(layer__name=f"storelib-{mark}")
    code, layer_zip = revision.code_zip.name, version.zip_file.name
    assert code == f"code/{revision.code_sha256}.zip" and layer_zip == f"layers/{version.sha256}.zip"

    # In the store's bucket, under the prefix, byte-exact; not in this host's media directory.
    assert {code, layer_zip} <= on_store.names()
    stored_code = on_store.body(code)
    assert hashlib.sha256(stored_code).hexdigest() == revision.code_sha256
    assert hashlib.sha256(on_store.body(layer_zip)).hexdigest() == version.sha256
    assert not _local().exists(code) and not _local().exists(layer_zip)

    # Read back through Kiln: the console's file list, GetFunction's Code.Location, a layer's Content.Location.
    assert [entry.name for entry in zip_entries(code)] == ["index.py"]
    download = api.get(f"/api/v1/code/{code_url_token(str(revision.revision_id))}/")
    assert download.status_code == 200 and _content(download) == stored_code
    layer_download = api.get(f"/api/v1/layer-content/{code_url_token(f'layer:{version.pk}')}/")
    assert layer_download.status_code == 200 and hashlib.sha256(_content(layer_download)).hexdigest() == version.sha256

    # A worker of another host: the store's variables, a code cache of its own (empty).
    work_dir = Path(settings.DATA_DIR) / f"work-store-{mark}"
    worker.restart(**on_store.env, KILN_WORK_DIR=str(work_dir))
    try:
        response = invoke(api, body["name"], {"n": 1})
        assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
        assert response.json() == {"mark": mark, "layer": f"layer {mark}", "event": {"n": 1}}
        assert (work_dir / "code" / revision.code_sha256 / "index.py").is_file()  # unpacked there from the store
    finally:
        worker.restart()


def test_bucket_objects_through_the_rest_api(api: Any, on_store: Store) -> None:
    bucket = f"rest-{secrets.token_hex(3)}"
    assert api.post("/api/v1/buckets/", {"name": bucket}, format="json").status_code == 201
    url = f"/api/v1/buckets/{bucket}/objects/data/blob.bin"
    body = os.urandom(3 * MiB + 123)
    put = api.put(url, data=body, content_type="application/octet-stream")
    assert put.status_code == 200, put.content
    first = Object.objects.get(bucket__name=bucket, key="data/blob.bin").blob
    assert first in on_store.names("buckets/") and on_store.body(first) == body
    assert not _local().exists(first)

    whole = api.get(url)
    assert whole.status_code == 200 and whole["Content-Length"] == str(len(body)) and _content(whole) == body
    ranged = api.get(url, HTTP_RANGE=f"bytes={MiB - 10}-{2 * MiB + 9}")  # across the stream's 1 MiB chunks
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes {MiB - 10}-{2 * MiB + 9}/{len(body)}"
    assert _content(ranged) == body[MiB - 10:2 * MiB + 10]
    suffix = api.get(url, HTTP_RANGE="bytes=-100")
    assert suffix.status_code == 206 and _content(suffix) == body[-100:]

    replacement = b"second body"
    assert api.put(url, data=replacement, content_type="text/plain").status_code == 200
    second = Object.objects.get(bucket__name=bucket, key="data/blob.bin").blob
    names = on_store.names("buckets/")
    assert second in names and first not in names  # the old body went after commit
    assert _content(api.get(url)) == replacement

    from django.core.files.uploadedfile import SimpleUploadedFile

    form = api.post(f"/api/v1/buckets/{bucket}/objects/", {"file": SimpleUploadedFile("form.txt", b"from a form"), "prefix": "up/"}, format="multipart")
    assert form.status_code == 201, form.content
    posted = Object.objects.get(bucket__name=bucket, key="up/form.txt").blob
    assert on_store.body(posted) == b"from a form"

    assert api.delete(url).status_code == 204
    assert api.delete(f"/api/v1/buckets/{bucket}/objects/up/form.txt").status_code == 204
    assert not {second, posted} & on_store.names("buckets/")
    assert api.get(url).status_code == 404


def test_multipart_copies_and_ranges_through_the_s3_api(make_client: Callable[..., Any], root_key: tuple[str, str], on_store: Store) -> None:  # noqa: F811
    s3 = make_client("s3", root_key)
    bucket = f"mpu-{secrets.token_hex(3)}"
    s3.create_bucket(Bucket=bucket)
    parts = [os.urandom(5 * MiB), os.urandom(4 * MiB + 7)]  # 9 MiB: the joined body goes to the store as a multipart upload of its own
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=n, Body=data)["ETag"] for n, data in enumerate(parts, 1)]
    part_blobs = [part.blob for part in MultipartUpload.objects.get(upload_id=upload_id).parts.order_by("part_number")]
    assert set(part_blobs) <= on_store.names("buckets/")
    assert [on_store.body(blob) for blob in part_blobs] == parts  # each part's body is in the store until completion
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, 1)]})
    whole = b"".join(parts)
    blob = Object.objects.get(bucket__name=bucket, key="big").blob
    names = on_store.names("buckets/")
    assert blob in names and not set(part_blobs) & names  # the parts' bodies went after commit
    assert on_store.body(blob) == whole

    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == whole
    boundary = len(parts[0])
    ranged = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={boundary - 1000}-{boundary + 999}")
    assert ranged["ContentRange"] == f"bytes {boundary - 1000}-{boundary + 999}/{len(whole)}" and ranged["Body"].read() == whole[boundary - 1000:boundary + 1000]

    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == whole
    window = s3.create_multipart_upload(Bucket=bucket, Key="window")["UploadId"]  # UploadPartCopy seeks into the source body
    copied = s3.upload_part_copy(Bucket=bucket, Key="window", UploadId=window, PartNumber=1, CopySource={"Bucket": bucket, "Key": "big"},
                                 CopySourceRange=f"bytes=123-{boundary + 122}")
    s3.complete_multipart_upload(Bucket=bucket, Key="window", UploadId=window,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="window")["Body"].read() == whole[123:boundary + 123]

    blobs = set(Object.objects.filter(bucket__name=bucket).values_list("blob", flat=True))
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in ("big", "copy", "window")]})
    assert not blobs & on_store.names("buckets/")
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="aborted", UploadId=aborted, PartNumber=1, Body=b"never completed")
    left = MultipartUpload.objects.get(upload_id=aborted).parts.get().blob
    assert on_store.body(left) == b"never completed"
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=aborted)
    assert left not in on_store.names("buckets/")


def test_a_blob_in_the_store_is_read_as_a_seekable_stream(on_store: Store) -> None:
    from storage.blobs import blob_delete, blob_open, blob_range, blob_write

    body = os.urandom(3 * MiB + 5)
    written = blob_write(_Chunks(body), expected_size=len(body))
    assert on_store.body(written.name) == body and written.md5 == hashlib.md5(body, usedforsecurity=False).hexdigest()
    with blob_open(written.name) as handle:
        assert handle.read(10) == body[:10] and handle.tell() == 10
        assert handle.seek(0, os.SEEK_END) == len(body) and handle.read(1) == b""
        handle.seek(2 * MiB)
        assert handle.read(MiB) == body[2 * MiB:3 * MiB]
        handle.seek(5)
        assert handle.read(20) == body[5:25]
    assert b"".join(blob_range(blob_open(written.name), len(body) - 7, 7)) == body[-7:]
    reading = blob_open(written.name)  # a body being read keeps streaming when an overwrite deletes its blob
    first = reading.read(1000)
    blob_delete(written.name)
    assert first + reading.read() == body
    reading.close()
    with pytest.raises(FileNotFoundError):  # at open, as on a filesystem: what selectors.object_open retries on
        blob_open(written.name)


class _Chunks:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int) -> bytes:
        chunk = self.data[self.at:self.at + size]
        self.at += len(chunk)
        return chunk
