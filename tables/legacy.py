"""DynamoDB's legacy (pre-expression) parameters: ``Expected``, ``QueryFilter`` / ``ScanFilter``, ``KeyConditions``,
``AttributeUpdates``, with their argument-count and type checks and DynamoDB's messages. They evaluate with the
same value semantics as expressions (``tables.expressions``), which re-exports the builders. Pure: no models.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tables.errors import TableValidation
from tables.expression_parser import Path
from tables.expressions import KeyCondition, ProjectionPaths, begins_with_value, contains_value, path_get
from tables.values import (
    SCALAR_TYPES,
    SET_TYPES,
    AttributeValue,
    Item,
    KeySchema,
    compare,
    member_key,
    number_add,
    set_member_keys,
    set_sorted,
    value_type,
    value_validate,
    values_equal,
)

INVALID = "One or more parameter values were invalid: "
ARGUMENTS = {
    "EQ": (1, 1),
    "NE": (1, 1),
    "LE": (1, 1),
    "LT": (1, 1),
    "GE": (1, 1),
    "GT": (1, 1),
    "NOT_NULL": (0, 0),
    "NULL": (0, 0),
    "CONTAINS": (1, 1),
    "NOT_CONTAINS": (1, 1),
    "BEGINS_WITH": (1, 1),
    "IN": (1, 10_000),
    "BETWEEN": (2, 2),
}
# the argument types each operator accepts (None: any)
ARGUMENT_TYPES: dict[str, tuple[str, ...] | None] = {
    "EQ": None,
    "NE": None,
    "LE": SCALAR_TYPES,
    "LT": SCALAR_TYPES,
    "GE": SCALAR_TYPES,
    "GT": SCALAR_TYPES,
    "CONTAINS": SCALAR_TYPES,
    "NOT_CONTAINS": SCALAR_TYPES,
    "BEGINS_WITH": ("S", "B"),
    "IN": SCALAR_TYPES,
    "BETWEEN": SCALAR_TYPES,
}
KEY_OPERATORS = ("EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN")


@dataclass(frozen=True)
class LegacyComparison:
    """``name <op> values`` as ``Expected`` and the filters evaluate it."""

    name: str
    op: str
    values: tuple[AttributeValue, ...]

    def evaluate(self, item: Item | None) -> bool:
        actual = path_get(item, (self.name,))
        op = self.op
        if op == "NULL":
            return actual is None
        if op == "NOT_NULL":
            return actual is not None
        if op == "NE":
            return actual is None or not values_equal(actual, self.values[0])
        if op == "NOT_CONTAINS":
            return actual is None or not contains_value(actual, self.values[0])
        if actual is None:
            return False
        if op == "EQ":
            return values_equal(actual, self.values[0])
        if op == "IN":
            return any(values_equal(actual, option) for option in self.values)
        if op == "CONTAINS":
            return contains_value(actual, self.values[0])
        if op == "BEGINS_WITH":
            return begins_with_value(actual, self.values[0])
        if op == "BETWEEN":
            low, high = compare(actual, self.values[0]), compare(actual, self.values[1])
            return low is not None and high is not None and low >= 0 and high <= 0
        order = compare(actual, self.values[0])
        if order is None:
            return False
        return {"LT": order < 0, "LE": order <= 0, "GT": order > 0, "GE": order >= 0}[op]


@dataclass(frozen=True)
class LegacyConditions:
    parts: tuple[LegacyComparison, ...]
    operator: str = "AND"

    def evaluate(self, item: Item | None) -> bool:
        results = (part.evaluate(item) for part in self.parts)
        return any(results) if self.operator == "OR" else all(results)

    def top_level_names(self) -> set[str]:
        return {part.name for part in self.parts}


def _operator(operator: str | None) -> str:
    if operator is None:
        return "AND"
    if operator not in ("AND", "OR"):
        raise TableValidation(f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
    return operator


def _two_or_more(conditional: str, given: str | None, parts: list[LegacyComparison]) -> str:
    if given is not None and len(parts) < 2:
        raise TableValidation("ConditionalOperator can only be used when Filter or Expected has two or more elements")
    return conditional


def _comparison(name: str, op: Any, values: Any) -> LegacyComparison:
    if op not in ARGUMENTS:
        raise TableValidation(f"{INVALID}Unsupported operator on ExpectedAttributeValue or Condition: {op}")
    values = list(values or [])
    low, high = ARGUMENTS[op]
    if not low <= len(values) <= high:
        raise TableValidation(f"{INVALID}Invalid number of argument(s) for the {op} ComparisonOperator")
    for value in values:
        value_validate(value)
    allowed = ARGUMENT_TYPES.get(op)
    if allowed is not None:
        for value in values:
            kind = value_type(value)
            if kind not in allowed:
                raise TableValidation(f"{INVALID}ComparisonOperator {op} is not valid for {kind} AttributeValue type")
    if op in ("IN", "BETWEEN") and len({value_type(v) for v in values}) > 1:
        raise TableValidation(f"{INVALID}AttributeValues inside AttributeValueList must be of same type")
    if op == "BETWEEN":
        order = compare(values[0], values[1])
        if order is not None and order > 0:
            raise TableValidation(f"{INVALID}The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
    return LegacyComparison(name, op, tuple(values))


def expected_condition(expected: Mapping[str, Any], operator: str | None = None) -> LegacyConditions:
    """``Expected`` (``{"a": {"Value": ..., "Exists": ..., "ComparisonOperator": ..., "AttributeValueList": ...}}``)."""
    conditional = _operator(operator)  # its enum is checked before any value
    parts: list[LegacyComparison] = []
    for name, spec in expected.items():
        spec = spec or {}
        op = spec.get("ComparisonOperator")
        value: Any = spec.get("Value")  # an AttributeValue where the checks below let it through
        values = spec.get("AttributeValueList")
        exists = spec.get("Exists")
        # DynamoDB's order of checks
        if exists is not None and op is not None:
            raise TableValidation(f"{INVALID}Exists and ComparisonOperator cannot be used together for Attribute: {name}")
        if value is not None and values is not None:
            raise TableValidation(f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}")
        if op is None and values is not None:
            raise TableValidation(f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}")
        if exists is False and value is not None:
            raise TableValidation(f"{INVALID}Value cannot be used when Exists is false for Attribute: {name}")
        if value is None and values is None:
            if op is not None and op not in ("NULL", "NOT_NULL"):
                raise TableValidation(f"{INVALID}Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {name}")
            if op is None and exists is None:
                raise TableValidation(f"{INVALID}Value must be provided when Exists is null for Attribute: {name}")
            if op is None and exists:
                raise TableValidation(f"{INVALID}Value must be provided when Exists is true for Attribute: {name}")
        if op is not None:
            parts.append(_comparison(name, op, [value] if value is not None else values))
        elif exists is False:
            parts.append(LegacyComparison(name, "NULL", ()))
        else:
            value_validate(value)
            parts.append(LegacyComparison(name, "EQ", (value,)))
    return LegacyConditions(tuple(parts), _two_or_more(conditional, operator, parts))


def filter_condition(conditions: Mapping[str, Any], operator: str | None = None) -> LegacyConditions:
    """``QueryFilter`` / ``ScanFilter``."""
    conditional = _operator(operator)
    parts = [_comparison(name, (spec or {}).get("ComparisonOperator"), (spec or {}).get("AttributeValueList")) for name, spec in conditions.items()]
    return LegacyConditions(tuple(parts), _two_or_more(conditional, operator, parts))


def key_conditions(conditions: Mapping[str, Any], key_schema: KeySchema) -> KeyCondition:
    """``KeyConditions``: ``EQ`` on the partition key, optionally one range condition on the sort key."""
    names = list(key_schema)
    hash_name = names[0]
    range_name = names[1] if len(names) > 1 else None
    if not 1 <= len(conditions) <= 2:
        raise TableValidation("Conditions can be of length 1 or 2 only")
    parts = {name: _comparison(name, (spec or {}).get("ComparisonOperator"), (spec or {}).get("AttributeValueList")) for name, spec in conditions.items()}
    for name, part in parts.items():
        if name not in key_schema:
            raise TableValidation(f"Query condition missed key schema element: {hash_name if hash_name not in parts else range_name}")
        if part.op not in KEY_OPERATORS:
            raise TableValidation(f"{INVALID}Query key condition not supported")
        for value in part.values:
            if value_type(value) != key_schema[name]:
                raise TableValidation(f"{INVALID}Condition parameter type does not match schema type")
    if hash_name not in parts:
        raise TableValidation(f"Query condition missed key schema element: {hash_name}")
    hash_part = parts[hash_name]
    if hash_part.op != "EQ":
        raise TableValidation(f"{INVALID}Query key condition not supported")
    if range_name is None or range_name not in parts:
        return KeyCondition(hash_name, hash_part.values[0])
    range_part = parts[range_name]
    return KeyCondition(hash_name, hash_part.values[0], range_name, range_part.op, range_part.values)


@dataclass(frozen=True)
class AttributeUpdateActions:
    """``AttributeUpdates`` (``{"a": {"Action": "PUT" | "ADD" | "DELETE", "Value": ...}}``) on top-level attributes."""

    actions: tuple[tuple[str, str, AttributeValue | None], ...]

    def top_level_names(self) -> set[str]:
        return {name for name, _, _ in self.actions}

    def check_keys(self, key_schema: KeySchema) -> None:
        for name, _, _ in self.actions:
            if name in key_schema:
                raise TableValidation(f"{INVALID}Cannot update attribute {name}. This attribute is part of the key")

    def updated_old(self, item: Item | None) -> Item:
        return {name: copy.deepcopy(value) for name, value in (item or {}).items() if name in self.top_level_names()}

    def updated_new(self, item: Item | None) -> Item:
        return self.updated_old(item)

    def apply(self, item: Item) -> Item:
        result = copy.deepcopy(item)
        for name, action, value in self.actions:
            existing = result.get(name)
            if action == "PUT":
                assert value is not None
                result[name] = copy.deepcopy(value)
            elif action == "DELETE":
                if value is None:
                    result.pop(name, None)
                elif existing is not None:
                    kind = value_type(value)
                    if value_type(existing) != kind:
                        raise TableValidation("Type mismatch for attribute to update")
                    gone = set_member_keys(value)
                    kept = [m for m in existing[kind] if member_key(kind, m) not in gone]
                    if kept:
                        result[name] = {kind: set_sorted(kind, kept)}
                    else:
                        del result[name]
            else:  # ADD
                assert value is not None
                kind = value_type(value)
                if existing is None:
                    result[name] = copy.deepcopy(value)
                elif value_type(existing) != kind:
                    raise TableValidation("Type mismatch for attribute to update")
                elif kind == "N":
                    result[name] = {"N": number_add(existing["N"], value["N"])}
                elif kind == "L":
                    result[name] = {"L": existing["L"] + copy.deepcopy(value["L"])}
                else:
                    members = list(existing[kind])
                    keys = {member_key(kind, m) for m in members}
                    for member in value[kind]:
                        if member_key(kind, member) not in keys:
                            members.append(member)
                            keys.add(member_key(kind, member))
                    result[name] = {kind: set_sorted(kind, members)}
        return result


def attribute_updates(updates: Mapping[str, Any]) -> AttributeUpdateActions:
    actions: list[tuple[str, str, AttributeValue | None]] = []
    for name, spec in updates.items():
        spec = spec or {}
        action = spec.get("Action") or "PUT"
        value = spec.get("Value")
        if action not in ("PUT", "ADD", "DELETE"):
            raise TableValidation(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )
        if value is None and action != "DELETE":
            raise TableValidation(f"{INVALID}Only DELETE action is allowed when no attribute value is specified")
        if value is not None:
            value_validate(value)
            kind = value_type(value)
            if action == "ADD" and kind not in ("N", "L", *SET_TYPES):
                raise TableValidation(f"{INVALID}ADD action is not supported for the type {kind}")
            if action == "DELETE" and kind not in SET_TYPES:
                raise TableValidation(f"{INVALID}DELETE action with value is not supported for the type {kind}")
        actions.append((name, action, value))
    return AttributeUpdateActions(tuple(actions))


def attributes_to_get(names: list[str]) -> ProjectionPaths:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise TableValidation(f"{INVALID}Duplicate value in attribute name: {name}")
        seen.add(name)
    return ProjectionPaths(tuple(Path((name,)) for name in names))
