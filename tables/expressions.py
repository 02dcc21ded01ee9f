"""DynamoDB expressions: parsing and evaluating condition, filter, key-condition, update and projection
expressions, and the legacy parameters (``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``,
``ScanFilter``, ``AttributesToGet``) translated to the same trees. Pure: no Django models.

One ``ExpressionContext`` per request holds its ``ExpressionAttributeNames`` / ``ExpressionAttributeValues``;
every expression of the request is compiled through it, then ``finish()`` refuses names or values no expression
used, as DynamoDB does. Every error is ``tables.errors.TableValidation`` with DynamoDB's message.

Beyond the contract: ``Update.check_keys(key_schema)`` (a key attribute may not be updated),
``Update.updated(item)`` (the updated parts of an item, for ``ReturnValues: UPDATED_OLD / UPDATED_NEW``),
``legacy_mix_check(params)`` (expression and legacy parameters in one request) and ``evaluate_operand``.
The tokenizer, tree and parser live in ``tables.expression_parser``; the legacy translations in
``tables.legacy``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tables.errors import TableValidation
from tables.expression_parser import (
    And,
    Arithmetic,
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
    UpdateTree,
    Value,
)
from tables.values import (
    SCALAR_TYPES,
    SET_TYPES,
    AttributeValue,
    Item,
    KeySchema,
    binary_bytes,
    compare,
    member_key,
    number_add,
    number_subtract,
    set_member_keys,
    value_type,
    value_validate,
    values_equal,
)

ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "L": "LIST",
    "M": "MAP",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
INVALID = "One or more parameter values were invalid: "
BAD_OPERAND = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"
MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"


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


# ---- reading a document path ---------------------------------------------------------------------------------

_MISSING = object()


def path_get(item: Mapping[str, AttributeValue] | None, elements: Iterable[str | int]) -> AttributeValue | None:
    """The value at a document path, or None where any step is missing or of the wrong type."""
    current: Any = {"M": item or {}}
    for element in elements:
        if isinstance(element, int):
            if "L" not in current or element >= len(current["L"]):
                return None
            current = current["L"][element]
        else:
            if "M" not in current or element not in current["M"]:
                return None
            current = current["M"][element]
    return current  # type: ignore[no-any-return]


def _size(value: AttributeValue | None) -> AttributeValue | None:
    if value is None:
        return None
    kind = value_type(value)
    data = value[kind]
    if kind == "S":
        return {"N": str(len(data))}
    if kind == "B":
        return {"N": str(len(binary_bytes(data)))}
    if kind in SET_TYPES or kind in ("L", "M"):
        return {"N": str(len(data))}
    return None


def evaluate_operand(operand: Operand, item: Item | None) -> AttributeValue | None:
    """An operand's value against ``item`` (None: missing)."""
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        return path_get(item, operand.elements)
    if isinstance(operand, Call) and operand.name == "size":
        return _size(evaluate_operand(operand.args[0], item))
    raise TableValidation("Unsupported operand")


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


def _operand_type(operand: Operand) -> str | None:
    """The static type of an operand: a value's type, N for size(), None for a path."""
    if isinstance(operand, Value):
        return value_type(operand.value)
    if isinstance(operand, Call) and operand.name == "size":
        return "N"
    return None


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
                kind = _operand_type(operand)
                if node.op not in ("=", "<>") and kind is not None and kind not in SCALAR_TYPES:
                    raise self.operand_type_error(node.op, kind)
            self.distinct(node.op, (node.left, node.right))
        elif isinstance(node, Between):
            for operand in (node.subject, node.low, node.high):
                self.operand(operand)
                kind = _operand_type(operand)
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
                kind = _operand_type(second)
                if kind is not None and kind != "S":
                    raise self.operand_type_error("attribute_type", kind)
                if isinstance(second, Value) and second.value["S"] not in ATTRIBUTE_TYPES:
                    raise self.error(f"Invalid attribute type name found; type: {second.value['S']}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}")
            if node.name == "begins_with":
                for operand in node.args:
                    kind = _operand_type(operand)
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


# ---- projections ---------------------------------------------------------------------------------------------


def _overlaps(paths: list[Path], kind: str) -> None:
    """DynamoDB refuses two paths where one is a prefix of the other, or that disagree on a step's type."""
    for index, one in enumerate(paths):
        for two in paths[index + 1 :]:
            shorter = min(len(one.elements), len(two.elements))
            for step in range(shorter):
                a, b = one.elements[step], two.elements[step]
                if a == b and type(a) is type(b):
                    continue
                if isinstance(a, int) != isinstance(b, int):
                    raise TableValidation(f"Invalid {kind}: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one.show()}, path two: {two.show()}")
                break
            else:
                raise TableValidation(f"Invalid {kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one.show()}, path two: {two.show()}")


def project(item: Item, paths: Iterable[Path]) -> Item:
    """Only the parts of ``item`` at ``paths``, nesting kept; list elements picked keep their order."""
    tree: dict[str, Any] = {}
    for path in paths:
        value = path_get(item, path.elements)
        if value is None:
            continue
        # build {"M": {...}} / {"L*": {index: ...}} skeletons, then turn the index maps into lists
        node: dict[str, Any] = tree
        elements = path.elements
        source: Any = {"M": item}
        for position, element in enumerate(elements):
            last = position == len(elements) - 1
            if isinstance(element, int):
                source = source["L"][element]
            else:
                source = source["M"][element]
            if last:
                node[element] = copy.deepcopy(source)  # type: ignore[index]
            else:
                child_kind = "L" if isinstance(elements[position + 1], int) else "M"
                child = node.setdefault(element, {"_kind": child_kind})  # type: ignore[call-overload]
                node = child
    return {name: _finish(value) for name, value in tree.items()}


def _finish(node: dict[str, Any]) -> AttributeValue:
    if "_kind" not in node:
        return node
    kind = node["_kind"]
    children = {k: v for k, v in node.items() if k != "_kind"}
    if kind == "L":
        return {"L": [_finish(children[k]) for k in sorted(children)]}
    return {"M": {k: _finish(v) for k, v in children.items()}}


@dataclass(frozen=True)
class ProjectionPaths:
    paths: tuple[Path, ...]

    def apply(self, item: Item) -> Item:
        return project(item, self.paths)


# ---- updates -------------------------------------------------------------------------------------------------


def _parent(item: Item, path: Path) -> AttributeValue:
    """The container holding the last step of ``path`` (``{"M": item}`` for a top-level attribute)."""
    parent = path_get(item, path.elements[:-1]) if len(path.elements) > 1 else {"M": item}
    last = path.elements[-1]
    if parent is None or ("L" if isinstance(last, int) else "M") not in parent:
        raise TableValidation(BAD_PATH)
    return parent


def _set_value(item: Item, path: Path, value: AttributeValue) -> None:
    parent = _parent(item, path)
    last = path.elements[-1]
    if isinstance(last, int):
        elements = parent["L"]
        if last >= len(elements):
            elements.append(value)
        else:
            elements[last] = value
    else:
        parent["M"][last] = value


def _update_value(operand: Operand, item: Item) -> AttributeValue:
    """A SET right-hand side against the item as it was before the update."""
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        found = path_get(item, operand.elements)
        if found is None:
            raise TableValidation(MISSING_ATTRIBUTE)
        return copy.deepcopy(found)
    if isinstance(operand, Arithmetic):
        left, right = _update_value(operand.left, item), _update_value(operand.right, item)
        if value_type(left) != "N" or value_type(right) != "N":
            raise TableValidation(BAD_OPERAND)
        result = number_add(left["N"], right["N"]) if operand.op == "+" else number_subtract(left["N"], right["N"])
        return {"N": result}
    if isinstance(operand, Call) and operand.name == "if_not_exists":
        found = path_get(item, operand.args[0].elements) if isinstance(operand.args[0], Path) else None
        return copy.deepcopy(found) if found is not None else _update_value(operand.args[1], item)
    if isinstance(operand, Call) and operand.name == "list_append":
        first, second = _update_value(operand.args[0], item), _update_value(operand.args[1], item)
        if value_type(first) != "L" or value_type(second) != "L":
            raise TableValidation(BAD_OPERAND)
        return {"L": first["L"] + second["L"]}
    raise TableValidation(BAD_OPERAND)


def _set_add(existing: AttributeValue, change: AttributeValue, remove: bool) -> AttributeValue | None:
    kind = value_type(existing)
    if kind != value_type(change) or kind not in SET_TYPES:
        raise TableValidation(BAD_OPERAND)
    members = list(existing[kind])
    keys = [member_key(kind, m) for m in members]
    if remove:
        gone = set_member_keys(change)
        kept = [m for m, k in zip(members, keys, strict=True) if k not in gone]
        return {kind: kept} if kept else None
    for member in change[kind]:
        key = member_key(kind, member)
        if key not in keys:
            members.append(member)
            keys.append(key)
    return {kind: members}


@dataclass(frozen=True)
class UpdateActions:
    """A compiled update expression (or ``AttributeUpdates``): applied to a copy of the item."""

    tree: UpdateTree
    kind: str = "UpdateExpression"

    def paths(self) -> list[Path]:
        return [action.path for action in self.tree.sets] + list(self.tree.removes) + [path for path, _ in self.tree.adds] + [path for path, _ in self.tree.deletes]

    def top_level_names(self) -> set[str]:
        return {str(path.elements[0]) for path in self.paths()}

    def check_keys(self, key_schema: KeySchema) -> None:
        """DynamoDB refuses an update that writes a key attribute."""
        for path in self.paths():
            if path.elements[0] in key_schema:
                raise TableValidation(INVALID + f"Cannot update attribute {path.elements[0]}. This attribute is part of the key")

    def updated_old(self, item: Item | None) -> Item:
        """The parts of the old item this update wrote (``ReturnValues: UPDATED_OLD``): a nested path gives only
        its nested part, as DynamoDB returns it."""
        return project(item or {}, self.paths())

    def updated_new(self, item: Item | None) -> Item:
        """The parts of the new item this update wrote (``ReturnValues: UPDATED_NEW``); removed paths are gone."""
        return project(item or {}, [path for path in self.paths() if path not in self.tree.removes])

    def apply(self, item: Item) -> Item:
        original = item
        result = copy.deepcopy(item)
        # every right-hand side reads the item as it was before this update
        values = [(action.path, _update_value(action.value, original)) for action in self.tree.sets]
        for path, value in values:
            _set_value(result, path, value)
        self._remove(result)
        for path, change in self.tree.adds:
            existing = path_get(result, path.elements)
            if existing is None:
                _set_value(result, path, copy.deepcopy(change.value))
            elif value_type(existing) == "N" and value_type(change.value) == "N":
                _set_value(result, path, {"N": number_add(existing["N"], change.value["N"])})
            else:
                merged = _set_add(existing, change.value, remove=False)
                assert merged is not None
                _set_value(result, path, merged)
        for path, change in self.tree.deletes:
            existing = path_get(result, path.elements)
            if existing is None:
                if len(path.elements) > 1:
                    _parent(result, path)
                continue
            remaining = _set_add(existing, change.value, remove=True)
            if remaining is None:
                self._remove_one(result, path)
            else:
                _set_value(result, path, remaining)
        return result

    def _remove(self, item: Item) -> None:
        # list indexes refer to the list as it was: remove the highest first
        def order(path: Path) -> tuple[Any, ...]:
            last = path.elements[-1]
            return (0, -last) if isinstance(last, int) else (1, 0)

        for path in sorted(self.tree.removes, key=order):
            self._remove_one(item, path)

    @staticmethod
    def _remove_one(item: Item, path: Path) -> None:
        last = path.elements[-1]
        parent = path_get(item, path.elements[:-1]) if len(path.elements) > 1 else {"M": item}
        if parent is None:
            return
        if isinstance(last, int):
            if "L" in parent and last < len(parent["L"]):
                del parent["L"][last]
        elif "M" in parent:
            parent["M"].pop(last, None)


def _check_update(tree: UpdateTree, kind: str) -> None:
    checker = _Checker(kind)
    for _path, change in tree.adds:
        vtype = value_type(change.value)
        if vtype != "N" and vtype not in SET_TYPES:
            raise TableValidation(f"Invalid {kind}: Incorrect operand type for operator or function; operator: ADD, operand type: {TYPE_NAMES[vtype]}")
    for _path, change in tree.deletes:
        vtype = value_type(change.value)
        if vtype not in SET_TYPES:
            raise TableValidation(f"Invalid {kind}: Incorrect operand type for operator or function; operator: DELETE, operand type: {TYPE_NAMES[vtype]}")

    def walk(operand: Operand) -> None:
        if isinstance(operand, Arithmetic):
            for side in (operand.left, operand.right):
                walk(side)
                vtype = _operand_type(side)
                if vtype is not None and vtype != "N":
                    raise checker.error(f"Incorrect operand type for operator or function; operator or function: {operand.op}, operand type: {TYPE_NAMES.get(vtype, vtype)}")
        elif isinstance(operand, Call):
            for arg in operand.args:
                walk(arg)
            if operand.name == "if_not_exists" and not isinstance(operand.args[0], Path):
                raise checker.error("Operator or function requires a document path; operator or function: if_not_exists")
            if operand.name == "list_append":
                for arg in operand.args:
                    vtype = _operand_type(arg)
                    if vtype is not None and vtype != "L":
                        raise checker.error(f"Incorrect operand type for operator or function; operator or function: list_append, operand type: {vtype}")

    for action in tree.sets:
        walk(action.value)


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
            raise TableValidation(f"Invalid operator used in {kind}: OR")
        elif isinstance(current, Not):
            raise TableValidation(f"Invalid operator used in {kind}: NOT")
        elif isinstance(current, In):
            raise TableValidation(f"Invalid operator used in {kind}: IN")
        elif isinstance(current, Compare) and current.op == "<>":
            raise TableValidation(f"Invalid operator used in {kind}: <>")
        elif isinstance(current, Function) and current.name != "begins_with":
            raise TableValidation(f"Invalid operator used in {kind}: {current.name}")
        elif any(isinstance(operand, Call) for operand in _operands(current)):
            raise TableValidation(f"Invalid operator used in {kind}: size")
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
    name, (op, values) = next(iter(conditions.items()))
    assert name == range_name
    return KeyCondition(hash_name, hash_values[0], range_name, op, values)


def _key_part(part: Node, kind: str) -> tuple[str, str, tuple[AttributeValue, ...]]:
    def name_of(operand: Operand) -> str:
        if not isinstance(operand, Path):
            raise TableValidation(f"Invalid {kind}: Operator or function requires a document path")
        if len(operand.elements) != 1:
            raise TableValidation(f"Invalid {kind}: Key condition cannot contain nested attributes; path: {operand.show()}")
        return str(operand.elements[0])

    def value_of(operand: Operand) -> AttributeValue:
        if not isinstance(operand, Value):
            raise TableValidation(f"Invalid {kind}: Operator or function requires a constant value")
        return operand.value

    if isinstance(part, Compare):
        if isinstance(part.left, Value) and isinstance(part.right, Path):
            return name_of(part.right), _KEY_OPS[_FLIPPED[part.op]], (value_of(part.left),)
        return name_of(part.left), _KEY_OPS[part.op], (value_of(part.right),)
    if isinstance(part, Between):
        return name_of(part.subject), "BETWEEN", (value_of(part.low), value_of(part.high))
    assert isinstance(part, Function)
    return name_of(part.args[0]), "BEGINS_WITH", (value_of(part.args[1]),)


# ---- the request's context -----------------------------------------------------------------------------------


_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


@dataclass
class ExpressionContext:
    names: Mapping[str, str] | None
    values: Mapping[str, AttributeValue] | None
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.names is not None:
            if not self.names:
                raise TableValidation("ExpressionAttributeNames must not be empty")
            for key in self.names:
                if not _NAME_KEY.fullmatch(key):
                    raise TableValidation(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
        if self.values is not None:
            if not self.values:
                raise TableValidation("ExpressionAttributeValues must not be empty")
            for key, value in self.values.items():
                if not _VALUE_KEY.fullmatch(key):
                    raise TableValidation(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
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
        _check_update(tree, kind)
        actions = UpdateActions(tree, kind)
        _overlaps(actions.paths(), kind)
        return actions

    def projection(self, text: str) -> Projection:
        kind = "ProjectionExpression"
        paths = Parser(text, kind, self).projection_expression()
        _overlaps(paths, kind)
        return ProjectionPaths(tuple(paths))

    def key_condition(self, text: str, key_schema: KeySchema) -> KeyCondition:
        kind = "KeyConditionExpression"
        node = Parser(text, kind, self, check=_Checker(kind).check).condition_expression()
        return _key_condition(node, key_schema)

    def finish(self) -> None:
        if self.values:
            unused = [key for key in self.values if key not in self.used_values]
            if unused:
                raise TableValidation("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + ", ".join(unused) + "}")
        if self.names:
            unused = [key for key in self.names if key not in self.used_names]
            if unused:
                raise TableValidation("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + ", ".join(unused) + "}")


# ---- legacy parameters ---------------------------------------------------------------------------------------

EXPRESSION_PARAMETERS = (
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
)
LEGACY_PARAMETERS = (
    "Expected",
    "ConditionalOperator",
    "QueryFilter",
    "ScanFilter",
    "KeyConditions",
    "AttributeUpdates",
    "AttributesToGet",
)


def legacy_mix_check(params: Mapping[str, Any]) -> None:
    """DynamoDB refuses a request mixing expression and legacy parameters, and names or values without an
    expression to use them."""
    legacy = [name for name in LEGACY_PARAMETERS if params.get(name) is not None]
    modern = [name for name in EXPRESSION_PARAMETERS if params.get(name) is not None]
    if legacy and modern:
        raise TableValidation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {" + ", ".join(legacy) + "} Expression parameters: {" + ", ".join(modern) + "}"
        )
    if not modern:
        if params.get("ExpressionAttributeValues") is not None:
            raise TableValidation("ExpressionAttributeValues can only be specified when using expressions")
        if params.get("ExpressionAttributeNames") is not None:
            raise TableValidation("ExpressionAttributeNames can only be specified when using expressions")


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
    "legacy_mix_check",
    "path_get",
    "project",
]
