"""The expression language's tokenizer, syntax tree and recursive-descent parser (condition, filter, key-condition,
update and projection expressions), with DynamoDB's syntax-error texts. Names (``#n``) and values (``:v``) are
resolved through a ``Resolver`` while parsing, so the tree holds attribute names and wire values only.

Precedence, loosest first: ``OR``, ``AND``, ``NOT``, then comparisons, ``BETWEEN``, ``IN`` and functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tables.errors import TableValidation
from tables.reserved import is_reserved
from tables.values import AttributeValue

MAX_IN_OPERANDS = 100
MAX_PATH_DEPTH = 32  # names and indexes of one document path
MAX_OPERATORS = 300  # comparators, AND / OR / NOT, BETWEEN, IN, functions, + and -
MAX_EXPRESSION_BYTES = 4096  # the raw text as sent, before #aliases are substituted

# ---- tokens --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "name" | "alias" | "value" | "number" | "op" | "eof"
    text: str
    start: int
    end: int


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<alias>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>[0-9]+)|(?P<op><>|<=|>=|[=<>()\[\],.+\-]))"
)


def tokenize(text: str, kind: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while True:
        while position < length and text[position].isspace():
            position += 1
        if position >= length:
            break
        match = _TOKEN_RE.match(text, position)
        if match is None or match.lastgroup is None:
            bad = text[position]
            end = position + 1
            previous = tokens[-1].start if tokens else position
            raise TableValidation(f'Invalid {kind}: Syntax error; token: "{bad}", near: "{text[previous : end + 1].rstrip()}"')
        group = match.lastgroup
        tokens.append(Token(group, match.group(group), match.start(group), match.end(group)))
        position = match.end()
    tokens.append(Token("eof", "<EOF>", length, length))
    return tokens


# ---- tree ----------------------------------------------------------------------------------------------------

PathElement = str | int


@dataclass(frozen=True)
class Path:
    """A document path: attribute names (str) and list indexes (int), already resolved from ``#aliases``."""

    elements: tuple[PathElement, ...]

    def show(self) -> str:
        """As DynamoDB prints a path in its messages: ``[a, b, [0]]``."""
        return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in self.elements) + "]"


@dataclass(frozen=True)
class Value:
    value: AttributeValue
    name: str  # the :placeholder


@dataclass(frozen=True)
class Call:
    """A function used as an operand: ``size``, ``if_not_exists``, ``list_append``."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arithmetic:
    op: str  # "+" | "-"
    left: Operand
    right: Operand


Operand = Path | Value | Call | Arithmetic


@dataclass(frozen=True)
class Compare:
    op: str  # "=" | "<>" | "<" | "<=" | ">" | ">="
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True)
class Function:
    """A boolean function: ``attribute_exists``, ``attribute_not_exists``, ``attribute_type``, ``begins_with``,
    ``contains``."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = Compare | Between | In | Function | Not | And | Or


@dataclass(frozen=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True)
class UpdateTree:
    sets: tuple[SetAction, ...] = ()
    removes: tuple[Path, ...] = ()
    adds: tuple[tuple[Path, Value], ...] = ()
    deletes: tuple[tuple[Path, Value], ...] = ()


# ---- parser --------------------------------------------------------------------------------------------------


class Resolver(Protocol):
    def name(self, alias: str, kind: str) -> str: ...

    def value(self, placeholder: str, kind: str) -> AttributeValue: ...


CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
UPDATE_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


@dataclass
class Parser:
    text: str
    kind: str  # "ConditionExpression" | "FilterExpression" | ... (the prefix of every message)
    resolver: Resolver
    tokens: list[Token] = field(default_factory=list)
    position: int = 0
    grouped: set[int] = field(default_factory=set)  # nodes that are a parenthesised group, for ((x))
    # the static checks of each comparison or function, run as it is parsed: DynamoDB reports the first problem
    # in the order written, whether an undefined value or an operand of the wrong type
    check: Callable[[Node], None] | None = None
    operators: int = 0

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise TableValidation(f"Invalid {self.kind}: The expression can not be empty;")
        size = len(self.text.encode())
        if size > MAX_EXPRESSION_BYTES:
            # DynamoDB names the size for a condition, not for an update expression
            detail = "" if self.kind == "UpdateExpression" else f" expression size: {size}"
            raise TableValidation(f"Invalid {self.kind}: Expression size has exceeded the maximum allowed size;{detail}")
        self.tokens = tokenize(self.text, self.kind)

    # -- helpers

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.current
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def error(self, message: str) -> TableValidation:
        return TableValidation(f"Invalid {self.kind}: {message}")

    def syntax_error(self, token: Token | None = None) -> TableValidation:
        token = token or self.current
        index = self.tokens.index(token)
        start = self.tokens[index - 1].start if index > 0 else token.start
        end = self.tokens[index + 1].end if index + 1 < len(self.tokens) else token.end
        near = self.text[start:end]
        return self.error(f'Syntax error; token: "{token.text}", near: "{near}"')

    def is_op(self, text: str, token: Token | None = None) -> bool:
        token = token or self.current
        return token.kind == "op" and token.text == text

    def is_keyword(self, word: str, token: Token | None = None) -> bool:
        token = token or self.current
        return token.kind == "name" and token.text.upper() == word

    def expect_op(self, text: str) -> Token:
        if not self.is_op(text):
            raise self.syntax_error()
        return self.advance()

    def expect_end(self) -> None:
        if self.current.kind != "eof":
            raise self.syntax_error()

    # -- paths and operands

    def path(self) -> Path:
        elements: list[PathElement] = [self.path_name()]
        while True:
            if self.is_op("."):
                self.advance()
                elements.append(self.path_name())
            elif self.is_op("["):
                self.advance()
                token = self.current
                if token.kind != "number":
                    raise self.syntax_error()
                self.advance()
                self.expect_op("]")
                elements.append(int(token.text))
            else:
                if len(elements) > MAX_PATH_DEPTH:
                    raise self.error(f"The document path has too many nesting levels; nesting levels: {len(elements)}")
                return Path(tuple(elements))

    def path_name(self) -> str:
        token = self.current
        if token.kind == "alias":
            self.advance()
            return self.resolver.name(token.text, self.kind)
        if token.kind == "name":
            if is_reserved(token.text):
                raise self.error(f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            self.advance()
            return token.text
        raise self.syntax_error()

    def operand(self, functions: dict[str, int]) -> Operand:
        token = self.current
        if token.kind == "value":
            self.advance()
            return Value(self.resolver.value(token.text, self.kind), token.text)
        if token.kind == "name" and self.is_op("(", self.peek()):
            return self.call(functions)
        if token.kind in ("name", "alias"):
            return self.path()
        raise self.syntax_error()

    def call(self, functions: dict[str, int]) -> Call:
        name = self.advance().text
        known = functions | CONDITION_FUNCTIONS | UPDATE_FUNCTIONS | {"size": 1}
        if name not in known:
            raise self.error(f"Invalid function name; function: {name}")
        if name not in functions:
            if self.kind == "UpdateExpression":
                raise self.error(f"The function is not allowed in an update expression; function: {name}")
            if name in UPDATE_FUNCTIONS:
                raise self.error(f"The function is not allowed in a condition expression; function: {name}")
            raise self.error(f"The function is not allowed to be used this way in an expression; function: {name}")
        self.count()
        args = self.arguments(functions)
        self.check_arity(name, len(args), functions[name])
        return Call(name, tuple(args))

    def arguments(self, functions: dict[str, int]) -> list[Operand]:
        self.expect_op("(")
        args = [self.operand(functions)]
        while self.is_op(","):
            self.advance()
            args.append(self.operand(functions))
        self.expect_op(")")
        return args

    def check_arity(self, name: str, count: int, wanted: int) -> None:
        if count != wanted:
            raise self.error(f"Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {count}")

    # -- conditions

    def condition_expression(self) -> Node:
        node = self.or_()
        self.expect_end()
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.is_keyword("OR"):
            self.advance()
            self.count()
            node = Or(node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.is_keyword("AND"):
            self.advance()
            self.count()
            node = And(node, self.not_())
        return node

    def not_(self) -> Node:
        if self.is_keyword("NOT"):
            self.advance()
            self.count()
            return Not(self.not_())
        return self.primary()

    def count(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise self.error(f"The expression contains too many operators; operator count: {MAX_OPERATORS + 1}")

    def checked(self, node: Node) -> Node:
        if self.check is not None:
            self.check(node)
        return node

    def primary(self) -> Node:
        if self.is_op("("):
            self.advance()
            node = self.or_()
            self.expect_op(")")
            if id(node) in self.grouped:
                raise self.error("The expression has redundant parentheses;")
            self.grouped.add(id(node))
            return node
        token = self.current
        if token.kind == "name" and token.text in CONDITION_FUNCTIONS and self.is_op("(", self.peek()):
            self.advance()
            self.count()
            args = self.arguments({"size": 1})
            self.check_arity(token.text, len(args), CONDITION_FUNCTIONS[token.text])
            return self.checked(Function(token.text, tuple(args)))
        if token.kind == "name" and self.is_op("(", self.peek()) and token.text not in ("size",):
            if token.text in UPDATE_FUNCTIONS:
                raise self.error(f"The function is not allowed in a condition expression; function: {token.text}")
            raise self.error(f"Invalid function name; function: {token.text}")
        left = self.operand({"size": 1})
        if self.current.kind == "op" and self.current.text in COMPARATORS:
            op = self.advance().text
            self.count()
            return self.checked(Compare(op, left, self.operand({"size": 1})))
        if self.is_keyword("BETWEEN"):
            self.advance()
            self.count()
            low = self.operand({"size": 1})
            if not self.is_keyword("AND"):
                raise self.syntax_error()
            self.advance()
            return self.checked(Between(left, low, self.operand({"size": 1})))
        if self.is_keyword("IN"):
            self.advance()
            self.count()
            self.expect_op("(")
            options = [self.operand({"size": 1})]
            while self.is_op(","):
                self.advance()
                options.append(self.operand({"size": 1}))
            self.expect_op(")")
            if len(options) > MAX_IN_OPERANDS:
                raise self.error(f"The IN operator is provided with too many operands; number of operands: {len(options)}")
            return self.checked(In(left, tuple(options)))
        if isinstance(left, Call):
            raise self.error(f"The function is not allowed to be used this way in an expression; function: {left.name}")
        raise self.syntax_error()

    # -- update

    def update_expression(self) -> UpdateTree:
        sections: dict[str, list[object]] = {}
        while self.current.kind != "eof":
            token = self.current
            word = token.text.upper() if token.kind == "name" else ""
            if word not in UPDATE_CLAUSES:
                raise self.syntax_error()
            if word in sections:
                raise self.error(f'The "{word}" section can only be used once in an update expression;')
            self.advance()
            items: list[object] = [self.update_action(word)]
            while self.is_op(","):
                self.advance()
                items.append(self.update_action(word))
            sections[word] = items
            if self.current.kind != "eof" and not (self.current.kind == "name" and self.current.text.upper() in UPDATE_CLAUSES):
                raise self.syntax_error()
        return UpdateTree(
            sets=tuple(sections.get("SET", ())),  # type: ignore[arg-type]
            removes=tuple(sections.get("REMOVE", ())),  # type: ignore[arg-type]
            adds=tuple(sections.get("ADD", ())),  # type: ignore[arg-type]
            deletes=tuple(sections.get("DELETE", ())),  # type: ignore[arg-type]
        )

    def update_action(self, word: str) -> object:
        path = self.path()
        if word == "REMOVE":
            return path
        if word == "SET":
            self.expect_op("=")
            return SetAction(path, self.set_value())
        token = self.current
        if token.kind != "value":
            raise self.syntax_error()
        self.advance()
        return (path, Value(self.resolver.value(token.text, self.kind), token.text))

    def set_value(self) -> Operand:
        """``term``, ``term + term`` or ``term - term``; a term is an operand or a parenthesised value."""
        value = self.set_term()
        if self.current.kind == "op" and self.current.text in ("+", "-"):
            op = self.advance().text
            self.count()
            value = Arithmetic(op, value, self.set_term())
        return value

    def set_term(self) -> Operand:
        if self.is_op("("):
            self.advance()
            value = self.set_value()
            self.expect_op(")")
            return value
        return self.operand(UPDATE_FUNCTIONS)

    # -- projection

    def projection_expression(self) -> list[Path]:
        paths = [self.path()]
        while self.is_op(","):
            self.advance()
            paths.append(self.path())
        self.expect_end()
        return paths
