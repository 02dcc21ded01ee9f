"""core/rows.py: the hand-written single-row statements give the instances and rows the ORM would."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.rows import row_insert, row_insert_new, row_select_one, row_update
from tables.models import Item, Table

pytestmark = pytest.mark.django_db


def _table() -> Table:
    import uuid

    return Table.objects.create(name="rows-test", table_id=uuid.uuid4(), key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"}])


def test_an_inserted_row_reads_back_as_the_orms_instance_and_updates_like_save() -> None:
    table = _table()
    data = {"pk": {"S": "a"}, "n": {"N": "12345678901234567890.123456789"}, "b": {"B": "AAEC"}}
    item = row_insert(Item(table=table, hash_key=b"\x00a\xff", range_key=b"", data=data, size_bytes=40, expires_at=None, scan_hash=7))
    assert item.pk is not None and not item._state.adding
    orm = Item.objects.get(pk=item.pk)
    mine = row_select_one(Item, {"table": table.pk, "hash_key": b"\x00a\xff", "range_key": b""}, for_update=True)
    assert mine is not None and mine.pk == orm.pk
    for field in Item._meta.concrete_fields:  # every column converted as the ORM converts it (JSON decoded, datetimes aware)
        assert getattr(mine, field.attname) == getattr(orm, field.attname), field.name
    assert mine.updated_at is not None and mine.updated_at.tzinfo is not None
    assert row_select_one(Item, {"table": table.pk, "hash_key": b"\x00b", "range_key": b""}) is None
    before = orm.updated_at
    mine.data, mine.size_bytes = {"pk": {"S": "a"}, "n": {"N": str(Decimal("1E+125"))}}, 30
    row_update(mine, ("data", "size_bytes", "updated_at"))
    again = Item.objects.get(pk=item.pk)
    assert again.data == mine.data and again.size_bytes == 30 and again.updated_at >= before  # auto_now applied


def test_a_duplicate_key_raises_integrity_error_and_writes_nothing() -> None:
    table = _table()
    row_insert(Item(table=table, hash_key=b"k", range_key=b"", data={"pk": {"S": "k"}}, size_bytes=5, scan_hash=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(Item(table=table, hash_key=b"k", range_key=b"", data={"pk": {"S": "other"}}, size_bytes=9, scan_hash=1))
    assert list(Item.objects.filter(table=table).values_list("data", flat=True)) == [{"pk": {"S": "k"}}]


def test_an_insert_unless_the_key_exists_says_whether_it_wrote_and_leaves_the_transaction_usable() -> None:
    table = _table()
    first = Item(table=table, hash_key=b"k", range_key=b"", data={"pk": {"S": "k"}}, size_bytes=5, scan_hash=1)
    with transaction.atomic():
        assert row_insert_new(first, ("table", "hash_key", "range_key")) is True
        assert first.pk is not None and not first._state.adding
        second = Item(table=table, hash_key=b"k", range_key=b"", data={"pk": {"S": "other"}}, size_bytes=9, scan_hash=1)
        assert row_insert_new(second, ("table", "hash_key", "range_key")) is False
        assert second.pk is None and second._state.adding
        # no error aborted the transaction: it goes on and commits both the first row and what follows
        third = Item(table=table, hash_key=b"k2", range_key=b"", data={"pk": {"S": "k2"}}, size_bytes=6, scan_hash=2)
        assert row_insert_new(third, ("table", "hash_key", "range_key")) is True
    assert sorted((bytes(h), n) for h, n in Item.objects.filter(table=table).values_list("hash_key", "size_bytes")) == [(b"k", 5), (b"k2", 6)]
