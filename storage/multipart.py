"""Multipart uploads: start, put parts, complete into one object, abort; the one place entry points call.

Each part is streamed into its own blob (its MD5 is its ETag). Completion checks the listed parts (they
exist, their ETags match, numbers ascend, every part but the last is at least 5 MiB), then streams the
parts one after another into the object's new body through ``object_put`` (constant memory), with S3's
multipart ETag ``<md5 of the parts' binary md5s>-<count>``, and deletes the part blobs after commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import IO

from django.db import IntegrityError, transaction

from storage import limits
from storage.blobs import Readable, blob_delete, blob_open, blob_write
from storage.domain import RequestInfo
from storage.errors import EntityTooSmall, InvalidArgument, InvalidPart, InvalidPartOrder, NoSuchUpload
from storage.models import Bucket, MultipartUpload, Object, UploadPart
from storage.services import STORED_HEADERS, key_check, metadata_check, object_put


def multipart_create(*, bucket: Bucket, key: str, content_type: str | None = None, metadata: dict[str, str] | None = None,
                     headers: dict[str, str] | None = None) -> MultipartUpload:
    key_check(key)
    clean_headers = {k: v for k, v in (headers or {}).items() if k in STORED_HEADERS}
    return MultipartUpload.objects.create(bucket=bucket, key=key, upload_id=secrets.token_urlsafe(32), content_type=content_type or "binary/octet-stream",
                                          metadata=metadata_check(metadata or {}), headers=clean_headers)


def multipart_get(*, bucket: Bucket, key: str, upload_id: str) -> MultipartUpload:
    upload = MultipartUpload.objects.filter(bucket=bucket, key=key, upload_id=upload_id).first()
    if upload is None:
        raise NoSuchUpload("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
                           details={"uploadId": upload_id})
    upload.bucket = bucket
    return upload


def multipart_part_put(*, upload: MultipartUpload, part_number: int, body: Readable, size: int | None = None) -> UploadPart:
    """Stream one part in (replacing an earlier part of the same number)."""
    if not 1 <= part_number <= limits.MULTIPART_MAX_PARTS:
        raise InvalidArgument(f"Part number must be an integer between 1 and {limits.MULTIPART_MAX_PARTS}, inclusive", details={"argumentName": "partNumber"})
    written = blob_write(body, expected_size=size, max_size=limits.MULTIPART_MAX_PART_BYTES)
    try:
        with transaction.atomic():
            if not MultipartUpload.objects.select_for_update().filter(pk=upload.pk).exists():
                raise NoSuchUpload("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
            old = UploadPart.objects.filter(upload=upload, part_number=part_number).first()
            if old is not None:
                old_blob = old.blob
                old.delete()
                transaction.on_commit(lambda: blob_delete(old_blob))
            return UploadPart.objects.create(upload=upload, part_number=part_number, size=written.size, etag=written.md5, blob=written.name)
    except (BaseException, IntegrityError):
        blob_delete(written.name)
        raise


class _Concatenated:
    """The parts' blobs read one after another, as one stream."""

    def __init__(self, parts: list[UploadPart]) -> None:
        self.blobs: Iterator[str] = iter([p.blob for p in parts])
        self.current: IO[bytes] | None = None

    def read(self, size: int = -1) -> bytes:
        while True:
            if self.current is None:
                name = next(self.blobs, None)
                if name is None:
                    return b""
                self.current = blob_open(name)
            data = self.current.read(size)
            if data:
                return data
            self.current.close()
            self.current = None

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


def multipart_complete(*, upload: MultipartUpload, parts: list[tuple[int, str]], request: RequestInfo | None = None) -> Object:
    """Join the listed ``(part_number, etag)`` parts into the object; the upload is gone afterwards."""
    if not parts:
        raise InvalidArgument("You must specify at least one part.", code="MalformedXML")
    numbers = [number for number, _ in parts]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise InvalidPartOrder("The list of parts was not in ascending order. Parts must be ordered by part number.")
    stored = {p.part_number: p for p in upload.parts.filter(part_number__in=numbers)}
    chosen: list[UploadPart] = []
    for number, etag in parts:
        part = stored.get(number)
        if part is None or part.etag != etag.strip().strip('"'):
            raise InvalidPart("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not "
                              "have matched the part's entity tag.", details={"partNumber": number})
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < limits.MULTIPART_MIN_PART_BYTES:
            raise EntityTooSmall("Your proposed upload is smaller than the minimum allowed object size.",
                                 details={"partNumber": part.part_number, "proposedSize": part.size, "minSizeAllowed": limits.MULTIPART_MIN_PART_BYTES})
    digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in chosen), usedforsecurity=False).hexdigest()
    body = _Concatenated(chosen)
    try:
        obj = object_put(bucket=upload.bucket, key=upload.key, body=body, size=sum(p.size for p in chosen), content_type=upload.content_type,
                         metadata=upload.metadata, headers=upload.headers, event_name="ObjectCreated:CompleteMultipartUpload", request=request,
                         etag=f"{digest}-{len(chosen)}", max_size=limits.MULTIPART_MAX_OBJECT_BYTES)
    finally:
        body.close()
    multipart_abort(upload=upload)
    return obj


def multipart_abort(*, upload: MultipartUpload) -> None:
    """Forget the upload and delete its parts' bodies after commit."""
    with transaction.atomic():
        blobs = list(upload.parts.values_list("blob", flat=True))
        upload.delete()
        transaction.on_commit(lambda: [blob_delete(b) for b in blobs])  # type: ignore[func-returns-value]  # on_commit ignores the list
