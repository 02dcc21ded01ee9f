"""Object bodies in the default Django storage: streamed in with their MD5, streamed out, deleted.

``blob_write`` streams into a temporary file beside the destination, counting and hashing as it
goes, and moves it into place only when complete (``os.replace`` on a local filesystem storage, else
``storage.save`` from the finished file), so no reader ever sees a partial body and a failed write
leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from storage.errors import EntityTooLarge, IncompleteBody
from storage.limits import OBJECT_MAX_BYTES, STREAM_CHUNK_BYTES

BLOB_PREFIX = "buckets"


class Readable(Protocol):
    """What a body written in is read through: a file, a request, or a stream of Kiln's own (parts one after another)."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class WrittenBlob:
    name: str
    size: int
    md5: str


def _new_name() -> str:
    opaque = uuid.uuid4().hex
    return f"{BLOB_PREFIX}/{opaque[:2]}/{opaque}"


def _temp_dir() -> str:
    if isinstance(default_storage, FileSystemStorage):
        path = os.path.join(default_storage.location, BLOB_PREFIX, ".tmp")
    else:
        path = tempfile.gettempdir()
    os.makedirs(path, exist_ok=True)
    return path


def blob_write(stream: Readable, *, expected_size: int | None = None, max_size: int = OBJECT_MAX_BYTES) -> WrittenBlob:
    """Stream ``stream`` into a new blob; raise ``EntityTooLarge`` past ``max_size``, ``IncompleteBody`` if short."""
    if expected_size is not None and expected_size > max_size:
        raise EntityTooLarge(f"Your proposed upload ({expected_size} bytes) exceeds the maximum allowed object size of {max_size} bytes.",
                             details={"size": expected_size, "limit": max_size})
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    fd, temp_path = tempfile.mkstemp(dir=_temp_dir(), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            remaining = expected_size
            while True:
                want = STREAM_CHUNK_BYTES if remaining is None else min(STREAM_CHUNK_BYTES, remaining)
                if want == 0:
                    break
                chunk = stream.read(want)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_size:
                    raise EntityTooLarge(f"Your upload exceeds the maximum allowed object size of {max_size} bytes.", details={"limit": max_size})
                digest.update(chunk)
                out.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
            if expected_size is not None and size != expected_size:
                raise IncompleteBody(f"You did not provide the number of bytes specified by the Content-Length header ({size} of {expected_size}).")
            out.flush()
            os.fsync(out.fileno())
        name = _new_name()
        if isinstance(default_storage, FileSystemStorage):
            final = default_storage.path(name)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(temp_path, final)
        else:
            with open(temp_path, "rb") as handle:
                name = default_storage.save(name, File(handle))
            os.unlink(temp_path)
        return WrittenBlob(name=name, size=size, md5=digest.hexdigest())
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise


def blob_open(name: str) -> IO[bytes]:
    return default_storage.open(name, "rb")


def blob_delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def blob_exists(name: str) -> bool:
    return default_storage.exists(name)


def blob_range(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of an open blob from ``start``, in ``STREAM_CHUNK_BYTES`` chunks; closes the handle
    when done (or abandoned), so a ranged download streams in constant memory."""
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK_BYTES, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
