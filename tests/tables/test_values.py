"""tables.values: attribute-value validation, exact numbers, item sizes and the byte order of keys (pure)."""

from __future__ import annotations

import base64
import decimal
import json
import random
from decimal import Decimal

import pytest

from tables.errors import TableValidation
from tables.items import range_bytes
from tables.jsonstore import ItemDecoder, ItemEncoder
from tables.values import (
    compare,
    item_normalize,
    item_size,
    item_validate,
    key_lookup_validate,
    key_validate,
    number_add,
    number_normalize,
    number_size,
    number_subtract,
    sort_bytes,
    value_validate,
    values_equal,
)

SCHEMA = {"id": "S"}
COMPOSITE = {"id": "S", "sk": "N"}
BINARY = {"id": "B"}


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(TableValidation) as caught:
        call(*args, **kwargs)
    return caught.value.message


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("01", "1"),
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("-0", "0"),
        ("0e1000", "0"),
        ("0.000", "0"),
        ("+3", "3"),
        (".123", "0.123"),
        ("0001.23", "1.23"),
        ("0042.1200", "42.12"),
        ("-17.4E37", "-174" + "0" * 36),
        ("1E125", "1" + "0" * 125),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("-1E-130", "-0." + "0" * 129 + "1"),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("1.2345678901234567890123456789012345678", "1.2345678901234567890123456789012345678"),
        ("123e-5", "0.00123"),
    ],
)
def test_number_normalize(text: str, canonical: str) -> None:
    assert number_normalize(text) == canonical


@pytest.mark.parametrize("text", ["abc", "1.2.3", "", " 1", "1 ", "0x10", "1e", "NaN", "Infinity", "-Infinity", "e5", "--1", "1,5"])
def test_number_garbage(text: str) -> None:
    assert refused(number_normalize, text) == f"The parameter cannot be converted to a numeric value: {text}"


OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e126", OVERFLOW),
        ("-1e126", OVERFLOW),
        ("10E125", OVERFLOW),
        ("1e99999999999", OVERFLOW),
        ("1e2147483647", OVERFLOW),
        ("1e-131", UNDERFLOW),
        ("0.9e-130", UNDERFLOW),
        ("1e-99999999999", UNDERFLOW),
        ("1234567890123456789012345678901234567890", "Attempting to store more than 38 significant digits in a Number"),
        ("3.14159265358979323846264338327950288419", "Attempting to store more than 38 significant digits in a Number"),
    ],
)
def test_number_limits(text: str, message: str) -> None:
    assert refused(number_normalize, text) == message


def test_number_38_digits_at_both_ends_of_the_range() -> None:
    assert number_normalize("9" * 38 + "e88") == "9" * 38 + "0" * 88  # 9.99..E+125, the largest
    assert refused(number_normalize, "9" * 39 + "e87") == "Attempting to store more than 38 significant digits in a Number"
    assert number_normalize("1" + "0" * 40) == "1" + "0" * 40  # trailing zeros are not significant
    assert number_normalize("1" * 38 + "E-167").endswith("1" * 38)  # 1.1..E-130


def test_arithmetic_is_exact() -> None:
    assert number_add("0.1", "0.2") == "0.3"
    assert number_add("1", "10000000000000000000000") == "10000000000000000000001"
    assert number_subtract("10000000000000000000000", "1") == "9999999999999999999999"
    assert number_add("-5", "5") == "0"
    assert number_subtract("1E-130", "1E-130") == "0"
    assert number_add("1" * 37 + "0", "1") == "1" * 38


def test_arithmetic_limits_are_reported_as_overflow() -> None:
    assert refused(number_add, "9e125", "9e125") == OVERFLOW
    assert refused(number_subtract, "9e125", "-9e125") == OVERFLOW
    # needs 51 digits: DynamoDB names it an overflow too
    assert refused(number_add, "1e50", "1") == OVERFLOW
    assert refused(number_subtract, "1e50", "1") == OVERFLOW


# ---- value validation -------------------------------------------------------------------------------------------

EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, EMPTY),
        ({"X": "a"}, EMPTY),
        ("s", EMPTY),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
        ({"N": "x"}, "The parameter cannot be converted to a numeric value: x"),
        ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value: "),
        ({"M": {"x": {"L": [{"N": "1e126"}]}}}, OVERFLOW),
        ({"SS": ["a", "a"]}, 'One or more parameter values were invalid: Input collection ["a", "a"] contains duplicates.'),
        ({"SS": ["b", "a", "b"]}, 'One or more parameter values were invalid: Input collection ["a", "b", "b"] contains duplicates.'),
        ({"SS": ["", ""]}, 'One or more parameter values were invalid: Input collection ["", ""] contains duplicates.'),
        ({"NS": ["2", "1", "2"]}, "One or more parameter values were invalid: Input collection contains duplicates."),
        ({"NS": ["1", "1.0"]}, "One or more parameter values were invalid: Input collection contains duplicates."),
        ({"NS": ["1e2", "100"]}, "One or more parameter values were invalid: Input collection contains duplicates."),
        (
            {"BS": ["/w==", "AA==", "AA=="]},
            'One or more parameter values were invalid: Input collection ["AA==","/w==","AA=="]of type BS contains duplicates.',
        ),
    ],
)
def test_value_refusals(value: object, message: str) -> None:
    assert refused(value_validate, value) == message


@pytest.mark.parametrize(
    "value",
    [
        {"S": ""},
        {"B": ""},
        {"N": "-0"},
        {"SS": ["", "a"]},
        {"BS": ["", "AA=="]},
        {"NS": ["1", "2"]},
        {"BOOL": False},
        {"NULL": True},
        {"L": []},
        {"M": {}},
        {"L": [{"S": "a"}, {"M": {"x": {"NULL": True}}}]},
    ],
)
def test_values_accepted(value: dict) -> None:
    value_validate(value)


def deep(levels: int) -> dict:
    """An attribute value ``levels`` maps deep around a string (the attribute itself is level 1)."""
    value: dict = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"n": value}}
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": "1e126"}, OVERFLOW),
        ({"N": "1e2147483647"}, UNDERFLOW),  # precision - scale wraps in 32 bits
        ({"N": "1e99999999999"}, "The parameter cannot be converted to a numeric value: 1e99999999999"),
        ({"N": "1e-2147483648"}, "The parameter cannot be converted to a numeric value: 1e-2147483648"),
        ({"SS": ["b", "a", "b"]}, "One or more parameter values were invalid: Input collection [b, a, b] contains duplicates."),
        ({"BS": ["/w==", "AA==", "AA=="]}, "One or more parameter values were invalid: Input collection [/w==, AA==, AA==]of type BS contains duplicates."),
        ({"NS": ["2", "1", "2"]}, "Input collection contains duplicates"),
    ],
)
def test_older_layer_wording(value: dict, message: str) -> None:
    assert refused(value_validate, value, older=True) == message
    value_validate({"N": "9.99e125"}, older=True)
    value_validate({"N": "-1E-130"}, older=True)


def test_nesting_32_levels() -> None:
    value_validate(deep(31))  # leaf at level 32
    nesting = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    assert refused(value_validate, deep(32)) == nesting
    listed: dict = {"S": "x"}
    for _ in range(32):
        listed = {"L": [listed]}
    assert refused(value_validate, listed) == nesting


# ---- items and keys ---------------------------------------------------------------------------------------------


def test_key_refusals() -> None:
    invalid = "One or more parameter values were invalid: "
    assert refused(item_validate, {"x": {"S": "a"}}, key_schema=SCHEMA) == invalid + "Missing the key id in the item"
    assert refused(item_validate, {"id": {"N": "1"}}, key_schema=SCHEMA) == invalid + "Type mismatch for key id expected: S actual: N"
    assert refused(item_validate, {"id": {"S": "a"}, "sk": {"S": "1"}}, key_schema=COMPOSITE) == (invalid + "Type mismatch for key sk expected: N actual: S")
    assert refused(item_validate, {"id": {"S": ""}}, key_schema=SCHEMA) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id"
    )
    assert refused(item_validate, {"id": {"B": ""}}, key_schema=BINARY) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: id"
    )


def test_empty_attribute_name_comes_first() -> None:
    assert refused(item_validate, {"id": {"S": "a"}, "d": {"N": "x"}, "": {"S": "x"}}, key_schema=SCHEMA) == "Empty attribute name"


def test_key_size_limits() -> None:
    key_validate({"id": {"S": "a" * 2048}}, SCHEMA)
    assert refused(key_validate, {"id": {"S": "a" * 2049}}, SCHEMA) == ("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
    assert refused(key_validate, {"id": {"S": "é" * 1025}}, SCHEMA).endswith("limit of2048 bytes")  # UTF-8 bytes
    key_validate({"id": {"B": b64(b"\x00" * 2048)}}, BINARY)
    assert refused(key_validate, {"id": {"B": b64(b"\x00" * 2049)}}, BINARY).endswith("limit of2048 bytes")
    schema = {"id": "S", "sk": "S"}
    key_validate({"id": {"S": "a"}, "sk": {"S": "b" * 1024}}, schema)
    assert refused(key_validate, {"id": {"S": "a"}, "sk": {"S": "b" * 1025}}, schema) == (
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )


def test_key_lookup() -> None:
    key_lookup_validate({"id": {"S": "a"}, "sk": {"N": "1"}}, COMPOSITE)
    mismatch = "The provided key element does not match the schema"
    assert refused(key_lookup_validate, {"id": {"S": "a"}}, COMPOSITE) == mismatch
    assert refused(key_lookup_validate, {"id": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "b"}}, COMPOSITE) == mismatch
    assert refused(key_lookup_validate, {"id": {"N": "1"}}, SCHEMA) == mismatch
    assert refused(key_lookup_validate, {"id": {"N": "x"}}, SCHEMA) == "The parameter cannot be converted to a numeric value: x"
    assert refused(key_lookup_validate, {"id": {"S": ""}}, SCHEMA).endswith("cannot contain an empty string value. Key: id")


def padded(total: int, base: dict) -> dict:
    """``base`` plus an attribute ``p`` so the item measures exactly ``total`` bytes."""
    item = dict(base)
    item["p"] = {"S": "x" * (total - item_size(base) - 1)}
    assert item_size(item) == total
    return item


def test_item_size_boundary() -> None:
    item_validate(padded(409_600, {"id": {"S": "k"}}), key_schema=SCHEMA)
    assert refused(item_validate, padded(409_601, {"id": {"S": "k"}}), key_schema=SCHEMA) == "Item size has exceeded the maximum allowed size"


@pytest.mark.parametrize(
    ("literal", "cost"),
    [
        ("0", 1),
        ("-0", 1),
        ("1", 2),
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("12345678901234567890123456789012345678", 20),
        ("0042", 2),
        ("100", 2),
        ("1010", 3),
        ("0.0000001", 2),
        ("1E125", 2),
        ("1E-100", 2),
        ("1.5", 3),
        ("15", 2),
        ("1.2", 3),
        ("1.200", 3),
        ("1.234", 4),
        ("3.14159", 5),
        ("123456", 4),
        ("100.5", 4),
        ("0.15", 2),
        ("-42", 3),
    ],
)
def test_number_size(literal: str, cost: int) -> None:
    assert number_size(literal) == cost


def test_item_size_by_type() -> None:
    assert item_size({"id": {"S": "abc"}}) == 5
    assert item_size({"s": {"S": "é"}}) == 3  # UTF-8
    assert item_size({"b": {"B": b64(b"\x00\x01\x02")}}) == 4
    assert item_size({"flag": {"BOOL": True}, "n": {"NULL": True}}) == 4 + 1 + 1 + 1
    assert item_size({"ss": {"SS": ["ab", "c"]}}) == 2 + 3
    assert item_size({"ns": {"NS": ["1", "123"]}}) == 2 + 2 + 3
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "xy"}]}}) == 1 + 3 + 2 + 1
    assert item_size({"m": {"M": {"ab": {"S": "xy"}}}}) == 1 + 3 + 2 + 2 + 1


# ---- order and equality -----------------------------------------------------------------------------------------


def random_decimal(rng: random.Random) -> Decimal:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 38)))
    exponent = rng.randint(-128, 125 - len(digits))
    sign = rng.choice(["", "-"])
    return Decimal(f"{sign}{digits}E{exponent}")


def test_number_sort_bytes_order_matches_value_order() -> None:
    rng = random.Random(1234)
    values = [random_decimal(rng) for _ in range(3000)]
    values += [Decimal(x) for x in ("0", "-0", "1E-130", "-1E-130", "9" * 38 + "E88", "-" + "9" * 38 + "E88", "1", "-1", "0.12", "0.123", "-0.12", "-0.123", "10", "9.99")]
    values += [v + Decimal("1E-30") for v in values[:200]]  # near neighbours
    by_value = sorted(values)
    by_bytes = sorted(values, key=lambda v: sort_bytes({"N": format(v, "f") if abs(v.adjusted()) < 200 else str(v)}))
    assert [sort_bytes({"N": str(v)}) for v in by_value] == [sort_bytes({"N": str(v)}) for v in by_bytes]
    for a, b in zip(by_value, by_value[1:], strict=False):
        assert (sort_bytes({"N": str(a)}) < sort_bytes({"N": str(b)})) == (a < b)
        assert (sort_bytes({"N": str(a)}) == sort_bytes({"N": str(b)})) == (a == b)


def test_equal_numbers_sort_equal() -> None:
    assert sort_bytes({"N": "1"}) == sort_bytes({"N": "1.00"}) == sort_bytes({"N": "1e0"}) == sort_bytes({"N": "0.1E1"})
    assert sort_bytes({"N": "0"}) == sort_bytes({"N": "-0"})


def test_string_and_binary_sort_bytes() -> None:
    strings = ["", "a", "ab", "b", "B", "é", "\u00ff", "\U0001f600", "a\x00", "zz", "\uffff"]
    assert sorted(strings, key=lambda s: s.encode()) == sorted(strings, key=lambda s: sort_bytes({"S": s}))
    assert sort_bytes({"S": "a"}) < sort_bytes({"S": "ab"})
    blobs = [b"", b"\x00", b"\x00\x00", b"\x01", b"\xff", b"\x7f\x80"]
    assert sorted(blobs) == sorted(blobs, key=lambda b: sort_bytes({"B": b64(b)}))
    assert sort_bytes({"B": b64(b"\x00")}) < sort_bytes({"B": b64(b"\x00\x00")})


def test_compare() -> None:
    assert compare({"N": "10"}, {"N": "9"}) == 1
    assert compare({"N": "1.0"}, {"N": "1"}) == 0
    assert compare({"S": "B"}, {"S": "a"}) == -1  # bytewise: upper case first
    assert compare({"B": b64(b"\x01")}, {"B": b64(b"\xff")}) == -1
    assert compare({"S": "1"}, {"N": "1"}) is None
    assert compare({"L": []}, {"L": []}) is None


def test_values_equal() -> None:
    assert values_equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert not values_equal({"SS": ["a"]}, {"SS": ["a", "b"]})
    assert values_equal({"M": {"a": {"N": "1"}, "b": {"L": [{"S": "x"}]}}}, {"M": {"b": {"L": [{"S": "x"}]}, "a": {"N": "1.0"}}})
    assert not values_equal({"L": [{"S": "x"}, {"S": "y"}]}, {"L": [{"S": "y"}, {"S": "x"}]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert values_equal({"BS": [b64(b"a"), b64(b"b")]}, {"BS": [b64(b"b"), b64(b"a")]})
    assert values_equal({"NULL": True}, {"NULL": True})
    assert not values_equal({"BOOL": True}, {"BOOL": False})


def test_sets_come_back_in_dynamodb_order() -> None:
    assert item_normalize({"s": {"SS": ["b", "", "a", "B"]}}) == {"s": {"SS": ["", "B", "a", "b"]}}
    assert item_normalize({"n": {"NS": ["10", "9", "-1", "1e1"]}})["n"]["NS"][:3] == ["-1", "9", "10"]
    assert item_normalize({"b": {"BS": ["/w==", "AA==", "AQ=="]}}) == {"b": {"BS": ["AA==", "AQ==", "/w=="]}}


def test_item_normalize() -> None:
    item = {"n": {"N": "01.50"}, "ns": {"NS": ["1e2"]}, "m": {"M": {"l": {"L": [{"N": "-0"}]}}}}
    assert item_normalize(item) == {"n": {"N": "1.5"}, "ns": {"NS": ["100"]}, "m": {"M": {"l": {"L": [{"N": "0"}]}}}}


def test_random_strings_and_binaries_order_as_bytes() -> None:
    rng = random.Random(99)
    alphabet = ["a", "b", "\x00", "\x7f", "é", "\u20ac", "\U0001f600", "Z"]
    strings = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(500)]
    by_bytes = sorted(strings, key=lambda s: s.encode())
    assert sorted(strings, key=lambda s: sort_bytes({"S": s})) == by_bytes
    for a, b in zip(by_bytes, by_bytes[1:], strict=False):
        assert compare({"S": a}, {"S": b}) in (-1, 0)
    blobs = [bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 5))) for _ in range(500)]
    assert sorted(blobs, key=lambda b: sort_bytes({"B": b64(b)})) == sorted(blobs)


def test_random_arithmetic_is_exact_or_refused() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a, b = random_decimal(rng), random_decimal(rng)
        # Python's default context would round: compare against a wide one
        with decimal.localcontext(decimal.Context(prec=400)):
            exact = a + b
            digits = len(exact.normalize().as_tuple().digits) if exact else 0
        try:
            result = number_add(str(a), str(b))
        except TableValidation as exc:
            assert exc.message == OVERFLOW
            assert digits > 38 or abs(exact.adjusted()) > 125
            continue
        with decimal.localcontext(decimal.Context(prec=400)):
            assert Decimal(result) == exact


def test_multi_attribute_range_bytes_sort_attribute_by_attribute() -> None:
    """Joined RANGE components order as the tuples of their parts, NUL bytes and prefixes included."""
    rng = random.Random(7)
    alphabet = [b"", b"\x00", b"\x00\xff", b"\x01", b"a", b"a\x00", b"ab", b"\xff", b"\xff\x00"]
    tuples = [tuple(rng.choice(alphabet) for _ in range(3)) for _ in range(300)]
    assert sorted(tuples, key=lambda t: range_bytes(list(t))) == sorted(tuples)
    assert range_bytes([b"abc"]) == b"abc" and range_bytes([]) == b""


def test_json_store_keeps_nul_out_of_the_text_and_round_trips() -> None:
    """jsonb refuses U+0000: stored text has none, and reads give back exactly what was written."""
    item = {"a\x00b": {"S": "x\x00y\ue000z\ue000\ue002"}, "ss": {"SS": ["\x00", "\ue001", "plain"]}, "m": {"M": {"\ue000": {"L": [{"S": "\x00\x00"}]}}}}
    text = json.dumps(item, cls=ItemEncoder)
    assert "\\u0000" not in text and json.loads(text, cls=ItemDecoder) == item
    plain = {"pk": {"S": "abc"}, "n": {"N": "1"}}
    assert json.dumps(plain, cls=ItemEncoder) == json.dumps(plain) and json.loads(json.dumps(plain), cls=ItemDecoder) == plain
