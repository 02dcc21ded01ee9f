"""Update expressions (and ``AttributeUpdates``' sibling in ``tables.legacy``) applied to items: SET (values,
paths, ``+`` / ``-``, ``if_not_exists``, ``list_append``, list indexes past the end append), REMOVE (list
elements shift), ADD (numbers, set union), DELETE (set difference; an emptied set is removed), the parts an update
wrote for ``ReturnValues``, and the 400 KB gate of an update as UpdateItem measures it. Pure: no Django models."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tables.documents import path_get, project, static_type
from tables.errors import TableValidation
from tables.expression_parser import Arithmetic, Call, Operand, Path, UpdateTree, Value
from tables.values import (
    ITEM_TO_UPDATE_TOO_BIG,
    MAX_ITEM_BYTES,
    SET_TYPES,
    AttributeValue,
    Item,
    KeySchema,
    item_size,
    member_key,
    number_add,
    number_subtract,
    set_member_keys,
    set_sorted,
    value_size,
    value_type,
)

if TYPE_CHECKING:
    from tables.expressions import Update

INVALID = "One or more parameter values were invalid: "
BAD_OPERAND = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"
MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
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
        return {kind: set_sorted(kind, kept)} if kept else None
    for member in change[kind]:
        key = member_key(kind, member)
        if key not in keys:
            members.append(member)
            keys.append(key)
    return {kind: set_sorted(kind, members)}


def _element_bytes(element: str | int) -> int:
    return len(str(element)) if isinstance(element, int) else len(element.encode())


def _target_cost(path: Path) -> int:
    """A written path: its first name, plus 4 and the element for each later step."""
    first, *rest = path.elements
    return _element_bytes(first) + sum(4 + _element_bytes(element) for element in rest)


_CALL_COSTS = {"if_not_exists": 39, "list_append": 37}


def _operand_cost(operand: Operand) -> int:
    """A SET right-hand side: a value at its size (at every use), a path 1 plus 14 and the element per step
    (the value it reads is free), ``+`` 34 / ``-`` 37 and the functions a fixed cost, plus their operands."""
    if isinstance(operand, Value):
        return value_size(operand.value)
    if isinstance(operand, Path):
        return 1 + sum(14 + _element_bytes(element) for element in operand.elements)
    if isinstance(operand, Arithmetic):
        return (34 if operand.op == "+" else 37) + _operand_cost(operand.left) + _operand_cost(operand.right)
    assert isinstance(operand, Call)
    return _CALL_COSTS.get(operand.name, 0) + sum(_operand_cost(arg) for arg in operand.args)


def _added_cost(existing: AttributeValue | None, change: AttributeValue) -> int:
    kind = value_type(change)
    if kind not in SET_TYPES or existing is None or value_type(existing) != kind:
        return value_size(change)
    present = set_member_keys(existing)
    added = [m for m in change[kind] if member_key(kind, m) not in present]
    return value_size({kind: added}) if added else 0


def update_size_check(update: Update, old: Item | None, new: Item, *, statement_sized: bool = True) -> None:
    """The 400 KB gate of an update: the finished item, and for standalone UpdateItem with an UpdateExpression
    (``statement_sized``) also what the statement writes plus its clause costs, so the key and untouched
    attributes are out of that half of the figure (as DynamoDB measures it in most regions). Transacted updates
    and ``AttributeUpdates`` measure the finished item only."""
    size = item_size(new)
    cost = getattr(update, "write_cost", None)
    if statement_sized and cost is not None:
        size = max(size, cost(old))
    if size > MAX_ITEM_BYTES:
        raise TableValidation(ITEM_TO_UPDATE_TOO_BIG)


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

    def write_cost(self, item: Item | None) -> int:
        """What standalone UpdateItem charges this statement against the 400 KB gate, besides the finished item:
        3, plus per clause what it writes and a fixed cost (see ``update_size_check``). ``item`` is the stored
        item (an ADD to a set is charged only for the members it adds)."""
        cost = 3
        for action in self.tree.sets:
            cost += 19 + _target_cost(action.path) + _operand_cost(action.value)
        for path in self.tree.removes:
            cost += 1 + _target_cost(path)
        for path, change in self.tree.adds:
            cost += 19 + _target_cost(path) + _added_cost(path_get(item, path.elements), change.value)
        for path, _change in self.tree.deletes:
            cost += 1 + _target_cost(path)
        return cost

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


def check_update(tree: UpdateTree, kind: str) -> None:

    def error(message: str) -> TableValidation:
        return TableValidation(f"Invalid {kind}: {message}")

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
                vtype = static_type(side)
                if vtype is not None and vtype != "N":
                    raise error(f"Incorrect operand type for operator or function; operator or function: {operand.op}, operand type: {TYPE_NAMES.get(vtype, vtype)}")
        elif isinstance(operand, Call):
            for arg in operand.args:
                walk(arg)
            if operand.name == "if_not_exists" and not isinstance(operand.args[0], Path):
                raise error("Operator or function requires a document path; operator or function: if_not_exists")
            if operand.name == "list_append":
                for arg in operand.args:
                    vtype = static_type(arg)
                    if vtype is not None and vtype != "L":
                        raise error(f"Incorrect operand type for operator or function; operator or function: list_append, operand type: {vtype}")

    for action in tree.sets:
        walk(action.value)
