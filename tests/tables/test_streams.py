"""Stream reading without the endpoint: iterators (signed, expiring), positions, trimming, record shapes."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from tables import streams
from tables.errors import TableError
from tables.models import StreamRecord, Table

pytestmark = pytest.mark.django_db

LABEL = "2026-12-01T10:00:00.000"


def make_table(name: str = "Music", *, view_type: str = "NEW_AND_OLD_IMAGES", label: str = LABEL, enabled: bool = True) -> Table:
    return Table.objects.create(name=name, table_id=uuid.uuid4(), status="ACTIVE", key_schema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                attribute_definitions=[{"AttributeName": "id", "AttributeType": "S"}], stream_enabled=enabled,
                                stream_view_type=view_type if enabled else view_type, stream_label=label)


def write(table: Table, event: str, key: str, *, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None,
          created_at: datetime.datetime | None = None, identity: dict[str, str] | None = None, label: str | None = None) -> StreamRecord:
    """A stream record as the table service writes it (the sequence taken from the table's counter)."""
    Table.objects.filter(pk=table.pk).update(stream_sequence=F("stream_sequence") + 1)
    sequence = Table.objects.get(pk=table.pk).stream_sequence
    keys = {"id": {"S": key}}
    return StreamRecord.objects.create(table=table, stream_label=label or table.stream_label, sequence=sequence, event_name=event, keys=keys,
                                       new_image=new, old_image=old, size_bytes=20 + len(key), user_identity=identity,
                                       created_at=created_at or timezone.now())


def test_arns_labels_and_shards() -> None:
    table = make_table()
    stream = streams.stream_get(streams.stream_arn("Music", LABEL))
    assert stream.arn == f"arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/{LABEL}"
    assert stream.shard_id.startswith("shardId-00000001796119200000-") and len(stream.shard_id) == 37
    assert streams.stream_label_new(datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)) == "2026-01-02T03:04:05.678"
    assert streams.shard_of(stream).starting == 1 and streams.shard_of(stream).ending is None
    write(table, "INSERT", "a", new={"id": {"S": "a"}})
    with pytest.raises(streams.StreamNotFound, match=r"Requested resource not found: Stream: .* not found"):
        streams.stream_get(streams.stream_arn("Music", "2020-01-01T00:00:00.000"))
    with pytest.raises(streams.StreamNotFound):
        streams.stream_get("arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/" + LABEL)


def test_iterators_are_signed_and_expire() -> None:
    token = streams.iterator_encode("arn", "shard", 5, created_ms=1_000_000)
    assert streams.iterator_decode(token, now_ms=1_000_000 + streams.ITERATOR_TTL_MS).after == 5
    with pytest.raises(streams.ExpiredIterator, match="Iterator expired. The iterator was created at time .* while right now it is .*900000 milliseconds"):
        streams.iterator_decode(token, now_ms=1_000_001 + streams.ITERATOR_TTL_MS)
    encoded, _, signature = token.partition(".")
    forged = streams.iterator_encode("arn", "shard", 0, created_ms=1_000_000).partition(".")[0] + "." + signature
    for bad in (forged, "garbage", "", encoded + ".00"):
        with pytest.raises(TableError) as refused:
            streams.iterator_decode(bad, now_ms=1_000_000)
        assert refused.value.code == "ValidationException"


def test_positions_and_trim() -> None:
    table = make_table()
    old = [write(table, "INSERT", f"old{i}", new={"id": {"S": f"old{i}"}}, created_at=timezone.now() - datetime.timedelta(hours=25)) for i in range(2)]
    fresh = [write(table, "INSERT", f"k{i}", new={"id": {"S": f"k{i}"}}) for i in range(3)]
    assert streams.streams_trim() == 2
    stream = streams.stream_get(streams.stream_arn("Music", LABEL))
    shard = stream.shard_id

    def read(kind: str, seq: int | None = None) -> list[int]:
        token = streams.iterator_get(stream=stream, shard_id=shard, iterator_type=kind, sequence_number=streams.sequence_wire(seq) if seq else None)
        return [int(r["dynamodb"]["SequenceNumber"]) for r in streams.records_get(iterator=token)[1]]

    assert read("TRIM_HORIZON") == [r.sequence for r in fresh]
    assert read("LATEST") == []
    assert read("AT_SEQUENCE_NUMBER", fresh[1].sequence) == [fresh[1].sequence, fresh[2].sequence]
    assert read("AFTER_SEQUENCE_NUMBER", fresh[1].sequence) == [fresh[2].sequence]
    with pytest.raises(streams.TrimmedDataAccess):
        read("AT_SEQUENCE_NUMBER", old[0].sequence)
    # an iterator given before a trim, pointing at what the trim removed
    stale = streams.iterator_encode(stream.arn, shard, old[0].sequence - 1)
    with pytest.raises(streams.TrimmedDataAccess, match="beyond the trim horizon"):
        streams.records_get(iterator=stale)
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        with pytest.raises(TableError, match=f"Must specify a SequenceNumber for ShardIteratorType {kind}"):
            streams.iterator_get(stream=stream, shard_id=shard, iterator_type=kind)
    with pytest.raises(TableError, match="beyond the last record"):
        read("AFTER_SEQUENCE_NUMBER", fresh[2].sequence + 1)
    with pytest.raises(TableError, match="enum value set"):
        streams.iterator_get(stream=stream, shard_id=shard, iterator_type="AT_TIMESTAMP")
    with pytest.raises(streams.StreamNotFound):
        streams.iterator_get(stream=stream, shard_id="shardId-00000000000000000000-00000000", iterator_type="LATEST")


def test_record_shapes() -> None:
    table = make_table(view_type="NEW_AND_OLD_IMAGES")
    ttl = write(table, "REMOVE", "x", old={"id": {"S": "x"}, "n": {"N": "1"}}, identity=streams.TTL_IDENTITY)
    wire = streams.record_wire(ttl, view_type="NEW_AND_OLD_IMAGES")
    assert wire["eventName"] == "REMOVE" and wire["eventVersion"] == "1.1" and wire["eventSource"] == "aws:dynamodb" and wire["awsRegion"] == "us-east-1"
    assert len(wire["eventID"]) == 32 and wire["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert set(wire["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}
    assert wire["dynamodb"]["SequenceNumber"] == "000000000000000000001"
    event = streams.record_wire(ttl, view_type="NEW_AND_OLD_IMAGES", arn="arn:x", lambda_event=True)
    assert event["eventSourceARN"] == "arn:x" and event["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_pages_stop_at_one_megabyte() -> None:
    table = make_table()
    for i in range(5):
        record = write(table, "INSERT", f"k{i}")
        StreamRecord.objects.filter(pk=record.pk).update(size_bytes=400 * 1024)
    page = streams.records_page(StreamRecord.objects.filter(table=table).order_by("sequence"), limit=1000)
    assert len(page) == 2
    StreamRecord.objects.filter(table=table).update(size_bytes=2 * 1024 * 1024)
    assert len(streams.records_page(StreamRecord.objects.filter(table=table).order_by("sequence"), limit=1000)) == 1


def test_a_disabled_stream_closes_its_shard_and_lists_until_retention() -> None:
    table = make_table()
    write(table, "INSERT", "a", new={"id": {"S": "a"}})
    last = write(table, "INSERT", "b", new={"id": {"S": "b"}})
    Table.objects.filter(pk=table.pk).update(stream_enabled=False)
    stream = streams.stream_get(streams.stream_arn("Music", LABEL))
    assert streams.shard_of(stream).ending == last.sequence
    description = streams.stream_description(stream)
    assert description["StreamStatus"] == "DISABLED" and description["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"] == streams.sequence_wire(last.sequence)
    token = streams.iterator_get(stream=stream, shard_id=stream.shard_id, iterator_type="TRIM_HORIZON")
    _, records, following = streams.records_get(iterator=token)
    assert len(records) == 2 and following is not None
    assert streams.records_get(iterator=following)[2] is None  # read to its end: no next iterator
    # a new stream on the table: both are listed, the old one closed
    Table.objects.filter(pk=table.pk).update(stream_enabled=True, stream_label="2026-12-01T11:00:00.000")
    assert [s.label for s in streams.streams_list(table_name="Music")] == [LABEL, "2026-12-01T11:00:00.000"]
    with pytest.raises(streams.StreamNotFound, match="Table: Nope not found"):
        streams.streams_list(table_name="Nope")
