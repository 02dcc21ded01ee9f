"""Bodies stream through the AWS endpoint: a 48 MiB upload and download through boto3 and the live server
(in this same process) never hold more than a few MiB of Python memory at once."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

MIB = 1024 * 1024
SIZE = 48 * MIB


def test_put_and_get_in_constant_memory(root, tmp_path) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="stream")
    path = tmp_path / "big.bin"
    with open(path, "wb") as out:
        for _ in range(SIZE // MIB):
            out.write(os.urandom(MIB))
    expected = hashlib.md5(path.read_bytes()).hexdigest()
    tracemalloc.start()
    try:
        with open(path, "rb") as handle:
            s3.put_object(Bucket="stream", Key="big.bin", Body=handle)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.md5()
        for chunk in s3.get_object(Bucket="stream", Key="big.bin")["Body"].iter_chunks(MIB):
            digest.update(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"upload peak {upload_peak / MIB:.1f} MiB, download peak {download_peak / MIB:.1f} MiB")
    assert digest.hexdigest() == expected
    assert upload_peak < 16 * MIB, upload_peak
    assert download_peak < 16 * MIB, download_peak
