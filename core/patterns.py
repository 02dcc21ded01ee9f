"""The event-pattern language shared by EventBridge rules, Lambda event filtering and SNS filter policies.

Pure (no Django, no I/O). ``pattern_compile(pattern, dialect=...)`` validates a pattern (a JSON object or its
text) and returns a ``Pattern`` whose ``matches(event)`` answers for one event. Invalid patterns raise
``PatternError`` with the reason worded as AWS words it; ``.message`` is the whole message of the dialect's
service (EventBridge: "Event pattern is not valid. Reason: ...").

The language (EventBridge's "content filtering"): an object's fields must all match (AND); a leaf is an array
of alternatives (OR): exact strings / numbers / ``true`` / ``false`` / ``null``, and the operators
``prefix`` / ``suffix`` (each optionally ``{"equals-ignore-case": ...}``), ``equals-ignore-case``,
``wildcard`` (``*``; ``\\*`` and ``\\\\`` escape), ``anything-but`` (a value, a list of strings or of numbers,
``{"prefix"}``, ``{"suffix"}``, ``{"equals-ignore-case"}``, ``{"wildcard"}``), ``numeric`` ranges,
``exists``, ``cidr`` (IPv4 and IPv6); ``"$or": [{...}, {...}]`` at any object level. When the event holds an
array where the pattern expects a value, the field matches if any element matches; an array of objects
matches a nested pattern if any one element matches it whole.

Dialects:
- ``eventbridge``: the event is the JSON event (envelope and ``detail``).
- ``lambda_filter``: Lambda event-source-mapping ``FilterCriteria``; the event is one record, and an SQS
  record's ``body`` is matched as JSON when it holds a JSON object or array (else as the plain string).
- ``sns``: subscription filter policies. ``scope="MessageAttributes"`` (default): the event is the message's
  attributes ``{name: {"DataType": ..., "StringValue": ...}}``; each attribute is matched by its data type
  (``String``; ``String.Array`` - a JSON array, any element may match; ``Number`` - numeric matching; binary
  attributes are never matched), and policies may not nest. ``scope="MessageBody"``: the event is the
  message body (JSON text or a parsed object) matched like an EventBridge event; a body that is not a JSON
  object matches nothing. SNS's limits apply: 5 keys, 150 combinations, numbers within +/-1e9, no wildcard.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DIALECTS = ("eventbridge", "lambda_filter", "sns")
SNS_SCOPES = ("MessageAttributes", "MessageBody")

EVENTBRIDGE_PATTERN_MAX_LENGTH = 4096  # PutRule's EventPattern
LAMBDA_FILTER_PATTERN_MAX_LENGTH = 4096  # FilterCriteria.Filters[].Pattern
SNS_FILTER_POLICY_MAX_BYTES = 256 * 1024
SNS_MAX_KEYS = 5
SNS_MAX_COMBINATIONS = 150
EVENTBRIDGE_NUMBER_LIMIT = 5.0e9
SNS_NUMBER_LIMIT = 1.0e9

OR_KEY = "$or"
_MISSING = object()


class PatternError(ValueError):
    """An invalid pattern; ``reason`` is the bare reason, ``message`` the dialect's full wording."""

    def __init__(self, reason: str, *, dialect: str = "eventbridge") -> None:
        self.reason = reason
        self.dialect = dialect
        if dialect == "eventbridge":
            message = f"Event pattern is not valid. Reason: {reason}"
        elif dialect == "lambda_filter":
            message = f"Invalid filter pattern definition. Reason: {reason}"
        else:
            message = reason
        self.message = message
        super().__init__(message)


class _Invalid(Exception):
    """Raised inside the compiler; turned into a PatternError with the dialect's wording."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _num_eq(a: int | float, b: int | float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return float(a) == float(b)


# --------------------------------------------------------------------------------------------------- matchers
Matcher = Callable[[Any], bool]


def _exact(expected: Any) -> Matcher:
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v is expected
    if _is_number(expected):
        return lambda v: _is_number(v) and _num_eq(v, expected)
    return lambda v: isinstance(v, str) and v == expected


def _prefix(text: str, ignore_case: bool) -> Matcher:
    if ignore_case:
        low = text.lower()
        return lambda v: isinstance(v, str) and v.lower().startswith(low)
    return lambda v: isinstance(v, str) and v.startswith(text)


def _suffix(text: str, ignore_case: bool) -> Matcher:
    if ignore_case:
        low = text.lower()
        return lambda v: isinstance(v, str) and v.lower().endswith(low)
    return lambda v: isinstance(v, str) and v.endswith(text)


def _ignore_case(text: str) -> Matcher:
    low = text.lower()
    return lambda v: isinstance(v, str) and v.lower() == low


def _wildcard_regex(text: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    previous_star = False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 < len(text) and text[i + 1] in "*\\":
                parts.append(re.escape(text[i + 1]))
                i += 2
                previous_star = False
                continue
            raise _Invalid(f"Invalid escape character at pos {i}")
        if ch == "*":
            if previous_star:
                raise _Invalid(f"Consecutive wildcard characters at pos {i}")
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(ch))
            previous_star = False
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _wildcard(text: str) -> Matcher:
    regex = _wildcard_regex(text)
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _numeric_range(low: float | None, low_open: bool, high: float | None, high_open: bool) -> Matcher:
    def match(v: Any) -> bool:
        if not _is_number(v):
            return False
        x = float(v)
        if low is not None and (x <= low if low_open else x < low):
            return False
        if high is not None and (x >= high if high_open else x > high):
            return False
        return True

    return match


def _cidr(text: str) -> Matcher:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise _Invalid(f"Malformed CIDR, one '/' required: {text}" if "/" not in text
                       else f"Nonstandard IP address: {text}") from None
    if "/" not in text:
        raise _Invalid(f"Malformed CIDR, one '/' required: {text}")

    def match(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            address = ipaddress.ip_address(v.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network

    return match


@dataclass
class _Leaf:
    """An array of alternatives for one field; ``exists`` entries test presence of any leaf value."""

    matchers: list[Matcher] = field(default_factory=list)
    exists: list[bool] = field(default_factory=list)
    count: int = 0

    def match(self, value: Any) -> bool:
        values = list(_leaf_values(value))
        for wanted in self.exists:
            if wanted == bool(values):
                return True
        return any(m(v) for v in values for m in self.matchers)


@dataclass
class _Object:
    """All fields must match; each ``$or`` group needs one matching branch."""

    fields: list[tuple[str, _Leaf | _Object]] = field(default_factory=list)
    ors: list[list[_Object]] = field(default_factory=list)

    def match(self, obj: Any) -> bool:
        for key, node in self.fields:
            value = obj.get(key, _MISSING) if isinstance(obj, dict) else _MISSING
            if isinstance(node, _Leaf):
                if not node.match(value):
                    return False
            elif not _match_nested(node, value):
                return False
        return all(any(branch.match(obj) for branch in group) for group in self.ors)


def _match_nested(node: _Object, value: Any) -> bool:
    if isinstance(value, dict):
        return node.match(value)
    if isinstance(value, list):
        objects = [v for v in _flatten(value) if isinstance(v, dict)]
        if objects:
            return any(node.match(o) for o in objects)
    return node.match(_MISSING)


def _flatten(values: list[Any]) -> Iterable[Any]:
    for v in values:
        if isinstance(v, list):
            yield from _flatten(v)
        else:
            yield v


def _leaf_values(value: Any) -> Iterable[Any]:
    if value is _MISSING or isinstance(value, dict):
        return ()
    if isinstance(value, list):
        return (v for v in _flatten(value) if not isinstance(v, dict))
    return (value,)


# --------------------------------------------------------------------------------------------------- compiler
class _Compiler:
    def __init__(self, dialect: str, scope: str) -> None:
        self.dialect = dialect
        self.scope = scope
        self.limit = SNS_NUMBER_LIMIT if dialect == "sns" else EVENTBRIDGE_NUMBER_LIMIT
        self.leaf_keys: set[str] = set()

    def number(self, value: Any, what: str) -> float:
        if not _is_number(value):
            raise _Invalid(f"Value of {what} must be numeric")
        x = float(value)
        if not -self.limit <= x <= self.limit:
            raise _Invalid(f"Value must be between {-self.limit:.1E} and {self.limit:.1E}, inclusive"
                           .replace("E+0", "E").replace("E-0", "E-"))
        return x

    def object(self, spec: dict[str, Any], path: str, depth: int, in_or: bool = False) -> _Object:
        if not spec:
            raise _Invalid("Empty objects are not allowed")
        node = _Object()
        for key, value in spec.items():
            if key == OR_KEY:
                node.ors.append(self.or_group(value, path, depth))
                continue
            if isinstance(value, dict):
                if self.dialect == "sns" and self.scope == "MessageAttributes":
                    raise _Invalid("Filter policy scope MessageAttributes does not support nested filter policy")
                node.fields.append((key, self.object(value, f"{path}{key}.", depth + 1)))
            elif isinstance(value, list):
                self.leaf_keys.add(path + key)
                node.fields.append((key, self.leaf(value)))
            else:
                raise _Invalid(f'"{key}" must be an object or an array')
        return node

    def or_group(self, value: Any, path: str, depth: int) -> list[_Object]:
        if not isinstance(value, list):
            raise _Invalid(f"It must be an Array followed with {OR_KEY}.")
        branches = []
        for item in value:
            if not isinstance(item, dict):
                raise _Invalid(f"Only JSON object is allowed in array of {OR_KEY} relationship.")
            branches.append(self.object(item, path, depth, in_or=True))
        if len(branches) < 2:
            raise _Invalid(f"There must have at least 2 Objects in {OR_KEY} relationship.")
        return branches

    def leaf(self, values: list[Any]) -> _Leaf:
        if not values:
            raise _Invalid("Empty arrays are not allowed")
        leaf = _Leaf(count=len(values))
        for item in values:
            if isinstance(item, dict):
                self.operator(item, leaf)
            elif isinstance(item, list):
                raise _Invalid("Match value must be String, number, true, false, or null")
            else:
                leaf.matchers.append(_exact(item))
        return leaf

    def operator(self, spec: dict[str, Any], leaf: _Leaf) -> None:
        if not spec:
            raise _Invalid("Match expression name not found")
        if len(spec) > 1:
            raise _Invalid("Only one key allowed in match expression")
        (name, arg), = spec.items()
        if name == "prefix" or name == "suffix":
            text, ignore_case = self.affix_argument(name, arg)
            leaf.matchers.append(_prefix(text, ignore_case) if name == "prefix" else _suffix(text, ignore_case))
        elif name == "equals-ignore-case":
            if not isinstance(arg, str):
                raise _Invalid("equals-ignore-case match pattern must be a string")
            leaf.matchers.append(_ignore_case(arg))
        elif name == "wildcard" and self.dialect != "sns":
            if not isinstance(arg, str):
                raise _Invalid("wildcard match pattern must be a string")
            leaf.matchers.append(_wildcard(arg))
        elif name == "anything-but":
            leaf.matchers.append(self.anything_but(arg))
        elif name == "numeric":
            leaf.matchers.append(self.numeric(arg))
        elif name == "exists":
            if not isinstance(arg, bool):
                raise _Invalid("exists match pattern must be either true or false.")
            leaf.exists.append(arg)
        elif name == "cidr":
            if not isinstance(arg, str):
                raise _Invalid("cidr match pattern must be a string")
            leaf.matchers.append(_cidr(arg))
        else:
            raise _Invalid(f"Unrecognized match type {name}")

    def affix_argument(self, name: str, arg: Any) -> tuple[str, bool]:
        if isinstance(arg, dict):
            if len(arg) != 1 or "equals-ignore-case" not in arg:
                raise _Invalid(f"Unsupported {name} pattern: {', '.join(arg) or '{}'}")
            inner = arg["equals-ignore-case"]
            if not isinstance(inner, str):
                raise _Invalid("equals-ignore-case match pattern must be a string")
            return inner, True
        if not isinstance(arg, str):
            raise _Invalid(f"{name} match pattern must be a string")
        return arg, False

    def anything_but(self, arg: Any) -> Matcher:
        if isinstance(arg, dict):
            if len(arg) != 1:
                raise _Invalid("Only one key allowed in match expression" if arg
                               else "Anything-But expression name not found")
            (op, inner), = arg.items()
            if op in ("prefix", "suffix"):
                if not isinstance(inner, str):
                    raise _Invalid("prefix/suffix match pattern must be a string")
                if not inner:
                    raise _Invalid("Null prefix/suffix not allowed")
                positive = _prefix(inner, False) if op == "prefix" else _suffix(inner, False)
                return lambda v: not positive(v)
            if op == "equals-ignore-case" or (op == "wildcard" and self.dialect != "sns"):
                texts = inner if isinstance(inner, list) else [inner]
                if not texts or not all(isinstance(t, str) for t in texts):
                    raise _Invalid(f"Inside anything-but/{op} list, number|start|null|boolean is not supported.")
                positives = [_ignore_case(t) if op == "equals-ignore-case" else _wildcard(t) for t in texts]
                return lambda v: not any(p(v) for p in positives)
            raise _Invalid(f"Unsupported anything-but pattern: {op}")
        if isinstance(arg, list):
            if not arg:
                raise _Invalid("Empty arrays are not allowed")
            kinds = set()
            for item in arg:
                if isinstance(item, str):
                    kinds.add("s")
                elif _is_number(item):
                    self.number(item, "anything-but")
                    kinds.add("n")
                else:
                    raise _Invalid("Inside anything but list, start|null|boolean is not supported.")
            if len(kinds) > 1:
                raise _Invalid("Inside anything but list, either all values are number or string, "
                               "mixed type is not supported")
            excluded = [_exact(item) for item in arg]
            return lambda v: not any(e(v) for e in excluded)
        if isinstance(arg, str) or _is_number(arg):
            if _is_number(arg):
                self.number(arg, "anything-but")
            excluded_one = _exact(arg)
            return lambda v: not excluded_one(v)
        raise _Invalid("Value of anything-but must be an array or single string/number value.")

    def numeric(self, arg: Any) -> Matcher:
        if not isinstance(arg, list):
            raise _Invalid("Value of numeric must be an array.")
        if not arg or not isinstance(arg[0], str):
            raise _Invalid(f"Invalid member in numeric match: {json.dumps(arg[0]) if arg else ']'}")
        op = arg[0]
        if op not in ("=", "<", "<=", ">", ">="):
            raise _Invalid(f"Unrecognized numeric range operator: {op}")
        if len(arg) < 2:
            raise _Invalid(f"Value of {op} must be numeric")
        value = self.number(arg[1], op)
        if op == "=":
            if len(arg) > 2:
                raise _Invalid("Too many elements in numeric expression")
            return lambda v: _is_number(v) and float(v) == value
        if op in ("<", "<="):
            if len(arg) > 2:
                raise _Invalid("Too many elements in numeric expression")
            return _numeric_range(None, False, value, op == "<")
        if len(arg) == 2:
            return _numeric_range(value, op == ">", None, False)
        top_op = arg[2]
        if not isinstance(top_op, str):
            raise _Invalid(f"Bad value in numeric range: {json.dumps(top_op)}")
        if top_op not in ("<", "<="):
            raise _Invalid(f"Bad numeric range operator: {top_op}")
        if len(arg) < 4:
            raise _Invalid(f"Value of {top_op} must be numeric")
        top = self.number(arg[3], top_op)
        if len(arg) > 4:
            raise _Invalid("Too many terms in numeric range expression")
        if value >= top:
            raise _Invalid("Bottom must be less than top")
        return _numeric_range(value, op == ">", top, top_op == "<")


def _combinations(node: _Object) -> int:
    total = 1
    for _key, child in node.fields:
        total *= child.count if isinstance(child, _Leaf) else _combinations(child)
    for group in node.ors:
        total *= sum(_combinations(branch) for branch in group)
    return total


def _parse(pattern: dict[str, Any] | str, dialect: str) -> Any:
    if not isinstance(pattern, str):
        return pattern

    def no_constants(name: str) -> Any:
        raise _Invalid(f"Unrecognized token '{name}': was expecting (JSON String, Number, Array, Object "
                       "or token 'null', 'true' or 'false')")

    try:
        return json.loads(pattern, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"Filter is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise _Invalid("Filter is nested too deeply") from None


# --------------------------------------------------------------------------------------------------- public API
class Pattern:
    """A compiled pattern: ``matches(event)`` for its dialect; ``source`` is the parsed pattern."""

    def __init__(self, root: _Object, source: dict[str, Any], dialect: str, scope: str) -> None:
        self._root = root
        self.source = source
        self.dialect = dialect
        self.scope = scope

    def matches(self, event: Any) -> bool:
        """Whether ``event`` (a parsed JSON event, a Lambda record, or SNS attributes/body) matches."""
        if self.dialect == "lambda_filter":
            return self._root.match(lambda_filter_record(event))
        if self.dialect == "sns":
            if self.scope == "MessageBody":
                body = event
                if isinstance(body, str | bytes):
                    try:
                        body = json.loads(body)
                    except (ValueError, RecursionError):
                        return False
                return isinstance(body, dict) and self._root.match(body)
            return self._root.match(sns_attribute_values(event or {}))
        return self._root.match(event)

    def __repr__(self) -> str:
        return f"Pattern({self.dialect}, {json.dumps(self.source)[:80]})"


def pattern_compile(pattern: dict[str, Any] | str, *, dialect: str = "eventbridge",
                    scope: str = "MessageAttributes") -> Pattern:
    """Validate ``pattern`` for ``dialect`` and compile it; raises ``PatternError`` with AWS's reason."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown pattern dialect {dialect!r}")
    if dialect == "sns" and scope not in SNS_SCOPES:
        raise ValueError(f"unknown SNS filter policy scope {scope!r}")
    try:
        if dialect == "sns" and isinstance(pattern, str) and len(pattern.encode()) > SNS_FILTER_POLICY_MAX_BYTES:
            raise _Invalid("Filter policy is too large")
        source = _parse(pattern, dialect)
        if not isinstance(source, dict):
            raise _Invalid("Filter is not an object")
        compiler = _Compiler(dialect, scope)
        try:
            root = compiler.object(source, "", 1)
        except RecursionError:
            raise _Invalid("Filter is nested too deeply") from None
        if dialect == "sns":
            if len(compiler.leaf_keys) > SNS_MAX_KEYS:
                raise _Invalid(f"Filter policy can not have more than {SNS_MAX_KEYS} keys")
            if _combinations(root) > SNS_MAX_COMBINATIONS:
                raise _Invalid("Filter policy is too complex")
    except _Invalid as exc:
        raise PatternError(str(exc), dialect=dialect) from None
    return Pattern(root, source, dialect, scope)


def pattern_matches(pattern: dict[str, Any] | str, event: Any, *, dialect: str = "eventbridge",
                    scope: str = "MessageAttributes") -> bool:
    """Compile and match once (TestEventPattern's use)."""
    return pattern_compile(pattern, dialect=dialect, scope=scope).matches(event)


def lambda_filter_record(record: Any) -> Any:
    """The record as Lambda's filters see it: an SQS ``body`` holding a JSON object or array is parsed."""
    if isinstance(record, dict) and isinstance(record.get("body"), str):
        try:
            parsed = json.loads(record["body"])
        except (ValueError, RecursionError):
            return record
        if isinstance(parsed, dict | list):
            return {**record, "body": parsed}
    return record


def sns_attribute_values(attributes: dict[str, Any]) -> dict[str, Any]:
    """SNS message attributes as matchable values by DataType (String, String.Array, Number; Binary dropped)."""
    values: dict[str, Any] = {}
    for name, attribute in attributes.items():
        if not isinstance(attribute, dict):
            continue
        data_type = str(attribute.get("DataType") or attribute.get("Type") or "String")
        raw = attribute.get("StringValue", attribute.get("Value"))
        base = data_type.split(".", 1)[0]
        if raw is None or base == "Binary":
            continue
        if data_type == "String.Array":
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(parsed, list):
                values[name] = [v for v in parsed if not isinstance(v, dict | list)]
        elif base == "Number":
            try:
                number = float(raw)
            except (TypeError, ValueError):
                continue
            values[name] = number
        else:
            values[name] = str(raw)
    return values
