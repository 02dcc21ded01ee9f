"""DynamoDB attribute values (the wire form: ``{"S": "x"}``, ``{"N": "1.5"}``, ``{"SS": [...]}``, ...): validation,
exact numbers, sizes and the byte order keys sort in. Pure: no Django models.

Contract (used by ``tables.services``); bodies filled by the engine work:
- ``item_validate(item, *, key_schema)`` raises ``TableValidation`` for a bad value, type, set, depth, size or key.
- ``item_size(item)`` bytes as DynamoDB counts them (names + values).
- ``number_normalize(text)`` the canonical text of a number (38 digits, 1E-130..9.99E+125), else ``TableValidation``.
- ``sort_bytes(value)`` bytes that compare (memcmp) as DynamoDB orders keys of that type (S, N, B).
- ``key_of(item, key_schema)`` the item's key attributes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
# attribute name -> its key type ("S" | "N" | "B"), hash key first, in key-schema order
KeySchema = Mapping[str, str]


def item_validate(item: Item, *, key_schema: KeySchema) -> None:
    raise NotImplementedError


def item_size(item: Item) -> int:
    raise NotImplementedError


def number_normalize(text: str) -> str:
    raise NotImplementedError


def sort_bytes(value: AttributeValue) -> bytes:
    raise NotImplementedError


def key_of(item: Item, key_schema: KeySchema) -> Item:
    return {name: item[name] for name in key_schema if name in item}
