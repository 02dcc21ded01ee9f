"""S3 API figures with boto3, Kiln beside moto's server started in the same run: small-object PUT and GET
operations per second (one client, sequential), and MB/s of 10 MiB objects put and got with boto3, with a
plain file copy on the same disk beside them.

Called by ``bench.run`` (``make bench``) with its gunicorn: ``results["s3api"] = s3api.measure(port, procs, env)``
and ``rows += s3api.rows(r)``. moto comes from PyPI (``moto[server]``); ``scripts/bench.sh`` installs it when missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import instant

SMALL_OPS = int(os.environ.get("BENCH_S3API_OPS", "400"))
BULK_MB = int(os.environ.get("BENCH_S3API_MB", "10"))
BULK_ROUNDS = int(os.environ.get("BENCH_S3API_ROUNDS", "8"))
SMALL = b"k" * 1024


def _client(endpoint: str, key: tuple[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


def _small_ops(s3: Any, bucket: str) -> dict[str, float]:
    s3.create_bucket(Bucket=bucket)
    for i in range(10):  # warm the connection and the server
        s3.put_object(Bucket=bucket, Key=f"warm-{i}", Body=SMALL)
    started = time.perf_counter()
    for i in range(SMALL_OPS):
        s3.put_object(Bucket=bucket, Key=f"k/{i}", Body=SMALL)
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(SMALL_OPS):
        if len(s3.get_object(Bucket=bucket, Key=f"k/{i}")["Body"].read()) != len(SMALL):
            raise RuntimeError("a small GET returned the wrong size")
    get_s = time.perf_counter() - started
    return {"put_ops": SMALL_OPS / put_s, "get_ops": SMALL_OPS / get_s}


def _bulk(s3: Any, bucket: str, source: Path) -> dict[str, float]:
    s3.create_bucket(Bucket=bucket)
    data = source.read_bytes()
    started = time.perf_counter()
    for i in range(BULK_ROUNDS):
        s3.put_object(Bucket=bucket, Key=f"big-{i}.bin", Body=data)
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(BULK_ROUNDS):
        if len(s3.get_object(Bucket=bucket, Key=f"big-{i}.bin")["Body"].read()) != len(data):
            raise RuntimeError("a large download differs in size from the upload")
    download_s = time.perf_counter() - started
    return {"upload_mb_s": BULK_MB * BULK_ROUNDS / upload_s, "download_mb_s": BULK_MB * BULK_ROUNDS / download_s}


def _copy_mb_s(source: Path) -> float:
    copy = source.with_suffix(".copy")
    started = time.perf_counter()
    shutil.copyfile(source, copy)
    with copy.open("rb+") as handle:
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - started
    copy.unlink()
    return BULK_MB / seconds


def _floor_rates(s3: Any) -> dict[str, float]:
    """PutObject and GetObject of 1 KB against ``bench.instant``: boto3's own time per call, which no server can go below."""
    started = time.perf_counter()
    for i in range(SMALL_OPS):
        s3.put_object(Bucket="floor", Key=f"k/{i}", Body=SMALL)
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(SMALL_OPS):
        s3.get_object(Bucket="floor", Key=f"k/{i}")["Body"].read()
    get_s = time.perf_counter() - started
    return {"put_ops": SMALL_OPS / put_s, "get_ops": SMALL_OPS / get_s}


def measure(port: int, procs: Any, env: dict[str, str]) -> dict[str, Any]:
    from bench.procs import free_port, wait_for
    from iam.credentials import access_key_create

    issued = access_key_create(root=True)
    kiln = _client(f"http://127.0.0.1:{port}", (issued.key.access_key_id, issued.secret))
    moto_port = free_port()
    moto = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], env)
    peer = _client(f"http://127.0.0.1:{moto_port}", ("testing", "testing"))
    wait_for(lambda: bool(peer.list_buckets() is not None), timeout_s=60, what="moto's server", checks=[lambda: procs.check("moto", moto)])
    data_dir = Path(os.environ.get("KILN_DATA_DIR", tempfile.gettempdir()))
    source = Path(tempfile.mkstemp(dir=data_dir, suffix=".src")[1])
    try:
        with source.open("wb") as out:
            for _ in range(BULK_MB):
                out.write(os.urandom(1024 * 1024))
        results = {"kiln": _small_ops(kiln, "bench-s3api"), "moto": _small_ops(peer, "bench-s3api")}
        results["kiln"].update(_bulk(kiln, "bench-s3api-bulk", source))
        results["moto"].update(_bulk(peer, "bench-s3api-bulk", source))
        results["copy_mb_s"] = _copy_mb_s(source)
    finally:
        source.unlink(missing_ok=True)
        procs.stop(moto)
    results["floor"] = instant.floor_rates(procs, env, _client, _floor_rates)
    return results


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    if "s3api" not in r:
        return []
    kiln, moto, copy = r["s3api"]["kiln"], r["s3api"]["moto"], r["s3api"]["copy_mb_s"]
    out = []
    for label, key in ((f"S3 API PutObject 1 KB, boto3, {SMALL_OPS} sequential", "put_ops"), (f"S3 API GetObject 1 KB, boto3, {SMALL_OPS} sequential", "get_ops")):
        ratio = kiln[key] / moto[key]
        out.append((f"{label} / moto server, same run", f"{kiln[key]:.0f}/s", f"moto {moto[key]:.0f}/s", f"{ratio:.2f}x", ">= 3x", "ok" if ratio >= 3 else "MISS"))
    floor = r["s3api"].get("floor")
    for label, key in ((f"S3 API PutObject 1 KB: boto3 alone (a server answering at once), {SMALL_OPS} sequential", "put_ops"),
                       (f"S3 API GetObject 1 KB: boto3 alone (a server answering at once), {SMALL_OPS} sequential", "get_ops")) if floor else ():
        # 3x moto asks for a call in a third of moto's time; boto3's own time bounds it
        out.append((f"{label} / moto server", f"{floor[key]:.0f}/s", f"moto {moto[key]:.0f}/s", f"{floor[key] / moto[key]:.2f}x", "(bound)", ""))
    for label, key in ((f"S3 API PutObject {BULK_MB} MiB x{BULK_ROUNDS}, boto3", "upload_mb_s"), (f"S3 API GetObject {BULK_MB} MiB x{BULK_ROUNDS}, boto3", "download_mb_s")):
        ratio = kiln[key] / moto[key]
        out.append((f"{label} / moto server, same run (plain copy {copy:.0f} MB/s)", f"{kiln[key]:.0f} MB/s", f"moto {moto[key]:.0f} MB/s", f"{ratio:.2f}x", ">= 1x",
                    "ok" if ratio >= 1 else "MISS"))
    return out
