"""Object bodies in the default Django storage: streamed in with their MD5, streamed out, deleted.

``blob_write`` streams into a temporary file beside the destination, counting and hashing as it
goes, and moves it into place only when complete (``os.replace`` on a local filesystem storage, else
``storage.save`` from the finished file), so no reader ever sees a partial body and a failed write
leaves nothing behind.

Reads: ``blob_open`` opens the body through the storage, except in an S3-compatible store
(``S3Storage``, ``KILN_STORAGE=s3``), whose ``S3File`` downloads a whole object before its first byte:
there a body is streamed from a GET, and a seek (a ranged read, UploadPartCopy's window) starts a GET with
``Range`` from the new position, so a 5 GB object or a 100-byte range of it costs constant memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

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
    else:  # the body is uploaded from a local temporary file once complete
        path = settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()
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


class _ObjectStoreBody(io.RawIOBase):
    """A blob of an S3-compatible store read as a stream: the GET made at open is read on while the reads follow
    each other; a read from another position (after ``seek``) starts a GET with ``Range`` from there.

    Opening GETs the body at once, so a missing blob is ``FileNotFoundError`` at open (as on a filesystem, which
    ``selectors.object_open`` retries on), and a body being read keeps streaming if an overwrite deletes it.
    """

    def __init__(self, storage: S3Storage, name: str) -> None:
        super().__init__()
        self.name = name
        self._client = storage.connection.meta.client
        self._bucket = storage.bucket_name
        # The key as S3Storage names it: its location (KILN_STORAGE_PREFIX) joined to the name (its public settings,
        # not its private _normalize_name).
        self._key = "/".join(part for part in (clean_name(storage.location).strip("/"), clean_name(name)) if part)
        self._position = 0  # where the next read starts
        self._stream: Any = None  # the body being read (botocore's StreamingBody) ...
        self._stream_at = 0  # ... and where it is
        self._size = 0
        self._get(0)

    def _get(self, start: int) -> None:
        self._drop()
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if start:
            params["Range"] = f"bytes={start}-"
        try:
            response = self._client.get_object(**params)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise FileNotFoundError(f"No blob {self.name!r} in the object store") from None
            if status == 416 and start:  # at or past the end: nothing more to read
                return
            raise
        if not start:
            self._size = int(response["ContentLength"])
        self._stream, self._stream_at = response["Body"], start

    def _drop(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset  # the GET for it waits for a read: FileResponse seeks to the end and back
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        if self._stream is None or self._stream_at != self._position:
            self._get(self._position)
            if self._stream is None:
                return 0
        data = self._stream.read(wanted)
        view[: len(data)] = data
        self._position += len(data)
        self._stream_at += len(data)
        return len(data)

    def readall(self) -> bytes:  # read() to the end: in chunks of a MiB, not io's 8 KiB
        chunks = []
        while chunk := self.read(STREAM_CHUNK_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._drop()
        super().close()


def blob_open(name: str) -> IO[bytes]:
    """The blob's body for reading (seekable); ``FileNotFoundError`` if there is none."""
    if isinstance(default_storage, S3Storage):
        return io.BufferedReader(_ObjectStoreBody(default_storage, name), buffer_size=STREAM_CHUNK_BYTES)
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
