"""Reading a table's stream as DynamoDB Streams does: streams, their shard, shard iterators and records.

A stream is a table's ``(stream_label)``: records written with that label (``tables.models.StreamRecord``, in
the transaction of their item change, ``sequence`` growing per table). A stream has one shard, open while
the stream is the table's enabled one and closed (``EndingSequenceNumber``) once streams are turned off or a
new label replaces it. A shard iterator is an opaque token signed with ``SECRET_KEY`` over the stream ARN,
the shard and a position ("records with a sequence above ``after``"); it expires 15 minutes after it was
given. Records are kept 24 hours (``streams_trim``, beat). The wire shapes are DynamoDB Streams' own
(``record_wire``) and Lambda's DynamoDB event record (``record_wire(..., lambda_event=True)``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from tables.errors import TableError
from tables.models import StreamRecord, Table

RETENTION = datetime.timedelta(hours=24)
ITERATOR_TTL_MS = 15 * 60 * 1000
GET_RECORDS_MAX = 1000
PAGE_BYTES = 1024 * 1024
LIST_MAX = 100
SEQUENCE_DIGITS = 21
LABEL_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
ARN = re.compile(r"^arn:aws:dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})/stream/([^/]{1,64})$")
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class StreamNotFound(TableError):
    code = "ResourceNotFoundException"


class ExpiredIterator(TableError):
    code = "ExpiredIteratorException"


class TrimmedDataAccess(TableError):
    code = "TrimmedDataAccessException"


# --- streams ---------------------------------------------------------------------------------------------------------

def stream_label_new(now: datetime.datetime | None = None) -> str:
    """A new stream's label as DynamoDB gives it: the creation time, ``2015-05-11T21:21:33.291``."""
    moment = (now or timezone.now()).astimezone(datetime.UTC)
    return moment.strftime(LABEL_FORMAT)[:-3]


def stream_arn(table_name: str, label: str) -> str:
    return f"arn:aws:dynamodb:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:table/{table_name}/stream/{label}"


def sequence_wire(sequence: int) -> str:
    return str(sequence).zfill(SEQUENCE_DIGITS)


@dataclass(frozen=True)
class Stream:
    table: Table
    label: str

    @property
    def arn(self) -> str:
        return stream_arn(self.table.name, self.label)

    @property
    def enabled(self) -> bool:
        return self.table.stream_enabled and self.table.stream_label == self.label

    @property
    def created(self) -> datetime.datetime:
        try:
            return datetime.datetime.strptime(self.label, LABEL_FORMAT).replace(tzinfo=datetime.UTC)
        except ValueError:
            return self.table.created_at

    @property
    def shard_id(self) -> str:
        digest = hashlib.sha256(f"{self.table.table_id}/{self.label}".encode()).hexdigest()[:8]
        return f"shardId-{int(self.created.timestamp() * 1000):020d}-{digest}"

    @property
    def view_type(self) -> str:
        """The table's view type for its current stream; for an older one, what its records kept."""
        if self.table.stream_label == self.label and self.table.stream_view_type:
            return self.table.stream_view_type
        record = StreamRecord.objects.filter(table=self.table, stream_label=self.label).exclude(event_name="REMOVE").order_by("-sequence").first()
        old = StreamRecord.objects.filter(table=self.table, stream_label=self.label, old_image__isnull=False).exists()
        new = record is not None and record.new_image is not None
        return {(True, True): "NEW_AND_OLD_IMAGES", (True, False): "NEW_IMAGE", (False, True): "OLD_IMAGE"}.get((new, old), "KEYS_ONLY")

    def records(self) -> Any:
        return StreamRecord.objects.filter(table=self.table, stream_label=self.label)


def stream_parse(arn: str) -> tuple[str, str] | None:
    """``(table name, label)`` of a stream ARN of this account and region, else ``None``."""
    match = ARN.match(arn or "")
    if not match or match.group(1) != settings.KILN_REGION or match.group(2) != settings.KILN_ACCOUNT_ID:
        return None
    return match.group(3), match.group(4)


def _not_found(arn: str) -> StreamNotFound:
    return StreamNotFound(f"Requested resource not found: Stream: {arn} not found")


def _listed(table: Table, label: str) -> bool:
    """A table's stream is listed while it is enabled, and for 24 hours after (while its records may be read)."""
    if table.stream_label == label and table.stream_enabled:
        return True
    cutoff = timezone.now() - RETENTION
    if table.stream_label == label and table.updated_at >= cutoff:
        return True
    return StreamRecord.objects.filter(table=table, stream_label=label, created_at__gte=cutoff).exists()


def stream_get(arn: str) -> Stream:
    """The stream named by ``arn``; ``ResourceNotFoundException`` as DynamoDB words it."""
    parsed = stream_parse(arn)
    table = Table.objects.filter(name=parsed[0]).first() if parsed else None
    if table is None or parsed is None:
        raise _not_found(arn)
    label = parsed[1]
    if label != table.stream_label and not StreamRecord.objects.filter(table=table, stream_label=label).exists():
        raise _not_found(arn)
    if not _listed(table, label):
        raise _not_found(arn)
    return Stream(table=table, label=label)


def streams_list(*, table_name: str | None = None) -> list[Stream]:
    """Every readable stream (of one table), ordered by table name then label (oldest stream first)."""
    tables = Table.objects.all()
    if table_name is not None:
        tables = tables.filter(name=table_name)
        if not tables.exists():
            raise StreamNotFound(f"Requested resource not found: Table: {table_name} not found")
    found: list[Stream] = []
    for table in tables.order_by("name"):
        labels = set(StreamRecord.objects.filter(table=table).values_list("stream_label", flat=True).distinct())
        if table.stream_label:
            labels.add(table.stream_label)
        found += [Stream(table=table, label=label) for label in sorted(labels) if _listed(table, label)]
    return found


@dataclass(frozen=True)
class Shard:
    shard_id: str
    starting: int
    ending: int | None  # the last sequence of a closed shard; ``None`` while open


def shard_of(stream: Stream) -> Shard:
    bounds = stream.records().aggregate(first=Min("sequence"), last=Max("sequence"))
    table = Table.objects.filter(pk=stream.table.pk).values_list("stream_sequence", flat=True).first() or 0
    starting = bounds["first"] if bounds["first"] is not None else table + 1
    if stream.enabled:
        return Shard(stream.shard_id, starting, None)
    return Shard(stream.shard_id, starting, bounds["last"] if bounds["last"] is not None else starting)


def shard_wire(shard: Shard) -> dict[str, Any]:
    sequence_range = {"StartingSequenceNumber": sequence_wire(shard.starting)}
    if shard.ending is not None:
        sequence_range["EndingSequenceNumber"] = sequence_wire(shard.ending)
    return {"ShardId": shard.shard_id, "SequenceNumberRange": sequence_range}


def stream_description(stream: Stream, *, limit: int | None = None, exclusive_start_shard_id: str | None = None) -> dict[str, Any]:
    """DescribeStream's ``StreamDescription``."""
    if limit is not None and not 1 <= limit <= LIST_MAX:
        raise TableError(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                         f"Member must have value less than or equal to {LIST_MAX}")
    shards = [shard_wire(shard_of(stream))]
    if exclusive_start_shard_id is not None:
        ids = [s["ShardId"] for s in shards]
        shards = shards[ids.index(exclusive_start_shard_id) + 1:] if exclusive_start_shard_id in ids else []
    return {"StreamArn": stream.arn, "StreamLabel": stream.label, "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
            "StreamViewType": stream.view_type, "CreationRequestDateTime": stream.created, "TableName": stream.table.name,
            "KeySchema": stream.table.key_schema, "Shards": shards}


# --- iterators -------------------------------------------------------------------------------------------------------

def _sign(payload: bytes) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"kiln-shard-iterator:" + payload, hashlib.sha256).hexdigest()[:40]


def iterator_encode(arn: str, shard_id: str, after: int, *, created_ms: int | None = None) -> str:
    body = json.dumps([arn, shard_id, after, created_ms if created_ms is not None else int(time.time() * 1000)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + _sign(body)


@dataclass(frozen=True)
class Position:
    arn: str
    shard_id: str
    after: int  # records with a sequence above this
    created_ms: int


def _java_time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def iterator_decode(token: str, *, now_ms: int | None = None) -> Position:
    """The position a shard iterator holds; ``ValidationException`` if it is not one Kiln gave,
    ``ExpiredIteratorException`` 15 minutes after it was given."""
    encoded, _, signature = (token or "").partition(".")
    arn: Any
    shard_id: Any  # with a valid signature, the strings Kiln put there
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        valid = hmac.compare_digest(signature, _sign(body))
        arn, shard_id, after, created_ms = json.loads(body) if valid else (None, None, None, None)
    except (ValueError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid or not isinstance(after, int) or not isinstance(created_ms, int):
        raise TableError("Invalid ShardIterator: give a ShardIterator returned by GetShardIterator or GetRecords (NextShardIterator).")
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    if now - created_ms > ITERATOR_TTL_MS:
        raise ExpiredIterator(f"Iterator expired. The iterator was created at time {_java_time(created_ms)} while right now it is {_java_time(now)} "
                              f"which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} milliseconds.")
    return Position(arn=arn, shard_id=shard_id, after=after, created_ms=created_ms)


def _sequence(text: str | None, iterator_type: str) -> int:
    if text is None:
        raise TableError(f"Must specify a SequenceNumber for ShardIteratorType {iterator_type}")
    if not re.fullmatch(r"\d{1,40}", text):
        raise TableError(f"Invalid SequenceNumber: {text!r} is not a sequence number of this stream (digits, as StartingSequenceNumber gives them).")
    return int(text)


def iterator_get(*, stream: Stream, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str:
    """GetShardIterator: an iterator at ``TRIM_HORIZON``, ``LATEST``, ``AT_`` or ``AFTER_SEQUENCE_NUMBER``."""
    if iterator_type not in ITERATOR_TYPES:
        raise TableError(f"1 validation error detected: Value '{iterator_type}' at 'shardIteratorType' failed to satisfy constraint: "
                         f"Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]")
    if shard_id != stream.shard_id:
        raise StreamNotFound(f"Requested resource not found: Shard does not exist: {shard_id} in stream {stream.arn}")
    if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        wanted = _sequence(sequence_number, iterator_type)
    elif sequence_number is not None:
        raise TableError(f"SequenceNumber may only be given with ShardIteratorType AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER, not {iterator_type}")
    table_sequence = Table.objects.filter(pk=stream.table.pk).values_list("stream_sequence", flat=True).first() or 0
    if iterator_type == "TRIM_HORIZON":  # just before the oldest record kept (a later trim past it makes the iterator trimmed)
        first = stream.records().aggregate(first=Min("sequence"))["first"]
        after = first - 1 if first is not None else table_sequence
    elif iterator_type == "LATEST":
        after = table_sequence
    else:
        first = stream.records().aggregate(first=Min("sequence"))["first"]
        start = first if first is not None else table_sequence + 1
        if wanted > table_sequence + 1 or (iterator_type == "AFTER_SEQUENCE_NUMBER" and wanted > table_sequence):
            raise TableError(f"Invalid SequenceNumber {sequence_number} for shard {shard_id}: it is beyond the last record of the shard.")
        if wanted < start:
            if StreamRecord.objects.filter(table=stream.table, sequence=wanted).exclude(stream_label=stream.label).exists():
                raise TableError(f"Invalid SequenceNumber {sequence_number} for shard {shard_id}: it belongs to another stream of the table.")
            raise TrimmedDataAccess(f"The sequence number {sequence_number} is beyond the trim horizon of shard {shard_id} in stream {stream.arn}: "
                                    "its record is older than the stream's 24-hour retention. Start at TRIM_HORIZON.")
        after = wanted - 1 if iterator_type == "AT_SEQUENCE_NUMBER" else wanted
    return iterator_encode(stream.arn, shard_id, after)


# --- records ---------------------------------------------------------------------------------------------------------

def record_wire(record: StreamRecord, *, view_type: str, arn: str | None = None, lambda_event: bool = False) -> dict[str, Any]:
    """A record as GetRecords answers it, or (``lambda_event``) as Lambda's DynamoDB event holds it."""
    change: dict[str, Any] = {"ApproximateCreationDateTime": int(record.created_at.timestamp()), "Keys": record.keys}
    if record.new_image is not None:
        change["NewImage"] = record.new_image
    if record.old_image is not None:
        change["OldImage"] = record.old_image
    change.update({"SequenceNumber": sequence_wire(record.sequence), "SizeBytes": record.size_bytes, "StreamViewType": view_type})
    out: dict[str, Any] = {"eventID": hashlib.md5(f"{record.table_id}:{record.sequence}".encode(), usedforsecurity=False).hexdigest(),
                           "eventName": record.event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": settings.KILN_REGION,
                           "dynamodb": change}
    if lambda_event:
        out["eventSourceARN"] = arn
    if record.user_identity:
        identity = record.user_identity
        out["userIdentity"] = ({"type": identity.get("type"), "principalId": identity.get("principalId")} if lambda_event
                               else {"Type": identity.get("type"), "PrincipalId": identity.get("principalId")})
    return out


def records_page(records: Any, *, limit: int) -> list[StreamRecord]:
    """At most ``limit`` records and 1 MB (always at least one record)."""
    page: list[StreamRecord] = []
    size = 0
    for record in records[:limit]:
        size += record.size_bytes
        if page and size > PAGE_BYTES:
            break
        page.append(record)
    return page


def records_get(*, iterator: str, limit: int | None = None) -> tuple[Stream, list[dict[str, Any]], str | None]:
    """GetRecords: the stream read, its records from the iterator's position, and the next iterator
    (always for an open shard; ``None`` once a closed shard is read to its end)."""
    if limit is not None and not 1 <= limit <= GET_RECORDS_MAX:
        raise TableError(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                         f"Member must have value less than or equal to {GET_RECORDS_MAX}")
    position = iterator_decode(iterator)
    stream = stream_get(position.arn)
    if position.shard_id != stream.shard_id:
        raise StreamNotFound(f"Requested resource not found: Shard does not exist: {position.shard_id} in stream {stream.arn}")
    # A table's sequence numbers have no gaps (its counter moves in the writing transaction), so an iterator below the
    # table's oldest kept record points at records trimmed since it was given.
    oldest = StreamRecord.objects.filter(table=stream.table).aggregate(first=Min("sequence"))["first"]
    if oldest is not None and position.after + 1 < oldest:
        raise TrimmedDataAccess(f"The iterator's position (after {sequence_wire(position.after)}) is beyond the trim horizon of shard "
                                f"{position.shard_id} in stream {stream.arn}: its records are older than the 24-hour retention. Start at TRIM_HORIZON.")
    page = records_page(stream.records().filter(sequence__gt=position.after).order_by("sequence"), limit=limit or GET_RECORDS_MAX)
    view_type = stream.view_type
    after = page[-1].sequence if page else position.after
    following: str | None = iterator_encode(stream.arn, stream.shard_id, after)
    if not stream.enabled and not page and not stream.records().filter(sequence__gt=after).exists():
        following = None  # a closed shard read to its end
    return stream, [record_wire(r, view_type=view_type) for r in page], following


def streams_trim(*, now: datetime.datetime | None = None) -> int:
    """Delete stream records older than the 24-hour retention; how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = StreamRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
