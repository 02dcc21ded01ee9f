"""Lambda's event filtering (``FilterCriteria``): which records of a source a mapping sends to its function.

A pattern is a JSON object mirroring the record: nested objects descend into the record, and a list holds the
rules a value must meet one of: a literal (string, number, ``null``; ``""`` for empty), ``{"prefix": s}``,
``{"suffix": s}``, ``{"equals-ignore-case": s}``, ``{"anything-but": value | [values] | {"prefix": s}}``,
``{"numeric": [">", 0, "<=", 5]}`` (numbers only) and ``{"exists": true | false}``. Every key of a pattern must
match (AND); a mapping's filters are ORed, and a record no filter matches is dropped, never invoked with.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from core.errors import ValidationFailed

PATTERN_MAX = 4096
_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists"})


def _invalid(why: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid filter pattern definition: {why}", details={"field": "FilterCriteria"})


def _rule_check(rule: Any) -> None:
    if rule is None or isinstance(rule, str | int | float | bool):
        return
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in _OPERATORS:
        raise _invalid(f"{json.dumps(rule)} is not a rule (a value, or one of {', '.join(sorted(_OPERATORS))}).")
    name, value = next(iter(rule.items()))
    if name == "numeric":
        if not isinstance(value, list) or not value or len(value) % 2 or any(
                op not in _NUMERIC or isinstance(n, bool) or not isinstance(n, int | float) for op, n in zip(value[::2], value[1::2], strict=True)):
            raise _invalid("numeric takes [operator, number, ...] with operators =, <, <=, >, >=.")
    elif name == "exists" and not isinstance(value, bool):
        raise _invalid("exists takes true or false.")
    elif name in ("prefix", "suffix", "equals-ignore-case") and not isinstance(value, str):
        raise _invalid(f"{name} takes a string.")


def _pattern_check(pattern: Any) -> None:
    if not isinstance(pattern, dict):
        raise _invalid("a pattern is a JSON object.")
    for value in pattern.values():
        if isinstance(value, dict):
            _pattern_check(value)
        elif isinstance(value, list):
            for rule in value:
                _rule_check(rule)
        else:
            raise _invalid(f"{json.dumps(value)} must be a list of rules or a nested object.")


def patterns_parse(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of ``FilterCriteria`` (``[]``: every record passes); ``ValidationFailed`` for a bad one."""
    patterns = []
    for entry in (filter_criteria or {}).get("Filters") or []:
        text = entry.get("Pattern") or ""
        if len(text) > PATTERN_MAX:
            raise _invalid(f"a pattern is at most {PATTERN_MAX} characters.")
        try:
            pattern = json.loads(text)
        except ValueError:
            raise _invalid(f"{text!r} is not JSON.") from None
        _pattern_check(pattern)
        patterns.append(pattern)
    return patterns


def _rule_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        if value is _MISSING:
            return False
        if isinstance(rule, bool) or isinstance(value, bool):
            return value is rule
        return value == rule
    name, arg = next(iter(rule.items()))
    if name == "exists":
        return (value is not _MISSING) == arg
    if value is _MISSING:
        return False
    if name == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if name == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == arg.lower()
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(_NUMERIC[op](value, n) for op, n in zip(arg[::2], arg[1::2], strict=True))
    if name == "anything-but":
        if isinstance(arg, dict):
            return not _rule_matches(arg, value)
        excluded = arg if isinstance(arg, list) else [arg]
        return value not in excluded
    return False


def _leaf_matches(rules: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_rule_matches(rule, v) for rule in rules for v in values) or (not values and any(_rule_matches(r, _MISSING) for r in rules))


def pattern_matches(pattern: dict[str, Any], record: Any) -> bool:
    for key, wanted in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(wanted, dict):
            if not pattern_matches(wanted, value if isinstance(value, dict) else {}):
                return False
        elif not _leaf_matches(wanted, value):
            return False
    return True


def record_passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether any pattern matches (no patterns: every record passes)."""
    return not patterns or any(pattern_matches(p, record) for p in patterns)
