"""A 100 MB object streamed both ways over a real HTTP server, compared by MD5, never held whole in memory."""

from __future__ import annotations

import hashlib
import http.client
import resource
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from apitokens.services import api_token_issue

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 100 * 1024 * 1024
CHUNK = 1024 * 1024


def generated() -> Iterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    for i in range(SIZE // CHUNK):
        yield block[i % 256:] + block[: i % 256]


def test_100mb_round_trip(live_server, owner, api):
    assert api.post("/api/v1/buckets/", {"name": "big"}, format="json").status_code == 201
    token = api_token_issue(user=owner)
    expected = hashlib.md5()
    for chunk in generated():
        expected.update(chunk)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    host = urlparse(live_server.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    conn.request("PUT", "/api/v1/buckets/big/objects/large%20file.bin", body=generated(),
                 headers={"Authorization": f"Token {token}", "Content-Length": str(SIZE), "Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    assert response.status == 200, response.read()[:500]
    assert response.getheader("ETag") == f'"{expected.hexdigest()}"'
    response.read()
    conn.request("GET", "/api/v1/buckets/big/objects/large%20file.bin", headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    assert response.status == 200
    got, total = hashlib.md5(), 0
    while chunk := response.read(CHUNK):
        got.update(chunk)
        total += len(chunk)
    assert total == SIZE and got.hexdigest() == expected.hexdigest()
    conn.close()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 60, f"peak memory grew by {grown_mb:.0f} MB for a 100 MB object"
