"""CloudWatch Logs filter patterns (logs/patterns.py): pure, no services."""

from __future__ import annotations

import json

import pytest

from logs.patterns import PATTERN_MAX, PatternError, compile_pattern


def m(pattern: str | None, message: str) -> bool:
    return compile_pattern(pattern)(message)


def test_empty_matches_everything() -> None:
    assert m(None, "x") and m("", "x") and m("   ", "")


def test_terms() -> None:
    assert m("ERROR", "[ERROR] boom") and not m("ERROR", "[error] boom")  # case-sensitive
    assert m("ERROR boom", "boom ERROR") and not m("ERROR boom", "ERROR only")
    assert m('"user not found"', "lookup: user not found") and not m('"user not found"', "user was not found")
    assert m("?ERROR ?WARN", "WARN disk") and m("?ERROR ?WARN", "ERROR x") and not m("?ERROR ?WARN", "INFO")
    assert m("ERROR -Exiting", "ERROR retry") and not m("ERROR -Exiting", "ERROR Exiting")
    assert m("time*out", "a timed out") and not m("time*out", "out of time")
    assert m("%[0-9]{3}ms%", "took 120ms") and not m("%[0-9]{3}ms%", "took 12ms")


def test_json_comparisons() -> None:
    event = json.dumps({"level": "ERROR", "latency": 150, "user": {"id": "u-17", "roles": ["admin", "dev"]}, "ok": False, "gone": None,
                        "items": [{"id": 3}]})
    assert m('{ $.level = "ERROR" }', event) and not m('{ $.level = "INFO" }', event)
    assert m("{ $.level = ERR* }", event) and m('{ $.level != "INFO" }', event)
    assert m("{ $.latency > 100 }", event) and not m("{ $.latency < 100 }", event) and m("{ $.latency >= 150 }", event) and m("{ $.latency <= 150 }", event)
    assert m("{ $.latency = 150 }", event) and m("{ $.latency != 1 }", event)
    assert m('{ $.user.id = "u-17" }', event) and m('{ $.user.roles[0] = "admin" }', event) and not m('{ $.user.roles[1] = "admin" }', event)
    assert m('{ $.user.roles[*] = "dev" }', event) and m("{ $.items[0].id = 3 }", event)
    assert m('{ $.level = "ERROR" && $.latency > 100 }', event) and not m('{ $.level = "ERROR" && $.latency > 1000 }', event)
    assert m('{ $.level = "INFO" || $.latency > 100 }', event) and m('{ ($.level = "INFO" || $.level = "ERROR") && $.ok IS FALSE }', event)
    assert m("{ $.gone IS NULL }", event) and not m("{ $.ok IS NULL }", event) and m("{ $.ok IS FALSE }", event) and not m("{ $.ok IS TRUE }", event)
    assert m("{ $.missing NOT EXISTS }", event) and not m("{ $.level NOT EXISTS }", event)
    assert not m('{ $.level = "ERROR" }', "not json") and not m('{ $.level = "ERROR" }', "[1, 2]")
    assert not m("{ $.level > 1 }", event)  # a string is not a number


@pytest.mark.parametrize("pattern", ['{ $.level = "ERROR" ', "{ $.level }", "{ level = 1 }", "{ $.a > abc }", '"unbalanced', "{ $.a = }",
                                     "{ $.a IS MAYBE }", "[a, b", "%[%", "{ ($.a = 1 }"])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_pattern_length_edge() -> None:
    compile_pattern("a" * PATTERN_MAX)
    with pytest.raises(PatternError):
        compile_pattern("a" * (PATTERN_MAX + 1))


def test_space_delimited() -> None:
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326'
    assert m("[ip, identity, user, timestamp, request, status, bytes]", line)
    assert m("[ip, identity, user, timestamp, request, status = 404, bytes]", line)
    assert m("[ip, identity, user, timestamp, request, status = 4*, bytes > 1000]", line)
    assert not m("[ip, identity, user, timestamp, request, status = 5*, bytes]", line)
    assert m('[ip, identity, user = "frank", ...]', line) and m("[ip, ..., status = 404, bytes]", line)
    assert m("[..., status = 404 || status = 500, bytes]", line) and not m("[..., status = 200 || status = 500, bytes]", line)
    assert m('[ip, identity, user, timestamp, request = "GET /apache*", ...]', line)
    assert not m("[a, b, c]", "only two")
