"""DynamoDB expressions: parsing and evaluating condition, filter, key-condition, update and projection
expressions, and the legacy parameters (``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``,
``ScanFilter``, ``AttributesToGet``) translated to the same trees. Pure: no Django models.

One ``ExpressionContext`` per request holds its ``ExpressionAttributeNames`` / ``ExpressionAttributeValues``;
every expression of the request is compiled through it, then ``finish()`` refuses names or values no expression
used, as DynamoDB does. Every error is ``tables.errors.TableValidation`` with DynamoDB's message.

Beyond the contract: ``Update.check_keys(key_schema)`` (a key attribute may not be updated),
``Update.updated_old(item)`` / ``updated_new(item)`` (the updated parts, for ``ReturnValues: UPDATED_*``),
``legacy_mix_check(params)`` (expression and legacy parameters in one request), ``filter_key_check`` (a Query
filter may not read key attributes), ``update_size_check`` (the
400 KB gate of an update, statement-sized for UpdateItem) and ``evaluate_operand``.
The tokenizer, tree and parser live in ``tables.expression_parser``, document paths and projections in
``tables.documents``, update application in ``tables.updates``, the legacy translations in ``tables.legacy``;
this module holds the contract, condition evaluation, the static checks and key conditions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tables.documents import (
    ProjectionPaths,
    check_overlaps,
    evaluate_operand,
    path_get,
    project,
    static_type,
)
from tables.errors import TableValidation
from tables.expression_parser import (
    And,
    Between,
    Call,
    Compare,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    Parser,
    Path,
    SetAction,
    Value,
)
from tables.updates import UpdateActions, check_update, update_size_check
from tables.values import (
    SCALAR_TYPES,
    SET_TYPES,
    AttributeValue,
    Item,
    KeySchema,
    binary_bytes,
    compare,
    member_key,
    set_member_keys,
    value_type,
    value_validate,
    values_equal,
)

ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
INVALID = "One or more parameter values were invalid: "


class Condition(Protocol):
    def evaluate(self, item: Item | None) -> bool: ...


class Update(Protocol):
    def apply(self, item: Item) -> Item:
        """A new item (the argument untouched); ``TableValidation`` for a type mismatch or a key attribute changed."""
        ...

    def top_level_names(self) -> set[str]:
        """The top-level attributes it writes (for ``ReturnValues: UPDATED_OLD / UPDATED_NEW``)."""
        ...

    def check_keys(self, key_schema: KeySchema) -> None:
        """``TableValidation`` if it writes a key attribute ("Cannot update attribute pk. ...")."""
        ...

    def updated_old(self, item: Item | None) -> Item:
        """The parts of the old item it writes (``ReturnValues: UPDATED_OLD``), nested paths as nested parts."""
        ...

    def updated_new(self, item: Item | None) -> Item:
        """The parts of the new item it wrote (``ReturnValues: UPDATED_NEW``)."""
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
    range_prefix: tuple[AttributeValue, ...] = ()  # a multi-attribute key: equalities on the RANGE attributes before range_name


# ---- conditions ----------------------------------------------------------------------------------------------


def _ordered(op: str, a: AttributeValue | None, b: AttributeValue | None) -> bool:
    if a is None or b is None:
        return False
    order = compare(a, b)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def begins_with_value(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None:
        return False
    kind = value_type(value)
    if kind != value_type(prefix) or kind not in ("S", "B"):
        return False
    if kind == "S":
        return bool(value["S"].startswith(prefix["S"]))
    return binary_bytes(value["B"]).startswith(binary_bytes(prefix["B"]))


def contains_value(value: AttributeValue | None, member: AttributeValue | None) -> bool:
    if value is None or member is None:
        return False
    kind = value_type(value)
    other = value_type(member)
    if kind == "S" and other == "S":
        return bool(member["S"] in value["S"])
    if kind == "B" and other == "B":
        return binary_bytes(member["B"]) in binary_bytes(value["B"])
    if kind in SET_TYPES and other == kind[0]:
        return member_key(kind, member[other]) in set_member_keys(value)
    if kind == "L":
        return any(values_equal(element, member) for element in value["L"])
    return False


def evaluate(node: Node, item: Item | None) -> bool:
    """A condition tree against ``item`` (None: no item). Different types compare false, never raise."""
    if isinstance(node, And):
        return evaluate(node.left, item) and evaluate(node.right, item)
    if isinstance(node, Or):
        return evaluate(node.left, item) or evaluate(node.right, item)
    if isinstance(node, Not):
        return not evaluate(node.operand, item)
    if isinstance(node, Compare):
        left, right = evaluate_operand(node.left, item), evaluate_operand(node.right, item)
        if node.op == "=":
            return left is not None and right is not None and values_equal(left, right)
        if node.op == "<>":
            return not (left is not None and right is not None and values_equal(left, right))
        return _ordered(node.op, left, right)
    if isinstance(node, Between):
        subject = evaluate_operand(node.subject, item)
        return _ordered(">=", subject, evaluate_operand(node.low, item)) and _ordered("<=", subject, evaluate_operand(node.high, item))
    if isinstance(node, In):
        subject = evaluate_operand(node.subject, item)
        if subject is None:
            return False
        for option in node.options:
            candidate = evaluate_operand(option, item)
            if candidate is not None and values_equal(subject, candidate):
                return True
        return False
    if isinstance(node, Function):
        first = evaluate_operand(node.args[0], item)
        if node.name == "attribute_exists":
            return first is not None
        if node.name == "attribute_not_exists":
            return first is None
        second = evaluate_operand(node.args[1], item)
        if node.name == "attribute_type":
            return first is not None and second is not None and value_type(first) == second.get("S")
        if node.name == "begins_with":
            return begins_with_value(first, second)
        return contains_value(first, second)
    raise TableValidation("Unsupported condition")


def _show_value(value: AttributeValue) -> str:
    kind = value_type(value)
    return f"AttributeValue: {{{kind}:{value[kind]}}}"


@dataclass
class _Checker:
    """The static checks DynamoDB makes on a parsed condition (operand types, document paths, distinct operands)."""

    kind: str

    def error(self, message: str) -> TableValidation:
        return TableValidation(f"Invalid {self.kind}: {message}")

    def operand_type_error(self, function: str, kind: str) -> TableValidation:
        return self.error(f"Incorrect operand type for operator or function; operator or function: {function}, operand type: {kind}")

    def distinct(self, op: str, operands: tuple[Operand, ...]) -> None:
        first = operands[0]
        if isinstance(first, Path) and any(first == other for other in operands[1:]):
            raise self.error(f"The first operand must be distinct from the remaining operands for this operator or function; operator: {op}, first operand: {first.show()}")

    def operand(self, operand: Operand) -> None:
        if isinstance(operand, Call) and operand.name == "size":
            if not isinstance(operand.args[0], Path):
                raise self.error("Operator or function requires a document path; operator or function: size")

    def check(self, node: Node) -> None:
        if isinstance(node, And | Or):
            self.check(node.left)
            self.check(node.right)
        elif isinstance(node, Not):
            self.check(node.operand)
        elif isinstance(node, Compare):
            for operand in (node.left, node.right):
                self.operand(operand)
                kind = static_type(operand)
                if node.op not in ("=", "<>") and kind is not None and kind not in SCALAR_TYPES:
                    raise self.operand_type_error(node.op, kind)
            self.distinct(node.op, (node.left, node.right))
        elif isinstance(node, Between):
            for operand in (node.subject, node.low, node.high):
                self.operand(operand)
                kind = static_type(operand)
                if kind is not None and kind not in SCALAR_TYPES:
                    raise self.operand_type_error("BETWEEN", kind)
            if isinstance(node.low, Value) and isinstance(node.high, Value):
                low, high = node.low.value, node.high.value
                order = compare(low, high)
                if order is None:
                    raise self.error(f"The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {_show_value(low)}, upper bound operand: {_show_value(high)}")
                if order > 0:
                    raise self.error(f"The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: {_show_value(low)}, upper operand: {_show_value(high)}")
            self.distinct("BETWEEN", (node.subject, node.low, node.high))
        elif isinstance(node, In):
            for operand in (node.subject, *node.options):
                self.operand(operand)
            self.distinct("IN", (node.subject, *node.options))
        elif isinstance(node, Function):
            for operand in node.args:
                self.operand(operand)
            first = node.args[0]
            if node.name in ("attribute_exists", "attribute_not_exists", "attribute_type") and not isinstance(first, Path):
                raise self.error(f"Operator or function requires a document path; operator or function: {node.name}")
            if node.name == "attribute_type":
                second = node.args[1]
                kind = static_type(second)
                if kind is not None and kind != "S":
                    raise self.operand_type_error("attribute_type", kind)
                if isinstance(second, Value) and second.value["S"] not in ATTRIBUTE_TYPES:
                    raise self.error(f"Invalid attribute type name found; type: {second.value['S']}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}")
            if node.name == "begins_with":
                for operand in node.args:
                    kind = static_type(operand)
                    if kind is not None and kind not in ("S", "B"):
                        raise self.operand_type_error("begins_with", kind)
            if node.name in ("begins_with", "contains"):
                self.distinct(node.name, node.args)


@dataclass(frozen=True)
class ConditionTree:
    """A compiled condition or filter expression."""

    node: Node

    def evaluate(self, item: Item | None) -> bool:
        return evaluate(self.node, item)

    def top_level_names(self) -> set[str]:
        """The top-level attributes the condition reads."""
        return _names_read(self.node)


def _operand_names(operand: Operand) -> set[str]:
    if isinstance(operand, Path):
        return {str(operand.elements[0])}
    if isinstance(operand, Call):
        return set().union(*(_operand_names(arg) for arg in operand.args))
    return set()


def _names_read(node: Node) -> set[str]:
    if isinstance(node, And | Or):
        return _names_read(node.left) | _names_read(node.right)
    if isinstance(node, Not):
        return _names_read(node.operand)
    return set().union(*(_operand_names(operand) for operand in _operands(node)))


def filter_key_check(condition: Condition, key_names: Iterable[str], *, legacy: bool = False) -> None:
    """A Query's filter may not read a key attribute of the table or of the index queried (``key_names``, hash
    key first): DynamoDB names the first one, as "Filter Expression" (or "QueryFilter" for the legacy filter)."""
    read = condition.top_level_names() if hasattr(condition, "top_level_names") else set()
    for name in key_names:
        if name in read:
            what = "QueryFilter" if legacy else "Filter Expression"
            raise TableValidation(f"{what} can only contain non-primary key attributes: Primary key attribute: {name}")


# ---- key conditions ------------------------------------------------------------------------------------------


def _operands(node: Node) -> tuple[Operand, ...]:
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.subject, node.low, node.high)
    if isinstance(node, In):
        return (node.subject, *node.options)
    if isinstance(node, Function):
        return node.args
    return ()


_KEY_OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _key_condition(node: Node, key_schema: KeySchema) -> KeyCondition:
    kind = "KeyConditionExpression"
    parts: list[Node] = []

    def flatten(current: Node) -> None:
        if isinstance(current, And):
            flatten(current.left)
            flatten(current.right)
        elif isinstance(current, Or):
            raise TableValidation(f"Invalid {kind}: Invalid operator used in {kind}: OR")
        elif isinstance(current, Not):
            raise TableValidation(f"Invalid {kind}: Invalid operator used in {kind}: NOT")
        elif isinstance(current, In):
            raise TableValidation(f"Invalid {kind}: Invalid operator used in {kind}: IN")
        elif isinstance(current, Compare) and current.op == "<>":
            raise TableValidation(f"Invalid {kind}: Invalid operator used in {kind}: <>")
        elif isinstance(current, Function) and current.name != "begins_with":
            raise TableValidation(f"Invalid {kind}: Invalid operator used in {kind}: {current.name}")
        elif any(isinstance(operand, Call) for operand in _operands(current)):
            raise TableValidation(f"Invalid {kind}: KeyConditionExpressions cannot contain nested operations")
        else:
            parts.append(current)

    flatten(node)
    conditions: dict[str, tuple[str, tuple[AttributeValue, ...]]] = {}
    for part in parts:
        name, op, values = _key_part(part, kind)
        if name in conditions:
            raise TableValidation(f"Invalid {kind}: KeyConditionExpressions must only contain one condition per key")
        conditions[name] = (op, values)
    if len(parts) > len(key_schema):
        raise TableValidation(f"The number of query conditions ({len(parts)}) exceeds the number of key attributes defined in the schema ({len(key_schema)})")
    names = list(key_schema)
    hash_name = names[0]
    range_name = names[1] if len(names) > 1 else None
    for name in conditions:
        if name not in key_schema:
            raise TableValidation(f"Query condition missed key schema element: {range_name if hash_name in conditions and range_name else hash_name}")
    if hash_name not in conditions:
        raise TableValidation(f"Query condition missed key schema element: {hash_name}")
    hash_op, hash_values = conditions.pop(hash_name)
    if hash_op != "EQ":
        raise TableValidation("Query key condition not supported")
    for name, (_op, values) in [(hash_name, (hash_op, hash_values)), *conditions.items()]:
        for value in values:
            if value_type(value) != key_schema[name]:
                raise TableValidation(INVALID + "Condition parameter type does not match schema type")
    if not conditions:
        return KeyCondition(hash_name, hash_values[0])
    if len(names) > 2:  # a multi-attribute key: equalities on a prefix of the RANGE attributes, any condition on the last
        ranges = names[1:]
        last = max(ranges.index(n) for n in conditions)
        unequal = [n for n in ranges[:last] if conditions.get(n, ("",))[0] != "EQ"]
        if unequal:
            raise TableValidation(f"RANGE key attributes {', '.join(unequal)} must have equality conditions specified in the query because a "
                                  f"condition is present on key attribute {ranges[last]}")
        op, values = conditions[ranges[last]]
        return KeyCondition(hash_name, hash_values[0], ranges[last], op, values, tuple(conditions[n][1][0] for n in ranges[:last]))
    name, (op, values) = next(iter(conditions.items()))
    assert name == range_name
    return KeyCondition(hash_name, hash_values[0], range_name, op, values)


def _key_part(part: Node, kind: str) -> tuple[str, str, tuple[AttributeValue, ...]]:
    """One key condition: the key attribute it names, the operator (``Compare`` written value first is turned
    round) and its values."""
    operands = _operands(part)
    paths = [operand for operand in operands if isinstance(operand, Path)]
    invalid = f"Invalid {kind}: Invalid condition in {kind}: "
    if len(paths) > 1:
        raise TableValidation(invalid + "Multiple attribute names used in one condition")
    if not paths:
        raise TableValidation(invalid + "No key attribute specified")
    path = paths[0]
    if len(path.elements) != 1:
        raise TableValidation(f"Invalid {kind}: KeyConditionExpressions cannot have conditions on nested attributes")
    name = str(path.elements[0])
    values = tuple(operand.value for operand in operands if isinstance(operand, Value))
    if isinstance(part, Compare):
        op = part.op if part.left is path else _FLIPPED[part.op]
        return name, _KEY_OPS[op], values
    if operands[0] is not path:
        what = "BETWEEN" if isinstance(part, Between) else "begins_with"
        raise TableValidation(invalid + f"{what} operator must have the key attribute as its first operand")
    return name, "BETWEEN" if isinstance(part, Between) else "BEGINS_WITH", values


# ---- the request's context -----------------------------------------------------------------------------------


_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


@dataclass
class ExpressionContext:
    names: Mapping[str, str] | None
    values: Mapping[str, AttributeValue] | None
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)
    # DynamoDB's older validation layer (BatchWriteItem, transactions, Scan): a bad value is reported as
    # "ExpressionAttributeValues contains invalid value: <why> for key :v" in that layer's wording
    older: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if self.names is not None:
            if not self.names:
                raise TableValidation("ExpressionAttributeNames must not be empty")
            for key, name in self.names.items():
                if not _NAME_KEY.fullmatch(key):
                    raise TableValidation(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
                if not isinstance(name, str) or not name:
                    raise TableValidation(f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}")
        if self.values is not None:
            if not self.values:
                raise TableValidation("ExpressionAttributeValues must not be empty")
            for key, value in self.values.items():
                if not _VALUE_KEY.fullmatch(key):
                    raise TableValidation(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
                if self.older:
                    try:
                        value_validate(value, older=True)
                    except TableValidation as exc:
                        raise TableValidation(f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}") from None
                else:
                    value_validate(value)

    # Resolver
    def name(self, alias: str, kind: str) -> str:
        if self.names is None or alias not in self.names:
            raise TableValidation(f"Invalid {kind}: An expression attribute name used in the document path is not defined; attribute name: {alias}")
        self.used_names.add(alias)
        return self.names[alias]

    def value(self, placeholder: str, kind: str) -> AttributeValue:
        if self.values is None or placeholder not in self.values:
            raise TableValidation(f"Invalid {kind}: An expression attribute value used in expression is not defined; attribute value: {placeholder}")
        self.used_values.add(placeholder)
        return self.values[placeholder]

    def condition(self, text: str, kind: str = "ConditionExpression") -> Condition:
        """A condition; ``kind`` names the parameter in messages (``FilterExpression`` for a filter)."""
        node = Parser(text, kind, self, check=_Checker(kind).check).condition_expression()
        return ConditionTree(node)

    def filter(self, text: str) -> Condition:
        return self.condition(text, "FilterExpression")

    def update(self, text: str) -> UpdateActions:
        kind = "UpdateExpression"
        tree = Parser(text, kind, self).update_expression()
        check_update(tree, kind)
        actions = UpdateActions(tree, kind)
        check_overlaps(actions.paths(), kind)
        return actions

    def projection(self, text: str) -> Projection:
        kind = "ProjectionExpression"
        paths = Parser(text, kind, self).projection_expression()
        check_overlaps(paths, kind)
        return ProjectionPaths(tuple(paths))

    def key_condition(self, text: str, key_schema: KeySchema) -> KeyCondition:
        kind = "KeyConditionExpression"
        node = Parser(text, kind, self, check=_Checker(kind).check).condition_expression()
        return _key_condition(node, key_schema)

    def finish(self) -> None:
        """Names no expression used, then values no expression used (DynamoDB checks names first)."""
        if self.names:
            unused = [key for key in self.names if key not in self.used_names]
            if unused:
                raise TableValidation("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + ", ".join(unused) + "}")
        if self.values:
            unused = [key for key in self.values if key not in self.used_values]
            if unused:
                raise TableValidation("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + ", ".join(unused) + "}")


# ---- legacy parameters ---------------------------------------------------------------------------------------

# in the order DynamoDB lists them in its message
EXPRESSION_PARAMETERS = (
    "UpdateExpression",
    "ProjectionExpression",
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
)
LEGACY_PARAMETERS = (
    "AttributeUpdates",
    "AttributesToGet",
    "Expected",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
)


def legacy_mix_check(params: Mapping[str, Any]) -> None:
    """DynamoDB refuses a request mixing expression and legacy parameters, and names or values without an
    expression to use them."""
    legacy = [name for name in LEGACY_PARAMETERS if params.get(name) is not None]
    modern = [name for name in EXPRESSION_PARAMETERS if params.get(name) is not None]
    if params.get("KeyConditionExpression") is not None and params.get("KeyConditions") is not None:
        legacy.append("KeyConditions")  # KeyConditions only clashes with a KeyConditionExpression
    if legacy and modern:
        raise TableValidation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {" + ", ".join(legacy) + "} Expression parameters: {" + ", ".join(modern) + "}"
        )
    if not modern:
        if params.get("ExpressionAttributeNames") is not None:
            raise TableValidation("ExpressionAttributeNames can only be specified when using expressions")
        if params.get("ExpressionAttributeValues") is not None:
            raise TableValidation("ExpressionAttributeValues can only be specified when using expressions")


def expected_condition(expected: Mapping[str, Any], operator: str | None = None) -> Condition:
    from tables.legacy import expected_condition as build

    return build(expected, operator)


def filter_condition(conditions: Mapping[str, Any], operator: str | None = None) -> Condition:
    """``QueryFilter`` / ``ScanFilter`` (``{"name": {"ComparisonOperator": ..., "AttributeValueList": [...]}}``)."""
    from tables.legacy import filter_condition as build

    return build(conditions, operator)


def attribute_updates(updates: Mapping[str, Any]) -> Update:
    from tables.legacy import attribute_updates as build

    return build(updates)


def key_conditions(conditions: Mapping[str, Any], key_schema: KeySchema) -> KeyCondition:
    from tables.legacy import key_conditions as build

    return build(conditions, key_schema)


def attributes_to_get(names: list[str]) -> Projection:
    from tables.legacy import attributes_to_get as build

    return build(names)


__all__ = [
    "Condition",
    "ConditionTree",
    "ExpressionContext",
    "KeyCondition",
    "Projection",
    "ProjectionPaths",
    "SetAction",
    "Update",
    "UpdateActions",
    "attribute_updates",
    "attributes_to_get",
    "evaluate",
    "evaluate_operand",
    "expected_condition",
    "filter_condition",
    "key_conditions",
    "filter_key_check",
    "legacy_mix_check",
    "update_size_check",
    "path_get",
    "project",
]
