"""IAM ``Condition`` blocks: every operator AWS documents for identity and trust policies, pure logic.

A block is ``{operator: {key: value-or-values}}``. All operators and all keys must hold; the values of one
key are alternatives. Operators may carry the set prefixes ``ForAnyValue:`` / ``ForAllValues:`` and the
``IfExists`` suffix; ``Null`` tests presence. A negated operator (``StringNotEquals``, ``NotIpAddress``, ...)
holds when the key is absent, as IAM documents. Context keys are matched case-insensitively.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

ContextValue = str | list[str]
_MISSING = object()
# A policy variable's value (and the escapes ${*} ${?}) is literal text: its * and ? are marked with these
# private-use characters so wildcard matching treats them as plain characters.
LITERAL_STAR, LITERAL_QUESTION = "\ue000", "\ue001"


def literal_protect(text: str) -> str:
    return text.replace("*", LITERAL_STAR).replace("?", LITERAL_QUESTION)


def literal_restore(text: str) -> str:
    return text.replace(LITERAL_STAR, "*").replace(LITERAL_QUESTION, "?")


@lru_cache(maxsize=2048)
def glob_regex(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """``*`` any run of characters, ``?`` exactly one; everything else literal."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(literal_restore(c)) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return glob_regex(pattern, ignore_case=ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ARN matching: the six colon-separated parts compared one by one, wildcards allowed in each."""
    if pattern == "*":
        return True
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return glob_match(pattern, value)
    return all(glob_match(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value: str) -> datetime.datetime | None:
    text = str(value).strip()
    number = _number(text)
    if number is not None:
        return datetime.datetime.fromtimestamp(number, tz=datetime.UTC)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _ordered(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    def compare(context: str, policy: str) -> bool:
        left, right = parse(context), parse(policy)
        return left is not None and right is not None and test(left, right)

    return compare


def _ip(context: str, policy: str) -> bool:
    try:
        return ipaddress.ip_address(context.strip()) in ipaddress.ip_network(policy.strip(), strict=False)
    except ValueError:
        return False


def _binary(context: str, policy: str) -> bool:
    try:
        return base64.b64decode(context) == base64.b64decode(policy)
    except (binascii.Error, ValueError):
        return False


# operator -> (compare(context_value, policy_value), negated, takes policy variables)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool, bool]] = {
    "StringEquals": (lambda c, p: c == p, False, True),
    "StringNotEquals": (lambda c, p: c == p, True, True),
    "StringEqualsIgnoreCase": (lambda c, p: c.casefold() == p.casefold(), False, True),
    "StringNotEqualsIgnoreCase": (lambda c, p: c.casefold() == p.casefold(), True, True),
    "StringLike": (lambda c, p: glob_match(p, c), False, True),
    "StringNotLike": (lambda c, p: glob_match(p, c), True, True),
    "NumericEquals": (_ordered(_number, lambda a, b: a == b), False, False),
    "NumericNotEquals": (_ordered(_number, lambda a, b: a == b), True, False),
    "NumericLessThan": (_ordered(_number, lambda a, b: a < b), False, False),
    "NumericLessThanEquals": (_ordered(_number, lambda a, b: a <= b), False, False),
    "NumericGreaterThan": (_ordered(_number, lambda a, b: a > b), False, False),
    "NumericGreaterThanEquals": (_ordered(_number, lambda a, b: a >= b), False, False),
    "DateEquals": (_ordered(_date, lambda a, b: a == b), False, False),
    "DateNotEquals": (_ordered(_date, lambda a, b: a == b), True, False),
    "DateLessThan": (_ordered(_date, lambda a, b: a < b), False, False),
    "DateLessThanEquals": (_ordered(_date, lambda a, b: a <= b), False, False),
    "DateGreaterThan": (_ordered(_date, lambda a, b: a > b), False, False),
    "DateGreaterThanEquals": (_ordered(_date, lambda a, b: a >= b), False, False),
    "Bool": (lambda c, p: c.lower() == p.lower(), False, False),
    "BinaryEquals": (_binary, False, False),
    "IpAddress": (_ip, False, False),
    "NotIpAddress": (_ip, True, False),
    "ArnEquals": (lambda c, p: arn_match(p, c), False, True),
    "ArnLike": (lambda c, p: arn_match(p, c), False, True),
    "ArnNotEquals": (lambda c, p: arn_match(p, c), True, True),
    "ArnNotLike": (lambda c, p: arn_match(p, c), True, True),
}


_WILDCARD_OPERATORS = {"StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}


def operator_known(name: str) -> bool:
    _, base, _ = _split(name)
    return base == "Null" or base in _OPERATORS


def _split(name: str) -> tuple[str, str, bool]:
    prefix = ""
    for candidate in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(candidate):
            prefix, name = candidate[:-1], name[len(candidate):]
    if_exists = name.endswith("IfExists") and name != "IfExists"
    return prefix, name[: -len("IfExists")] if if_exists else name, if_exists


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [("true" if v else "false") if isinstance(v, bool) else str(v) for v in items]


def condition_holds(block: Mapping[str, Any], context: Mapping[str, ContextValue], substitute: Callable[[str], str | None]) -> bool:
    """Whether ``block`` holds for ``context`` (keys already lower-cased); unknown operators never hold.

    ``substitute`` replaces policy variables in a value (``None``: a variable had no value, so that value
    cannot match).
    """
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            return False
        for key, raw_values in keys.items():
            if not _one_key(operator, context.get(str(key).lower(), _MISSING), _as_list(raw_values), substitute):
                return False
    return True


def _one_key(operator: str, found: Any, values: list[str], substitute: Callable[[str], str | None]) -> bool:
    prefix, base, if_exists = _split(operator)
    missing = found is _MISSING or found is None or found == []
    if base == "Null":
        want_missing = values[0].lower() == "true" if values else True
        return missing == want_missing
    spec = _OPERATORS.get(base)
    if spec is None:
        return False
    compare, negated, variables = spec
    if variables:
        values = [v for v in (substitute(v) for v in values) if v is not None]
        if base not in _WILDCARD_OPERATORS:
            values = [literal_restore(v) for v in values]
    if missing:
        if prefix == "ForAllValues":
            return True
        if prefix == "ForAnyValue":
            return False
        return if_exists or negated
    context_values = found if isinstance(found, list) else [found]
    context_values = [str(v) for v in context_values]

    def matches(value: str) -> bool:
        return any(compare(value, policy_value) for policy_value in values)

    if prefix == "ForAllValues":
        return all((not matches(c)) if negated else matches(c) for c in context_values)
    if prefix == "ForAnyValue":
        return any((not matches(c)) if negated else matches(c) for c in context_values)
    if negated:
        return not any(matches(c) for c in context_values)
    return any(matches(c) for c in context_values)
