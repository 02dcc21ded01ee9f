"""The console's item browser for one table: scan or query (partition key, a sort key condition) with a filter
built from an attribute, an operator and a value, or a PartiQL statement; items shown as plain JSON or DynamoDB
JSON, a page at a time; items created, edited (as either JSON) and deleted. Every action goes through ``tables.items`` exactly as the
API's PutItem/DeleteItem/Query/Scan/ExecuteStatement do, so the console and the API keep the same rules and messages.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tables import items, partiql
from tables.errors import TableValidation
from tables.models import Table

PAGE = 50
RANGE_OPERATORS = {"": "", "=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "begins_with": "begins_with"}
FILTER_OPERATORS = ["=", "<>", "<", "<=", ">", ">=", "begins_with", "contains", "attribute_exists", "attribute_not_exists"]
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


class ItemInputError(TableValidation):
    """What a person typed is not an item (before DynamoDB's own checks)."""


def plain(item: dict[str, Any]) -> str:
    """An item in wire form as plain JSON (numbers exact, sets as lists, binary as base64)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):  # exact: an integer, a float that prints the same digits, else the digits as text
            if value == value.to_integral_value():
                return int(value)
            return float(value) if repr(float(value)) == format(value.normalize(), "f") else format(value, "f")
        if isinstance(value, set | frozenset):
            return sorted(value, key=str)
        if hasattr(value, "value"):  # boto3's Binary
            return base64.b64encode(bytes(value.value)).decode()
        raise TypeError(type(value).__name__)

    return json.dumps({name: _deserializer.deserialize(av) for name, av in item.items()}, default=default, sort_keys=True, indent=1)


def wire_of(text: str, form: str) -> dict[str, Any]:
    """An item typed by a person: DynamoDB JSON (``{"id": {"S": "a"}}``) or plain JSON (``{"id": "a"}``, numbers exact)."""
    try:
        document = json.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise ItemInputError(f"The item is not valid JSON: {error}.") from None
    if not isinstance(document, dict):
        raise ItemInputError("The item must be a JSON object of attribute names.")
    if form == "dynamodb":
        return document
    try:
        return {name: _serializer.serialize(value) for name, value in document.items()}
    except (TypeError, ValueError) as error:
        raise ItemInputError(f"The item cannot be stored: {error}.") from None


def key_of(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    return {e["AttributeName"]: item[e["AttributeName"]] for e in table.key_schema if e["AttributeName"] in item}


def _token(key: dict[str, Any] | None) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else ""


def _untoken(token: str) -> dict[str, Any] | None:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode())) if token else None
    except (ValueError, binascii.Error):
        return None


@dataclass
class Search:
    """What the browser's form asks for, read from the query string."""

    mode: str = "scan"
    hash_value: str = ""
    range_op: str = ""
    range_value: str = ""
    attribute: str = ""
    operator: str = "="
    value: str = ""
    start: str = ""
    statement: str = ""
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, params: Any) -> Search:
        operator = params.get("operator", "=")
        mode = params.get("mode") if params.get("mode") in ("query", "partiql") else "scan"
        return cls(mode=mode, hash_value=params.get("hash", ""), statement=params.get("statement", ""),
                   range_op=params.get("range_op", "") if params.get("range_op", "") in RANGE_OPERATORS else "", range_value=params.get("range", ""),
                   attribute=params.get("attribute", "").strip(), operator=operator if operator in FILTER_OPERATORS else "=",
                   value=params.get("value", ""), start=params.get("start", ""))


def _typed(text: str, kind: str) -> dict[str, Any]:
    """A person's value as an AttributeValue: of the key's type, else a number when it reads as one, else a string."""
    if kind in ("S", "N", "B"):
        return {kind: text}
    try:
        Decimal(text)
        return {"N": text}
    except ArithmeticError:
        return {"S": text}


def _statement_of(table: Table, text: str) -> partiql.Statement:
    statement = partiql.statement_parse(text)
    named = partiql.statement_target(statement)[0]
    if named != table.name:
        raise ItemInputError(f"The statement names table {named}; this browser shows {table.name}: open {named}'s items to run it there.")
    return statement


def statement_submit(table: Table, text: str, *, may_write: bool) -> list[dict[str, Any]] | None:
    """A statement typed in the form: ``None`` for a SELECT of this table (it runs as a search, a page at a time), else
    the INSERT, UPDATE or DELETE run (``may_write``: the person may change the table) and the items its RETURNING asked for."""
    statement = _statement_of(table, text)
    if isinstance(statement, partiql.Select):
        return None
    if not may_write:
        raise ItemInputError("You can read this table but not change it: only a SELECT runs for you.")
    return partiql.statement_run({"Statement": text}, statement)["Items"]


def search_run(table: Table, search: Search) -> dict[str, Any]:
    """The page of items the form asks for (``Items``, ``next`` token, ``Count``, ``ScannedCount``: ``None`` for PartiQL,
    which does not say)."""
    if search.mode == "partiql":
        statement = _statement_of(table, search.statement)
        if not isinstance(statement, partiql.Select):
            raise ItemInputError("Only a SELECT runs as a search: INSERT, UPDATE and DELETE run from the PartiQL form's Run button.")
        found = partiql.statement_run({"Statement": search.statement, "Limit": PAGE, **({"NextToken": search.start} if search.start else {})}, statement)
        return {"Items": found["Items"], "next": found.get("NextToken", ""), "Count": len(found["Items"]), "ScannedCount": None}
    types = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
    request: dict[str, Any] = {"TableName": table.name, "Limit": PAGE}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if search.mode == "query":
        hash_name = next(e["AttributeName"] for e in table.key_schema if e["KeyType"] == "HASH")
        names["#h"], values[":h"] = hash_name, _typed(search.hash_value, types.get(hash_name, "S"))
        condition = "#h = :h"
        range_name = next((e["AttributeName"] for e in table.key_schema if e["KeyType"] == "RANGE"), None)
        if range_name and search.range_op:
            names["#r"], values[":r"] = range_name, _typed(search.range_value, types.get(range_name, "S"))
            condition += " AND begins_with(#r, :r)" if search.range_op == "begins_with" else f" AND #r {search.range_op} :r"
        request["KeyConditionExpression"] = condition
    if search.attribute:
        names["#f"] = search.attribute
        if search.operator in ("attribute_exists", "attribute_not_exists"):
            request["FilterExpression"] = f"{search.operator}(#f)"
        else:
            values[":f"] = _typed(search.value, "")
            request["FilterExpression"] = f"{search.operator}(#f, :f)" if search.operator in ("begins_with", "contains") else f"#f {search.operator} :f"
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    start = _untoken(search.start)
    if start:
        request["ExclusiveStartKey"] = start
    found = items.item_query(request) if search.mode == "query" else items.item_scan(request)
    return {"Items": found.get("Items", []), "next": _token(found.get("LastEvaluatedKey")), "Count": found.get("Count", 0),
            "ScannedCount": found.get("ScannedCount", 0)}


def item_save(table: Table, text: str, form: str) -> dict[str, Any]:
    """PutItem of what the editor holds; the stored item."""
    item = wire_of(text, form)
    items.item_put({"TableName": table.name, "Item": item})
    return item


def item_remove(table: Table, key_text: str) -> None:
    try:
        key = json.loads(key_text)
    except ValueError:
        raise ItemInputError("The key is not valid JSON.") from None
    items.item_delete({"TableName": table.name, "Key": key})
