"""The table service against the database: stream records in the item's transaction, TTL expiry, index
entries, table lifecycle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from core import events as bus
from tables import items, services
from tables.domain import StreamRecordsWritten
from tables.errors import ConditionFailed, TableInUse, TableValidation, TransactionCanceled
from tables.models import IndexEntry, Item, StreamRecord, Table, TableStatus
from tables.selectors import table_description
from tables.tasks import expire_items

pytestmark = pytest.mark.django_db(transaction=True)


def _make(name: str = "t-stream", view: str | None = "NEW_AND_OLD_IMAGES", **extra: Any) -> Table:
    return services.table_create(
        name=name, key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}], attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"}]
        + extra.pop("definitions", []), billing_mode="PAY_PER_REQUEST",
        stream_specification={"StreamEnabled": True, "StreamViewType": view} if view else None, **extra)


@pytest.fixture
def published() -> Any:
    seen: list[StreamRecordsWritten] = []
    bus.subscribe(StreamRecordsWritten, seen.append)
    yield seen
    bus.unsubscribe(StreamRecordsWritten, seen.append)


def test_table_is_active_after_commit_and_names_are_unique() -> None:
    with transaction.atomic():
        table = _make()
        assert Table.objects.get(pk=table.pk).status == TableStatus.CREATING
    assert Table.objects.get(pk=table.pk).status == TableStatus.ACTIVE
    with pytest.raises(TableInUse, match="Table already exists: t-stream"):
        _make()


def test_stream_records_insert_modify_remove_in_order(published: list[StreamRecordsWritten]) -> None:
    table = _make()
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}})
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}})  # identical: no record
    items.item_update({"TableName": table.name, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}})
    items.item_delete({"TableName": table.name, "Key": {"pk": {"S": "a"}}})
    items.item_delete({"TableName": table.name, "Key": {"pk": {"S": "a"}}})  # nothing there: no record
    records = list(StreamRecord.objects.filter(table=table).order_by("sequence"))
    assert [(r.event_name, r.sequence) for r in records] == [("INSERT", 1), ("MODIFY", 2), ("REMOVE", 3)]
    assert records[0].keys == {"pk": {"S": "a"}} and records[0].old_image is None and records[0].new_image == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert records[1].old_image == {"pk": {"S": "a"}, "v": {"N": "1"}} and records[1].new_image == {"pk": {"S": "a"}, "v": {"N": "2"}}
    assert records[2].new_image is None and records[2].user_identity is None
    assert all(r.stream_label == table.stream_label and r.size_bytes > 0 for r in records)
    assert len(published) == 3 and published[0].stream_arn.endswith(f":table/t-stream/stream/{table.stream_label}")
    assert Table.objects.get(pk=table.pk).stream_sequence == 3


def test_stream_views_and_failed_writes_leave_nothing(published: list[StreamRecordsWritten]) -> None:
    keys = _make("t-keys", "KEYS_ONLY")
    items.item_put({"TableName": keys.name, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}})
    record = StreamRecord.objects.get(table=keys)
    assert record.keys == {"pk": {"S": "a"}} and record.new_image is None and record.old_image is None
    old = _make("t-old", "OLD_IMAGE")
    items.item_put({"TableName": old.name, "Item": {"pk": {"S": "a"}}})
    with pytest.raises(ConditionFailed):
        items.item_put({"TableName": old.name, "Item": {"pk": {"S": "a"}, "x": {"S": "y"}}, "ConditionExpression": "attribute_not_exists(pk)"})
    with pytest.raises(TransactionCanceled):
        items.item_transact_write({"TransactItems": [{"Put": {"TableName": old.name, "Item": {"pk": {"S": "b"}}}},
                                                     {"ConditionCheck": {"TableName": old.name, "Key": {"pk": {"S": "zz"}}, "ConditionExpression": "attribute_exists(pk)"}}]})
    assert StreamRecord.objects.filter(table=old).count() == 1 and not Item.objects.filter(table=old, data__pk__S="b").exists()
    plain = _make("t-plain", None)
    items.item_put({"TableName": plain.name, "Item": {"pk": {"S": "a"}}})
    assert not StreamRecord.objects.filter(table=plain).exists()
    assert {e.table_id for e in published} == {keys.pk, old.pk}


def test_stream_off_keeps_records_and_on_is_a_new_label() -> None:
    table = _make()
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "a"}}})
    first = table.stream_label
    services.table_update(name=table.name, stream_specification={"StreamEnabled": False})
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "b"}}})
    time.sleep(0.002)
    updated = services.table_update(name=table.name, stream_specification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert updated.stream_label != first
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "c"}}})
    labels = list(StreamRecord.objects.filter(table=table).order_by("sequence").values_list("stream_label", "sequence"))
    assert labels == [(first, 1), (updated.stream_label, 2)]


def test_ttl_expiry_removes_with_service_identity() -> None:
    table = _make()
    now = int(time.time())
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "old"}, "exp": {"N": str(now - 10)}}})
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "new"}, "exp": {"N": str(now + 3600)}}})
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "text"}, "exp": {"S": "never"}}})
    assert expire_items() == 0  # TTL off
    services.table_ttl_update(name=table.name, attribute="exp", enabled=True)
    assert sorted(Item.objects.filter(table=table).values_list("expires_at", flat=True), key=str) == sorted([now - 10, now + 3600, None], key=str)
    # until the sweep, an expired item is still read
    assert "Item" in items.item_get({"TableName": table.name, "Key": {"pk": {"S": "old"}}})
    assert expire_items() == 1
    assert "Item" not in items.item_get({"TableName": table.name, "Key": {"pk": {"S": "old"}}})
    removed = StreamRecord.objects.filter(table=table, event_name="REMOVE").get()
    assert removed.user_identity == {"type": "Service", "principalId": "dynamodb.amazonaws.com"} and removed.old_image["pk"] == {"S": "old"}
    items.item_update({"TableName": table.name, "Key": {"pk": {"S": "new"}}, "UpdateExpression": "SET exp = :e", "ExpressionAttributeValues": {":e": {"N": str(now - 1)}}})
    assert expire_items() == 1 and Item.objects.filter(table=table).count() == 1


def test_index_entries_follow_writes_and_deletes_cascade() -> None:
    table = _make("t-idx", None, definitions=[{"AttributeName": "g", "AttributeType": "N"}],
                  global_indexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "a"}, "g": {"N": "1"}}})
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "b"}}})
    assert IndexEntry.objects.filter(table=table).count() == 1
    items.item_update({"TableName": table.name, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "REMOVE g"})
    assert IndexEntry.objects.filter(table=table).count() == 0
    with pytest.raises(TableValidation, match="Type mismatch for Index Key g Expected: N Actual: S IndexName: by-g"):
        items.item_put({"TableName": table.name, "Item": {"pk": {"S": "c"}, "g": {"S": "x"}}})
    items.item_batch_write({"RequestItems": {table.name: [{"PutRequest": {"Item": {"pk": {"S": str(i)}, "g": {"N": str(i)}}}} for i in range(10)]}})
    description = table_description(Table.objects.get(pk=table.pk))
    assert description["ItemCount"] == 12 and description["GlobalSecondaryIndexes"][0]["ItemCount"] == 10
    deleted = services.table_delete(name=table.name)
    assert deleted.status == TableStatus.DELETING and not Item.objects.filter(table_id=table.pk).exists()


def test_scan_segments_are_deterministic_partitions() -> None:
    table = _make("t-seg", None)
    items.item_batch_write({"RequestItems": {table.name: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(25)]}})
    first = [[i["pk"]["S"] for i in items.item_scan({"TableName": table.name, "Segment": s, "TotalSegments": 4})["Items"]] for s in range(4)]
    again = [[i["pk"]["S"] for i in items.item_scan({"TableName": table.name, "Segment": s, "TotalSegments": 4})["Items"]] for s in range(4)]
    assert first == again and sorted(sum(first, [])) == sorted(f"k{i}" for i in range(25))
    whole = [i["pk"]["S"] for i in items.item_scan({"TableName": table.name})["Items"]]
    assert whole == sum(first, [])  # segments are slices of the scan order


def test_console_lists_tables_and_shows_items(owner: Any) -> None:
    from django.test import Client

    table = _make("t-console", "KEYS_ONLY")
    items.item_put({"TableName": table.name, "Item": {"pk": {"S": "shown"}, "n": {"N": "3"}}})
    console = Client()
    console.force_login(owner)
    listing = console.get("/console/tables/table/")
    assert listing.status_code == 200 and b"t-console" in listing.content and b"KEYS_ONLY" in listing.content
    detail = console.get(f"/console/tables/table/{table.pk}/change/")
    assert detail.status_code == 200 and b"shown" in detail.content
    items.item_batch_write({"RequestItems": {table.name: [{"PutRequest": {"Item": {"pk": {"S": f"more-{i:02d}"}}}} for i in range(20)]}})
    items.item_batch_write({"RequestItems": {table.name: [{"PutRequest": {"Item": {"pk": {"S": f"more-{i:02d}"}}}} for i in range(20, 45)]}})
    items.item_batch_write({"RequestItems": {table.name: [{"PutRequest": {"Item": {"pk": {"S": f"more-{i:02d}"}}}} for i in range(45, 60)]}})
    second = console.get(f"/console/tables/table/{table.pk}/change/?items=2")
    assert second.status_code == 200 and b"previous page" in second.content and b"next page" not in second.content


def test_update_table_no_op_billing_and_unchanged_throughput() -> None:
    """On-demand -> on-demand is accepted as a no-op; provisioned with the same throughput is refused (as AWS does)."""
    table = _make("t-noop", view=None)
    assert services.table_update(name=table.name, billing_mode="PAY_PER_REQUEST").billing_mode == "PAY_PER_REQUEST"
    services.table_update(name=table.name, billing_mode="PROVISIONED", provisioned_throughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    with pytest.raises(TableValidation, match="The provisioned throughput for the table will not change"):
        services.table_update(name=table.name, billing_mode="PROVISIONED", provisioned_throughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    with pytest.raises(TableValidation, match="Current ReadCapacityUnitsForTable: 5. Requested ReadCapacityUnitsForTable: 5"):
        services.table_update(name=table.name, provisioned_throughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert services.table_update(name=table.name, provisioned_throughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6}).provisioned_throughput[
        "WriteCapacityUnits"] == 6


def test_put_without_stream_or_indexes_is_one_upsert_and_get_one_select(django_assert_num_queries: Any) -> None:
    table = _make("t-plain", view=None)
    table.ttl_attribute, table.ttl_enabled = "exp", True
    table.save()  # bumps the tables cache: the next write sees the TTL attribute
    first = {"pk": {"S": "a"}, "v": {"N": "1"}, "nul": {"S": "a\u0000b"}}
    second = {"pk": {"S": "a"}, "w": {"SS": ["x", "y"]}, "exp": {"N": "2000000000"}}
    assert items.item_get({"TableName": "t-plain", "Key": {"pk": {"S": "a"}}}) == {}  # loads the saved table into the cache
    with django_assert_num_queries(1):
        assert items.item_put({"TableName": "t-plain", "Item": first}) == {}
    with django_assert_num_queries(1):
        assert items.item_put({"TableName": "t-plain", "Item": second}) == {}  # replaces the whole item
    row = Item.objects.get(table=table)
    assert row.data == second and row.expires_at == 2000000000 and row.size_bytes == items.values.item_size(second)
    with django_assert_num_queries(1):
        assert items.item_get({"TableName": "t-plain", "Key": {"pk": {"S": "a"}}}) == {"Item": second}
    assert items.item_get({"TableName": "t-plain", "Key": {"pk": {"S": "b"}}}) == {}
    items.item_put({"TableName": "t-plain", "Item": first})
    assert items.item_get({"TableName": "t-plain", "Key": {"pk": {"S": "a"}}}) == {"Item": first}  # U+0000 round-trips
    # asking for the old item, the capacity or a condition takes the locked path, with its answers
    assert items.item_put({"TableName": "t-plain", "Item": second, "ReturnValues": "ALL_OLD"})["Attributes"] == first
    assert items.item_put({"TableName": "t-plain", "Item": first, "ReturnConsumedCapacity": "TOTAL"})["ConsumedCapacity"]["CapacityUnits"] == 1.0
    with pytest.raises(ConditionFailed):
        items.item_put({"TableName": "t-plain", "Item": second, "ConditionExpression": "attribute_not_exists(pk)"})
    assert Item.objects.filter(table=table).count() == 1
