"""DynamoDB expressions: parsing and evaluating condition, filter, key-condition, update and projection
expressions, and the legacy parameters (``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``,
``ScanFilter``, ``AttributesToGet``) translated to the same trees. Pure: no Django models.

Contract (used by ``tables.services``); bodies filled by the engine work. One ``ExpressionContext`` per
request holds its ``ExpressionAttributeNames`` / ``ExpressionAttributeValues``; every expression of the
request is compiled through it, then ``finish()`` refuses names or values no expression used, as DynamoDB
does. Every error is ``tables.errors.TableValidation`` with DynamoDB's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tables.values import AttributeValue, Item, KeySchema


class Condition(Protocol):
    def evaluate(self, item: Item | None) -> bool: ...


class Update(Protocol):
    def apply(self, item: Item) -> Item:
        """A new item (the argument untouched); ``TableValidation`` for a type mismatch or a key attribute changed."""
        ...

    def top_level_names(self) -> set[str]:
        """The top-level attributes it writes (for ``ReturnValues: UPDATED_OLD / UPDATED_NEW``)."""
        ...


class Projection(Protocol):
    def apply(self, item: Item) -> Item: ...


@dataclass(frozen=True)
class KeyCondition:
    """``hash_value``: the partition key's value; ``range_op``: None | "EQ" | "LT" | "LE" | "GT" | "GE" | "BETWEEN" |
    "BEGINS_WITH" with ``range_values`` (two for BETWEEN)."""

    hash_name: str
    hash_value: AttributeValue
    range_name: str | None = None
    range_op: str | None = None
    range_values: tuple[AttributeValue, ...] = ()


class ExpressionContext:
    def __init__(self, names: Mapping[str, str] | None, values: Mapping[str, AttributeValue] | None) -> None:
        raise NotImplementedError

    def condition(self, text: str) -> Condition:
        raise NotImplementedError

    def update(self, text: str) -> Update:
        raise NotImplementedError

    def projection(self, text: str) -> Projection:
        raise NotImplementedError

    def key_condition(self, text: str, key_schema: KeySchema) -> KeyCondition:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


def expected_condition(expected: Mapping[str, Any], operator: str | None = None) -> Condition:
    raise NotImplementedError


def filter_condition(conditions: Mapping[str, Any], operator: str | None = None) -> Condition:
    """``QueryFilter`` / ``ScanFilter`` (``{"name": {"ComparisonOperator": ..., "AttributeValueList": [...]}}``)."""
    raise NotImplementedError


def attribute_updates(updates: Mapping[str, Any]) -> Update:
    raise NotImplementedError


def key_conditions(conditions: Mapping[str, Any], key_schema: KeySchema) -> KeyCondition:
    raise NotImplementedError


def attributes_to_get(names: list[str]) -> Projection:
    raise NotImplementedError
