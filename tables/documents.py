"""Document paths over items in wire form: reading a path, the value of an operand, projecting an item onto
paths (nesting kept, list elements picked in order) and DynamoDB's overlap / conflict check between paths.
Pure: no Django models."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tables.errors import TableValidation
from tables.expression_parser import Call, Operand, Path, Value
from tables.values import SET_TYPES, AttributeValue, Item, binary_bytes, value_type

# ---- reading a document path ---------------------------------------------------------------------------------


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
    return current


def _size(value: AttributeValue | None) -> AttributeValue | None:
    if value is None:
        return None
    kind = value_type(value)
    data = value[kind]
    if kind == "S":
        return {"N": str(len(data.encode("utf-16-le")) // 2)}  # UTF-16 code units, as DynamoDB counts them
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


def static_type(operand: Operand) -> str | None:
    """The static type of an operand: a value's type, N for size(), None for a path."""
    if isinstance(operand, Value):
        return value_type(operand.value)
    if isinstance(operand, Call) and operand.name == "size":
        return "N"
    return None


# ---- projections ---------------------------------------------------------------------------------------------


def check_overlaps(paths: list[Path], kind: str) -> None:
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
        node: dict[Any, Any] = tree  # str keys, and list indexes in the "L" skeletons
        elements = path.elements
        source: Any = {"M": item}
        for position, element in enumerate(elements):
            last = position == len(elements) - 1
            if isinstance(element, int):
                source = source["L"][element]
            else:
                source = source["M"][element]
            if last:
                node[element] = copy.deepcopy(source)
            else:
                child_kind = "L" if isinstance(elements[position + 1], int) else "M"
                child = node.setdefault(element, {"_kind": child_kind})
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
