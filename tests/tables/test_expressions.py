"""tables.expressions: parsing and evaluating condition, key-condition, update and projection expressions and the
legacy parameters, with DynamoDB's messages (pure)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tables.errors import TableValidation
from tables.expressions import (
    ExpressionContext,
    KeyCondition,
    attribute_updates,
    attributes_to_get,
    expected_condition,
    filter_condition,
    filter_key_check,
    key_conditions,
    legacy_mix_check,
)
from tables.reserved import RESERVED_WORDS

S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": n}  # noqa: E731


def ctx(values: dict[str, Any] | None = None, names: dict[str, str] | None = None) -> ExpressionContext:
    return ExpressionContext(names, values)


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(TableValidation) as caught:
        call(*args, **kwargs)
    return caught.value.message


def holds(text: str, item: dict | None, values: dict | None = None, names: dict | None = None) -> bool:
    return ctx(values, names).condition(text).evaluate(item)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ITEM = {
    "id": S("k"),
    "n": N("5"),
    "s": S("hello"),
    "b": {"B": b64(b"\x01\x02\x03")},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b64(b"\x01")]},
    "l": {"L": [S("x"), N("1"), {"M": {"deep": S("y")}}]},
    "m": {"M": {"a": {"M": {"b": N("7")}}, "lst": {"L": [N("0"), N("1")]}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
}


# ---- comparisons ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("n = :v", {":v": N("5.0")}, True),
        ("n <> :v", {":v": N("5")}, False),
        ("n <> :v", {":v": S("5")}, True),
        ("n < :v", {":v": N("10")}, True),
        ("n <= :v", {":v": N("5")}, True),
        ("n > :v", {":v": N("-1")}, True),
        ("n >= :v", {":v": N("5.000001")}, False),
        ("s < :v", {":v": S("help")}, True),
        ("s > :v", {":v": S("Hello")}, True),  # bytewise: "H" < "h"
        ("b < :v", {":v": {"B": b64(b"\x01\x03")}}, True),
        ("n < :v", {":v": S("10")}, False),  # different types: false, not an error
        ("absent = :v", {":v": N("5")}, False),
        ("absent < :v", {":v": N("5")}, False),
        ("absent <> :v", {":v": N("5")}, True),
        ("ss = :v", {":v": {"SS": ["b", "a"]}}, True),
        ("ns = :v", {":v": {"NS": ["2.50", "1"]}}, True),
        ("l = :v", {":v": {"L": [S("x"), N("1.0"), {"M": {"deep": S("y")}}]}}, True),
        ("m.a.b = :v", {":v": N("7")}, True),
        ("l[2].deep = :v", {":v": S("y")}, True),
        ("m.lst[1] = :v", {":v": N("1")}, True),
        ("l[9] = :v", {":v": N("1")}, False),
        ("t = :v", {":v": {"BOOL": True}}, True),
        ("z = :v", {":v": {"NULL": True}}, True),
        ("n BETWEEN :a AND :b", {":a": N("1"), ":b": N("5")}, True),
        ("n BETWEEN :a AND :b", {":a": N("6"), ":b": N("9")}, False),
        ("s BETWEEN :a AND :b", {":a": S("a"), ":b": S("z")}, True),
        ("n IN (:a, :b)", {":a": N("1"), ":b": N("5")}, True),
        ("n IN (:a)", {":a": S("5")}, False),
        ("n = :a AND s = :b", {":a": N("5"), ":b": S("hello")}, True),
        ("n = :a AND s = :b", {":a": N("5"), ":b": S("nope")}, False),
        ("n = :a OR s = :b", {":a": N("4"), ":b": S("hello")}, True),
        ("NOT n = :a", {":a": N("4")}, True),
        ("NOT (n = :a OR s = :b)", {":a": N("4"), ":b": S("hello")}, False),
    ],
)
def test_comparisons(text: str, values: dict, expected: bool) -> None:
    assert holds(text, ITEM, values) is expected


def test_precedence_not_and_or() -> None:
    v = {":t": {"BOOL": True}, ":f": {"BOOL": False}}
    # OR binds loosest: true OR (false AND false)
    assert holds("t = :t OR t = :f AND t = :f", ITEM, v)
    # NOT binds tighter than AND: (NOT false) AND true
    assert holds("NOT t = :f AND t = :t", ITEM, v)
    assert not holds("NOT (t = :t AND t = :t)", ITEM, v)
    assert not holds("(t = :t OR t = :f) AND t = :f", ITEM, v)


def test_keywords_are_case_insensitive() -> None:
    assert holds("n = :a and not s = :b or n = :c", ITEM, {":a": N("5"), ":b": S("x"), ":c": N("0")})
    assert holds("n between :a and :b", ITEM, {":a": N("1"), ":b": N("9")})
    assert holds("n in (:a)", ITEM, {":a": N("5")})


def test_condition_on_no_item() -> None:
    assert holds("attribute_not_exists(id)", None)
    assert not holds("attribute_exists(id)", None)
    assert not holds("n = :v", None, {":v": N("1")})


# ---- functions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("attribute_exists(n)", None, True),
        ("attribute_exists(m.a.b)", None, True),
        ("attribute_exists(m.a.c)", None, False),
        ("attribute_not_exists(nope)", None, True),
        ("attribute_exists(l[2].deep)", None, True),
        ("attribute_type(n, :t)", {":t": S("N")}, True),
        ("attribute_type(n, :t)", {":t": S("S")}, False),
        ("attribute_type(ss, :t)", {":t": S("SS")}, True),
        ("attribute_type(z, :t)", {":t": S("NULL")}, True),
        ("attribute_type(m, :t)", {":t": S("M")}, True),
        ("attribute_type(nope, :t)", {":t": S("M")}, False),
        ("begins_with(s, :p)", {":p": S("he")}, True),
        ("begins_with(s, :p)", {":p": S("lo")}, False),
        ("begins_with(b, :p)", {":p": {"B": b64(b"\x01\x02")}}, True),
        ("begins_with(n, :p)", {":p": S("5")}, False),
        ("contains(s, :p)", {":p": S("ell")}, True),
        ("contains(s, :p)", {":p": S("xyz")}, False),
        ("contains(ss, :p)", {":p": S("a")}, True),
        ("contains(ss, :p)", {":p": S("c")}, False),
        ("contains(ns, :p)", {":p": N("2.50")}, True),
        ("contains(bs, :p)", {":p": {"B": b64(b"\x01")}}, True),
        ("contains(l, :p)", {":p": N("1.0")}, True),
        ("contains(l, :p)", {":p": {"M": {"deep": S("y")}}}, True),
        ("contains(l, :p)", {":p": S("y")}, False),
        ("contains(ss, :p)", {":p": N("1")}, False),
        ("contains(b, :p)", {":p": {"B": b64(b"\x02\x03")}}, True),
        ("contains(nope, :p)", {":p": S("a")}, False),
        ("size(s) = :v", {":v": N("5")}, True),
        ("size(b) = :v", {":v": N("3")}, True),
        ("size(ss) = :v", {":v": N("2")}, True),
        ("size(l) > :v", {":v": N("2")}, True),
        ("size(m) = :v", {":v": N("2")}, True),
        ("size(n) = :v", {":v": N("1")}, False),  # a number has no size: false
        ("size(nope) = :v", {":v": N("0")}, False),
        ("size(m.lst) BETWEEN :a AND :b", {":a": N("1"), ":b": N("2")}, True),
        ("size(s) IN (:a, :b)", {":a": N("1"), ":b": N("5")}, True),
        ("size(s) > size(ss)", None, True),
    ],
)
def test_functions(text: str, values: dict | None, expected: bool) -> None:
    assert holds(text, ITEM, values) is expected


def test_size_of_a_string_counts_utf16_code_units() -> None:
    assert holds("size(s) = :v", {"s": S("é")}, {":v": N("1")})
    assert holds("size(s) = :v", {"s": S("a\U0001f600")}, {":v": N("3")})  # an astral character is two units


def test_in_with_100_operands_and_not_101() -> None:
    values = {f":v{i}": N(str(i)) for i in range(101)}
    hundred = "n IN (" + ", ".join(f":v{i}" for i in range(100)) + ")"
    assert ctx({k: values[k] for k in list(values)[:100]}).condition(hundred).evaluate(ITEM)
    too_many = "n IN (" + ", ".join(f":v{i}" for i in range(101)) + ")"
    assert refused(ctx(values).condition, too_many) == ("Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101")


# ---- static errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("", None, "Invalid ConditionExpression: The expression can not be empty;"),
        ("   ", None, "Invalid ConditionExpression: The expression can not be empty;"),
        ("a = :v :v", {":v": N("1")}, 'Invalid ConditionExpression: Syntax error; token: ":v", near: ":v :v"'),
        ("attribute_type()", None, 'Invalid ConditionExpression: Syntax error; token: ")", near: "()"'),
        ("a =", None, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'),
        ("a = :v AND", {":v": N("1")}, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
        ("a.b[x] = :v", {":v": N("1")}, 'Invalid ConditionExpression: Syntax error; token: "x", near: "[x]"'),
        ("a = :v)", {":v": N("1")}, 'Invalid ConditionExpression: Syntax error; token: ")", near: ":v)"'),
        ("((attribute_not_exists(pk)))", None, "Invalid ConditionExpression: The expression has redundant parentheses;"),
        ("status = :v", {":v": N("1")}, "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
        ("a.Size = :v", {":v": N("1")}, "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"),
        ("a = :nope", None, "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"),
        (
            "#nope = :v",
            {":v": N("1")},
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope",
        ),
        ("foo(a)", None, "Invalid ConditionExpression: Invalid function name; function: foo"),
        ("size(a)", None, "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"),
        ("a = if_not_exists(a, :v)", {":v": N("1")}, "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"),
        (
            "begins_with(a, :v, :v)",
            {":v": S("x")},
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 3",
        ),
        (
            "begins_with(a, :v)",
            {":v": N("1")},
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        ("a < :v", {":v": {"M": {}}}, "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: M"),
        ("a >= :v", {":v": {"BOOL": True}}, "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: BOOL"),
        (
            "attribute_exists(:v)",
            {":v": N("1")},
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "attribute_type(a, :v)",
            {":v": S("X")},
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "attribute_type(a, :v)",
            {":v": N("1")},
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        ),
        (
            "a = a",
            None,
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": N("5"), ":l": N("1")},
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
            "lower operand: AttributeValue: {N:5}, upper operand: AttributeValue: {N:1}",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": N("1"), ":l": S("a")},
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
            "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
        ),
        ("a = :v $", {":v": N("1")}, 'Invalid ConditionExpression: Syntax error; token: "$", near: ":v $"'),
    ],
)
def test_condition_errors(text: str, values: dict | None, message: str) -> None:
    assert refused(ctx(values).condition, text) == message


def test_contains_needs_distinct_operands() -> None:
    assert refused(ctx(names={"#a": "data"}).condition, "contains(#a, #a)") == (
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [data]"
    )


def test_the_expression_kind_names_the_parameter() -> None:
    assert refused(ctx().filter, "status = x") == "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: status"
    assert refused(ctx().projection, "a, status") == "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    assert refused(ctx().update, "SET a = status") == "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"


def test_reserved_words() -> None:
    assert len(RESERVED_WORDS) == 573
    for word in ("ABORT", "STATUS", "NAME", "DATA", "TTL", "ZONE", "COUNT", "KEYS"):
        assert word in RESERVED_WORDS
    assert holds("#s = :v", {"status": S("on")}, {":v": S("on")}, {"#s": "status"})
    assert holds("statuses = :v", {"statuses": S("on")}, {":v": S("on")})


def test_expression_size_limit() -> None:
    at_limit = "a" * 4086 + " = :v AND b"[:0]
    text = "attribute_exists(" + "a" * (4096 - len("attribute_exists()")) + ")"
    assert len(text) == 4096 and at_limit
    ctx().condition(text)
    over = "attribute_exists(" + "a" * (4097 - len("attribute_exists()")) + ")"
    assert refused(ctx().condition, over) == ("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097")
    long_update = "SET " + ", ".join(f"a{i} = :v" for i in range(500))
    assert refused(ctx({":v": N("1")}).update, long_update) == "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"
    # measured as sent: aliases are not substituted first
    names = {f"#a{i}": "n" * 250 + str(i) for i in range(30)}
    ctx(names=names).projection(", ".join(names))


def test_document_path_depth() -> None:
    ctx().condition("attribute_exists(" + ".".join(f"a{i}" for i in range(32)) + ")")
    assert refused(ctx().condition, "attribute_exists(" + ".".join(f"a{i}" for i in range(33)) + ")") == (
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33"
    )


def test_operator_limit() -> None:
    ctx().condition(" AND ".join(f"attribute_exists(a{i})" for i in range(150)))  # 150 functions + 149 ANDs
    assert refused(ctx().condition, " AND ".join(f"attribute_exists(a{i})" for i in range(151))) == ("Invalid ConditionExpression: The expression contains too many operators; operator count: 301")


# ---- names and values -------------------------------------------------------------------------------------------


def test_context_checks_its_maps() -> None:
    assert refused(ExpressionContext, None, {}) == "ExpressionAttributeValues must not be empty"
    assert refused(ExpressionContext, {}, None) == "ExpressionAttributeNames must not be empty"
    assert refused(ExpressionContext, {"a": "x"}, None) == 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    assert refused(ExpressionContext, {"#": "x"}, None) == 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#"'
    assert refused(ExpressionContext, {"#a-b": "x"}, None) == 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'
    assert refused(ExpressionContext, {"#a": ""}, None) == "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"
    assert refused(ExpressionContext, None, {"v": N("1")}) == 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'
    assert refused(ExpressionContext, None, {":v": {}}) == "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    assert refused(ExpressionContext, None, {":v": {"SS": []}}) == "One or more parameter values were invalid: An string set  may not be empty"


def test_older_layer_wraps_bad_values() -> None:
    assert refused(lambda: ExpressionContext(None, {":v": N("")}, older=True)) == ("ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value for key :v")


def test_finish_refuses_unused() -> None:
    context = ctx({":a": N("1"), ":b": N("2"), ":c": N("3")})
    context.condition("x = :c")
    assert refused(context.finish) == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :b}"
    context = ctx({":v": N("1")}, {"#a": "a", "#b": "b"})
    context.condition("#b = :v")
    assert refused(context.finish) == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"
    context = ctx({":v": N("1"), ":w": N("2")}, {"#a": "a", "#b": "b"})
    context.condition("#b = :v")
    assert refused(context.finish) == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"  # names first
    # names and values used by any expression of the request count
    context = ctx({":v": N("1"), ":w": N("2")}, {"#a": "a", "#p": "p"})
    context.condition("#a = :v")
    context.update("SET b = :w")
    context.projection("#p")
    context.finish()


# ---- key conditions ---------------------------------------------------------------------------------------------

HASH = {"pk": "S"}
COMPOSITE = {"pk": "S", "sk": "N"}
STRINGS = {"pk": "S", "sk": "S"}


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("pk = :p", {":p": S("a")}, KeyCondition("pk", S("a"))),
        ("pk = :p AND sk = :v", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "EQ", (N("1"),))),
        ("pk = :p AND sk < :v", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "LT", (N("1"),))),
        ("pk = :p AND sk <= :v", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "LE", (N("1"),))),
        ("pk = :p AND sk > :v", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "GT", (N("1"),))),
        ("sk >= :v AND pk = :p", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "GE", (N("1"),))),
        (":v < sk AND :p = pk", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "GT", (N("1"),))),
        ("pk = :p AND sk BETWEEN :a AND :b", {":p": S("a"), ":a": N("1"), ":b": N("2")}, KeyCondition("pk", S("a"), "sk", "BETWEEN", (N("1"), N("2")))),
        ("(pk = :p) AND (sk > :v)", {":p": S("a"), ":v": N("1")}, KeyCondition("pk", S("a"), "sk", "GT", (N("1"),))),
    ],
)
def test_key_conditions(text: str, values: dict, expected: KeyCondition) -> None:
    assert ctx(values).key_condition(text, COMPOSITE) == expected


def test_key_condition_begins_with() -> None:
    assert ctx({":p": S("a"), ":v": S("x")}).key_condition("pk = :p AND begins_with(sk, :v)", STRINGS) == KeyCondition("pk", S("a"), "sk", "BEGINS_WITH", (S("x"),))


OPERAND = "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: {}, operand type: {}"
SCHEMA_TYPE = "One or more parameter values were invalid: Condition parameter type does not match schema type"


@pytest.mark.parametrize(
    ("text", "values", "schema", "message"),
    [
        ("pk = :p AND begins_with(sk, :v)", {":p": S("q"), ":v": N("1")}, STRINGS, OPERAND.format("begins_with", "N")),
        ("pk = :p AND begins_with(sk, :v)", {":p": S("q"), ":v": {"BOOL": True}}, STRINGS, OPERAND.format("begins_with", "BOOL")),
        ("pk = :p AND begins_with(sk, :v)", {":p": S("q"), ":v": N("1")}, COMPOSITE, OPERAND.format("begins_with", "N")),
        ("pk = :p AND begins_with(sk, :v)", {":p": S("q"), ":v": S("a")}, COMPOSITE, SCHEMA_TYPE),
        ("pk = :p AND sk < :v", {":p": S("q"), ":v": {"BOOL": True}}, COMPOSITE, OPERAND.format("<", "BOOL")),
        ("pk = :p AND :v >= sk", {":p": S("q"), ":v": {"BOOL": True}}, COMPOSITE, OPERAND.format(">=", "BOOL")),
        ("pk = :p AND sk BETWEEN :a AND :b", {":p": S("q"), ":a": {"BOOL": False}, ":b": {"BOOL": True}}, COMPOSITE, OPERAND.format("BETWEEN", "BOOL")),
        ("pk = :p AND sk = :v", {":p": S("q"), ":v": {"BOOL": True}}, COMPOSITE, SCHEMA_TYPE),
        ("pk = :p", {":p": N("1")}, COMPOSITE, SCHEMA_TYPE),
        (
            "pk = :p AND sk > :a AND sk < :b",
            {":p": S("q"), ":a": N("1"), ":b": N("5")},
            COMPOSITE,
            "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "pk = :p AND sk > :a AND extra = :b",
            {":p": S("q"), ":a": N("1"), ":b": N("5")},
            COMPOSITE,
            "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)",
        ),
        ("sk = :v", {":v": N("1")}, COMPOSITE, "Query condition missed key schema element: pk"),
        ("pk = :p AND extra = :v", {":p": S("q"), ":v": N("1")}, COMPOSITE, "Query condition missed key schema element: sk"),
        ("pk > :p", {":p": S("q")}, HASH, "Query key condition not supported"),
        ("pk = :p OR pk = :q", {":p": S("q"), ":q": S("r")}, HASH, "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", {":p": S("q")}, HASH, "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", {":p": S("q")}, HASH, "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :p", {":p": S("q")}, HASH, "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: <>"),
        ("attribute_exists(pk)", None, HASH, "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("pk = :p AND size(sk) > :v", {":p": S("q"), ":v": N("1")}, COMPOSITE, "Invalid KeyConditionExpression: KeyConditionExpressions cannot contain nested operations"),
        ("pk = :p AND sk.x > :v", {":p": S("q"), ":v": N("1")}, COMPOSITE, "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        ("pk = :p AND sk[0] > :v", {":p": S("q"), ":v": N("1")}, COMPOSITE, "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        ("pk = sk", None, COMPOSITE, "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        (":a = :b", {":a": S("q"), ":b": S("q")}, COMPOSITE, "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: No key attribute specified"),
        (
            "pk = :p AND :a BETWEEN sk AND :b",
            {":p": S("q"), ":a": N("1"), ":b": N("2")},
            COMPOSITE,
            "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "begins_with(sk, :n) AND pk = :missing",
            {":n": N("1")},
            STRINGS,
            OPERAND.format("begins_with", "N"),
        ),
        (
            "pk = :missing AND begins_with(sk, :n)",
            {":n": N("1")},
            STRINGS,
            "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing",
        ),
    ],
)
def test_key_condition_errors(text: str, values: dict | None, schema: dict, message: str) -> None:
    assert refused(ctx(values).key_condition, text, schema) == message


# ---- updates ----------------------------------------------------------------------------------------------------


def update(text: str, item: dict, values: dict | None = None, names: dict | None = None) -> dict:
    return ctx(values, names).update(text).apply(item)


def test_set_top_level_and_nested() -> None:
    item = {"id": S("k"), "m": {"M": {"a": {"M": {}}}}}
    new = update("SET x = :v, m.a.b = :w, m.c = :v", item, {":v": N("1"), ":w": S("deep")})
    assert new == {"id": S("k"), "x": N("1"), "m": {"M": {"a": {"M": {"b": S("deep")}}, "c": N("1")}}}
    assert item == {"id": S("k"), "m": {"M": {"a": {"M": {}}}}}  # untouched


def test_set_nested_under_a_missing_parent_is_refused() -> None:
    message = "The document path provided in the update expression is invalid for update"
    assert refused(update, "SET absent.nested.deep = :v", {"id": S("k")}, {":v": N("1")}) == message
    assert refused(update, "SET s.x = :v", {"s": S("str")}, {":v": N("1")}) == message
    assert refused(update, "SET s[0] = :v", {"s": S("str")}, {":v": N("1")}) == message
    assert refused(update, "SET m[0] = :v", {"m": {"M": {}}}, {":v": N("1")}) == message


def test_set_list_index() -> None:
    item = {"l": {"L": [S("a"), S("b"), S("c")]}}
    assert update("SET l[1] = :v", item, {":v": S("B")})["l"] == {"L": [S("a"), S("B"), S("c")]}
    # past the end appends, with nothing padded in between
    assert update("SET l[5] = :v", item, {":v": S("z")})["l"] == {"L": [S("a"), S("b"), S("c"), S("z")]}
    assert update("SET l[0] = :v", {"l": {"L": []}}, {":v": S("first")})["l"] == {"L": [S("first")]}


def test_set_arithmetic() -> None:
    values = {":a": N("0.1"), ":b": N("0.2"), ":one": N("1")}
    assert update("SET x = :a + :b", {}, values)["x"] == N("0.3")
    assert update("SET x = x - :one", {"x": N("10")}, values)["x"] == N("9")
    assert update("SET m.c = m.c + :one", {"m": {"M": {"c": N("10")}}}, values)["m"] == {"M": {"c": N("11")}}
    assert refused(update, "SET x = x + :one", {"x": S("a")}, values) == "An operand in the update expression has an incorrect data type"
    assert refused(update, "SET x = nope + :one", {}, values) == "The provided expression refers to an attribute that does not exist in the item"
    assert refused(update, "SET x = :a + :b", {}, {":a": N("9e125"), ":b": N("9e125")}) == ("Number overflow. Attempting to store a number with magnitude larger than supported range")
    assert refused(ctx({":s": S("a"), ":one": N("1")}).update, "SET x = :s + :one") == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: STRING"
    )


def test_set_parenthesised_arithmetic() -> None:
    values = {":v": N("2"), ":d": N("10")}
    assert update("SET c = (c - :v)", {"c": N("5")}, values)["c"] == N("3")
    assert update("SET c = (c - :v) + :d", {"c": N("5")}, values)["c"] == N("13")
    assert update("SET c = if_not_exists(c, :d) - :v", {}, values)["c"] == N("8")
    assert refused(ctx(values).update, "SET c = c - :v - :v") == 'Invalid UpdateExpression: Syntax error; token: "-", near: ":v - :v"'


def test_set_reads_the_item_as_it_was() -> None:
    assert update("SET a = b, b = a", {"a": N("1"), "b": N("2")}) == {"a": N("2"), "b": N("1")}


def test_if_not_exists_and_list_append() -> None:
    values = {":v": N("0"), ":l": {"L": [S("z")]}}
    assert update("SET c = if_not_exists(c, :v)", {}, values)["c"] == N("0")
    assert update("SET c = if_not_exists(c, :v)", {"c": N("5")}, values)["c"] == N("5")
    assert update("SET c = if_not_exists(d, :v)", {"d": S("x")}, values)["c"] == S("x")
    item = {"l": {"L": [S("a")]}}
    assert update("SET l = list_append(l, :l)", item, values)["l"] == {"L": [S("a"), S("z")]}
    assert update("SET l = list_append(:l, l)", item, values)["l"] == {"L": [S("z"), S("a")]}
    assert update("SET l = list_append(if_not_exists(l, :l), :l)", {}, values)["l"] == {"L": [S("z"), S("z")]}
    assert refused(update, "SET l = list_append(l, x)", item | {"x": N("1")}, values) == "An operand in the update expression has an incorrect data type"
    assert refused(ctx(values).update, "SET l = list_append(l, :v)") == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N"
    )


def test_remove() -> None:
    item = {"a": N("1"), "m": {"M": {"gone": S("x"), "keep": S("y")}}, "l": {"L": [S("a"), S("b"), S("c"), S("d")]}}
    assert update("REMOVE a, m.gone, nope", item) == {"m": {"M": {"keep": S("y")}}, "l": item["l"]}
    assert update("REMOVE l[1]", item)["l"] == {"L": [S("a"), S("c"), S("d")]}
    # indexes refer to the list as it was
    assert update("REMOVE l[0], l[2]", item)["l"] == {"L": [S("b"), S("d")]}
    assert update("REMOVE l[9]", item)["l"] == item["l"]


def test_add() -> None:
    values = {":n": N("2.5"), ":ss": {"SS": ["b", "c"]}, ":ns": {"NS": ["1", "3"]}}
    assert update("ADD n :n", {}, values)["n"] == N("2.5")  # missing counts as 0
    assert update("ADD n :n", {"n": N("0.5")}, values)["n"] == N("3")
    assert update("ADD s :ss", {"s": {"SS": ["a", "b"]}}, values)["s"] == {"SS": ["a", "b", "c"]}
    assert update("ADD s :ns", {"s": {"NS": ["1.0"]}}, values)["s"] == {"NS": ["1.0", "3"]}
    assert update("ADD m.c :n", {"m": {"M": {"c": N("1")}}}, values)["m"] == {"M": {"c": N("3.5")}}
    assert refused(update, "ADD s :ss", {"s": {"NS": ["1"]}}, values) == "An operand in the update expression has an incorrect data type"
    assert refused(update, "ADD s :n", {"s": S("x")}, values) == "An operand in the update expression has an incorrect data type"
    assert refused(ctx({":s": S("x")}).update, "ADD a :s") == ("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING")


def test_delete() -> None:
    values = {":ss": {"SS": ["a", "x"]}, ":all": {"SS": ["a", "b"]}, ":ns": {"NS": ["1.0"]}}
    assert update("DELETE s :ss", {"s": {"SS": ["a", "b"]}}, values)["s"] == {"SS": ["b"]}
    assert "s" not in update("DELETE s :all", {"s": {"SS": ["a", "b"]}}, values)  # empty: removed
    assert update("DELETE s :ns", {"s": {"NS": ["1", "2"]}}, values)["s"] == {"NS": ["2"]}
    assert update("DELETE s :ss", {}, values) == {}
    assert refused(update, "DELETE s :ss", {"s": {"NS": ["1"]}}, values) == "An operand in the update expression has an incorrect data type"
    assert refused(ctx({":n": N("1")}).update, "DELETE a :n") == ("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER")


def test_all_clauses_together_and_case() -> None:
    values = {":v": N("1"), ":s": {"SS": ["x"]}}
    new = update("set a = :v remove b add c :v delete d :s", {"b": N("1"), "d": {"SS": ["x", "y"]}}, values)
    assert new == {"a": N("1"), "c": N("1"), "d": {"SS": ["y"]}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Invalid UpdateExpression: The expression can not be empty;"),
        ("SET", 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"'),
        ("INVALID SYNTAX HERE", 'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
        ("SET a = :v SET b = :v", 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
        ("REMOVE a REMOVE b", 'Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;'),
        ("ADD a :v ADD b :v", 'Invalid UpdateExpression: The "ADD" section can only be used once in an update expression;'),
        ("SET a = :v, a.b = :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("SET a = :v REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        ("SET a.b = :v ADD a :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"),
        ("SET a[0] = :v, a.b = :v", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"),
        ("SET a = size(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
        ("SET a = foo(b)", "Invalid UpdateExpression: Invalid function name; function: foo"),
        ("SET a = if_not_exists(:v, :v)", "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
        ("SET a = :nope", "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("ADD a b", 'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"'),
    ],
)
def test_update_errors(text: str, message: str) -> None:
    assert refused(ctx({":v": N("1")}).update, text) == message


def test_update_keys_and_returned_parts() -> None:
    actions = ctx({":v": N("1"), ":w": S("x")}).update("SET a.b = :v, a.c = :w, top = :v REMOVE gone")
    assert actions.top_level_names() == {"a", "top", "gone"}
    actions.check_keys({"id": "S"})
    assert refused(ctx({":v": S("x")}).update("SET id = :v").check_keys, {"id": "S"}) == ("One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key")
    old = {"id": S("k"), "a": {"M": {"b": N("0"), "other": N("9")}}, "gone": S("g")}
    new = actions.apply(old)
    assert actions.updated_new(new) == {"a": {"M": {"b": N("1"), "c": S("x")}}, "top": N("1")}
    assert actions.updated_old(old) == {"a": {"M": {"b": N("0")}}, "gone": S("g")}


# ---- projections ------------------------------------------------------------------------------------------------


def test_projection() -> None:
    projection = ctx(names={"#s": "status"}).projection("id, m.a.b, l[2].deep, l[0], #s, nope, m.lst[1]")
    assert projection.apply(ITEM | {"status": S("on")}) == {
        "id": S("k"),
        "m": {"M": {"a": {"M": {"b": N("7")}}, "lst": {"L": [N("1")]}}},
        "l": {"L": [S("x"), {"M": {"deep": S("y")}}]},
        "status": S("on"),
    }
    assert ctx().projection("nope").apply(ITEM) == {}


def test_projection_errors() -> None:
    assert refused(ctx().projection, "a, a.b") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    )
    assert refused(ctx().projection, "a, a") == ("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]")
    assert refused(ctx().projection, "l[]") == 'Invalid ProjectionExpression: Syntax error; token: "]", near: "[]"'
    assert refused(ctx().projection, "a,") == 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","'


# ---- legacy parameters ------------------------------------------------------------------------------------------

INVALID = "One or more parameter values were invalid: "


def test_expected() -> None:
    item = {"a": N("1"), "s": S("hello")}
    assert expected_condition({"a": {"Value": N("1.0")}}).evaluate(item)
    assert expected_condition({"a": {"Value": N("1"), "Exists": True}}).evaluate(item)
    assert expected_condition({"b": {"Exists": False}}).evaluate(item)
    assert not expected_condition({"a": {"Exists": False}}).evaluate(item)
    assert not expected_condition({"a": {"Value": N("1")}, "b": {"Value": N("1")}}).evaluate(item)
    assert expected_condition({"a": {"Value": N("1")}, "b": {"Value": N("1")}}, "OR").evaluate(item)
    assert expected_condition({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("he")]}}).evaluate(item)
    assert expected_condition({"s": {"ComparisonOperator": "NE", "Value": S("x")}}).evaluate(item)
    assert expected_condition({"nope": {"ComparisonOperator": "NULL"}}).evaluate(None)


def test_expected_errors() -> None:
    assert refused(expected_condition, {"a": {}}) == INVALID + "Value must be provided when Exists is null for Attribute: a"
    assert refused(expected_condition, {"a": {"Exists": True}}) == INVALID + "Value must be provided when Exists is true for Attribute: a"
    assert refused(expected_condition, {"a": {"Exists": False, "Value": N("1")}}) == INVALID + "Value cannot be used when Exists is false for Attribute: a"
    assert refused(expected_condition, {"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}}) == (INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator")
    assert refused(expected_condition, {"a": {"ComparisonOperator": "EQ"}}) == (INVALID + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a")
    assert refused(expected_condition, {"a": {"Value": N("1")}}, "AND") == ("ConditionalOperator can only be used when Filter or Expected has two or more elements")
    # the enum is checked ahead of the values
    deep: dict = {"S": "x"}
    for _ in range(40):
        deep = {"M": {"n": deep}}
    assert refused(expected_condition, {"a": {"Value": deep}, "b": {"Exists": False}}, "XOR").startswith("1 validation error detected: Value 'XOR'")
    assert refused(expected_condition, {"a": {"Value": N("1")}, "b": {"Exists": False}}, "XOR") == (
        "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
    )
    assert refused(expected_condition, {"a": {"ComparisonOperator": "EQ", "Value": N("1"), "AttributeValueList": [N("1")]}}) == (
        INVALID + "Value and AttributeValueList cannot be used together for Attribute: a"
    )


@pytest.mark.parametrize(
    ("op", "args", "expected"),
    [
        ("EQ", [N("5")], True),
        ("NE", [N("5")], False),
        ("LE", [N("5")], True),
        ("LT", [N("5")], False),
        ("GE", [N("4")], True),
        ("GT", [N("4")], True),
        ("GT", [S("4")], False),
        ("NOT_NULL", [], True),
        ("NULL", [], False),
        ("IN", [N("1"), N("5")], True),
        ("BETWEEN", [N("1"), N("5")], True),
        ("BETWEEN", [N("6"), N("9")], False),
    ],
)
def test_filter_operators_on_numbers(op: str, args: list, expected: bool) -> None:
    assert filter_condition({"n": {"ComparisonOperator": op, "AttributeValueList": args}}).evaluate(ITEM) is expected


@pytest.mark.parametrize(
    ("name", "op", "args", "expected"),
    [
        ("s", "CONTAINS", [S("ell")], True),
        ("ss", "CONTAINS", [S("a")], True),
        ("ss", "NOT_CONTAINS", [S("a")], False),
        ("ss", "NOT_CONTAINS", [S("q")], True),
        ("ns", "CONTAINS", [N("2.50")], True),
        ("l", "CONTAINS", [N("1")], True),
        ("s", "BEGINS_WITH", [S("hel")], True),
        ("b", "BEGINS_WITH", [{"B": b64(b"\x01")}], True),
        ("nope", "NULL", [], True),
        ("nope", "NE", [S("x")], True),
        ("nope", "EQ", [S("x")], False),
    ],
)
def test_filter_operators(name: str, op: str, args: list, expected: bool) -> None:
    assert filter_condition({name: {"ComparisonOperator": op, "AttributeValueList": args}}).evaluate(ITEM) is expected


@pytest.mark.parametrize(
    ("op", "args", "message"),
    [
        ("EQ", [], "Invalid number of argument(s) for the EQ ComparisonOperator"),
        ("EQ", [N("1"), N("2")], "Invalid number of argument(s) for the EQ ComparisonOperator"),
        ("NULL", [N("1")], "Invalid number of argument(s) for the NULL ComparisonOperator"),
        ("BETWEEN", [N("1")], "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        ("IN", [], "Invalid number of argument(s) for the IN ComparisonOperator"),
        ("GT", [{"SS": ["a"]}], "ComparisonOperator GT is not valid for SS AttributeValue type"),
        ("BEGINS_WITH", [N("1")], "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        ("CONTAINS", [{"L": []}], "ComparisonOperator CONTAINS is not valid for L AttributeValue type"),
        ("BETWEEN", [N("1"), S("a")], "AttributeValues inside AttributeValueList must be of same type"),
    ],
)
def test_filter_argument_errors(op: str, args: list, message: str) -> None:
    assert refused(filter_condition, {"a": {"ComparisonOperator": op, "AttributeValueList": args}}) == INVALID + message


def test_legacy_key_conditions() -> None:
    schema = {"pk": "S", "sk": "N"}
    assert key_conditions({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}}, schema) == KeyCondition("pk", S("a"))
    assert key_conditions(
        {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N("1"), N("2")]},
        },
        schema,
    ) == KeyCondition("pk", S("a"), "sk", "BETWEEN", (N("1"), N("2")))
    assert refused(key_conditions, {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [N("1")]}}, schema) == ("Query condition missed key schema element: pk")
    assert refused(key_conditions, {"pk": {"ComparisonOperator": "GT", "AttributeValueList": [S("a")]}}, schema) == (INVALID + "Query key condition not supported")
    assert refused(key_conditions, {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [N("1")]}}, schema) == (INVALID + "Condition parameter type does not match schema type")


def test_attribute_updates() -> None:
    actions = attribute_updates(
        {
            "put": {"Action": "PUT", "Value": S("x")},
            "default": {"Value": N("1")},
            "n": {"Action": "ADD", "Value": N("2")},
            "fresh": {"Action": "ADD", "Value": {"SS": ["a"]}},
            "l": {"Action": "ADD", "Value": {"L": [S("z")]}},
            "s": {"Action": "DELETE", "Value": {"SS": ["a"]}},
            "gone": {"Action": "DELETE"},
        }
    )
    old = {"n": N("1"), "l": {"L": [S("a")]}, "s": {"SS": ["a", "b"]}, "gone": S("g")}
    assert actions.apply(old) == {
        "put": S("x"),
        "default": N("1"),
        "n": N("3"),
        "fresh": {"SS": ["a"]},
        "l": {"L": [S("a"), S("z")]},
        "s": {"SS": ["b"]},
    }
    assert old["n"] == N("1")
    assert refused(attribute_updates, {"a": {"Action": "PUT"}}) == INVALID + "Only DELETE action is allowed when no attribute value is specified"
    assert refused(attribute_updates, {"a": {"Action": "ADD", "Value": S("x")}}) == INVALID + "ADD action is not supported for the type S"
    assert refused(attribute_updates, {"a": {"Action": "DELETE", "Value": N("1")}}) == INVALID + "DELETE action with value is not supported for the type N"
    assert refused(attribute_updates({"id": {"Value": S("x")}}).check_keys, {"id": "S"}) == (INVALID + "Cannot update attribute id. This attribute is part of the key")


def test_attributes_to_get() -> None:
    assert attributes_to_get(["id", "nope", "n"]).apply(ITEM) == {"id": S("k"), "n": N("5")}
    assert refused(attributes_to_get, ["a", "a"]) == INVALID + "Duplicate value in attribute name: a"


def test_legacy_mix_check() -> None:
    assert refused(legacy_mix_check, {"Expected": {"pk": {"Exists": False}}, "ConditionExpression": "attribute_not_exists(pk)"}) == (
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    assert refused(legacy_mix_check, {"AttributeUpdates": {}, "UpdateExpression": "SET a = :v"}) == (
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"
    )
    assert refused(legacy_mix_check, {"ExpressionAttributeValues": {":v": S("x")}}) == "ExpressionAttributeValues can only be specified when using expressions"
    assert refused(legacy_mix_check, {"ExpressionAttributeNames": {"#a": "a"}}) == "ExpressionAttributeNames can only be specified when using expressions"
    assert refused(
        legacy_mix_check,
        {"ConditionalOperator": "AND", "Expected": {}, "AttributeUpdates": {}, "ConditionExpression": "x", "UpdateExpression": "SET a = :v"},
    ) == (
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
        "{AttributeUpdates, Expected, ConditionalOperator} Expression parameters: {UpdateExpression, ConditionExpression}"
    )
    assert refused(legacy_mix_check, {"KeyConditions": {}, "KeyConditionExpression": "pk = :p"}).endswith("Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
    legacy_mix_check({"KeyConditions": {}, "FilterExpression": "a = :v"})  # only a KeyConditionExpression clashes
    legacy_mix_check({"Expected": {}, "AttributeUpdates": {}})
    legacy_mix_check({"ConditionExpression": "x", "ExpressionAttributeNames": {"#a": "a"}})


# ---- the 400 KB gate of an update -------------------------------------------------------------------------------

TEN = S("y" * 10)
PAD_CLAUSE = 3 + 19 + 1  # the update, one SET and its target "b"


@pytest.mark.parametrize(
    ("clause", "values", "seed", "charge"),
    [
        ("SET c = abcdefghij", {}, {"abcdefghij": TEN}, 19 + 1 + (1 + 14 + 10)),
        ("SET c = m.z", {}, {"m": {"M": {"z": TEN}}}, 19 + 1 + (1 + 15 + 15)),
        ("SET c = m.a.z", {}, {"m": {"M": {"a": {"M": {"z": TEN}}}}}, 19 + 1 + (1 + 15 + 15 + 15)),
        ("SET c = l[10]", {}, {"l": {"L": [S("e")] * 10 + [TEN]}}, 19 + 1 + (1 + 15 + 16)),
        ("SET l = list_append(l, :new)", {":new": {"L": [TEN]}}, {"l": {"L": [S("e")]}}, 19 + 1 + 37 + 16 + (3 + 1 + 10)),
        ("SET l = list_append(:a, :c)", {":a": {"L": [S("e")]}, ":c": {"L": [TEN]}}, {}, 19 + 1 + 37 + (3 + 1 + 1) + (3 + 1 + 10)),
        ("SET c = if_not_exists(c, :m)", {":m": {"M": {"a": S("y" * 100)}}}, {"c": S("c")}, 19 + 1 + 39 + 16 + (3 + 1 + 1 + 100)),
        ("SET n = n + :one", {":one": N("1")}, {"n": N("12345678901234567890")}, 19 + 1 + 34 + 16 + 2),
        ("SET n = n - :one", {":one": N("1")}, {"n": N("1")}, 19 + 1 + 37 + 16 + 2),
        ("ADD abcdefghij :one", {":one": N("1")}, {"abcdefghij": N("1")}, 19 + 10 + 2),
        ("ADD ss :new", {":new": {"SS": ["s" * 500, "p" * 5]}}, {"ss": {"SS": ["p" * 5]}}, 19 + 2 + 500),  # only what it adds
        ("REMOVE abcdefghij", {}, {"abcdefghij": S("r" * 5)}, 1 + 10),
        ("REMOVE m.yyyyyyyyyy", {}, {"m": {"M": {"x": TEN, "yyyyyyyyyy": S("r")}}}, 1 + 1 + 4 + 10),
        ("REMOVE abcdefghij[1]", {}, {"abcdefghij": {"L": [TEN, S("r")]}}, 1 + 10 + 4 + 1),
        ("REMOVE l[10]", {}, {"l": {"L": [S("e")] * 11}}, 1 + 1 + 4 + 2),
        ("DELETE abcdefghij :rm", {":rm": {"SS": ["q" * 20]}}, {"abcdefghij": {"SS": ["p" * 5, "q" * 20]}}, 1 + 10),
    ],
)
def test_update_write_cost_per_clause(clause: str, values: dict, seed: dict, charge: int) -> None:
    expression = f"SET b = :pad, {clause[4:]}" if clause.startswith("SET ") else f"SET b = :pad {clause}"
    pad = 1000
    actions = ctx({":pad": S("x" * pad), **values}).update(expression)
    assert actions.write_cost({"pk": S("K"), **seed}) == PAD_CLAUSE + pad + charge


def test_update_write_cost_counts_resolved_names_and_each_use() -> None:
    plain = ctx({":pad": S("x")}).update("SET b = :pad").write_cost({})
    aliased = ctx({":pad": S("x")}, {"#twelvechars": "b"}).update("SET #twelvechars = :pad").write_cost({})
    assert plain == aliased == 3 + 19 + 1 + 1
    twice = ctx({":s": S("s" * 100)}).update("SET c = if_not_exists(c, :s), d = if_not_exists(d, :s)").write_cost({})
    assert twice == 3 + 2 * (19 + 1 + 39 + 16 + 100)
    # a nested target costs what writing the whole document costs; a list index one byte more
    whole_map = ctx({":w": {"M": {"leaf": S("x" * 50)}}}).update("SET d = :w").write_cost({})
    nested = ctx({":p": S("x" * 50)}).update("SET d.leaf = :p").write_cost({})
    assert whole_map == nested
    whole_list = ctx({":w": {"L": [S("x" * 50)]}}).update("SET d = :w").write_cost({})
    indexed = ctx({":p": S("x" * 50)}).update("SET d[0] = :p").write_cost({})
    assert indexed == whole_list + 1


def test_update_size_check() -> None:
    from tables.expressions import update_size_check

    wording = "Item size to update has exceeded the maximum allowed size"
    key = {"pk": S("K")}  # 3 bytes: shorter than one SET costs, so the statement's half binds

    def attempt(pad: int, **kwargs: Any) -> None:
        actions = ctx({":pad": S("x" * pad)}).update("SET b = :pad")
        update_size_check(actions, key, actions.apply(key), **kwargs)

    ceiling = 409_600 - 19  # the finished item UpdateItem accepts at this key
    attempt(ceiling - 4)
    assert refused(attempt, ceiling - 3) == wording
    attempt(409_600 - 4, statement_sized=False)  # transacted updates and AttributeUpdates measure flat
    assert refused(attempt, 409_600 - 3, statement_sized=False) == wording
    # past a 20-byte key the finished item binds, at exactly 409,600
    long_key = {"pk": S("k" * 100)}
    actions = ctx({":pad": S("x" * (409_600 - item_size_of(long_key) - 1))}).update("SET b = :pad")
    update_size_check(actions, long_key, actions.apply(long_key))
    actions = ctx({":pad": S("x" * (409_600 - item_size_of(long_key)))}).update("SET b = :pad")
    assert refused(update_size_check, actions, long_key, actions.apply(long_key)) == wording
    # legacy AttributeUpdates: the finished item only
    legacy = attribute_updates({"b": {"Action": "PUT", "Value": S("x" * (409_600 - 4))}})
    update_size_check(legacy, key, legacy.apply(key))


def item_size_of(item: dict) -> int:
    from tables.values import item_size

    return item_size(item)


def test_query_filter_may_not_read_key_attributes() -> None:
    keys = ["pk", "sk"]
    filter_key_check(ctx({":v": N("1")}).filter("n = :v"), keys)
    assert refused(filter_key_check, ctx({":v": N("1")}).filter("n = :v OR size(sk) > :v"), keys) == ("Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")
    assert refused(filter_key_check, ctx({":v": S("a")}).filter("sk = :v AND begins_with(pk, :v)"), keys).endswith("Primary key attribute: pk")
    legacy = filter_condition({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}})
    assert refused(filter_key_check, legacy, keys, legacy=True) == ("QueryFilter can only contain non-primary key attributes: Primary key attribute: pk")
