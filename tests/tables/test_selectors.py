"""``table_find``'s per-process cache: every table save or delete invalidates it, so the data plane never
sees a table the control plane changed, deleted or replaced."""

from __future__ import annotations

import pytest

from tables import items, services
from tables.errors import TableNotFound
from tables.selectors import table_find

pytestmark = pytest.mark.django_db(transaction=True)


def _make(name: str) -> None:
    services.table_create(name=name, key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"}], billing_mode="PAY_PER_REQUEST")


def test_cached_table_follows_updates_deletes_and_a_new_table_of_the_same_name() -> None:
    _make("t-cache")
    first = table_find("t-cache")
    assert table_find("t-cache") is first  # kept while nothing changed
    services.table_update(name="t-cache", stream_specification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    updated = table_find("t-cache")
    assert updated.stream_enabled and updated.stream_view_type == "KEYS_ONLY"
    services.table_delete(name="t-cache")
    with pytest.raises(TableNotFound):
        table_find("t-cache")
    _make("t-cache")
    again = table_find("t-cache")
    assert again.pk != first.pk and not again.stream_enabled
    items.item_put({"TableName": "t-cache", "Item": {"pk": {"S": "a"}}})
    assert items.item_get({"TableName": "t-cache", "Key": {"pk": {"S": "a"}}})["Item"] == {"pk": {"S": "a"}}


def test_a_missing_table_is_not_cached() -> None:
    with pytest.raises(TableNotFound):
        table_find("t-later")
    _make("t-later")
    assert table_find("t-later").name == "t-later"
