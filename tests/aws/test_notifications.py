"""Writes through the S3 wire API are the same writes as through the REST API: a boto3 upload, copy,
multipart completion and delete fire the bucket's notifications with S3's event names and the caller."""

from __future__ import annotations

import json

from invoker.models import Invocation, Trigger


def test_s3_api_writes_fire_notifications(api, make_function, root) -> None:
    make_function("on-change")
    assert api.post("/api/v1/buckets/", {"name": "inbox"}, format="json").status_code == 201
    configs = [{"id": "all", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "filter": {}, "function": "on-change"}]
    assert api.put("/api/v1/buckets/inbox/notifications/", configs, format="json").status_code == 200
    s3 = root("s3")
    s3.put_object(Bucket="inbox", Key="in/a b.txt", Body=b"hello")
    s3.copy_object(Bucket="inbox", Key="in/copy.txt", CopySource="inbox/in/a b.txt")
    upload = s3.create_multipart_upload(Bucket="inbox", Key="in/mp.bin")["UploadId"]
    etag = s3.upload_part(Bucket="inbox", Key="in/mp.bin", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket="inbox", Key="in/mp.bin", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    s3.delete_object(Bucket="inbox", Key="in/copy.txt")
    records = [json.loads(i.payload)["Records"][0] for i in Invocation.objects.filter(trigger=Trigger.S3).order_by("queued_at", "id")]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "in/a+b.txt"), ("ObjectCreated:Copy", "in/copy.txt"), ("ObjectCreated:CompleteMultipartUpload", "in/mp.bin"),
        ("ObjectRemoved:Delete", "in/copy.txt")]
    assert records[0]["userIdentity"]["principalId"] == "AWS:000000000000"
    assert records[0]["s3"]["object"]["size"] == 5
