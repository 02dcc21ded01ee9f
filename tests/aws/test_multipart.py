"""Multipart uploads with boto3 and the CLI: parts joined into one object with S3's multipart ETag, the
5 MiB minimum part, wrong ETags and order, abort, ListParts and ListMultipartUploads."""

from __future__ import annotations

import hashlib
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from storage.models import MultipartUpload, UploadPart

MIB = 1024 * 1024


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(root):
    client = root("s3")
    client.create_bucket(Bucket="mpu")
    return client


def test_upload_file_in_parts(s3, tmp_path) -> None:
    data = os.urandom(11 * MIB + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    s3.upload_file(str(path), "mpu", "big.bin", Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2))
    head = s3.head_object(Bucket="mpu", Key="big.bin")
    md5s = b"".join(hashlib.md5(data[i:i + 5 * MIB]).digest() for i in range(0, len(data), 5 * MIB))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"' and head["ContentLength"] == len(data)
    assert s3.get_object(Bucket="mpu", Key="big.bin")["Body"].read() == data
    assert not MultipartUpload.objects.exists() and not UploadPart.objects.exists()


def test_parts_rules_list_and_abort(s3) -> None:
    upload = s3.create_multipart_upload(Bucket="mpu", Key="k", ContentType="text/plain", Metadata={"m": "1"})["UploadId"]
    small = s3.upload_part(Bucket="mpu", Key="k", UploadId=upload, PartNumber=1, Body=b"a" * 1000)["ETag"]
    last = s3.upload_part(Bucket="mpu", Key="k", UploadId=upload, PartNumber=2, Body=b"b" * 10)["ETag"]
    parts = s3.list_parts(Bucket="mpu", Key="k", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 1000, small), (2, 10, last)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="mpu")["Uploads"]] == [upload]
    with pytest.raises(ClientError) as too_small:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]})
    assert _error(too_small) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]})
    assert _error(wrong) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as order:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}]})
    assert _error(order) == ("InvalidPartOrder", 400)
    done = s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": last}]})
    assert done["ETag"].endswith('-1"')
    got = s3.get_object(Bucket="mpu", Key="k")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"b" * 10, "text/plain", {"m": "1"})
    second = s3.create_multipart_upload(Bucket="mpu", Key="gone")["UploadId"]
    s3.upload_part(Bucket="mpu", Key="gone", UploadId=second, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket="mpu", Key="gone", UploadId=second)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as missing:
        s3.upload_part(Bucket="mpu", Key="gone", UploadId=second, PartNumber=2, Body=b"x")
    assert _error(missing) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as number:
        s3.upload_part(Bucket="mpu", Key="k", UploadId=s3.create_multipart_upload(Bucket="mpu", Key="k")["UploadId"], PartNumber=10001, Body=b"x")
    assert _error(number) == ("InvalidArgument", 400)


def test_upload_part_copy(s3) -> None:
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket="mpu", Key="source.bin", Body=source)
    upload = s3.create_multipart_upload(Bucket="mpu", Key="joined.bin")["UploadId"]
    first = s3.upload_part_copy(Bucket="mpu", Key="joined.bin", UploadId=upload, PartNumber=1, CopySource="mpu/source.bin")["CopyPartResult"]["ETag"]
    second = s3.upload_part_copy(Bucket="mpu", Key="joined.bin", UploadId=upload, PartNumber=2, CopySource={"Bucket": "mpu", "Key": "source.bin"},
                                 CopySourceRange="bytes=10-19")["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket="mpu", Key="joined.bin", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert s3.get_object(Bucket="mpu", Key="joined.bin")["Body"].read() == source + source[10:20]
    with pytest.raises(ClientError) as bad_range:
        s3.upload_part_copy(Bucket="mpu", Key="x", UploadId=s3.create_multipart_upload(Bucket="mpu", Key="x")["UploadId"], PartNumber=1,
                            CopySource="mpu/source.bin", CopySourceRange="bytes=0-99999999")
    assert _error(bad_range) == ("InvalidArgument", 400)
