"""PartiQL for DynamoDB: ``ExecuteStatement``, ``BatchExecuteStatement`` and ``ExecuteTransaction``.

A statement is parsed here and translated into the table service's own requests (Query or Scan, GetItem,
PutItem, UpdateItem, DeleteItem, TransactGetItems, TransactWriteItems), so it keeps their validation, limits,
capacity, streams and index upkeep. DynamoDB's dialect is small: ``SELECT`` (``*`` or paths, from a table or
``"Table"."Index"``, ``WHERE``, ``ORDER BY`` the sort key), ``INSERT INTO t VALUE {...}``, ``UPDATE t SET ... REMOVE
... WHERE ... [RETURNING ...]``, ``DELETE FROM t WHERE ... [RETURNING ALL OLD *]`` and, in a transaction,
``EXISTS(SELECT ...)``; ``?`` takes the next of ``Parameters``.

Why a parser of our own: the PartiQL reference implementations are Kotlin and Rust, and no Python package
parses DynamoDB's dialect; the grammar below is the part DynamoDB accepts (its documentation's statements).

How a SELECT reads: an equality (or ``IN``) on the partition key among the top-level ``AND`` terms makes it a
Query per partition value (with one sort-key term as its key condition), anything else a Scan; the whole
``WHERE`` is then evaluated on each item read, after ``Limit`` (DynamoDB's order: a page may hold fewer items
than were read, and still carry a ``NextToken``). Writes name one item: every key attribute needs an equality;
the other terms become the write's condition (``UPDATE`` also needs the item to exist, ``DELETE`` of an absent
item succeeds, ``INSERT`` of a present one is ``DuplicateItemException``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tables import expressions, items
from tables.errors import ConditionFailed, DuplicateItem, TableError, TableValidation, TransactionCanceled
from tables.selectors import schema_types, table_find, table_index, table_key_types
from tables.values import AttributeValue, value_normalize

MAX_STATEMENT = 8192
MAX_NESTING = 32  # conditions in parentheses or under NOT, lists and tuples in values (an item's own limit is 32 levels too)
BATCH_MAX = 25
TRANSACT_MAX = 100
MALFORMED = "Statement wasn't well formed, can't be processed: "
KEY_EQUALITY = "Where clause does not contain a mandatory equality on all key attributes"
DUPLICATE = "Duplicate primary key exists in table"

# --- the statement's words -------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<symbol><<|>>|<=|>=|<>|!=|[=<>(),.\[\]{}:?*+\-])
""", re.X)
_COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Token:
    kind: str  # string | quoted | number | word | symbol | end
    text: str
    at: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def _tokens(text: str) -> list[Token]:
    out, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise TableValidation(f"{MALFORMED}Unexpected character '{text[at]}' at position {at + 1}")
        kind = match.lastgroup or "space"
        if kind != "space":
            out.append(Token(kind, match.group(), at))
        at = match.end()
    out.append(Token("end", "", len(text)))
    return out


# --- the tree --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Path:
    elements: tuple[str | int, ...]

    @property
    def head(self) -> str:
        return str(self.elements[0])


@dataclass(frozen=True)
class Literal:
    value: AttributeValue


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Between:
    subject: Any
    low: Any
    high: Any


@dataclass(frozen=True)
class In:
    subject: Any
    members: tuple[Any, ...]


@dataclass(frozen=True)
class Is:
    subject: Path
    what: str  # MISSING | NULL
    negated: bool


@dataclass(frozen=True)
class Logical:
    op: str  # AND | OR
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    part: Any


@dataclass(frozen=True)
class Select:
    table: str
    index: str | None
    columns: tuple[Path, ...] | None  # None: *
    where: Any
    order: tuple[Path, bool] | None  # (path, ascending)
    action = "PartiQLSelect"


@dataclass(frozen=True)
class Insert:
    table: str
    item: dict[str, AttributeValue]
    action = "PartiQLInsert"


@dataclass(frozen=True)
class Update:
    table: str
    sets: tuple[tuple[Path, Any], ...]
    removes: tuple[Path, ...]
    where: Any
    returning: str
    action = "PartiQLUpdate"


@dataclass(frozen=True)
class Delete:
    table: str
    where: Any
    returning: str
    action = "PartiQLDelete"


@dataclass(frozen=True)
class Exists:
    select: Select
    action = "PartiQLSelect"


Statement = Select | Insert | Update | Delete | Exists


# --- the parser ------------------------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, parameters: list[AttributeValue]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.parameters = parameters
        self.used = 0
        self.depth = 0

    def nest(self, by: int | bool) -> None:
        """Enter (``by=1``) or leave (``by=-1``) a nested condition or value: bounded, so no statement runs Python out of stack."""
        self.depth += by
        if self.depth > MAX_NESTING:
            raise TableValidation(f"{MALFORMED}The statement nests conditions or values more than {MAX_NESTING} levels deep")

    # tokens
    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, symbol: str) -> bool:
        if self.token.kind == "symbol" and self.token.text == symbol:
            self.at += 1
            return True
        return False

    def accept_word(self, *words: str) -> bool:
        if self.token.is_word(*words):
            self.at += 1
            return True
        return False

    def fail(self, what: str) -> TableValidation:
        token = self.token
        shown = "end of statement" if token.kind == "end" else f"'{token.text}'"
        return TableValidation(f"{MALFORMED}{what}, found {shown} at position {token.at + 1}")

    def expect(self, symbol: str) -> None:
        if not self.accept(symbol):
            raise self.fail(f"Expected '{symbol}'")

    def expect_word(self, *words: str) -> str:
        if not self.token.is_word(*words):
            raise self.fail(f"Expected {' or '.join(words)}")
        return self.take().text.upper()

    # statements
    def statement(self, *, in_transaction: bool = False) -> Statement:
        token = self.token
        if token.is_word("SELECT"):
            statement: Statement = self.select()
        elif token.is_word("INSERT"):
            statement = self.insert()
        elif token.is_word("UPDATE"):
            statement = self.update()
        elif token.is_word("DELETE"):
            statement = self.delete()
        elif token.is_word("EXISTS") and in_transaction:
            self.take()
            self.expect("(")
            statement = Exists(self.select())
            self.expect(")")
        else:
            raise self.fail("Expected SELECT, INSERT, UPDATE or DELETE" + (" or EXISTS" if in_transaction else ""))
        if self.token.kind != "end":
            raise self.fail("Expected the end of the statement")
        if self.used != len(self.parameters):
            raise TableValidation("Number of parameters in request and statement don't match.")
        return statement

    def name(self) -> str:
        token = self.token
        if token.kind == "quoted":
            self.take()
            return token.text[1:-1].replace('""', '"')
        if token.kind == "word":
            self.take()
            return token.text
        raise self.fail("Expected a name")

    def select(self) -> Select:
        self.expect_word("SELECT")
        columns: tuple[Path, ...] | None = None
        if not self.accept("*"):
            paths = [self.path()]
            while self.accept(","):
                paths.append(self.path())
            columns = tuple(paths)
        self.expect_word("FROM")
        table = self.name()
        index = self.name() if self.accept(".") else None
        where = self.condition() if self.accept_word("WHERE") else None
        order = None
        if self.accept_word("ORDER"):
            self.expect_word("BY")
            path = self.path()
            ascending = self.expect_word("ASC", "DESC") == "ASC" if self.token.is_word("ASC", "DESC") else True
            order = (path, ascending)
        return Select(table, index, columns, where, order)

    def insert(self) -> Insert:
        self.expect_word("INSERT")
        self.expect_word("INTO")
        table = self.name()
        self.expect_word("VALUE")
        value = self.value()
        if "M" not in value:
            raise TableValidation(f"{MALFORMED}The item to insert must be a tuple: {{'attribute': value, ...}}")
        return Insert(table, value["M"])

    def update(self) -> Update:
        self.expect_word("UPDATE")
        table = self.name()
        sets: list[tuple[Path, Any]] = []
        removes: list[Path] = []
        if not self.token.is_word("SET", "REMOVE"):
            raise self.fail("Expected SET or REMOVE")
        while self.token.is_word("SET", "REMOVE"):
            if self.take().text.upper() == "SET":
                while True:
                    path = self.path()
                    self.expect("=")
                    sets.append((path, self.set_value()))
                    if not self.accept(","):
                        break
            else:
                while True:
                    removes.append(self.path())
                    if not self.accept(","):
                        break
        self.expect_word("WHERE")
        where = self.condition()
        returning = self.returning(("ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
        return Update(table, tuple(sets), tuple(removes), where, returning)

    def delete(self) -> Delete:
        self.expect_word("DELETE")
        self.expect_word("FROM")
        table = self.name()
        self.expect_word("WHERE")
        where = self.condition()
        return Delete(table, where, self.returning(("ALL_OLD",)))

    def returning(self, allowed: tuple[str, ...]) -> str:
        if not self.accept_word("RETURNING"):
            return "NONE"
        which = self.expect_word("ALL", "MODIFIED")
        when = self.expect_word("OLD", "NEW")
        self.expect("*")
        choice = f"{'ALL' if which == 'ALL' else 'UPDATED'}_{when}"
        if choice not in allowed:
            raise TableValidation(f"{MALFORMED}RETURNING {which} {when} * is not supported by this statement")
        return choice

    def set_value(self) -> Any:
        left = self.operand()
        if self.token.kind == "symbol" and self.token.text in ("+", "-"):
            op = self.take().text
            return Arithmetic(op, left, self.operand())
        return left

    # conditions
    def condition(self) -> Any:
        parts = [self.conjunction()]
        while self.accept_word("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Logical("OR", tuple(parts))

    def conjunction(self) -> Any:
        parts = [self.negation()]
        while self.accept_word("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Logical("AND", tuple(parts))

    def negation(self) -> Any:
        if self.accept_word("NOT"):
            self.nest(1)
            inner = self.negation()
            self.nest(-1)
            return Not(inner)
        return self.predicate()

    def predicate(self) -> Any:
        if self.accept("("):
            self.nest(1)
            inner = self.condition()
            self.expect(")")
            self.nest(-1)
            return inner
        if self.token.kind == "word" and self.token.text.lower() in ("begins_with", "contains", "attribute_type") and self.tokens[self.at + 1].text == "(":
            return self.call()
        subject = self.operand()
        token = self.token
        if token.kind == "symbol" and token.text in _COMPARISONS:
            self.take()
            return Compare("<>" if token.text == "!=" else token.text, subject, self.operand())
        if self.accept_word("BETWEEN"):
            low = self.operand()
            self.expect_word("AND")
            return Between(subject, low, self.operand())
        negated = self.accept_word("NOT")
        if self.accept_word("IN"):
            closing = "]" if self.accept("[") else ")"
            if closing == ")":
                self.expect("(")
            members = [self.operand()]
            while self.accept(","):
                members.append(self.operand())
            self.expect(closing)
            found: Any = In(subject, tuple(members))
            return Not(found) if negated else found
        if negated:
            raise self.fail("Expected IN")
        if self.accept_word("IS"):
            if not isinstance(subject, Path):
                raise self.fail("IS MISSING and IS NULL test an attribute")
            negated = self.accept_word("NOT")
            return Is(subject, self.expect_word("MISSING", "NULL"), negated)
        raise self.fail("Expected a comparison")

    def call(self) -> Call:
        name = self.take().text.lower()
        self.expect("(")
        args = [self.operand()]
        while self.accept(","):
            args.append(self.operand())
        self.expect(")")
        return Call(name, tuple(args))

    def operand(self) -> Any:
        token = self.token
        if token.kind == "word" and self.tokens[self.at + 1].text == "(" and token.text.lower() in (
                "size", "list_append", "if_not_exists", "set_add", "set_delete"):
            return self.call()
        if token.kind in ("quoted", "word") and not token.is_word("TRUE", "FALSE", "NULL", "MISSING"):
            return self.path()
        if token.kind == "end" or (token.kind == "symbol" and token.text not in ("?", "[", "{", "<<", "-")):
            raise self.fail("Expected an attribute or a value")
        return Literal(self.value())

    def path(self) -> Path:
        elements: list[str | int] = [self.name()]
        while True:
            if self.accept("."):
                elements.append(self.name())
            elif self.accept("["):
                token = self.take()
                if token.kind != "number" or not token.text.isdigit():
                    raise TableValidation(f"{MALFORMED}A list index must be a whole number, found '{token.text}'")
                elements.append(int(token.text))
                self.expect("]")
            else:
                return Path(tuple(elements))

    # values
    def value(self) -> AttributeValue:
        compound = self.token.kind == "symbol" and self.token.text in ("[", "{", "<<")
        self.nest(compound)
        found = self._value()
        self.nest(-compound)
        return found

    def _value(self) -> AttributeValue:
        token = self.take()
        if token.kind == "string":
            return {"S": token.text[1:-1].replace("''", "'")}
        if token.kind == "number":
            return {"N": token.text}
        if token.kind == "symbol" and token.text == "-" and self.token.kind == "number":
            return {"N": "-" + self.take().text}
        if token.is_word("TRUE", "FALSE"):
            return {"BOOL": token.text.upper() == "TRUE"}
        if token.is_word("NULL"):
            return {"NULL": True}
        if token.kind == "symbol" and token.text == "?":
            if self.used >= len(self.parameters):
                raise TableValidation("Number of parameters in request and statement don't match.")
            self.used += 1
            return self.parameters[self.used - 1]
        if token.kind == "symbol" and token.text == "[":
            members: list[AttributeValue] = []
            if not self.accept("]"):
                members.append(self.value())
                while self.accept(","):
                    members.append(self.value())
                self.expect("]")
            return {"L": members}
        if token.kind == "symbol" and token.text == "{":
            entries: dict[str, AttributeValue] = {}
            if not self.accept("}"):
                while True:
                    key = self.take()
                    if key.kind not in ("string", "quoted"):
                        self.at -= 1
                        raise self.fail("Expected an attribute name in quotes")
                    name = key.text[1:-1].replace(key.text[0] * 2, key.text[0])
                    if name in entries:
                        raise TableValidation(f"{MALFORMED}Duplicate attribute name '{name}' in a tuple")
                    self.expect(":")
                    entries[name] = self.value()
                    if not self.accept(","):
                        break
                self.expect("}")
            return {"M": entries}
        if token.kind == "symbol" and token.text == "<<":
            members = [self.value()]
            while self.accept(","):
                members.append(self.value())
            self.expect(">>")
            kinds = {next(iter(m)) for m in members}
            if len(kinds) != 1 or next(iter(kinds)) not in ("S", "N", "B"):
                raise TableValidation(f"{MALFORMED}A set's members must all be strings, all numbers or all binary")
            kind = next(iter(kinds))
            return {f"{kind}S": [m[kind] for m in members]}
        self.at -= 1
        raise self.fail("Expected a value")


def statement_parse(text: Any, parameters: Any = None, *, in_transaction: bool = False) -> Statement:
    """The statement ``text`` with ``parameters`` (a list of attribute values) bound to its ``?``."""
    if not isinstance(text, str) or not text:
        raise TableValidation("1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null")
    if len(text) > MAX_STATEMENT:
        raise TableValidation("1 validation error detected: Value at 'statement' failed to satisfy constraint: "
                              f"Member must have length less than or equal to {MAX_STATEMENT}")
    if parameters is not None and (not isinstance(parameters, list) or not parameters):
        raise TableValidation("1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1")
    bound = list(parameters or [])
    for value in bound:
        if not isinstance(value, dict) or len(value) != 1:
            raise TableValidation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                                  if isinstance(value, dict) and value else "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    return _Parser(text, bound).statement(in_transaction=in_transaction)


def statement_target(statement: Statement) -> tuple[str, str | None]:
    """The table a statement names and, for a SELECT of an index, the index (what IAM is asked about)."""
    if isinstance(statement, Exists):
        return statement.select.table, None
    if isinstance(statement, Select):
        return statement.table, statement.index
    return statement.table, None


# --- translation into expressions ------------------------------------------------------------------------------------

@dataclass
class _Expressions:
    """Placeholders of one request (``#n0`` names, ``:v0`` values) and the expression text written with them."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)

    def name(self, name: str) -> str:
        for key, known in self.names.items():
            if known == name:
                return key
        key = f"#n{len(self.names)}"
        self.names[key] = name
        return key

    def value(self, value: AttributeValue) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = value
        return key

    def path(self, path: Path) -> str:
        out = self.name(path.head)
        for element in path.elements[1:]:
            out += f"[{element}]" if isinstance(element, int) else f".{self.name(element)}"
        return out

    def operand(self, node: Any) -> str:
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Literal):
            return self.value(node.value)
        if isinstance(node, Arithmetic):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Call) and node.name in ("size", "list_append", "if_not_exists"):
            return f"{node.name}({', '.join(self.operand(a) for a in node.args)})"
        raise TableValidation(f"{MALFORMED}{getattr(node, 'name', type(node).__name__)} can not be used here")

    def condition(self, node: Any) -> str:
        if isinstance(node, Logical):
            return f" {node.op} ".join(_grouped(self.condition(p)) if _compound(p) else self.condition(p) for p in node.parts)
        if isinstance(node, Not):
            return f"NOT {_grouped(self.condition(node.part))}"
        if isinstance(node, Compare):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Between):
            return f"{self.operand(node.subject)} BETWEEN {self.operand(node.low)} AND {self.operand(node.high)}"
        if isinstance(node, In):
            return f"{self.operand(node.subject)} IN ({', '.join(self.operand(m) for m in node.members)})"
        if isinstance(node, Is):
            path = self.path(node.subject)
            if node.what == "MISSING":
                return f"attribute_exists({path})" if node.negated else f"attribute_not_exists({path})"
            null = f"(attribute_not_exists({path}) OR attribute_type({path}, {self.value({'S': 'NULL'})}))"  # MISSING IS NULL too
            return f"NOT {null}" if node.negated else null
        if isinstance(node, Call) and node.name in ("begins_with", "contains", "attribute_type"):
            return f"{node.name}({', '.join(self.operand(a) for a in node.args)})"
        raise TableValidation(f"{MALFORMED}Expected a condition")

    def context(self) -> expressions.ExpressionContext:
        return expressions.ExpressionContext(self.names or None, self.values or None)

    def request(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out


def _compound(node: Any) -> bool:
    """Whether ``node`` is written with a lower-precedence operator of its own (and needs parentheses in an AND or OR)."""
    return isinstance(node, Logical) or (isinstance(node, Is) and node.what == "NULL" and not node.negated)


def _grouped(text: str) -> str:
    """``text`` in parentheses, unless it is already enclosed in one pair (DynamoDB refuses redundant ones)."""
    if text.startswith("("):
        depth = 0
        for at, char in enumerate(text):
            depth += (char == "(") - (char == ")")
            if depth == 0:
                if at == len(text) - 1:
                    return text
                break
    return f"({text})"


def _conjuncts(node: Any) -> list[Any]:
    """The top-level ``AND`` terms of a condition."""
    if node is None:
        return []
    if isinstance(node, Logical) and node.op == "AND":
        return [term for part in node.parts for term in _conjuncts(part)]
    return [node]


def _equality(term: Any) -> tuple[str, AttributeValue] | None:
    """``attribute = value`` (either way round) on a top-level attribute."""
    if not isinstance(term, Compare) or term.op != "=":
        return None
    for a, b in ((term.left, term.right), (term.right, term.left)):
        if isinstance(a, Path) and len(a.elements) == 1 and isinstance(b, Literal):
            return a.head, b.value
    return None


def _key_split(table_name: str, where: Any) -> tuple[Any, dict[str, AttributeValue], list[Any]]:
    """The table, the item's key from the ``WHERE`` equalities, and the remaining terms (the write's condition)."""
    table = table_find(table_name)
    key_types = table_key_types(table)
    key: dict[str, AttributeValue] = {}
    rest: list[Any] = []
    for term in _conjuncts(where):
        found = _equality(term)
        if found is not None and found[0] in key_types and found[0] not in key:
            key[found[0]] = found[1]
        else:
            rest.append(term)
    if set(key) != set(key_types):
        raise TableValidation(KEY_EQUALITY)
    return table, key, rest


def _joined(rest: list[Any]) -> Any:
    return None if not rest else rest[0] if len(rest) == 1 else Logical("AND", tuple(rest))


# --- one statement, as the table service's request -------------------------------------------------------------------

@dataclass
class _Write:
    """A write statement as the item request it becomes; ``kind`` names the request (Put, Update, Delete, ConditionCheck)."""

    kind: str
    request: dict[str, Any]
    insert: bool = False


def _write(statement: Statement) -> _Write:
    if isinstance(statement, Insert):
        table = table_find(statement.table)
        e = _Expressions()
        hash_name = next(iter(table_key_types(table)))
        request = {"TableName": table.name, "Item": statement.item, "ConditionExpression": f"attribute_not_exists({e.name(hash_name)})", **e.request()}
        return _Write("Put", request, insert=True)
    if isinstance(statement, Update):
        table, key, rest = _key_split(statement.table, statement.where)
        e = _Expressions()
        sets: list[str] = []
        adds: list[str] = []
        deletes: list[str] = []
        for path, value in statement.sets:
            if isinstance(value, Call) and value.name in ("set_add", "set_delete"):
                if len(value.args) != 2 or value.args[0] != path or not isinstance(value.args[1], Literal):
                    raise TableValidation(f"{MALFORMED}{value.name.upper()} takes the attribute it sets and a set: SET s = {value.name}(s, <<...>>)")
                (adds if value.name == "set_add" else deletes).append(f"{e.path(path)} {e.operand(value.args[1])}")
            else:
                sets.append(f"{e.path(path)} = {e.operand(value)}")
        clauses = [f"{word} {', '.join(parts)}" for word, parts in
                   (("SET", sets), ("REMOVE", [e.path(p) for p in statement.removes]), ("ADD", adds), ("DELETE", deletes)) if parts]
        condition = _there_and(e, key, rest)  # UPDATE changes an item that is there
        request = {"TableName": table.name, "Key": key, "UpdateExpression": " ".join(clauses), "ConditionExpression": condition, **e.request()}
        if statement.returning != "NONE":
            request["ReturnValues"] = statement.returning
        return _Write("Update", request)
    if isinstance(statement, Delete):
        table, key, rest = _key_split(statement.table, statement.where)
        e = _Expressions()
        request = {"TableName": table.name, "Key": key}
        if rest:  # an absent item is deleted without a word; a present one must meet the other terms
            request["ConditionExpression"] = f"attribute_not_exists({e.name(next(iter(key)))}) OR {_grouped(e.condition(_joined(rest)))}"
            request.update(e.request())
        if statement.returning != "NONE":
            request["ReturnValues"] = statement.returning
        return _Write("Delete", request)
    if isinstance(statement, Exists):
        select = statement.select
        if select.index is not None or select.columns is not None or select.order is not None:
            raise TableValidation(f"{MALFORMED}EXISTS takes SELECT * FROM a table WHERE its key")
        table, key, rest = _key_split(select.table, select.where)
        e = _Expressions()
        condition = _there_and(e, key, rest)
        return _Write("ConditionCheck", {"TableName": table.name, "Key": key, "ConditionExpression": condition, **e.request()})
    raise TableValidation(f"{MALFORMED}Expected INSERT, UPDATE, DELETE or EXISTS")


def _there_and(e: _Expressions, key: dict[str, AttributeValue], rest: list[Any]) -> str:
    """The condition of a write that needs its item: it exists, and the ``WHERE``'s other terms hold."""
    condition = f"attribute_exists({e.name(next(iter(key)))})"
    return f"{condition} AND {_grouped(e.condition(_joined(rest)))}" if rest else condition


def _write_run(write: _Write, *, on_failure: str | None, capacity: str | None) -> dict[str, Any]:
    request = dict(write.request)
    if capacity:
        request["ReturnConsumedCapacity"] = capacity
    if on_failure and write.kind in ("Update", "Delete"):
        request["ReturnValuesOnConditionCheckFailure"] = on_failure
    try:
        run: Callable[[Mapping[str, Any]], dict[str, Any]] = {"Put": items.item_put, "Update": items.item_update, "Delete": items.item_delete}[write.kind]
        result = run(request)
    except ConditionFailed:
        if write.insert:
            raise DuplicateItem(DUPLICATE) from None
        raise
    out: dict[str, Any] = {"Items": [result["Attributes"]] if "Attributes" in result else []}
    if "ConsumedCapacity" in result:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out


# --- SELECT ----------------------------------------------------------------------------------------------------------

@dataclass
class _Read:
    """A SELECT as reads of the table service: the target's keys, the partition values (none: a Scan), one sort-key
    term for the Query, and the whole ``WHERE`` and the columns compiled to run over each item read."""

    table: Any
    index: str | None
    key_types: dict[str, str]
    partitions: list[AttributeValue]
    sort_term: Any
    filter: expressions.Condition | None
    projection: expressions.Projection | None


def _target_keys(select: Select) -> tuple[Any, dict[str, str]]:
    """The table and the key attributes (hash first) of what a SELECT reads: the table, or its index."""
    table = table_find(select.table)
    if select.index is None:
        return table, table_key_types(table)
    found = table_index(table, select.index)
    if found is None:
        raise TableValidation(f"The table does not have the specified index: {select.index}")
    return table, schema_types(table, found[0]["KeySchema"])


def _partitions(where: Any, names: list[str]) -> tuple[list[AttributeValue], Any]:
    """The partition values a ``WHERE`` confines a read to (none: it reads them all) and one sort-key term for their
    Queries: an ``=`` or ``IN`` on the partition key among the top-level ``AND`` terms, or an ``OR`` each of whose
    sides has one (``pk = 1 OR pk = 2``, as DynamoDB reads it; no sort-key term then, the sides may differ)."""
    partitions: list[AttributeValue] = []
    sort_term = None
    for term in _conjuncts(where):
        if not partitions:
            found_eq = _equality(term)
            if found_eq is not None and found_eq[0] == names[0]:
                partitions = [found_eq[1]]
                continue
            if (isinstance(term, In) and isinstance(term.subject, Path) and term.subject.elements == (names[0],)
                    and all(isinstance(m, Literal) for m in term.members)):
                partitions = _once([m.value for m in term.members])
                continue
            if isinstance(term, Logical) and term.op == "OR":
                sides = [_partitions(side, names)[0] for side in term.parts]
                if all(sides):
                    partitions = _once([value for side in sides for value in side])
                    continue
        if sort_term is None and len(names) > 1 and _sort_term(term, names[1]):
            sort_term = term
    return partitions, sort_term


def _once(found: list[AttributeValue]) -> list[AttributeValue]:
    """Each partition value once, in the order given (``1`` and ``1.0`` are one number): no partition read twice."""
    seen: set[str] = set()
    out = []
    for value in found:
        identity = json.dumps(value_normalize(value), sort_keys=True)
        if identity not in seen:
            seen.add(identity)
            out.append(value)
    return out


def select_scans(statement: Statement) -> bool:
    """Whether a SELECT reads every partition (a Scan): IAM's ``dynamodb:FullTableScan``."""
    if not isinstance(statement, Select):
        return False
    _, key_types = _target_keys(statement)
    return not _partitions(statement.where, list(key_types))[0]


def _compiled(where: Any, columns: tuple[Path, ...] | None) -> tuple[expressions.Condition | None, expressions.Projection | None]:
    """A SELECT's ``WHERE`` (or the part of it left to check) and its columns, compiled through the table service's
    expressions to run over each item read."""
    e = _Expressions()
    condition = e.condition(where) if where is not None else None
    paths = ", ".join(e.path(p) for p in columns) if columns else None
    context = e.context()
    return (context.filter(condition) if condition is not None else None, context.projection(paths) if paths is not None else None)


def _shown(item: dict[str, AttributeValue] | None, filter_: expressions.Condition | None,
           projection: expressions.Projection | None) -> dict[str, AttributeValue] | None:
    """An item read, as the SELECT answers it: ``None`` if absent or its ``WHERE`` does not hold, else its columns."""
    if item is None or (filter_ is not None and not filter_.evaluate(item)):
        return None
    return projection.apply(item) if projection is not None else item


def _read_plan(select: Select) -> _Read:
    table, key_types = _target_keys(select)
    names = list(key_types)
    partitions, sort_term = _partitions(select.where, names)
    filter_, projection = _compiled(select.where, select.columns)
    if select.order is not None:
        path, _ = select.order
        if not partitions:
            raise TableValidation("Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
        if len(names) < 2 or path.elements != (names[1],):
            raise TableValidation(f"Order by is supported only on the sort key of the table or index: {'.'.join(map(str, path.elements))}")
    return _Read(table, select.index, key_types, partitions, sort_term, filter_, projection)


def _sort_term(term: Any, sort_name: str) -> bool:
    """Whether ``term`` can be a Query's sort-key condition (``=``, ``<``, ``<=``, ``>``, ``>=``, BETWEEN, begins_with)."""
    def on_key(node: Any) -> bool:
        return isinstance(node, Path) and node.elements == (sort_name,)
    if isinstance(term, Compare) and term.op != "<>":
        return (on_key(term.left) and isinstance(term.right, Literal)) or (on_key(term.right) and isinstance(term.left, Literal) and term.op == "=")
    if isinstance(term, Between):
        return on_key(term.subject) and isinstance(term.low, Literal) and isinstance(term.high, Literal)
    if isinstance(term, Call) and term.name == "begins_with":
        return len(term.args) == 2 and on_key(term.args[0]) and isinstance(term.args[1], Literal)
    return False


def _digest(statement: str, parameters: Any) -> str:
    """What binds a ``NextToken`` to the statement and parameters it was given for."""
    return hashlib.sha256(json.dumps([statement, parameters], sort_keys=True).encode()).hexdigest()[:16]


def _token(statement: str, parameters: Any, position: int, last: Any) -> str:
    document = {"s": _digest(statement, parameters), "p": position, "k": last}
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()


def _token_read(token: Any, statement: str, parameters: Any) -> tuple[int, Any]:
    try:
        document = json.loads(base64.b64decode(token, validate=True))
        if document["s"] != _digest(statement, parameters):
            raise TableValidation("The NextToken was given for another statement or other parameters: pass it with the statement it came from")
        return int(document["p"]), document["k"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise TableValidation("Invalid NextToken: pass back the NextToken of the previous answer unchanged") from None


def _capacity_sum(total: dict[str, Any] | None, more: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two ``ConsumedCapacity`` of one table added up, their units and those of each index (``INDEXES``)."""
    if more is None:
        return total
    out = dict(total or {})
    for key, value in more.items():
        if isinstance(value, dict):
            out[key] = _capacity_sum(out.get(key), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = out.get(key, 0) + value
        else:
            out.setdefault(key, value)
    return out


def _select_run(select: Select, request: Mapping[str, Any]) -> dict[str, Any]:
    plan = _read_plan(select)
    names = list(plan.key_types)
    position, start = (0, None)
    if request.get("NextToken") is not None:
        position, start = _token_read(request["NextToken"], request["Statement"], request.get("Parameters"))
    limit = request.get("Limit")
    base: dict[str, Any] = {"TableName": plan.table.name}
    if plan.index is not None:
        base["IndexName"] = plan.index
    for option in ("ConsistentRead", "ReturnConsumedCapacity"):
        if request.get(option) is not None:
            base[option] = request[option]
    if select.order is not None and not select.order[1]:
        base["ScanIndexForward"] = False
    found: list[Any] = []
    capacity: dict[str, Any] | None = None
    next_token: str | None = None
    last_key: Any = None
    reads: list[AttributeValue | None] = list(plan.partitions) or [None]
    while position < len(reads):
        page = dict(base)
        if start is not None:
            page["ExclusiveStartKey"] = start
        if limit is not None:
            page["Limit"] = limit
        partition = reads[position]
        if partition is None:
            result = items.item_scan(page)
        else:
            e = _Expressions()
            condition = f"{e.name(names[0])} = {e.value(partition)}"
            if plan.sort_term is not None:
                condition += f" AND {e.condition(plan.sort_term)}"
            result = items.item_query({**page, "KeyConditionExpression": condition, **e.request()})
        capacity = _capacity_sum(capacity, result.get("ConsumedCapacity"))
        found += [shown for item in result.get("Items", []) if (shown := _shown(item, plan.filter, plan.projection)) is not None]
        if limit is not None:
            limit -= result.get("ScannedCount", 0)
        if "LastEvaluatedKey" in result:
            last_key = result["LastEvaluatedKey"]
            next_token = _token(request["Statement"], request.get("Parameters"), position, last_key)
            break
        position, start = position + 1, None
        if limit is not None and limit <= 0 and position < len(reads):
            next_token = _token(request["Statement"], request.get("Parameters"), position, None)
            break
    out: dict[str, Any] = {"Items": found}
    if next_token is not None:
        out["NextToken"] = next_token
        if last_key is not None:
            out["LastEvaluatedKey"] = last_key
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out


@dataclass
class _KeyedRead:
    """A SELECT of one item by its whole key (a batch's or a transaction's read): the item to get, and the ``WHERE``'s
    other terms and the columns to run over it."""

    table: Any
    key: dict[str, AttributeValue]
    filter: expressions.Condition | None
    projection: expressions.Projection | None


def _keyed_read(select: Select) -> _KeyedRead:
    if select.index is not None or select.order is not None:
        raise TableValidation("A batch or transaction SELECT reads one item of a table: WHERE an equality on each key attribute")
    table, key, rest = _key_split(select.table, select.where)
    return _KeyedRead(table, key, *_compiled(_joined(rest), select.columns))


# --- the operations --------------------------------------------------------------------------------------------------

Authorize = Callable[[Statement], None]  # the caller's check of one parsed statement (IAM, the console's rights); raises to refuse


def statement_run(request: Mapping[str, Any], statement: Statement) -> dict[str, Any]:
    """One parsed statement with the request's options (``Limit``, ``NextToken``, ``ConsistentRead``, ...)."""
    limit = request.get("Limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise TableValidation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
    if isinstance(statement, Select):
        return _select_run(statement, request)
    if request.get("NextToken") is not None:
        raise TableValidation("NextToken is only for a SELECT statement")
    return _write_run(_write(statement), on_failure=request.get("ReturnValuesOnConditionCheckFailure"), capacity=request.get("ReturnConsumedCapacity"))


def statement_execute(request: Mapping[str, Any], authorize: Authorize) -> dict[str, Any]:
    """ExecuteStatement: the request's statement, parsed, authorized, run."""
    statement = statement_parse(request.get("Statement"), request.get("Parameters"))
    authorize(statement)
    return statement_run(request, statement)


def _statements(request: Mapping[str, Any], member: str, maximum: int) -> list[Any]:
    entries = request.get(member[0].upper() + member[1:])
    if not isinstance(entries, list) or not entries or len(entries) > maximum:
        raise TableValidation(f"1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length "
                              + (f"less than or equal to {maximum}" if isinstance(entries, list) and entries else "greater than or equal to 1"))
    return entries


_BATCH_CODES = {"ConditionalCheckFailedException": "ConditionalCheckFailed", "DuplicateItemException": "DuplicateItem",
                "ValidationException": "ValidationError", "ResourceNotFoundException": "ResourceNotFound",
                "TransactionConflictException": "TransactionConflict", "AccessDeniedException": "AccessDenied"}


def _batch_error(error: TableError) -> dict[str, Any]:
    out: dict[str, Any] = {"Code": _BATCH_CODES.get(error.code, "InternalServerError"), "Message": error.message}
    if isinstance(error, ConditionFailed) and error.item is not None:
        out["Item"] = error.item
    return out


def statements_batch(request: Mapping[str, Any], authorize: Authorize) -> dict[str, Any]:
    """BatchExecuteStatement: up to 25 reads (each of one item by its key) or up to 25 writes, each on its own: one that
    does not parse, is refused by ``authorize`` (a ``TableError``) or fails answers with its ``Error``, the others run."""
    entries = _statements(request, "statements", BATCH_MAX)
    parsed = [_batch_parse(entry, authorize) for entry in entries]
    if len({isinstance(s, Select) for s in parsed if not isinstance(s, TableError)}) > 1:
        raise TableValidation("Batch read and write statements can not be mixed: send the reads and the writes in separate requests")
    capacity_mode = request.get("ReturnConsumedCapacity")
    capacity: dict[str, dict[str, Any]] = {}
    responses: list[dict[str, Any]] = []
    for entry, statement in zip(entries, parsed, strict=True):
        if isinstance(statement, TableError):
            responses.append({"Error": _batch_error(statement)})
            continue
        name = statement_target(statement)[0]
        try:
            if isinstance(statement, Select):
                read = _keyed_read(statement)
                result = items.item_get({"TableName": read.table.name, "Key": read.key, "ConsistentRead": bool(entry.get("ConsistentRead")),
                                         **({"ReturnConsumedCapacity": capacity_mode} if capacity_mode else {})})
                item = _shown(result.get("Item"), read.filter, read.projection)
                responses.append({"TableName": read.table.name, **({"Item": item} if item is not None else {})})
            else:
                result = _write_run(_write(statement), on_failure=entry.get("ReturnValuesOnConditionCheckFailure"), capacity=capacity_mode)
                responses.append({"TableName": name})
        except TableError as error:
            responses.append({"TableName": name, "Error": _batch_error(error)})
            continue
        if "ConsumedCapacity" in result:
            capacity[name] = _capacity_sum(capacity.get(name), result["ConsumedCapacity"]) or {}
    out: dict[str, Any] = {"Responses": responses}
    if capacity_mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = list(capacity.values())
    return out


def _batch_parse(entry: Any, authorize: Authorize) -> Statement | TableError:
    """One batch entry's statement, or the error that stands in its response."""
    if not isinstance(entry, dict):
        return TableValidation("A batch statement is an object with a Statement")
    try:
        statement = statement_parse(entry.get("Statement"), entry.get("Parameters"))
        if isinstance(statement, Select) and statement.where is None:
            raise TableValidation(KEY_EQUALITY)
        authorize(statement)
    except TableError as error:
        return error
    return statement


def statements_transact(request: Mapping[str, Any], authorize: Authorize) -> dict[str, Any]:
    """ExecuteTransaction: up to 100 reads (``Responses``), or up to 100 writes and checks applied together or not at all;
    every statement parsed and authorized before any runs."""
    entries = _statements(request, "transactStatements", TRANSACT_MAX)
    parsed = [statement_parse((e or {}).get("Statement"), (e or {}).get("Parameters"), in_transaction=True) for e in entries]
    for statement in parsed:
        authorize(statement)
    reads = [isinstance(s, Select) for s in parsed]
    if any(reads) and not all(reads):
        raise TableValidation("Transaction reads and writes can not be mixed: a transaction is all SELECTs or all writes and EXISTS checks")
    capacity_mode = request.get("ReturnConsumedCapacity")
    if all(reads):
        plans = [_keyed_read(statement) for statement in parsed if isinstance(statement, Select)]
        result = items.item_transact_get({"TransactItems": [{"Get": {"TableName": read.table.name, "Key": read.key}} for read in plans],
                                          **({"ReturnConsumedCapacity": capacity_mode} if capacity_mode else {})})
        responses = []
        for read, got in zip(plans, result["Responses"], strict=True):
            item = _shown(got.get("Item"), read.filter, read.projection)
            responses.append({"Item": item} if item is not None else {})
        out: dict[str, Any] = {"Responses": responses}
        if "ConsumedCapacity" in result:
            out["ConsumedCapacity"] = result["ConsumedCapacity"]
        return out
    writes = [_write(s) for s in parsed]
    actions = []
    for entry, write in zip(entries, writes, strict=True):
        spec = dict(write.request)
        spec.pop("ReturnValues", None)  # a transaction returns no items
        if (entry or {}).get("ReturnValuesOnConditionCheckFailure") and write.kind != "Put":
            spec["ReturnValuesOnConditionCheckFailure"] = entry["ReturnValuesOnConditionCheckFailure"]
        actions.append({write.kind: spec})
    transact: dict[str, Any] = {"TransactItems": actions}
    if request.get("ClientRequestToken") is not None:
        transact["ClientRequestToken"] = request["ClientRequestToken"]
    if capacity_mode:
        transact["ReturnConsumedCapacity"] = capacity_mode
    try:
        result = items.item_transact_write(transact)
    except TransactionCanceled as error:
        reasons = [dict(r) for r in error.reasons]
        for reason, write in zip(reasons, writes, strict=True):
            if write.insert and reason["Code"] == "ConditionalCheckFailed":
                reason.update({"Code": "DuplicateItem", "Message": DUPLICATE})
                reason.pop("Item", None)
        codes = ", ".join(r["Code"] for r in reasons)
        raise TransactionCanceled(f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]", reasons=reasons) from None
    out = {}
    if "ConsumedCapacity" in result:
        out["ConsumedCapacity"] = result["ConsumedCapacity"]
    return out
