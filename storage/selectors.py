"""Reads of buckets and objects, through access checks (one account for now: any signed-in user).

Listings follow S3: keys in UTF-8 binary order, ``prefix`` narrows, ``delimiter`` rolls keys up into
common prefixes, and a page holds at most ``limit`` entries (keys plus prefixes) with an opaque cursor
for the next one.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Collate

from core import rows as core_rows
from core.generations import GenerationCache
from storage import limits
from storage.blobs import blob_open
from storage.errors import InvalidArgument, NoSuchBucket, NoSuchKey
from storage.models import Bucket, Object

if TYPE_CHECKING:
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations  # of django-stubs, a dev requirement

    class _OrderedKey(TypedDict):  # the alias that _ordered_keys adds
        ordered_key: str

_AFTER_EVERYTHING = "\U0010ffff"
# Every S3 request resolves its bucket by name; the row changes only when a bucket is created, saved or deleted
# (storage/apps.py bumps the generation then), so each process keeps the buckets it has seen. Callers treat the
# instance as read-only; a write that meets a bucket deleted meanwhile answers NoSuchBucket (services.object_put).
BUCKETS: GenerationCache[Bucket | None] = GenerationCache("buckets", ttl_s=30.0)


def access_bucket_by_name(user: AbstractBaseUser | AnonymousUser, name: str) -> Bucket:
    """The bucket named ``name`` if ``user`` may use it, else ``NoSuchBucket``."""
    if not user.is_authenticated:
        raise NoSuchBucket(f"The specified bucket does not exist: {name}", details={"name": name})
    try:
        return Bucket.objects.get(name=name)
    except Bucket.DoesNotExist:
        raise NoSuchBucket(f"The specified bucket does not exist: {name}", details={"name": name}) from None


def bucket_by_name(name: str) -> Bucket:
    """The bucket named ``name``, else ``NoSuchBucket``; for callers that decided access themselves (the S3 API's IAM)."""
    bucket = BUCKETS.get(name, lambda: Bucket.objects.filter(name=name).first(), cacheable=lambda found: found is not None)
    if bucket is None:
        raise NoSuchBucket.named(name)
    return bucket


def bucket_list(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Bucket]:
    if not user.is_authenticated:
        return Bucket.objects.none()
    return Bucket.objects.order_by("name")


def object_find(*, bucket: Bucket, key: str, lock: bool = False) -> Object | None:
    """``key``'s row in ``bucket`` or ``None``; ``lock`` takes it ``FOR UPDATE`` (inside the caller's transaction). Every
    S3 read and write of one object starts here: one statement written once (``core.rows``), where the ORM's queryset
    (its compilation, and the join that ``Meta.ordering`` on ``bucket`` adds) cost several times the round trip."""
    obj = core_rows.row_select_one(Object, {"bucket": bucket.pk, "key": key}, for_update=lock)
    if obj is not None:
        obj.bucket = bucket
    return obj


def object_head(*, bucket: Bucket, key: str) -> Object:
    obj = object_find(bucket=bucket, key=key)
    if obj is None:
        raise NoSuchKey(f"The specified key does not exist: {key}", details={"bucket": bucket.name, "key": key})
    return obj


def object_open(*, bucket: Bucket, key: str) -> tuple[Object, IO[bytes]]:
    """The object's row and an open handle on its body; the handle keeps reading that body even if overwritten."""
    for _ in range(3):  # an overwrite may delete the body between reading the row and opening it
        obj = object_head(bucket=bucket, key=key)
        try:
            return obj, blob_open(obj.blob)
        except FileNotFoundError:
            continue
    raise NoSuchKey(f"The specified key does not exist: {key}", details={"bucket": bucket.name, "key": key})


@dataclass
class Listing:
    objects: list[Object] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def is_truncated(self) -> bool:
        return self.next_cursor is not None


def _cursor_encode(last: str, is_prefix: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": last, "p": is_prefix}).encode()).decode()


def _cursor_decode(cursor: str) -> tuple[str, bool]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(data["k"]), bool(data["p"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidArgument("The continuation cursor is not valid.") from None


def _ordered_keys(bucket: Bucket) -> QuerySet[WithAnnotations[Object, _OrderedKey]]:
    # S3 orders keys by their UTF-8 bytes: PostgreSQL's "C" collation; SQLite's BINARY is already bytewise.
    key = Collate(F("key"), "C") if connection.vendor == "postgresql" else F("key")
    return Object.objects.filter(bucket=bucket).alias(ordered_key=key).order_by("ordered_key")


def object_list(*, bucket: Bucket, prefix: str = "", delimiter: str = "", cursor: str | None = None, limit: int = limits.LIST_MAX_KEYS,
                start_after: str = "") -> Listing:
    """One page of keys and common prefixes; ``cursor`` continues a listing, ``start_after`` starts past a key (S3's marker)."""
    if not 1 <= limit <= limits.LIST_MAX_KEYS:
        raise InvalidArgument(f"limit must be between 1 and {limits.LIST_MAX_KEYS}.", details={"limit": limit})
    after, after_is_prefix = _cursor_decode(cursor) if cursor else ("", False)
    if not cursor and start_after:
        rest = start_after[len(prefix):] if start_after.startswith(prefix) else ""
        after = start_after
        after_is_prefix = bool(delimiter and rest.endswith(delimiter) and rest.index(delimiter) == len(rest) - len(delimiter))
    base = _ordered_keys(bucket)
    if prefix:
        base = base.filter(key__startswith=prefix)
    listing = Listing()
    last: tuple[str, bool] | None = None
    skip_past = after + _AFTER_EVERYTHING if after_is_prefix else after
    while len(listing.objects) + len(listing.common_prefixes) < limit:
        queryset = base.filter(ordered_key__gt=skip_past) if skip_past else base
        batch = list(queryset[: limit + 1])
        if not batch:
            return listing
        jumped = False
        for obj in batch:
            if len(listing.objects) + len(listing.common_prefixes) >= limit:
                listing.next_cursor = _cursor_encode(*last) if last else None
                return listing
            rest = obj.key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                if last == (common, True) or (after_is_prefix and common == after):
                    skip_past = obj.key
                    continue
                listing.common_prefixes.append(common)
                last = (common, True)
                skip_past = common + _AFTER_EVERYTHING
                jumped = True
                break
            obj.bucket = bucket
            listing.objects.append(obj)
            last = (obj.key, False)
            skip_past = obj.key
        if not jumped and len(batch) <= limit and len(listing.objects) + len(listing.common_prefixes) < limit:
            return listing
    # the page is full: is there anything after it?
    more = base.filter(ordered_key__gt=skip_past).exists() if skip_past else False
    if more and last is not None:
        listing.next_cursor = _cursor_encode(*last)
    return listing
