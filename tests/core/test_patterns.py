"""The event-pattern language (core.patterns): every operator, arrays, nesting, $or, the three dialects, errors."""

from __future__ import annotations

import json

import pytest

from core.patterns import PatternError, pattern_compile, pattern_matches

EC2_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "ipv6": "2001:db8::ff00:42:8329",
        "empty": "",
        "nothing": None,
        "flag": True,
        "tags": ["blue", "prod", 7],
        "items": [{"name": "a", "size": 1}, {"name": "b", "size": 20}],
        "location": {"city": "Seattle", "zip": "98101"},
    },
}


def m(pattern: dict | str, event: dict | None = None, dialect: str = "eventbridge") -> bool:
    return pattern_compile(pattern, dialect=dialect).matches(EC2_EVENT if event is None else event)


def bad(pattern: dict | str, dialect: str = "eventbridge") -> str:
    with pytest.raises(PatternError) as info:
        pattern_compile(pattern, dialect=dialect)
    return info.value.reason


# ------------------------------------------------------------------------------------------ exact and structure
def test_exact_strings_arrays_are_or_and_fields_are_and() -> None:
    assert m({"source": ["aws.ec2"]})
    assert m({"source": ["aws.s3", "aws.ec2"]})
    assert not m({"source": ["aws.s3"]})
    assert not m({"source": ["AWS.EC2"]})  # case-sensitive
    assert m({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]})
    assert not m({"source": ["aws.ec2"], "detail-type": ["other"]})


def test_nested_objects_and_missing_fields() -> None:
    assert m({"detail": {"state": ["terminated"], "location": {"city": ["Seattle"]}}})
    assert not m({"detail": {"location": {"city": ["Boston"]}}})
    assert not m({"detail": {"absent": ["x"]}})
    assert not m({"nothere": {"deeper": ["x"]}})


def test_numbers_match_numerically_and_not_strings() -> None:
    assert m({"detail": {"c-count": [5]}})
    assert m({"detail": {"c-count": [5.0]}})
    assert not m({"detail": {"c-count": ["5"]}})
    assert not m({"detail": {"location": {"zip": [98101]}}})
    assert m({"account": ["111122223333"]})
    assert m({"n": [123456789012]}, {"n": 123456789012})  # beyond the numeric range: still exact


def test_null_empty_string_and_booleans() -> None:
    assert m({"detail": {"nothing": [None]}})
    assert not m({"detail": {"absent": [None]}})  # null matches null, not absence
    assert m({"detail": {"empty": [""]}})
    assert not m({"detail": {"state": [""]}})
    assert m({"detail": {"flag": [True]}})
    assert not m({"detail": {"flag": [False]}})
    assert not m({"detail": {"c-count": [True]}}, {"detail": {"c-count": 1}})  # true is not 1


def test_event_arrays_match_if_any_element_matches() -> None:
    assert m({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]})
    assert m({"detail": {"tags": ["prod"]}})
    assert m({"detail": {"tags": [7]}})
    assert not m({"detail": {"tags": ["dev"]}})
    assert m({"a": ["x"]}, {"a": [["y"], ["x"]]})


def test_arrays_of_objects_match_one_element_whole() -> None:
    assert m({"detail": {"items": {"name": ["b"], "size": [20]}}})
    assert not m({"detail": {"items": {"name": ["a"], "size": [20]}}})  # fields from different elements
    assert m({"detail": {"items": {"size": [{"numeric": [">", 10]}]}}})


# ------------------------------------------------------------------------------------------ string operators
def test_prefix_and_suffix() -> None:
    assert m({"detail": {"state": [{"prefix": "term"}]}})
    assert not m({"detail": {"state": [{"prefix": "Term"}]}})
    assert m({"detail": {"state": [{"prefix": {"equals-ignore-case": "TERM"}}]}})
    assert m({"detail": {"state": [{"suffix": "ated"}]}})
    assert m({"detail": {"state": [{"suffix": {"equals-ignore-case": "ATED"}}]}})
    assert not m({"detail": {"c-count": [{"prefix": "5"}]}})  # numbers are not strings
    assert m({"detail": {"state": [{"prefix": ""}]}})


def test_equals_ignore_case() -> None:
    assert m({"source": [{"equals-ignore-case": "AWS.Ec2"}]})
    assert not m({"source": [{"equals-ignore-case": "aws.ec"}]})


def test_wildcard_and_escapes() -> None:
    assert m({"detail": {"state": [{"wildcard": "t*d"}]}})
    assert m({"detail": {"state": [{"wildcard": "*"}]}})
    assert m({"detail": {"location": {"city": [{"wildcard": "S*t*e"}]}}})
    assert not m({"detail": {"state": [{"wildcard": "t*x"}]}})
    assert m({"k": [{"wildcard": "a\\*b"}]}, {"k": "a*b"})
    assert not m({"k": [{"wildcard": "a\\*b"}]}, {"k": "axb"})
    assert m({"k": [{"wildcard": "a\\\\*"}]}, {"k": "a\\bc"})
    assert m({"k": [{"wildcard": "a.c"}]}, {"k": "a.c"}) and not m({"k": [{"wildcard": "a.c"}]}, {"k": "abc"})
    assert "Consecutive wildcard characters" in bad({"k": [{"wildcard": "a**b"}]})
    assert "Invalid escape" in bad({"k": [{"wildcard": "a\\b"}]})


# ------------------------------------------------------------------------------------------ anything-but
def test_anything_but_values_and_lists() -> None:
    assert m({"detail": {"state": [{"anything-but": "running"}]}})
    assert not m({"detail": {"state": [{"anything-but": "terminated"}]}})
    assert not m({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}})
    assert m({"detail": {"c-count": [{"anything-but": [1, 2]}]}})
    assert not m({"detail": {"c-count": [{"anything-but": 5}]}})
    assert not m({"detail": {"absent": [{"anything-but": "x"}]}})  # never matches a missing field
    # an array in the event: any element that is not excluded matches
    assert m({"detail": {"tags": [{"anything-but": "blue"}]}})


def test_anything_but_prefix_suffix_ignore_case_wildcard() -> None:
    assert not m({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}})
    assert m({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}})
    assert not m({"detail": {"state": [{"anything-but": {"suffix": "ated"}}]}})
    assert m({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}})
    assert not m({"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}})
    assert not m({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["x", "Terminated"]}}]}})
    assert m({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["x", "y"]}}]}})
    assert not m({"detail": {"state": [{"anything-but": {"wildcard": "t*"}}]}})
    assert m({"detail": {"state": [{"anything-but": {"wildcard": ["r*", "s*"]}}]}})


def test_anything_but_invalid() -> None:
    assert "mixed type is not supported" in bad({"a": [{"anything-but": ["x", 1]}]})
    assert "start|null|boolean is not supported" in bad({"a": [{"anything-but": [None]}]})
    assert "must be an array or single string/number value" in bad({"a": [{"anything-but": True}]})
    assert "Null prefix/suffix not allowed" in bad({"a": [{"anything-but": {"prefix": ""}}]})
    assert "Unsupported anything-but pattern: numeric" in bad({"a": [{"anything-but": {"numeric": [">", 1]}}]})
    assert "Empty arrays are not allowed" in bad({"a": [{"anything-but": []}]})


# ------------------------------------------------------------------------------------------ numeric, exists, cidr
@pytest.mark.parametrize(("expr", "value", "expected"), [
    ([">", 0, "<=", 5], 5, True),
    ([">", 0, "<=", 5], 0, False),
    ([">", 0, "<", 5], 5, False),
    ([">=", 0, "<", 5], 0, True),
    (["<", 10], 9.99, True),
    (["<", 10], 10, False),
    (["<=", 10], 10, True),
    ([">", 300], 301.8, True),
    (["=", 301.8], 301.8, True),
    (["=", 3.018e2], 301.8, True),
    (["=", 5], 5.0, True),
    ([">", 0], "7", False),
    ([">", 0], True, False),
    ([">=", -5e9], -5e9, True),
])
def test_numeric_ranges(expr: list, value: object, expected: bool) -> None:
    assert m({"v": [{"numeric": expr}]}, {"v": value}) is expected


def test_numeric_invalid() -> None:
    assert "Value of numeric must be an array." == bad({"v": [{"numeric": 5}]})
    assert "Unrecognized numeric range operator: !=" == bad({"v": [{"numeric": ["!=", 5]}]})
    assert "Value of > must be numeric" == bad({"v": [{"numeric": [">", "5"]}]})
    assert "Bad numeric range operator: >" == bad({"v": [{"numeric": [">", 5, ">", 6]}]})
    assert "Bottom must be less than top" == bad({"v": [{"numeric": [">", 6, "<", 5]}]})
    assert "Too many elements in numeric expression" == bad({"v": [{"numeric": ["=", 5, "<", 6]}]})
    assert "Too many elements in numeric expression" == bad({"v": [{"numeric": ["<", 5, ">", 1]}]})
    assert "Too many terms in numeric range expression" == bad({"v": [{"numeric": [">", 1, "<", 5, 6]}]})
    assert "between" in bad({"v": [{"numeric": [">", 5.1e9]}]})
    assert "Invalid member in numeric match" in bad({"v": [{"numeric": [5]}]})


def test_exists() -> None:
    assert m({"detail": {"state": [{"exists": True}]}})
    assert not m({"detail": {"absent": [{"exists": True}]}})
    assert m({"detail": {"absent": [{"exists": False}]}})
    assert not m({"detail": {"state": [{"exists": False}]}})
    assert m({"detail": {"nothing": [{"exists": True}]}})  # null is a value
    assert not m({"detail": {"location": [{"exists": True}]}})  # only leaves exist
    assert m({"nope": {"deeper": [{"exists": False}]}})  # absent parent: absent leaf
    assert m({"a": [{"exists": False}]}, {"a": []})
    assert "exists match pattern must be either true or false." == bad({"a": [{"exists": "yes"}]})


def test_exists_combined_with_values_is_or() -> None:
    assert m({"detail": {"absent": ["x", {"exists": False}]}})


def test_cidr_ipv4_and_ipv6() -> None:
    assert m({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})
    assert not m({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}})
    assert m({"detail": {"ipv6": [{"cidr": "2001:db8::/32"}]}})
    assert not m({"detail": {"ipv6": [{"cidr": "10.0.0.0/8"}]}})
    assert not m({"detail": {"state": [{"cidr": "10.0.0.0/8"}]}})
    assert "CIDR" in bad({"a": [{"cidr": "10.0.0.0"}]})
    assert "IP address" in bad({"a": [{"cidr": "300.1.1.1/8"}]})


# ------------------------------------------------------------------------------------------ $or
def test_or_top_level_and_nested() -> None:
    pattern = {"detail": {"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]},
    ]}}
    assert m(pattern)
    assert not m(pattern, {"detail": {"c-count": 9, "d-count": 11}})
    top = {"source": ["aws.ec2"], "$or": [{"detail-type": ["nope"]}, {"detail": {"state": ["terminated"]}}]}
    assert m(top)
    assert not m({"source": ["aws.s3"], "$or": top["$or"]})


def test_or_invalid() -> None:
    assert "There must have at least 2 Objects in $or relationship." == bad({"$or": [{"a": ["x"]}]})
    assert "Only JSON object is allowed in array of $or relationship." == bad({"$or": [{"a": ["x"]}, "b"]})
    assert "It must be an Array followed with $or." == bad({"$or": {"a": ["x"]}})


# ------------------------------------------------------------------------------------------ invalid patterns
def test_invalid_structures() -> None:
    assert bad({"source": "aws.ec2"}) == '"source" must be an object or an array'
    assert bad({"source": 5}) == '"source" must be an object or an array'
    assert bad({"source": []}) == "Empty arrays are not allowed"
    assert bad({}) == "Empty objects are not allowed"
    assert bad({"detail": {}}) == "Empty objects are not allowed"
    assert bad("[1]") == "Filter is not an object"
    assert "not valid JSON" in bad("{nope")
    assert "Unrecognized token 'NaN'" in bad('{"a": [NaN]}')
    assert bad({"a": [{"bogus": 1}]}) == "Unrecognized match type bogus"
    assert bad({"a": [{"prefix": 1}]}) == "prefix match pattern must be a string"
    assert bad({"a": [{"prefix": "x", "suffix": "y"}]}) == "Only one key allowed in match expression"
    assert bad({"a": [{}]}) == "Match expression name not found"
    assert bad({"a": [["nested"]]}) == "Match value must be String, number, true, false, or null"
    assert bad({"a": [{"equals-ignore-case": 1}]}) == "equals-ignore-case match pattern must be a string"
    assert bad({"a": [{"wildcard": 1}]}) == "wildcard match pattern must be a string"


def test_error_message_wording_by_dialect() -> None:
    with pytest.raises(PatternError) as info:
        pattern_compile({"source": "x"})
    assert info.value.message == 'Event pattern is not valid. Reason: "source" must be an object or an array'
    assert str(info.value) == info.value.message
    with pytest.raises(PatternError) as info:
        pattern_compile({"source": "x"}, dialect="sns")
    assert info.value.message == '"source" must be an object or an array'
    with pytest.raises(ValueError):
        pattern_compile({"a": ["x"]}, dialect="nope")


def test_string_patterns_and_helpers() -> None:
    text = json.dumps({"source": ["aws.ec2"]})
    compiled = pattern_compile(text)
    assert compiled.matches(EC2_EVENT) and compiled.source == {"source": ["aws.ec2"]}
    assert pattern_matches(text, EC2_EVENT)


# ------------------------------------------------------------------------------------------ lambda_filter
def test_lambda_filter_parses_json_sqs_bodies() -> None:
    record = {"messageId": "1", "body": json.dumps({"kind": "order", "total": 12}), "attributes": {}}
    assert m({"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}}, record, "lambda_filter")
    assert not m({"body": {"kind": ["refund"]}}, record, "lambda_filter")
    plain = {"messageId": "2", "body": "hello world"}
    assert m({"body": [{"prefix": "hello"}]}, plain, "lambda_filter")
    assert not m({"body": {"kind": ["order"]}}, plain, "lambda_filter")
    assert not m({"body": [{"prefix": "{"}]}, record, "lambda_filter")  # JSON bodies are objects, not text


# ------------------------------------------------------------------------------------------ sns
def attrs(**values: tuple[str, str]) -> dict:
    return {name: {"DataType": t, "StringValue": v} for name, (t, v) in values.items()}


def sns(policy: dict, event: object, scope: str = "MessageAttributes") -> bool:
    return pattern_compile(policy, dialect="sns", scope=scope).matches(event)


def test_sns_attributes_by_data_type() -> None:
    message = attrs(store=("String", "example_corp"), price=("Number", "210.75"),
                    colors=("String.Array", '["red", "blue", 5]'), blob=("Binary", "AAAA"))
    assert sns({"store": ["example_corp"]}, message)
    assert sns({"price": [{"numeric": [">", 200]}]}, message)
    assert sns({"price": [210.75]}, message)
    assert not sns({"price": ["210.75"]}, message)
    assert not sns({"store": [{"numeric": [">", 0]}]}, attrs(store=("String", "5")))
    assert sns({"colors": ["blue"]}, message)
    assert sns({"colors": [5]}, message)
    assert not sns({"colors": ["green"]}, message)
    assert not sns({"blob": [{"exists": True}]}, message)
    assert sns({"missing": [{"exists": False}]}, message)
    assert sns({"store": [{"anything-but": {"prefix": "other"}}]}, message)
    assert sns({"store": [{"suffix": "_corp"}, "x"], "price": [{"numeric": [">=", 100, "<", 300]}]}, message)
    assert sns({"$or": [{"store": ["nope"]}, {"price": [{"numeric": ["<", 300]}]}]}, message)
    assert not sns({"store": ["example_corp"]}, {})


def test_sns_message_body_scope() -> None:
    body = json.dumps({"order": {"status": "paid", "total": 50}})
    assert sns({"order": {"status": ["paid"]}}, body, "MessageBody")
    assert sns({"order": {"total": [{"numeric": [">", 10]}]}}, json.loads(body), "MessageBody")
    assert not sns({"order": {"status": ["paid"]}}, "not json", "MessageBody")
    assert not sns({"order": {"status": ["paid"]}}, "[1]", "MessageBody")


def test_sns_limits_and_operators() -> None:
    assert bad({"a": {"b": ["x"]}}, "sns") == "Filter policy scope MessageAttributes does not support nested filter policy"
    pattern_compile({"a": {"b": ["x"]}}, dialect="sns", scope="MessageBody")
    five = {f"k{i}": ["x"] for i in range(5)}
    pattern_compile(five, dialect="sns")
    assert bad({**five, "k5": ["x"]}, "sns") == "Filter policy can not have more than 5 keys"
    pattern_compile({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(15)]}, dialect="sns")  # 150
    assert bad({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]}, "sns") == \
        "Filter policy is too complex"
    assert bad({"a": [{"wildcard": "x*"}]}, "sns") == "Unrecognized match type wildcard"
    assert "between" in bad({"a": [{"numeric": [">", 1.5e9]}]}, "sns")
    pattern_compile({"a": [{"numeric": [">", 1.5e9]}]})  # EventBridge allows it
    with pytest.raises(ValueError):
        pattern_compile({"a": ["x"]}, dialect="sns", scope="Nope")
