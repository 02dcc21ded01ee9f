"""Bucket names at their edges, create/list/delete, 409s."""

from __future__ import annotations

import pytest

from storage import limits

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["abc", "a" * limits.BUCKET_NAME_MAX, "my.bucket-1", "1bucket9", "a-b.c"])
def test_valid_names(api, name):
    response = api.post("/api/v1/buckets/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["arn"] == f"arn:aws:s3:::{name}"


@pytest.mark.parametrize("name", ["ab", "a" * (limits.BUCKET_NAME_MAX + 1), "192.168.5.4", "My-Bucket", "a..b", "-abc", "abc-", ".abc", "abc.", "ab_c", "ab c", "xn--abc", "abc-s3alias", ""])
def test_invalid_names(api, name):
    response = api.post("/api/v1/buckets/", {"name": name}, format="json")
    assert response.status_code == 400, (name, response.content)
    error = response.json()["error"]
    assert error["code"] in ("InvalidBucketName", "InvalidParameterValueException")
    if name:
        assert error["code"] == "InvalidBucketName" and error["message"]


def test_taken_and_list_and_delete(api):
    assert api.post("/api/v1/buckets/", {"name": "photos"}, format="json").status_code == 201
    taken = api.post("/api/v1/buckets/", {"name": "photos"}, format="json")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "BucketAlreadyExists"
    assert [b["name"] for b in api.get("/api/v1/buckets/").json()["buckets"]] == ["photos"]
    api.put("/api/v1/buckets/photos/objects/a.txt", data=b"x", content_type="text/plain")
    refused = api.delete("/api/v1/buckets/photos/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BucketNotEmpty"
    assert api.delete("/api/v1/buckets/photos/objects/a.txt").status_code == 204
    assert api.delete("/api/v1/buckets/photos/").status_code == 204
    missing = api.get("/api/v1/buckets/photos/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NoSuchBucket"


def test_anonymous_refused(anon):
    assert anon.get("/api/v1/buckets/").status_code in (401, 403)
    assert anon.put("/api/v1/buckets/x/objects/k", data=b"x", content_type="text/plain").status_code in (401, 403)
