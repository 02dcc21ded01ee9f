"""DynamoDB attribute values (the wire form: ``{"S": "x"}``, ``{"N": "1.5"}``, ``{"SS": [...]}``, ...): validation,
exact numbers, sizes and the byte order keys sort in. Pure: no Django models.

Contract (used by ``tables.services``):
- ``item_validate(item, *, key_schema)`` raises ``TableValidation`` for a bad value, type, set, depth, size or key.
- ``value_validate(value)`` one value (an ``ExpressionAttributeValues`` entry, a legacy argument) on its own.
- ``key_validate(item, key_schema)`` an item's key attributes (presence, type, empty, size).
- ``key_lookup_validate(key, key_schema)`` a ``Key`` parameter: exactly the key attributes, else DynamoDB's mismatch.
- ``item_size(item)`` bytes as DynamoDB counts them (names + values).
- ``number_normalize(text)`` the canonical text of a number (38 digits, 1E-130..9.99E+125), else ``TableValidation``.
- ``number_add`` / ``number_subtract`` exact arithmetic under the same limits (``SET a = a + :n``, ``ADD``).
- ``sort_bytes(value)`` bytes that compare (memcmp) as DynamoDB orders keys of that type (S, N, B).
- ``compare(a, b)`` / ``values_equal(a, b)`` what expressions compare with: same type only, N by value, S/B bytewise.
- ``value_normalize`` / ``item_normalize`` what DynamoDB stores and returns: canonical numbers, set members in its
  order (``set_sorted``: bytewise, numbers by value).
- ``key_of(item, key_schema)`` the item's key attributes only.

DynamoDB words a bad number or a duplicate set member in one of two ways depending on the operation: the current
layer (PutItem, UpdateItem, DeleteItem, GetItem, BatchGetItem, Query) by default, the older one (BatchWriteItem,
TransactWriteItems, TransactGetItems, Scan) with ``older=True`` on the validators.

Numbers are ``decimal.Decimal`` under a context wide enough that nothing DynamoDB accepts is ever rounded.
Binary values stay base64 text on the wire and in the item; they are decoded only to compare and to size.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from tables.errors import TableValidation

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
# attribute name -> its key type ("S" | "N" | "B"), hash key first, in key-schema order
KeySchema = Mapping[str, str]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SCALAR_TYPES = ("S", "N", "B")
SET_TYPES = ("SS", "NS", "BS")

MAX_ITEM_BYTES = 409_600
MAX_DEPTH = 32  # the attribute itself is level 1
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
MAX_DIGITS = 38
MAX_EXPONENT = 125  # adjusted exponent of the largest magnitude, 9.99..E+125
MIN_EXPONENT = -130  # adjusted exponent of the smallest magnitude, 1E-130

INVALID = "One or more parameter values were invalid: "
NOT_NUMERIC = "The parameter cannot be converted to a numeric value"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"
NESTING = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
ITEM_TOO_BIG = "Item size has exceeded the maximum allowed size"
ITEM_TO_UPDATE_TOO_BIG = "Item size to update has exceeded the maximum allowed size"

# Exact: every operand has at most 38 digits and exponents within a few hundred, so sums fit in far less.
_CONTEXT = decimal.Context(prec=400, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation])
_NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# ---- numbers -------------------------------------------------------------------------------------------------


def number_parse(text: Any, *, older: bool = False) -> Decimal:
    """The exact value of a number's text, within DynamoDB's precision and range; ``TableValidation`` otherwise.

    ``older``: the wording of DynamoDB's older validation layer (BatchWriteItem, TransactWriteItems,
    TransactGetItems, Scan), which reads the text as Java's BigDecimal does: an empty text gets the bare message,
    a scale outside a 32-bit integer cannot be converted, and the magnitude is checked in 32-bit arithmetic."""
    if not isinstance(text, str) or not _NUMBER_RE.fullmatch(text):
        shown = text if isinstance(text, str) else ""
        raise TableValidation(NOT_NUMERIC if older and not shown else f"{NOT_NUMERIC}: {shown}")
    mantissa, _, exponent_text = text.lower().partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    digits = mantissa.lstrip("+-").replace(".", "").lstrip("0")
    if older:
        scale = (len(mantissa.partition(".")[2])) - exponent
        if not -(2**31) <= scale < 2**31:
            raise TableValidation(f"{NOT_NUMERIC}: {text}")
        if digits.strip("0"):
            magnitude = (len(digits) - scale + 2**31) % 2**32 - 2**31  # precision - scale, wrapped as Java's int
            if magnitude > MAX_EXPONENT + 1:
                raise TableValidation(OVERFLOW)
            if magnitude < MIN_EXPONENT + 1:
                raise TableValidation(UNDERFLOW)
    if abs(exponent) > 100_000:
        # Far outside any range: decide by the exponent's sign without building the number.
        if not digits.strip("0"):
            return Decimal(0)
        raise TableValidation(OVERFLOW if exponent > 0 else UNDERFLOW)
    context = _CONTEXT
    if len(text) > 350:
        context = _CONTEXT.copy()
        context.prec = len(text) + 10
    return number_check(context.create_decimal(text))


def number_check(value: Decimal) -> Decimal:
    """``value`` itself if DynamoDB can store it (38 significant digits, 1E-130 .. 9.99E+125), else the error."""
    if value.is_zero():
        return Decimal(0)
    reduced = value.normalize(_CONTEXT)
    adjusted = reduced.adjusted()
    if adjusted > MAX_EXPONENT:
        raise TableValidation(OVERFLOW)
    if adjusted < MIN_EXPONENT:
        raise TableValidation(UNDERFLOW)
    if len(reduced.as_tuple().digits) > MAX_DIGITS:
        raise TableValidation(TOO_PRECISE)
    return reduced


def number_text(value: Decimal) -> str:
    """DynamoDB's canonical text: plain digits, no exponent, no leading or trailing zeros, no ``-0``."""
    if value.is_zero():
        return "0"
    sign, digits, exponent = value.normalize(_CONTEXT).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    if exponent >= 0:
        text += "0" * exponent
    elif -exponent >= len(text):
        text = "0." + "0" * (-exponent - len(text)) + text
    else:
        text = text[:exponent] + "." + text[exponent:]
    return ("-" if sign else "") + text


def number_normalize(text: str) -> str:
    return number_text(number_parse(text))


def _arithmetic(result: Decimal) -> str:
    # DynamoDB reports a sum that needs more than 38 digits as an overflow, not as too many digits.
    try:
        return number_text(number_check(result))
    except TableValidation as exc:
        if exc.message == TOO_PRECISE:
            raise TableValidation(OVERFLOW) from None
        raise


def number_add(a: str, b: str) -> str:
    """``a + b`` exactly, as DynamoDB's ``+`` and ``ADD`` do (same limits as a stored number)."""
    return _arithmetic(_CONTEXT.add(number_parse(a), number_parse(b)))


def number_subtract(a: str, b: str) -> str:
    return _arithmetic(_CONTEXT.subtract(number_parse(a), number_parse(b)))


# ---- binary --------------------------------------------------------------------------------------------------


def binary_bytes(text: Any) -> bytes:
    """The bytes of a ``B`` value's base64 text (a client may also hand raw ``bytes``)."""
    if isinstance(text, bytes | bytearray):
        return bytes(text)
    if not isinstance(text, str):
        raise TableValidation("Invalid Base64 value")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TableValidation("Invalid Base64 value") from None


# ---- validation ----------------------------------------------------------------------------------------------


def value_type(value: AttributeValue) -> str:
    """The type tag of a value already validated."""
    return next(iter(value))


def value_validate(value: Any, depth: int = 1, *, older: bool = False) -> None:
    """One attribute value, recursively: exactly one type, sets non-empty and without duplicates, numbers in range,
    ``NULL`` true, at most 32 levels deep (``depth`` is the level of ``value``, the attribute being level 1).
    ``older``: the older layer's wording of a bad number or a duplicate member (see ``number_parse``)."""
    if not isinstance(value, dict) or not value:
        raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    present = [k for k in value if k in TYPES and value[k] is not None]
    if len(present) > 1:
        raise TableValidation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
    if not present:
        raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    kind = present[0]
    data = value[kind]
    if kind == "S":
        if not isinstance(data, str):
            raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    elif kind == "N":
        number_parse(data, older=older)
    elif kind == "B":
        binary_bytes(data)
    elif kind == "BOOL":
        if not isinstance(data, bool):
            raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    elif kind == "NULL":
        if data is not True:
            raise TableValidation(INVALID + "Null attribute value types must have the value of true")
    elif kind in SET_TYPES:
        _set_validate(kind, data, older)
    elif kind in ("M", "L"):
        if depth >= MAX_DEPTH:
            raise TableValidation(NESTING)
        children = data.values() if kind == "M" and isinstance(data, dict) else data
        if not isinstance(data, dict if kind == "M" else list):
            raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        for child in children:
            value_validate(child, depth + 1, older=older)


def _set_validate(kind: str, members: Any, older: bool) -> None:
    if not isinstance(members, list) or not members:
        if kind == "BS":
            raise TableValidation(INVALID + "Binary sets should not be empty")
        raise TableValidation(INVALID + ("An string set  may not be empty" if kind == "SS" else "An number set  may not be empty"))
    if kind == "SS":
        if not all(isinstance(m, str) for m in members):
            raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        _duplicates(kind, members, [m.encode() for m in members], older)
    elif kind == "NS":
        _duplicates(kind, members, [number_parse(m, older=older) for m in members], older)
    else:
        _duplicates(kind, members, [binary_bytes(m) for m in members], older)


def _duplicates(kind: str, members: list[Any], keys: list[Any], older: bool = False) -> None:
    """DynamoDB's duplicate-member message. The current layer quotes the members in order up to the first repeat,
    then the repeat, then the rest as sent, and names none of a number set; the older layer lists them as sent."""
    seen: list[tuple[Any, Any]] = []
    for index, key in enumerate(keys):
        if any(key == k for k, _ in seen):
            if kind == "NS":
                raise TableValidation("Input collection contains duplicates" if older else INVALID + "Input collection contains duplicates.")
            if older:
                listed = ", ".join(_b64(m) for m in members)
                of_type = "of type BS " if kind == "BS" else " "
                raise TableValidation(INVALID + f"Input collection [{listed}]{of_type}contains duplicates.")
            shown = [m for _, m in sorted(seen, key=lambda pair: pair[0])] + [members[index]] + members[index + 1 :]
            if kind == "SS":
                listed = ", ".join(f'"{m}"' for m in shown)
                raise TableValidation(INVALID + f"Input collection [{listed}] contains duplicates.")
            listed = ",".join(f'"{_b64(m)}"' for m in shown)
            raise TableValidation(INVALID + f"Input collection [{listed}]of type BS contains duplicates.")
        seen.append((key, members[index]))


def _b64(member: Any) -> str:
    return base64.b64encode(member).decode() if isinstance(member, bytes | bytearray) else str(member)


def key_validate(item: Mapping[str, Any], key_schema: KeySchema) -> None:
    """The key attributes of ``item``: present, of the schema's type, not empty, within the size limits."""
    for position, (name, kind) in enumerate(key_schema.items()):
        if name not in item:
            raise TableValidation(INVALID + f"Missing the key {name} in the item")
        value = item[name]
        actual = value_type(value) if isinstance(value, dict) and value else "?"
        if actual != kind:
            raise TableValidation(INVALID + f"Type mismatch for key {name} expected: {kind} actual: {actual}")
        size = len(value["S"].encode()) if kind == "S" else len(binary_bytes(value["B"])) if kind == "B" else 0
        if kind in ("S", "B") and size == 0:
            what = "string" if kind == "S" else "binary"
            raise TableValidation(f"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}")
        if position == 0 and size > MAX_HASH_KEY_BYTES:
            raise TableValidation(INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes")
        if position > 0 and size > MAX_RANGE_KEY_BYTES:
            raise TableValidation(INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")


def key_lookup_validate(key: Any, key_schema: KeySchema, *, older: bool = False) -> None:
    """A ``Key`` parameter (GetItem, DeleteItem, UpdateItem, batch and transaction keys, ExclusiveStartKey): valid
    values naming exactly the key attributes, of their types; "The provided key element does not match the schema"
    otherwise."""
    if not isinstance(key, dict):
        raise TableValidation("The provided key element does not match the schema")
    for value in key.values():
        value_validate(value, older=older)
    if set(key) != set(key_schema) or any(value_type(key[name]) != kind for name, kind in key_schema.items()):
        raise TableValidation("The provided key element does not match the schema")
    key_validate(key, key_schema)


def item_validate(item: Item, *, key_schema: KeySchema, older: bool = False) -> None:
    if not isinstance(item, dict):
        raise TableValidation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if "" in item:
        raise TableValidation("Empty attribute name")
    for value in item.values():
        value_validate(value, older=older)
    key_validate(item, key_schema)
    if item_size(item) > MAX_ITEM_BYTES:
        raise TableValidation(ITEM_TOO_BIG)


# ---- sizes ---------------------------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """A number's bytes: one for the exponent, one per base-100 digit of its significant digits (pairs aligned on
    the decimal point, so ``3.14159`` costs 5 and ``123456`` 4), one more if negative; zero costs 1."""
    value = number_parse(text)
    if value.is_zero():
        return 1
    sign, digits, exponent = value.normalize(_CONTEXT).as_tuple()
    assert isinstance(exponent, int)
    high, low = exponent + len(digits) - 1, exponent
    return 1 + (high // 2 - low // 2 + 1) + (1 if sign else 0)


def value_size(value: AttributeValue) -> int:
    kind = value_type(value)
    data = value[kind]
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(binary_bytes(data))
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "SS":
        return sum(len(m.encode()) for m in data)
    if kind == "NS":
        return sum(number_size(m) for m in data)
    if kind == "BS":
        return sum(len(binary_bytes(m)) for m in data)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# ---- order and comparison ------------------------------------------------------------------------------------


def _number_sort_bytes(value: Decimal) -> bytes:
    """Sign byte, then the exponent and the digits; negatives have both inverted and a terminator above every
    inverted digit, so a shorter negative (-0.12) sorts after a longer one with its prefix (-0.123)."""
    if value.is_zero():
        return b"\x02"
    sign, digits, _ = value.normalize(_CONTEXT).as_tuple()
    exponent = value.normalize(_CONTEXT).adjusted() + 1000  # 870..1125: two bytes, big-endian
    if not sign:
        return b"\x03" + exponent.to_bytes(2, "big") + bytes(0x30 + d for d in digits) + b"\x00"
    return b"\x01" + (2000 - exponent).to_bytes(2, "big") + bytes(0x39 - d for d in digits) + b"\xff"


def sort_bytes(value: AttributeValue) -> bytes:
    kind = value_type(value)
    if kind == "S":
        return value["S"].encode()
    if kind == "B":
        return binary_bytes(value["B"])
    if kind == "N":
        return _number_sort_bytes(number_parse(value["N"]))
    raise TableValidation(f"Type {kind} cannot be a key")


def compare(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1 / 0 / 1 for two S, N or B values of one type (N by value, S by UTF-8 bytes, B by bytes), None otherwise."""
    kind = value_type(a)
    if kind != value_type(b) or kind not in SCALAR_TYPES:
        return None
    x: Any
    y: Any
    if kind == "N":
        x, y = number_parse(a["N"]), number_parse(b["N"])
    elif kind == "S":
        x, y = a["S"].encode(), b["S"].encode()
    else:
        x, y = binary_bytes(a["B"]), binary_bytes(b["B"])
    return (x > y) - (x < y)


def _set_keys(kind: str, members: Iterable[Any]) -> frozenset[Any]:
    if kind == "NS":
        return frozenset(number_parse(m) for m in members)
    if kind == "BS":
        return frozenset(binary_bytes(m) for m in members)
    return frozenset(members)


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """Deep equality as DynamoDB's ``=`` sees it: same type; numbers by value; sets whatever their order."""
    kind = value_type(a)
    if kind != value_type(b):
        return False
    if kind in SCALAR_TYPES:
        return compare(a, b) == 0
    if kind in SET_TYPES:
        return _set_keys(kind, a[kind]) == _set_keys(kind, b[kind])
    if kind == "L":
        return len(a["L"]) == len(b["L"]) and all(values_equal(x, y) for x, y in zip(a["L"], b["L"], strict=True))
    if kind == "M":
        return a["M"].keys() == b["M"].keys() and all(values_equal(v, b["M"][k]) for k, v in a["M"].items())
    return bool(a[kind] == b[kind])


def set_member_keys(value: AttributeValue) -> frozenset[Any]:
    """The comparable members of a set value (numbers by value, binaries decoded)."""
    kind = value_type(value)
    return _set_keys(kind, value[kind])


def member_key(kind: str, member: Any) -> Any:
    """One set member's comparable form (``kind`` is the set type)."""
    return next(iter(_set_keys(kind, [member])))


def set_sorted(kind: str, members: Iterable[Any]) -> list[Any]:
    """A set's members in DynamoDB's own order (what it returns, not as written): strings and binaries bytewise,
    numbers by value."""
    return sorted(members, key=lambda member: member_key(kind, member))


def value_normalize(value: AttributeValue) -> AttributeValue:
    """``value`` as DynamoDB stores and returns it: every number in its canonical text, set members in order."""
    kind = value_type(value)
    data = value[kind]
    if kind == "N":
        return {"N": number_normalize(data)}
    if kind == "NS":
        return {"NS": set_sorted("NS", [number_normalize(m) for m in data])}
    if kind in ("SS", "BS"):
        return {kind: set_sorted(kind, data)}
    if kind == "L":
        return {"L": [value_normalize(v) for v in data]}
    if kind == "M":
        return {"M": {k: value_normalize(v) for k, v in data.items()}}
    return {kind: data}


def item_normalize(item: Item) -> Item:
    return {name: value_normalize(value) for name, value in item.items()}


def key_of(item: Item, key_schema: KeySchema) -> Item:
    return {name: item[name] for name in key_schema if name in item}
