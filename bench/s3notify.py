"""Storage figures: upload-to-handler-start latency of S3 notifications (p50, p99), and upload /
download throughput of one large object over the REST API beside a plain file copy on the same disk.

Called by ``bench.run`` (``make bench``) with its gunicorn, worker and signed-in client:
``results["s3"] = s3notify.measure(api, port)`` and ``rows += s3notify.rows(r)``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.client import Api
from bench.stats import percentile

S3_UPLOADS = int(os.environ.get("BENCH_S3_UPLOADS", "100"))
S3_MB = int(os.environ.get("BENCH_S3_MB", "256"))
CHUNK = 1024 * 1024
PY_STAMP = "import time\n\ndef handler(event, context):\n    started = time.time()\n    return {'started': started, 'key': event['Records'][0]['s3']['object']['key']}\n"


def _wait_started(api: Api, bucket: str, key: str, timeout_s: float = 60.0) -> float:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        listed = api.json("GET", f"/api/v1/buckets/{bucket}/invocations/?key={key}")["results"]
        if listed and listed[0]["status"] == "succeeded":
            record = api.json("GET", f"/api/v1/invocations/{listed[0]['request_id']}/")
            return float(record["result"]["started"])
        if listed and listed[0]["status"] in ("failed", "timed_out", "throttled"):
            raise RuntimeError(f"notification of {key} ended {listed[0]['status']}: {listed[0]}")
        time.sleep(0.005)
    raise RuntimeError(f"the handler for {key} did not run within {timeout_s:.0f} s")


def _latency(api: Api) -> dict[str, float]:
    api.json("POST", "/api/v1/functions/", {"name": "bench-s3-stamp", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": PY_STAMP}}}, expect=201)
    api.json("POST", "/api/v1/buckets/", {"name": "bench-notify"}, expect=201)
    api.json("PUT", "/api/v1/buckets/bench-notify/notifications/", [{"id": "stamp", "events": ["s3:ObjectCreated:*"], "function": "bench-s3-stamp"}])
    samples = []
    for i in range(S3_UPLOADS + 3):
        key = f"in/file-{i}.txt"
        sent = time.time()
        status, _, body = api.request("PUT", f"/api/v1/buckets/bench-notify/objects/{key}", raw=b"x" * 1024)
        if status != 200:
            raise RuntimeError(f"PUT {key} answered {status}: {body[:300]!r}")
        started = _wait_started(api, "bench-notify", key)
        if i >= 3:  # the first ones start the environment
            samples.append((started - sent) * 1000)
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": len(samples)}


def _blocks():
    block = os.urandom(CHUNK)
    for _ in range(S3_MB):
        yield block


def _throughput(port: int, token: str, data_dir: Path) -> dict[str, float]:
    api = Api("127.0.0.1", port, token)
    api.json("POST", "/api/v1/buckets/", {"name": "bench-bulk"}, expect=201)
    size = S3_MB * CHUNK
    source = Path(tempfile.mkstemp(dir=data_dir, suffix=".src")[1])
    digest = hashlib.md5()
    with source.open("wb") as out:
        for block in _blocks():
            digest.update(block)
            out.write(block)
    try:
        # floor: a plain copy on the same disk, flushed like an upload is
        started = time.perf_counter()
        copy = source.with_suffix(".copy")
        shutil.copyfile(source, copy)
        with copy.open("rb+") as handle:
            os.fsync(handle.fileno())
        copy_s = time.perf_counter() - started
        copy.unlink()

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        headers = {"Authorization": f"Token {token}", "Content-Length": str(size), "Content-Type": "application/octet-stream"}
        with source.open("rb") as body:
            started = time.perf_counter()
            conn.request("PUT", "/api/v1/buckets/bench-bulk/objects/big.bin", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            upload_s = time.perf_counter() - started
        if response.status != 200 or json.loads(payload)["etag"] != digest.hexdigest():
            raise RuntimeError(f"large PUT answered {response.status}: {payload[:300]!r}")
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        conn.request("GET", "/api/v1/buckets/bench-bulk/objects/big.bin", headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        total = 0
        while chunk := response.read(CHUNK):
            total += len(chunk)
        download_s = time.perf_counter() - started
        conn.close()
        if total != size:
            raise RuntimeError(f"large GET returned {total} of {size} bytes")
    finally:
        source.unlink(missing_ok=True)
    mb = size / CHUNK
    return {"upload_mb_s": mb / upload_s, "download_mb_s": mb / download_s, "copy_mb_s": mb / copy_s, "mb": mb}


def measure(api: Api, port: int) -> dict:
    """``api`` is signed in with a token; a worker runs; the data dir is ``KILN_DATA_DIR``."""
    latency = _latency(api)
    bulk = _throughput(port, api.token or "", Path(os.environ.get("KILN_DATA_DIR", tempfile.gettempdir())))
    return {"latency": latency, "bulk": bulk}


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    if "s3" not in r:
        return []
    lat, bulk = r["s3"]["latency"], r["s3"]["bulk"]
    return [
        (f"S3 notification: upload (1 KB PUT) to handler start p50 ({lat['n']} uploads, warm)", f"{lat['p50']:.1f} ms", "-", "-", "-", ""),
        ("S3 notification: upload to handler start p99", f"{lat['p99']:.1f} ms", "-", "-", "-", ""),
        (f"Object upload, {bulk['mb']:.0f} MB raw PUT / plain file copy on the same disk", f"{bulk['upload_mb_s']:.0f} MB/s", f"{bulk['copy_mb_s']:.0f} MB/s", f"{bulk['copy_mb_s'] / bulk['upload_mb_s']:.1f}x", "-", ""),
        (f"Object download, {bulk['mb']:.0f} MB GET / plain file copy on the same disk", f"{bulk['download_mb_s']:.0f} MB/s", f"{bulk['copy_mb_s']:.0f} MB/s", f"{bulk['copy_mb_s'] / bulk['download_mb_s']:.1f}x", "-", ""),
    ]
