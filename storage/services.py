"""Writes to buckets and objects: the one place any entry point (REST, console, later the S3 API) calls.

Object writes stream the body into a new blob outside any transaction, then switch the row to it and
announce ``ObjectCreated`` / ``ObjectRemoved`` on the core event bus inside one transaction, so what
subscribers record (pending notifications) commits together with the object. Old bodies are deleted
after commit; a failed write deletes its new body and leaves the previous object as it was.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import IO, Any, BinaryIO, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import events
from core import rows as core_rows
from storage import limits, selectors
from storage.blobs import Readable, blob_delete, blob_write
from storage.domain import ObjectCreated, ObjectRemoved, RequestInfo
from storage.errors import BucketAlreadyExists, BucketNotEmpty, InvalidArgument, InvalidBucketName, InvalidKey, NoSuchBucket
from storage.models import Bucket, Object

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
CREATED_EVENTS = ("ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload")
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
STORED_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires")


def bucket_name_check(name: str) -> None:
    """Raise ``InvalidBucketName`` unless ``name`` follows S3's general-purpose bucket naming rules."""
    if not isinstance(name, str) or not limits.BUCKET_NAME_MIN <= len(name) <= limits.BUCKET_NAME_MAX:
        raise InvalidBucketName(f"Bucket names must be between {limits.BUCKET_NAME_MIN} and {limits.BUCKET_NAME_MAX} characters long.", details={"name": name})
    if not _BUCKET_CHARS.match(name):
        raise InvalidBucketName("Bucket names can consist only of lowercase letters, numbers, dots (.) and hyphens (-), and must begin and end with a letter or number.", details={"name": name})
    if ".." in name:
        raise InvalidBucketName("Bucket names must not contain two adjacent periods.", details={"name": name})
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        raise InvalidBucketName("Bucket names must not be formatted as an IP address (for example, 192.168.5.4).", details={"name": name})
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        raise InvalidBucketName("Bucket names must not start with xn--, sthree- or amzn-s3-demo-, nor end with -s3alias, --ol-s3, .mrap or --x-s3.", details={"name": name})


def key_check(key: str) -> None:
    if not isinstance(key, str) or key == "":
        raise InvalidArgument("The object key must not be empty.")
    if "\x00" in key:
        raise InvalidArgument("The object key must not contain the NUL character.")
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > limits.KEY_MAX_BYTES:
        raise InvalidKey(f"Your key is too long: {size} bytes of UTF-8; the maximum is {limits.KEY_MAX_BYTES}.", details={"size": size, "limit": limits.KEY_MAX_BYTES})


def metadata_check(metadata: dict[str, str]) -> dict[str, str]:
    clean = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in clean.items())
    if size > limits.METADATA_MAX_BYTES:
        raise InvalidArgument(f"Your metadata headers exceed the maximum allowed metadata size ({size} of {limits.METADATA_MAX_BYTES} bytes).", code="MetadataTooLarge")
    return clean


def bucket_create(*, name: str, owner: AbstractBaseUser | AnonymousUser | None = None) -> Bucket:
    bucket_name_check(name)
    try:
        with transaction.atomic():
            # request.user is typed as any user model; the owner column is Django's User (AUTH_USER_MODEL).
            return Bucket.objects.create(name=name, owner=cast(User | None, owner if owner is not None and owner.is_authenticated else None))
    except IntegrityError:
        raise BucketAlreadyExists(f"The requested bucket name is not available: {name}. Choose a different name.", details={"name": name}) from None


def bucket_delete(*, bucket: Bucket) -> None:
    """Delete an empty bucket; the bodies of its unfinished multipart uploads go with it."""
    from storage.models import UploadPart

    not_empty = BucketNotEmpty(f"The bucket you tried to delete is not empty: {bucket.name}.", details={"name": bucket.name})
    try:
        with transaction.atomic():
            locked = Bucket.objects.select_for_update().filter(pk=bucket.pk).first()
            if locked is None:
                raise NoSuchBucket.named(bucket.name)
            if Object.objects.filter(bucket=locked).exists():
                raise not_empty
            blobs = list(UploadPart.objects.filter(upload__bucket=locked).values_list("blob", flat=True))
            locked.delete()
            transaction.on_commit(lambda: [blob_delete(b) for b in blobs])  # type: ignore[func-returns-value]  # on_commit ignores the list
    except IntegrityError:  # an object was written meanwhile (writers do not lock the bucket; its key is checked at commit)
        raise not_empty from None


def _next_sequencer(previous: str | None) -> str:
    now = time.time_ns()
    if previous:
        now = max(now, int(previous, 16) + 1)
    return f"{now:016X}"


def object_put(
    *,
    bucket: Bucket,
    key: str,
    body: Readable,
    size: int | None = None,
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
    event_name: str = "ObjectCreated:Put",
    request: RequestInfo | None = None,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    max_size: int = limits.OBJECT_MAX_BYTES,
) -> Object:
    """Stream ``body`` in as ``key``'s new body and switch to it atomically; announce ``ObjectCreated``.

    ``headers`` keeps the system headers S3 stores with an object (``STORED_HEADERS``); others are refused.
    ``etag`` replaces the body's MD5 as the ETag (a multipart upload's ``<md5 of md5s>-<parts>``).
    """
    key_check(key)
    clean_metadata = metadata_check(metadata or {})
    clean_headers = {name: str(value) for name, value in (headers or {}).items() if value is not None}
    if set(clean_headers) - set(STORED_HEADERS):
        raise InvalidArgument(f"Only these headers are stored with an object: {', '.join(STORED_HEADERS)}.")
    if event_name not in CREATED_EVENTS:
        raise InvalidArgument(f"event_name must be one of {', '.join(CREATED_EVENTS)}.")
    written = blob_write(body, expected_size=size, max_size=max_size)
    old_blob = ""
    try:
        with transaction.atomic():
            now = timezone.now()
            fields: dict[str, Any] = {
                "size": written.size, "etag": etag or written.md5, "content_type": content_type or DEFAULT_CONTENT_TYPE,
                "metadata": clean_metadata, "headers": clean_headers, "blob": written.name, "last_modified": now,
            }
            obj, old_blob = _object_switch(bucket, key, fields)
            events.publish(ObjectCreated(bucket=bucket.name, key=key, event_name=event_name, sequencer=obj.sequencer, occurred_at=now,
                                         request=request or RequestInfo(), size=obj.size, etag=obj.etag))
            if old_blob:
                transaction.on_commit(lambda: blob_delete(old_blob))
    except IntegrityError:
        blob_delete(written.name)
        if Bucket.objects.filter(pk=bucket.pk).exists():
            raise
        # the bucket was deleted meanwhile (the row's bucket key is checked at commit; writers do not lock the bucket)
        raise NoSuchBucket.named(bucket.name) from None
    except BaseException:
        blob_delete(written.name)
        raise
    obj.bucket = bucket
    return obj


def _object_switch(bucket: Bucket, key: str, fields: dict[str, Any]) -> tuple[Object, str]:
    """Point ``key``'s row at the new body in ``fields`` (inside the caller's transaction): the row locked and updated
    when it exists, else inserted; a writer that inserted the same key first makes this one update it instead.
    Returns the row and the body it replaced (``""`` if new). With ``core.rows``' statements, as
    ``selectors.object_find``: the ORM's ``save()`` and ``create()`` cost more than their round trips."""
    while True:
        current = selectors.object_find(bucket=bucket, key=key, lock=True)
        values = {**fields, "sequencer": _next_sequencer(current.sequencer if current else None)}
        if current is not None:
            old_blob = current.blob
            for name, value in values.items():
                setattr(current, name, value)
            core_rows.row_update(current, list(values))
            return current, old_blob
        created = Object(bucket=bucket, key=key, **values)
        if core_rows.row_insert_new(created, ("bucket", "key")):
            return created, ""
        # another writer inserted the key since the read above (its transaction has committed): lock and update that row


def object_delete(*, bucket: Bucket, key: str, request: RequestInfo | None = None) -> bool:
    """Delete ``key`` (a no-op, as S3, when absent); announce ``ObjectRemoved:Delete`` when something was removed."""
    key_check(key)
    with transaction.atomic():
        current = selectors.object_find(bucket=bucket, key=key, lock=True)
        if current is None:
            return False
        blob = current.blob
        sequencer = _next_sequencer(current.sequencer)
        current.delete()
        events.publish(ObjectRemoved(bucket=bucket.name, key=key, event_name="ObjectRemoved:Delete", sequencer=sequencer, occurred_at=timezone.now(), request=request or RequestInfo()))
        transaction.on_commit(lambda: blob_delete(blob))
    return True



def object_copy(
    *,
    source: Object,
    body: BinaryIO | IO[bytes],
    bucket: Bucket,
    key: str,
    metadata: dict[str, str] | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    request: RequestInfo | None = None,
) -> Object:
    """Write ``source`` (whose open ``body`` is given) as ``bucket``/``key``, keeping its metadata unless new ones are given."""
    return object_put(bucket=bucket, key=key, body=body, size=source.size, content_type=content_type or source.content_type,
                      metadata=source.metadata if metadata is None else metadata, headers=source.headers if headers is None else headers,
                      event_name="ObjectCreated:Copy", request=request)
