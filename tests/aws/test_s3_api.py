"""S3's wire API over Kiln's buckets and objects with real boto3: buckets, objects, ranges, conditions,
response overrides, metadata, copy, batch delete, listings (v1 and v2, delimiter, paging, url encoding)."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from storage.models import Bucket, Object


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(root):
    client = root("s3")
    client.create_bucket(Bucket="data")
    return client


def test_bucket_lifecycle(root) -> None:
    s3 = root("s3")
    response = s3.create_bucket(Bucket="lifecycle")
    assert response["Location"] == "/lifecycle"
    assert Bucket.objects.filter(name="lifecycle").exists()  # the same buckets as the REST API and console
    with pytest.raises(ClientError) as again:
        s3.create_bucket(Bucket="lifecycle")
    assert _error(again) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as bad:
        s3.create_bucket(Bucket="Bad_Name")
    assert _error(bad) == ("InvalidBucketName", 400)
    assert s3.head_bucket(Bucket="lifecycle")["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket="lifecycle")["LocationConstraint"] is None
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["lifecycle"] and listed["Owner"]["ID"]
    s3.put_object(Bucket="lifecycle", Key="x", Body=b"1")
    with pytest.raises(ClientError) as busy:
        s3.delete_bucket(Bucket="lifecycle")
    assert _error(busy) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="lifecycle", Key="x")
    assert s3.delete_bucket(Bucket="lifecycle")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.head_bucket(Bucket="lifecycle")
    assert _error(gone) == ("404", 404)
    with pytest.raises(ClientError) as missing:
        s3.list_objects_v2(Bucket="lifecycle")
    assert _error(missing) == ("NoSuchBucket", 404)


def test_put_get_head_with_metadata(s3) -> None:
    put = s3.put_object(Bucket="data", Key="docs/ünïcode key+plus.txt", Body=b"hello world", ContentType="text/plain",
                        Metadata={"Owner": "me"}, CacheControl="max-age=60", ContentDisposition="attachment")
    assert put["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    got = s3.get_object(Bucket="data", Key="docs/ünïcode key+plus.txt")
    assert got["Body"].read() == b"hello world"
    assert (got["ContentType"], got["ContentLength"], got["Metadata"], got["CacheControl"], got["ContentDisposition"]) == (
        "text/plain", 11, {"owner": "me"}, "max-age=60", "attachment")
    head = s3.head_object(Bucket="data", Key="docs/ünïcode key+plus.txt")
    assert head["ETag"] == put["ETag"] and head["AcceptRanges"] == "bytes" and head["ContentLength"] == 11
    assert Object.objects.get(key="docs/ünïcode key+plus.txt").metadata == {"owner": "me"}
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="data", Key="nope")
    assert _error(missing) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as head_missing:
        s3.head_object(Bucket="data", Key="nope")
    assert _error(head_missing) == ("404", 404)


def test_ranges(s3) -> None:
    s3.put_object(Bucket="data", Key="r", Body=b"0123456789")
    part = s3.get_object(Bucket="data", Key="r", Range="bytes=2-5")
    assert (part["Body"].read(), part["ContentRange"], part["ContentLength"], part["ResponseMetadata"]["HTTPStatusCode"]) == (b"2345", "bytes 2-5/10", 4, 206)
    assert s3.get_object(Bucket="data", Key="r", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket="data", Key="r", Range="bytes=7-")["Body"].read() == b"789"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="data", Key="r", Range="bytes=20-30")
    assert _error(exc) == ("InvalidRange", 416)


def test_conditional_requests(s3) -> None:
    etag = s3.put_object(Bucket="data", Key="c", Body=b"v1")["ETag"]
    modified = s3.head_object(Bucket="data", Key="c")["LastModified"]
    assert s3.get_object(Bucket="data", Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as failed:
        s3.get_object(Bucket="data", Key="c", IfMatch='"0000"')
    assert _error(failed) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as not_modified:
        s3.get_object(Bucket="data", Key="c", IfNoneMatch=etag)
    assert _error(not_modified) == ("304", 304)
    with pytest.raises(ClientError) as since:
        s3.get_object(Bucket="data", Key="c", IfModifiedSince=modified + datetime.timedelta(seconds=5))
    assert _error(since) == ("304", 304)
    assert s3.get_object(Bucket="data", Key="c", IfModifiedSince=modified - datetime.timedelta(days=1))["Body"].read() == b"v1"
    with pytest.raises(ClientError) as unmodified:
        s3.get_object(Bucket="data", Key="c", IfUnmodifiedSince=modified - datetime.timedelta(days=1))
    assert _error(unmodified) == ("PreconditionFailed", 412)
    # If-Match holds, so a failing If-Unmodified-Since is ignored (S3's order)
    assert s3.get_object(Bucket="data", Key="c", IfMatch=etag, IfUnmodifiedSince=modified - datetime.timedelta(days=1))["Body"].read() == b"v1"


def test_response_overrides(s3) -> None:
    s3.put_object(Bucket="data", Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket="data", Key="o", ResponseContentType="application/json", ResponseContentDisposition='attachment; filename="o.json"',
                        ResponseCacheControl="no-cache", ResponseContentLanguage="en")
    assert (got["ContentType"], got["ContentDisposition"], got["CacheControl"], got["ContentLanguage"]) == (
        "application/json", 'attachment; filename="o.json"', "no-cache", "en")


def test_copy_object(s3) -> None:
    s3.create_bucket(Bucket="other")
    etag = s3.put_object(Bucket="data", Key="src", Body=b"copy me", ContentType="text/plain", Metadata={"a": "1"})["ETag"]
    copied = s3.copy_object(Bucket="other", Key="dst", CopySource={"Bucket": "data", "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == etag
    got = s3.get_object(Bucket="other", Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"copy me", "text/plain", {"a": "1"})
    s3.copy_object(Bucket="other", Key="dst", CopySource="data/src", MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/csv")
    got = s3.head_object(Bucket="other", Key="dst")
    assert (got["Metadata"], got["ContentType"]) == ({"b": "2"}, "text/csv")
    with pytest.raises(ClientError) as itself:
        s3.copy_object(Bucket="data", Key="src", CopySource="data/src")
    assert _error(itself) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as condition:
        s3.copy_object(Bucket="other", Key="dst2", CopySource="data/src", CopySourceIfMatch='"nope"')
    assert _error(condition) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as missing:
        s3.copy_object(Bucket="other", Key="dst3", CopySource="data/missing")
    assert _error(missing) == ("NoSuchKey", 404)


def test_delete_objects(s3) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="data", Key=key, Body=b"-")
    result = s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never-was"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "never-was"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="data")["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.delete_object(Bucket="data", Key="c")["ResponseMetadata"]["HTTPStatusCode"] == 204  # absent: still 204


def test_listings(s3) -> None:
    keys = ["a.txt", "photos/2025/x.jpg", "photos/2026/y.jpg", "photos/z.jpg", "z.txt", "with space/é.txt"]
    for key in keys:
        s3.put_object(Bucket="data", Key=key, Body=b"k")
    v2 = s3.list_objects_v2(Bucket="data", Delimiter="/")
    assert [o["Key"] for o in v2["Contents"]] == ["a.txt", "z.txt"]
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["photos/", "with space/"]
    assert v2["KeyCount"] == 4
    nested = s3.list_objects_v2(Bucket="data", Prefix="photos/", Delimiter="/")
    assert [o["Key"] for o in nested["Contents"]] == ["photos/z.jpg"] and [p["Prefix"] for p in nested["CommonPrefixes"]] == ["photos/2025/", "photos/2026/"]
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="data", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3 and [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="data", StartAfter="photos/z.jpg")["Contents"]] == ["with space/é.txt", "z.txt"]
    v1_pages = list(s3.get_paginator("list_objects").paginate(Bucket="data", PaginationConfig={"PageSize": 2}))
    assert [o["Key"] for p in v1_pages for o in p.get("Contents", [])] == sorted(keys)
    v1 = s3.list_objects(Bucket="data", Delimiter="/", MaxKeys=2)
    assert v1["IsTruncated"] and v1["NextMarker"] == "photos/"
    rest = s3.list_objects(Bucket="data", Delimiter="/", Marker=v1["NextMarker"])
    assert [p["Prefix"] for p in rest.get("CommonPrefixes", [])] == ["with space/"] and [o["Key"] for o in rest["Contents"]] == ["z.txt"]
    assert s3.list_objects_v2(Bucket="data", MaxKeys=0)["KeyCount"] == 0
    owner = s3.list_objects_v2(Bucket="data", FetchOwner=True, MaxKeys=1)["Contents"][0]
    assert owner["Owner"]["ID"]


def test_unsupported_operation_is_not_implemented(s3) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_acl(Bucket="data")
    assert _error(exc) == ("NotImplemented", 501)
