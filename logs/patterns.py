"""CloudWatch Logs filter patterns, compiled to a predicate over one log event's message (pure: no I/O).

The syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):

- empty: every event;
- terms: ``ERROR Exception`` (every term present, case-sensitive, anywhere in the message), ``"a phrase"``,
  ``?ERROR ?WARN`` (at least one of the ``?`` terms), ``-term`` (absent), ``*`` in a term (any characters),
  ``%regex%`` (a regular expression searched in the message);
- JSON: ``{ $.level = "ERROR" }``, ``{ $.latency > 100 }``, ``!=``, ``<``, ``<=``, ``>=``, ``IS TRUE | FALSE |
  NULL``, ``NOT EXISTS``, ``&&``, ``||``, parentheses, selectors ``$.a.b[0]`` and ``$.list[*]``, ``*`` in
  string values; a message that is not a JSON object matches no JSON pattern;
- space-delimited: ``[ip, user, ..., status = 5*, bytes > 1000]``: the message's fields split on spaces
  ("quoted" and [bracketed] fields are one field), ``...`` any number of fields, conditions as above and
  joined with ``&&`` / ``||`` inside one field.

``compile_pattern(text)`` returns ``message -> bool`` or raises ``PatternError`` (a ``ValueError``) saying
what is wrong; the callers render it as ``InvalidParameterException``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

Matcher = Callable[[str], bool]
PATTERN_MAX = 1024

_MISSING = object()
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<word>[^\s()=!<>&|"]+))""")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_SELECTOR = re.compile(r"^\$(\.[A-Za-z0-9_@-]+|\[(\d+|\*)\])*$")


class PatternError(ValueError):
    """A filter pattern that does not parse; the message says where."""


def compile_pattern(text: str | None) -> Matcher:
    """The predicate of ``text``, a CloudWatch Logs filter pattern; ``None`` or blank matches everything."""
    if text is None or not text.strip():
        return lambda message: True
    if len(text) > PATTERN_MAX:
        raise PatternError(f"The filter pattern is {len(text)} characters long; the limit is {PATTERN_MAX}.")
    stripped = text.strip()
    if stripped.startswith("{"):
        if not stripped.endswith("}"):
            raise PatternError("Invalid filter pattern: a JSON pattern must end with '}'.")
        return _json_matcher(_Parser(stripped[1:-1]).parse_all())
    if stripped.startswith("["):
        if not stripped.endswith("]"):
            raise PatternError("Invalid filter pattern: a space-delimited pattern must end with ']'.")
        return _delimited_matcher(stripped[1:-1])
    return _terms_matcher(stripped)


# -- terms ---------------------------------------------------------------------------------------------------------
def _term(term: str) -> Matcher:
    if len(term) > 2 and term.startswith("%") and term.endswith("%"):
        try:
            regex = re.compile(term[1:-1])
        except re.error as error:
            raise PatternError(f"Invalid filter pattern: the regular expression {term!r} does not compile ({error}).") from None
        return lambda m: regex.search(m) is not None
    if "*" in term:
        regex = re.compile(".*".join(re.escape(part) for part in term.split("*")), re.DOTALL)
        return lambda m: regex.search(m) is not None
    return lambda m: term in m


def _terms_matcher(text: str) -> Matcher:
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        raise PatternError(f"Invalid filter pattern {text!r}: unbalanced quotes.") from None
    required: list[Matcher] = []
    excluded: list[Matcher] = []
    either: list[Matcher] = []
    for word in words:
        if word.startswith("?") and len(word) > 1:
            either.append(_term(word[1:]))
        elif word.startswith("-") and len(word) > 1:
            excluded.append(_term(word[1:]))
        elif word:
            required.append(_term(word))
    return lambda m: all(t(m) for t in required) and not any(t(m) for t in excluded) and (not either or any(t(m) for t in either))


# -- JSON and space-delimited expressions ----------------------------------------------------------------------------
Node = tuple[Any, ...]  # ("and"|"or", left, right) | ("cmp", selector, op, value) | ("is", selector, TRUE|FALSE|NULL|EXISTS|NOT EXISTS)


class _Parser:
    """Recursive descent over ``a = b && (c > 1 || d IS NULL)``."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            found = _TOKEN.match(text, position)
            if found is None:
                raise PatternError(f"Invalid filter pattern: unexpected character {text[position:].strip()[:1]!r} in {text.strip()!r}.")
            kind = found.lastgroup or "word"
            self.tokens.append((kind, found.group(kind)))
            position = found.end()
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PatternError("Invalid filter pattern: it ends where a selector, an operator or a value was expected.")
        self.at += 1
        return token

    def parse_all(self) -> Node:
        node = self.parse_or()
        if self.peek() is not None:
            raise PatternError(f"Invalid filter pattern: unexpected {self.peek()[1]!r}.")  # type: ignore[index]
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.peek() == ("op", "||"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_unary()
        while self.peek() == ("op", "&&"):
            self.take()
            node = ("and", node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.peek() == ("op", "("):
            self.take()
            node = self.parse_or()
            if self.take() != ("op", ")"):
                raise PatternError("Invalid filter pattern: a '(' is not closed.")
            return node
        kind, selector = self.take()
        if kind != "word":
            raise PatternError(f"Invalid filter pattern: expected a selector such as $.level, not {selector!r}.")
        value: Any
        following = self.peek()
        if following is not None and following[0] == "word" and following[1].upper() in ("IS", "NOT", "EXISTS"):
            word = self.take()[1].upper()
            if word == "EXISTS":
                return ("is", selector, "EXISTS")
            if word == "NOT":
                if self.take()[1].upper() != "EXISTS":
                    raise PatternError("Invalid filter pattern: NOT must be followed by EXISTS.")
                return ("is", selector, "NOT EXISTS")
            value = self.take()[1].upper()
            if value not in ("TRUE", "FALSE", "NULL"):
                raise PatternError(f"Invalid filter pattern: IS takes TRUE, FALSE or NULL, not {value!r}.")
            return ("is", selector, value)
        op_kind, op = self.take()
        if op_kind != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise PatternError(f"Invalid filter pattern: expected an operator (=, !=, <, >, <=, >=) after {selector}, not {op!r}.")
        value_kind, raw = self.take()
        if value_kind == "op":
            raise PatternError(f"Invalid filter pattern: expected a value after {selector} {op}, not {raw!r}.")
        if value_kind == "str":
            value = ("str", json.loads(raw) if "\\" in raw else raw[1:-1])
        elif _NUMBER.match(raw):
            value = ("num", float(raw))
        else:
            value = ("str", raw)
        if value[0] == "str" and op not in ("=", "!="):
            raise PatternError(f"Invalid filter pattern: {op} compares numbers; {raw!r} is not a number.")
        return ("cmp", selector, op, value)


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def _compare(found: Any, op: str, value: tuple[str, Any]) -> bool:
    kind, expected = value
    if kind == "num":
        if isinstance(found, bool) or not isinstance(found, int | float):
            if isinstance(found, str) and _NUMBER.match(found.strip()):
                found = float(found)
            else:
                return False
        return {"=": found == expected, "!=": found != expected, "<": found < expected, ">": found > expected,
                "<=": found <= expected, ">=": found >= expected}[op]
    if not isinstance(found, str):
        return False
    matched = _glob(expected).match(found) is not None if "*" in expected else found == expected
    return matched if op == "=" else not matched


def _evaluate(node: Node, lookup: Callable[[str], list[Any]]) -> bool:
    kind = node[0]
    if kind == "and":
        return _evaluate(node[1], lookup) and _evaluate(node[2], lookup)
    if kind == "or":
        return _evaluate(node[1], lookup) or _evaluate(node[2], lookup)
    values = lookup(node[1])
    if kind == "is":
        test = node[2]
        if test == "NOT EXISTS":
            return not values
        if test == "EXISTS":
            return bool(values)
        wanted = {"TRUE": True, "FALSE": False, "NULL": None}[test]
        return any(v is wanted for v in values)
    return any(_compare(v, node[2], node[3]) for v in values)


def _selector_path(selector: str) -> list[str | int | None]:
    """``$.a.b[0]`` → ``["a", "b", 0]``; ``[*]`` is ``None`` (every element)."""
    if not _SELECTOR.match(selector):
        raise PatternError(f"Invalid filter pattern: {selector!r} is not a JSON selector such as $.level or $.items[0].id.")
    path: list[str | int | None] = []
    for name, index in re.findall(r"\.([A-Za-z0-9_@-]+)|\[(\d+|\*)\]", selector):
        path.append(name if name else (None if index == "*" else int(index)))
    return path


def _walk(document: Any, path: list[str | int | None]) -> list[Any]:
    current = [document]
    for part in path:
        following: list[Any] = []
        for value in current:
            if part is None and isinstance(value, list):
                following.extend(value)
            elif isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
                following.append(value[part])
            elif isinstance(part, str) and isinstance(value, dict) and part in value:
                following.append(value[part])
        current = following
    return current


def _selectors(node: Node) -> list[str]:
    return _selectors(node[1]) + _selectors(node[2]) if node[0] in ("and", "or") else [node[1]]


def _json_matcher(tree: Node) -> Matcher:
    paths = {selector: _selector_path(selector) for selector in _selectors(tree)}

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        if not isinstance(document, dict):
            return False
        return _evaluate(tree, lambda selector: _walk(document, paths[selector]))

    return matches


_FIELD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')


def _split_top(text: str) -> list[str]:
    """The pattern's comma-separated fields (commas inside quotes stay)."""
    parts: list[str]
    current: list[str]
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    if any(not part for part in parts):
        raise PatternError("Invalid filter pattern: an empty field in the space-delimited pattern.")
    return parts


def _delimited_matcher(body: str) -> Matcher:
    fields: list[tuple[str, Node | None]] = []  # (name or "...", condition on that field)
    for part in _split_top(body):
        if part == "...":
            fields.append(("...", None))
            continue
        name = re.match(r"^[A-Za-z_][A-Za-z0-9_]*", part)
        if name is None:
            raise PatternError(f"Invalid filter pattern: field {part!r} must start with a name (letters, digits, underscores).")
        rest = part[name.end():].strip()
        if not rest:
            fields.append((name.group(0), None))
            continue
        tree = _Parser(part).parse_all()
        if any(selector != name.group(0) for selector in _selectors(tree)):
            raise PatternError(f"Invalid filter pattern: the condition of field {name.group(0)!r} names another field.")
        fields.append((name.group(0), tree))
    if sum(1 for name, _ in fields if name == "...") > 1:
        # One ellipsis is enough to be unambiguous here; more would need backtracking over every split.
        raise PatternError("Invalid filter pattern: Kiln supports one '...' in a space-delimited pattern.")

    def strip(value: str) -> str:
        return value[1:-1] if len(value) >= 2 and value[0] + value[-1] in ('""', "[]") else value

    def matches(message: str) -> bool:
        values = [strip(v) for v in _FIELD.findall(message)]
        names = [name for name, _ in fields]
        if "..." in names:
            cut = names.index("...")
            before, after = fields[:cut], fields[cut + 1:]
            if len(values) < len(before) + len(after):
                return False
            bound = list(zip(before, values[:len(before)], strict=True)) + list(zip(after, values[len(values) - len(after):], strict=True))
        else:
            if len(values) < len(fields):
                return False
            # The last field takes the rest of the line, as CloudWatch Logs does.
            values = values[:len(fields) - 1] + [" ".join(values[len(fields) - 1:])] if fields else values
            bound = list(zip(fields, values, strict=True))
        return all(tree is None or _evaluate(tree, lambda _selector, v=value: [v]) for (_name, tree), value in bound)  # type: ignore[misc]  # a lambda's default argument

    return matches
