"""A 1 GiB object through the S3 API in constant memory, against Kiln as `make run` starts it (gunicorn).

boto3 uploads it in one PutObject (signed, the SHA-256 of the whole body in the signature) and downloads it
in one GetObject read in 1 MiB pieces; the bytes are checked end to end (MD5 and a marker every 64 MiB), and
the peak resident memory of every web process (``VmHWM``) may grow by at most 64 MiB while they pass.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
from botocore.config import Config

from tests.stack import Stack

GIB = 1024**3
MIB = 1024**2
GROWTH_LIMIT = 64 * MIB


def _web_processes(stack: Stack) -> list[int]:
    """gunicorn's processes (master and workers) under the stack's `make run` script."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack_pids = [], [stack.process.pid]
    while stack_pids:
        pid = stack_pids.pop()
        for child in children.get(pid, []):
            stack_pids.append(child)
            try:
                if b"gunicorn" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
            except OSError:
                continue
    return found


def _peak_rss(pids: list[int]) -> dict[int, int]:
    peaks = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) * 1024
    return peaks


def _sparse_gib(path: Path) -> str:
    """1 GiB on disk without writing 1 GiB: a sparse file with a marker every 64 MiB; its MD5."""
    with open(path, "wb") as out:
        out.truncate(GIB)
        for offset in range(0, GIB, 64 * MIB):
            out.seek(offset)
            out.write(f"kiln marker at {offset}".encode())
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        while chunk := source.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def test_a_gib_object_goes_up_and_down_in_constant_memory(kiln_stack: Stack, tmp_path: Path) -> None:
    stack = kiln_stack
    s3 = boto3.client("s3", endpoint_url=stack.url, region_name="us-east-1", aws_access_key_id=stack.root_key[0], aws_secret_access_key=stack.root_key[1],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, read_timeout=600, connect_timeout=30))
    bucket = stack.unique("large")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x" * MIB)  # every web process has served a request before the baseline
    for _ in range(4):
        s3.get_object(Bucket=bucket, Key="warm")["Body"].read()
    pids = _web_processes(stack)
    assert pids, "no gunicorn process found under the stack"
    before = _peak_rss(pids)

    source = tmp_path / "gib.bin"
    md5 = _sparse_gib(source)
    with open(source, "rb") as body:
        put = s3.put_object(Bucket=bucket, Key="big/one.bin", Body=body, ContentLength=GIB)
    assert put["ETag"].strip('"') == md5
    source.unlink()

    head = s3.head_object(Bucket=bucket, Key="big/one.bin")
    assert head["ContentLength"] == GIB
    got = s3.get_object(Bucket=bucket, Key="big/one.bin")
    digest, size, markers = hashlib.md5(usedforsecurity=False), 0, 0
    stream = got["Body"]
    while chunk := stream.read(MIB):
        if size % (64 * MIB) == 0 and chunk.startswith(f"kiln marker at {size}".encode()):
            markers += 1
        digest.update(chunk)
        size += len(chunk)
    assert size == GIB and digest.hexdigest() == md5 and markers == 16

    after = _peak_rss(pids)
    growth = {pid: after[pid] - before[pid] for pid in after if pid in before}
    assert max(growth.values()) <= GROWTH_LIMIT, {pid: f"{g / MIB:.0f} MiB" for pid, g in growth.items()}
    s3.delete_object(Bucket=bucket, Key="big/one.bin")
