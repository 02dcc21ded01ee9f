"""The table service's data plane: items written, read, queried and scanned, in batches and transactions.

Every function takes the DynamoDB request document (wire names, ``{"S": ...}`` values) and returns the
response members. A write locks the stored item (``select_for_update``) in a transaction that also keeps the
secondary index entries and, when the table's stream is on, writes the stream record (a PutItem that needs
nothing of the item it replaces, on a table without stream or indexes, is one upsert instead): its sequence number is
taken from the table row's counter by a conditional update, so the row stays locked until commit and a
table's records are numbered in commit order. ``StreamRecordsWritten`` is published after commit.

Values are checked by ``tables.values`` and expressions evaluated by ``tables.expressions``; keys are stored
as ``values.sort_bytes`` so the database orders a partition as DynamoDB does. Capacity is counted as
DynamoDB counts it (reads in 4 KB units, halved when eventually consistent; writes in 1 KB units; twice for
transactions).
"""

from __future__ import annotations

import dataclasses
import decimal
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core import events as bus
from core.rows import row_insert, row_select_one, row_update
from tables import expressions, values
from tables.domain import StreamRecordsWritten
from tables.errors import ConditionFailed, IdempotentParameterMismatch, TableValidation, TransactionCanceled
from tables.models import IndexEntry, Item, StreamEvent, StreamRecord, Table, TransactionToken
from tables.selectors import schema_types, stream_arn, table_find, table_index, table_key_types

PAGE_BYTES = 1024 * 1024
BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25
TRANSACT_MAX = 100
BATCH_GET_BYTES = 16 * 1024 * 1024
TOKEN_SECONDS = 600
SCAN_SPACE = 2 ** 31
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
_CONDITION_FAILED = "The conditional request failed"


# --- values and keys -------------------------------------------------------------------------------------------------

def scan_hash(hash_key: bytes) -> int:
    """Where a partition falls in Scan's order and its segments: the top 31 bits of its MD5."""
    return int.from_bytes(hashlib.md5(hash_key).digest()[:4], "big") >> 1


def _normalized(value: values.AttributeValue) -> values.AttributeValue:
    values.value_validate(value)
    return values.value_normalize(value)


def item_normalized(item: values.Item) -> values.Item:
    """The item with every number in its canonical text (as DynamoDB answers them)."""
    return values.item_normalize(item)


def _key_check(table: Table, key: Any, *, what: str = "The provided key element does not match the schema") -> tuple[values.Item, bytes, bytes]:
    """A request's ``Key``: exactly the table's key attributes, of their types; its stored form and bytes."""
    types = table_key_types(table)
    if not isinstance(key, dict) or set(key) != set(types):
        raise TableValidation(what)
    for name, kind in types.items():
        value = key[name]
        if not isinstance(value, dict) or len(value) != 1 or kind not in value:
            raise TableValidation(what)
        if kind in ("S", "B") and value[kind] == "":
            raise TableValidation(f"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty "
                                  f"{'string' if kind == 'S' else 'binary'} value. Key: {name}")
    for value in key.values():
        values.value_validate(value)
    values.key_validate(key, types)
    normal = item_normalized({name: key[name] for name in types})
    return normal, *_key_bytes(table, normal)


def _key_bytes(table: Table, item: values.Item) -> tuple[bytes, bytes]:
    names = [e["AttributeName"] for e in table.key_schema]
    hash_key = values.sort_bytes(item[names[0]])
    range_key = values.sort_bytes(item[names[1]]) if len(names) > 1 else b""
    return hash_key, range_key


def expires_of(data: values.Item, attribute: str) -> int | None:
    """The TTL attribute's epoch seconds when it is a number (else the item never expires)."""
    value = data.get(attribute) if attribute else None
    if not isinstance(value, dict) or "N" not in value:
        return None
    try:
        return int(decimal.Decimal(value["N"]))
    except (decimal.InvalidOperation, ValueError, OverflowError):
        return None


def _index_key(table: Table, index: Mapping[str, Any], data: values.Item, *, strict: bool) -> tuple[bytes, bytes] | None:
    """The index's key bytes for an item, ``None`` if it lacks an index key attribute; a mistyped one refused
    when ``strict`` (a write), skipped otherwise (a backfill)."""
    types = schema_types(table, index["KeySchema"])
    out: list[bytes] = []
    for name, kind in types.items():
        value = data.get(name)
        if value is None:
            return None
        if kind not in value:
            if strict:
                actual = next(iter(value), "?")
                raise TableValidation(f"One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: {kind} "
                                      f"Actual: {actual} IndexName: {index['IndexName']}")
            return None
        if kind in ("S", "B") and value[kind] == "":
            if strict:
                raise TableValidation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. "
                                      f"The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {index['IndexName']}, "
                                      f"IndexKey: {name}")
            return None
        out.append(values.sort_bytes(value))
    return out[0], range_bytes(out[1:])


def _component(part: bytes) -> bytes:
    """One RANGE attribute of a multi-attribute key: 0x00 escaped as 0x00 0xFF, then the 0x00 0x00 terminator, so
    joined components sort as the attributes compared one after another."""
    return part.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def range_bytes(parts: list[bytes]) -> bytes:
    """The stored range key of an index: the one RANGE attribute's bytes as they are, or the joined components of
    several (a global index with a multi-attribute key)."""
    if len(parts) <= 1:
        return parts[0] if parts else b""
    return b"".join(_component(p) for p in parts)


def index_entry_for(table: Table, index: Mapping[str, Any], item: Item) -> IndexEntry | None:
    """An unsaved entry of ``item`` in ``index`` (``None`` when the item is not in it)."""
    key = _index_key(table, index, item.data, strict=False)
    if key is None:
        return None
    return IndexEntry(item=item, table=table, index_name=index["IndexName"], hash_key=key[0], range_key=key[1], scan_hash=scan_hash(key[0]))


def _indexes(table: Table) -> list[dict[str, Any]]:
    return [*table.global_indexes, *table.local_indexes]


def _item_check(table: Table, item: Any) -> values.Item:
    if not isinstance(item, dict):
        raise TableValidation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
    types = table_key_types(table)
    for name, kind in types.items():
        value = item.get(name)
        if value is None:
            raise TableValidation(f"One or more parameter values were invalid: Missing the key {name} in the item")
        if not isinstance(value, dict) or kind not in value:
            actual = next(iter(value), "?") if isinstance(value, dict) else "?"
            raise TableValidation(f"One or more parameter values were invalid: Type mismatch for key {name} expected: {kind} actual: {actual}")
    values.item_validate(item, key_schema=types)
    normal = item_normalized(item)
    for index in _indexes(table):
        _index_key(table, index, normal, strict=True)
    return normal


# --- capacity --------------------------------------------------------------------------------------------------------

def _read_units(size: int, consistent: bool) -> float:
    units = float(max(1, math.ceil(size / 4096)))
    return units if consistent else units / 2


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


@dataclass
class _Capacity:
    mode: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, table: Table, units: float, *, read: bool, indexes: Mapping[str, float] | None = None) -> None:
        entry = self.tables.setdefault(table.name, {"table": 0.0, "gsi": {}, "lsi": {}, "read": 0.0, "write": 0.0})
        entry["table"] += units
        entry["read" if read else "write"] += units
        globals_ = {i["IndexName"] for i in table.global_indexes}
        for name, amount in (indexes or {}).items():
            group = entry["gsi"] if name in globals_ else entry["lsi"]
            group[name] = group.get(name, 0.0) + amount
            entry["read" if read else "write"] += amount

    def render(self) -> list[dict[str, Any]]:
        out = []
        for name, entry in self.tables.items():
            total = entry["table"] + sum(entry["gsi"].values()) + sum(entry["lsi"].values())
            one: dict[str, Any] = {"TableName": name, "CapacityUnits": total}
            if entry["read"]:
                one["ReadCapacityUnits"] = entry["read"]
            if entry["write"]:
                one["WriteCapacityUnits"] = entry["write"]
            if self.mode == "INDEXES":
                one["Table"] = {"CapacityUnits": entry["table"]}
                if entry["gsi"]:
                    one["GlobalSecondaryIndexes"] = {k: {"CapacityUnits": v} for k, v in entry["gsi"].items()}
                if entry["lsi"]:
                    one["LocalSecondaryIndexes"] = {k: {"CapacityUnits": v} for k, v in entry["lsi"].items()}
            out.append(one)
        return out


def _capacity_mode(request: Mapping[str, Any]) -> str:
    mode = request.get("ReturnConsumedCapacity") or "NONE"
    if mode not in ("INDEXES", "TOTAL", "NONE"):
        raise TableValidation(f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
    return mode


def _with_capacity(out: dict[str, Any], capacity: _Capacity, *, many: bool = False) -> dict[str, Any]:
    if capacity.mode != "NONE":
        rendered = capacity.render()
        if many:
            out["ConsumedCapacity"] = rendered
        elif rendered:
            out["ConsumedCapacity"] = rendered[0]
    return out


# --- expressions of one request --------------------------------------------------------------------------------------

def _context(request: Mapping[str, Any]) -> expressions.ExpressionContext:
    """One request's names and values; refuses mixing expressions with the legacy parameters."""
    expressions.legacy_mix_check(request)
    vals = request.get("ExpressionAttributeValues")
    if vals:
        vals = {k: _normalized(v) if isinstance(v, dict) and k.startswith(":") else v for k, v in vals.items()}
    return expressions.ExpressionContext(request.get("ExpressionAttributeNames"), vals)


def _condition(request: Mapping[str, Any], context: expressions.ExpressionContext) -> expressions.Condition | None:
    if request.get("ConditionExpression") is not None:
        return context.condition(request["ConditionExpression"])
    if request.get("Expected") is not None:
        return expressions.expected_condition(request["Expected"], request.get("ConditionalOperator"))
    if request.get("ConditionalOperator") is not None and request.get("QueryFilter") is None and request.get("ScanFilter") is None:
        raise TableValidation("Can not use ConditionalOperator without Expected, QueryFilter or ScanFilter")
    return None


def _projection(request: Mapping[str, Any], context: expressions.ExpressionContext) -> expressions.Projection | None:
    if request.get("ProjectionExpression") is not None:
        return context.projection(request["ProjectionExpression"])
    if request.get("AttributesToGet") is not None:
        names = request["AttributesToGet"]
        if len(set(names)) != len(names):
            raise TableValidation(f"One or more parameter values were invalid: Duplicate value in attribute name: {names}")
        return expressions.attributes_to_get(names)
    return None


def _return_values(request: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    choice = request.get("ReturnValues") or "NONE"
    if choice not in _RETURN_VALUES:
        raise TableValidation(f"1 validation error detected: Value '{choice}' at 'returnValues' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]")
    if choice not in allowed:
        raise TableValidation("Return values set to invalid value")
    return choice


def _on_failure(request: Mapping[str, Any]) -> bool:
    choice = request.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if choice not in ("ALL_OLD", "NONE"):
        raise TableValidation(f"1 validation error detected: Value '{choice}' at 'returnValuesOnConditionCheckFailure' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [ALL_OLD, NONE]")
    return choice == "ALL_OLD"


def _metrics_mode(request: Mapping[str, Any]) -> bool:
    choice = request.get("ReturnItemCollectionMetrics") or "NONE"
    if choice not in ("SIZE", "NONE"):
        raise TableValidation(f"1 validation error detected: Value '{choice}' at 'returnItemCollectionMetrics' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [SIZE, NONE]")
    return choice == "SIZE"


def _collection_metrics(table: Table, key: values.Item) -> dict[str, Any] | None:
    """``ItemCollectionMetrics``: DynamoDB returns them only for tables with local secondary indexes."""
    if not table.local_indexes:
        return None
    hash_name = table.key_schema[0]["AttributeName"]
    return {"ItemCollectionKey": {hash_name: key[hash_name]}, "SizeEstimateRangeGB": [0.0, 1.0]}


# --- the write path --------------------------------------------------------------------------------------------------

def _locked(table: Table, hash_key: bytes, range_key: bytes) -> Item | None:
    """The stored item of the key, locked ``FOR UPDATE`` (one prepared statement: core/rows.py)."""
    row = row_select_one(Item, {"table": table.pk, "hash_key": hash_key, "range_key": range_key}, for_update=True)
    if row is not None:
        row.table = table  # the caller's (cached) table, as the ORM's filter(table=table) would not fetch it either
    return row


def _image(data: values.Item | None, view: str, *, new: bool) -> values.Item | None:
    if data is None:
        return None
    if view == "NEW_AND_OLD_IMAGES" or (view == "NEW_IMAGE" and new) or (view == "OLD_IMAGE" and not new):
        return data
    return None


@dataclass
class _Stream:
    """The stream records one transaction writes (numbered at the end, in one update of the table's counter)."""

    pending: list[tuple[Table, StreamRecord]] = field(default_factory=list)

    def record(self, table: Table, old: values.Item | None, new: values.Item | None, *, identity: dict[str, str] | None = None) -> None:
        if not table.stream_enabled or old == new:
            return
        event = StreamEvent.INSERT if old is None else StreamEvent.REMOVE if new is None else StreamEvent.MODIFY
        key = values.key_of(new if new is not None else old or {}, table_key_types(table))
        new_image, old_image = _image(new, table.stream_view_type, new=True), _image(old, table.stream_view_type, new=False)
        size = values.item_size(key) + (values.item_size(new_image) if new_image else 0) + (values.item_size(old_image) if old_image else 0)
        self.pending.append((table, StreamRecord(table=table, stream_label=table.stream_label, event_name=event, keys=key, new_image=new_image,
                                                 old_image=old_image, size_bytes=size, user_identity=identity, created_at=timezone.now())))

    def flush(self) -> None:
        by_table: dict[int, list[StreamRecord]] = {}
        tables: dict[int, Table] = {}
        for table, record in self.pending:
            by_table.setdefault(table.pk, []).append(record)
            tables[table.pk] = table
        for pk in sorted(by_table):
            records = by_table[pk]
            Table.objects.filter(pk=pk).update(stream_sequence=F("stream_sequence") + len(records))
            last = Table.objects.filter(pk=pk).values_list("stream_sequence", flat=True).get()
            now = timezone.now()
            for offset, record in enumerate(records):
                record.sequence = last - len(records) + 1 + offset
                record.created_at = now
            StreamRecord.objects.bulk_create(records)
            table = tables[pk]
            event = StreamRecordsWritten(table_id=pk, stream_arn=stream_arn(table))
            transaction.on_commit(lambda event=event: bus.publish(event))  # type: ignore[misc]  # mypy types no lambda with a default argument
        self.pending = []


def _store(table: Table, row: Item | None, hash_key: bytes, range_key: bytes, new: values.Item | None, stream: _Stream,
           *, identity: dict[str, str] | None = None) -> dict[str, float]:
    """Write ``new`` (or delete, when ``None``) over the locked ``row``; index entries kept; the index write units."""
    old = row.data if row is not None else None
    stream.record(table, old, new, identity=identity)
    touched: dict[str, float] = {}
    indexes = _indexes(table)
    if new is None:
        if row is not None:
            if indexes:
                for name in row.index_entries.values_list("index_name", flat=True):
                    touched[name] = _write_units(row.size_bytes)
            row.delete()
        return touched
    size = values.item_size(new)
    expires = expires_of(new, table.ttl_attribute)
    if row is None:
        row = row_insert(Item(table=table, hash_key=hash_key, range_key=range_key, data=new, size_bytes=size, expires_at=expires,
                              scan_hash=scan_hash(hash_key)))
    elif old != new:
        row.data, row.size_bytes, row.expires_at = new, size, expires
        row_update(row, ("data", "size_bytes", "expires_at", "updated_at"))
    if indexes and old != new:
        IndexEntry.objects.filter(item=row).delete()
        entries = []
        for index in indexes:
            entry = index_entry_for(table, index, row)
            if entry is not None:
                entries.append(entry)
                touched[index["IndexName"]] = _write_units(size)
            elif old is not None and _index_key(table, index, old, strict=False) is not None:
                touched[index["IndexName"]] = _write_units(size)
        IndexEntry.objects.bulk_create(entries)
    return touched


def _retrying(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a write in a transaction; a concurrent insert of the same key (unique violation) runs it again."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _failed(old: values.Item | None, on_failure: bool) -> ConditionFailed:
    return ConditionFailed(_CONDITION_FAILED, item=old if on_failure and old is not None else None)


# --- single-item operations ------------------------------------------------------------------------------------------

def _locked_checked(table: Table, hash_key: bytes, range_key: bytes, condition: Any, on_failure: Any) -> tuple[Item | None, values.Item | None]:
    """The stored item, locked, and its data, once the request's condition holds on it (else ConditionalCheckFailed)."""
    row = _locked(table, hash_key, range_key)
    old = row.data if row is not None else None
    if condition is not None and not condition.evaluate(old):
        raise _failed(old, on_failure)
    return row, old


def item_put(request: Mapping[str, Any]) -> dict[str, Any]:
    """PutItem."""
    table = table_find(request.get("TableName") or "")
    returns = _return_values(request, ("NONE", "ALL_OLD"))
    capacity, metrics, on_failure = _Capacity(_capacity_mode(request)), _metrics_mode(request), _on_failure(request)
    context = _context(request)
    condition = _condition(request, context)
    context.finish()
    item = _item_check(table, request.get("Item"))
    hash_key, range_key = _key_bytes(table, item)
    if condition is None and returns == "NONE" and capacity.mode == "NONE" and not table.stream_enabled and not _indexes(table):
        # Nothing asks for the item this one replaces: one upsert, no lock taken first.
        _upsert(table, hash_key, range_key, item)
        out: dict[str, Any] = {}
        if metrics and (m := _collection_metrics(table, item)):
            out["ItemCollectionMetrics"] = m
        return out

    def work() -> dict[str, Any]:
        stream = _Stream()
        row, old = _locked_checked(table, hash_key, range_key, condition, on_failure)
        old_size = row.size_bytes if row is not None else 0
        touched = _store(table, row, hash_key, range_key, item, stream)
        stream.flush()
        capacity.add(table, _write_units(max(values.item_size(item), old_size)), read=False, indexes=touched)
        out: dict[str, Any] = {}
        if returns == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        return out

    out = _retrying(work)
    if metrics and (m := _collection_metrics(table, item)):
        out["ItemCollectionMetrics"] = m
    return _with_capacity(out, capacity)


def _upsert(table: Table, hash_key: bytes, range_key: bytes, item: values.Item) -> None:
    """Write ``item`` over whatever has its key in one statement (``INSERT ... ON CONFLICT DO UPDATE``, atomic and,
    outside a caller's transaction, committed before it returns): for a PutItem whose old item nobody needs (no
    condition, no ``ReturnValues``, no capacity asked, no stream record, no index entries to replace)."""
    fields = Item._meta
    now = timezone.now()
    # get_field is typed as any field or relation; these are Item's own columns.
    row = [(name, fields.get_field(name).get_db_prep_save(value, connection)) for name, value in (  # type: ignore[union-attr]
        ("table", table.pk), ("hash_key", hash_key), ("range_key", range_key), ("data", item), ("size_bytes", values.item_size(item)),
        ("expires_at", expires_of(item, table.ttl_attribute)), ("scan_hash", scan_hash(hash_key)), ("updated_at", now))]
    quote = connection.ops.quote_name
    columns = [quote(fields.get_field(name).column) for name, _ in row]  # type: ignore[union-attr, arg-type]
    replaced = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[3:])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(fields.db_table)} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(row))}) "
                       f"ON CONFLICT ({', '.join(columns[:3])}) DO UPDATE SET {replaced}", [value for _, value in row])


def item_get(request: Mapping[str, Any]) -> dict[str, Any]:
    """GetItem."""
    table = table_find(request.get("TableName") or "")
    capacity = _Capacity(_capacity_mode(request))
    context = _context(request)
    projection = _projection(request, context)
    context.finish()
    _, hash_key, range_key = _key_check(table, request.get("Key"))
    consistent = bool(request.get("ConsistentRead"))
    found = _read(table, hash_key, range_key)
    capacity.add(table, _read_units(found[1] if found is not None else 0, consistent), read=True)
    out: dict[str, Any] = {}
    if found is not None:
        out["Item"] = projection.apply(found[0]) if projection is not None else found[0]
    return _with_capacity(out, capacity)


def _read(table: Table, hash_key: bytes, range_key: bytes) -> tuple[values.Item, int] | None:
    """The stored item of a key and its size, in one statement written once (a GetItem's whole query)."""
    fields = Item._meta
    quote = connection.ops.quote_name
    data = fields.get_field("data")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(data.column)}, {quote('size_bytes')} FROM {quote(fields.db_table)} "
                       f"WHERE {quote('table_id')} = %s AND {quote('hash_key')} = %s AND {quote('range_key')} = %s",
                       [table.pk, *(fields.get_field(name).get_db_prep_value(value, connection)  # type: ignore[union-attr]  # Item's own columns
                                    for name, value in (("hash_key", hash_key), ("range_key", range_key)))])
        row = cursor.fetchone()
    if row is None:
        return None
    return data.from_db_value(row[0], None, connection), int(row[1])  # type: ignore[arg-type]  # JSONField reads without the expression


def item_delete(request: Mapping[str, Any]) -> dict[str, Any]:
    """DeleteItem."""
    table = table_find(request.get("TableName") or "")
    returns = _return_values(request, ("NONE", "ALL_OLD"))
    capacity, metrics, on_failure = _Capacity(_capacity_mode(request)), _metrics_mode(request), _on_failure(request)
    context = _context(request)
    condition = _condition(request, context)
    context.finish()
    key, hash_key, range_key = _key_check(table, request.get("Key"))

    def work() -> dict[str, Any]:
        stream = _Stream()
        row, old = _locked_checked(table, hash_key, range_key, condition, on_failure)
        touched = _store(table, row, hash_key, range_key, None, stream)
        stream.flush()
        capacity.add(table, _write_units(row.size_bytes if row is not None else 0), read=False, indexes=touched)
        return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}

    out = _retrying(work)
    if metrics and (m := _collection_metrics(table, key)):
        out["ItemCollectionMetrics"] = m
    return _with_capacity(out, capacity)


def _update_of(table: Table, request: Mapping[str, Any], context: expressions.ExpressionContext) -> expressions.Update | None:
    update: expressions.Update
    if request.get("UpdateExpression") is not None:
        update = context.update(request["UpdateExpression"])
    elif request.get("AttributeUpdates") is not None:
        update = expressions.attribute_updates(request["AttributeUpdates"])
    else:
        return None
    check_keys = getattr(update, "check_keys", None)
    if check_keys is not None:
        check_keys(table_key_types(table))
    for name in table_key_types(table):
        if name in update.top_level_names():
            raise TableValidation(f"One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key")
    return update


def _updated(table: Table, update: expressions.Update | None, old: values.Item | None, key: values.Item) -> values.Item:
    base = old if old is not None else dict(key)
    new = update.apply(base) if update is not None else dict(base)
    types = table_key_types(table)
    if values.key_of(new, types) != values.key_of(base, types):
        raise TableValidation(f"One or more parameter values were invalid: Cannot update attribute {next(iter(types))}. This attribute is part of the key")
    values.item_validate(new, key_schema=types)
    new = item_normalized(new)
    for index in _indexes(table):
        _index_key(table, index, new, strict=True)
    return new


def item_update(request: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateItem: creates the item when it is missing, as DynamoDB does."""
    table = table_find(request.get("TableName") or "")
    returns = _return_values(request, _RETURN_VALUES)
    capacity, metrics, on_failure = _Capacity(_capacity_mode(request)), _metrics_mode(request), _on_failure(request)
    context = _context(request)
    update = _update_of(table, request, context)
    condition = _condition(request, context)
    context.finish()
    key, hash_key, range_key = _key_check(table, request.get("Key"))

    def work() -> dict[str, Any]:
        stream = _Stream()
        row, old = _locked_checked(table, hash_key, range_key, condition, on_failure)
        new = _updated(table, update, old, key)
        if old is None and update is not None and new == key:
            capacity.add(table, 1.0, read=False)
            return {}  # only REMOVE or DELETE actions on a missing item: nothing is created
        old_size = row.size_bytes if row is not None else 0
        touched = _store(table, row, hash_key, range_key, new, stream)
        stream.flush()
        capacity.add(table, _write_units(max(values.item_size(new), old_size)), read=False, indexes=touched)
        return _returned(returns, old, new, update)

    out = _retrying(work)
    if metrics and (m := _collection_metrics(table, key)):
        out["ItemCollectionMetrics"] = m
    return _with_capacity(out, capacity)


def _returned(returns: str, old: values.Item | None, new: values.Item, update: expressions.Update | None) -> dict[str, Any]:
    if returns == "ALL_OLD":
        return {"Attributes": old} if old else {}
    if returns == "ALL_NEW":
        return {"Attributes": new}
    if returns in ("UPDATED_OLD", "UPDATED_NEW") and hasattr(update, "updated_old"):
        picked = update.updated_old(old) if returns == "UPDATED_OLD" else update.updated_new(new)  # type: ignore[union-attr]
        return {"Attributes": picked} if picked else {}
    if returns in ("UPDATED_OLD", "UPDATED_NEW"):
        names = update.top_level_names() if update is not None else set()
        source = (old or {}) if returns == "UPDATED_OLD" else new
        picked = {k: v for k, v in source.items() if k in names}
        return {"Attributes": picked} if picked else {}
    return {}


# --- query and scan --------------------------------------------------------------------------------------------------

@dataclass
class _Target:
    """What a Query or Scan reads: the table, or one of its indexes."""

    table: Table
    index: dict[str, Any] | None
    is_global: bool
    types: dict[str, str]  # the target's key attributes, hash first

    @property
    def arn_suffix(self) -> str:
        return f"/index/{self.index['IndexName']}" if self.index else ""


def _target(table: Table, request: Mapping[str, Any]) -> _Target:
    name = request.get("IndexName")
    if name is None:
        return _Target(table, None, False, table_key_types(table))
    found = table_index(table, name)
    if found is None:
        raise TableValidation(f"The table does not have the specified index: {name}")
    index, is_global = found
    if is_global and request.get("ConsistentRead"):
        raise TableValidation("Consistent reads are not supported on global secondary indexes")
    return _Target(table, index, is_global, schema_types(table, index["KeySchema"]))


def _select(target: _Target, request: Mapping[str, Any], projection: expressions.Projection | None) -> str:
    select = request.get("Select")
    if select is None:
        if projection is not None:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_PROJECTED_ATTRIBUTES" if target.index is not None else "ALL_ATTRIBUTES"
    if select not in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"):
        raise TableValidation(f"1 validation error detected: Value '{select}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: "
                              "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
    if projection is not None and select != "SPECIFIC_ATTRIBUTES":
        which = "ProjectionExpression" if request.get("ProjectionExpression") is not None else "AttributesToGet"
        raise TableValidation(f"Cannot specify the {which} when choosing to get {select}")
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise TableValidation("ProjectionExpression or AttributesToGet must be specified when Select is SPECIFIC_ATTRIBUTES")
    if select == "ALL_PROJECTED_ATTRIBUTES" and target.index is None:
        raise TableValidation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if select == "ALL_ATTRIBUTES" and target.is_global and target.index and target.index["Projection"]["ProjectionType"] != "ALL":
        raise TableValidation(f"One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index "
                              f"{target.index['IndexName']} because its projection type is not ALL")
    return select


def _index_projected(target: _Target, data: values.Item) -> values.Item:
    """An item as its index holds it (keys of the table and the index, plus the projected attributes)."""
    assert target.index is not None
    projection = target.index["Projection"]
    if projection["ProjectionType"] == "ALL":
        return data
    keep = set(table_key_types(target.table)) | set(target.types) | set(projection.get("NonKeyAttributes") or [])
    return {k: v for k, v in data.items() if k in keep}


def _start_key(target: _Target, start: Any) -> tuple[bytes, bytes, bytes, bytes] | None:
    """``ExclusiveStartKey`` as (target hash, target range, table hash, table range) bytes."""
    if start is None:
        return None
    table_types = table_key_types(target.table)
    wanted = {**table_types, **target.types}
    bad = "The provided starting key is invalid: The provided key element does not match the schema"
    if not isinstance(start, dict) or set(start) != set(wanted):
        raise TableValidation(bad)
    for name, kind in wanted.items():
        if not isinstance(start[name], dict) or kind not in start[name]:
            raise TableValidation(bad)
    normal = item_normalized(start)
    table_hash, table_range = _key_bytes(target.table, normal)
    if target.index is None:
        return table_hash, table_range, table_hash, table_range
    names = list(target.types)
    index_hash = values.sort_bytes(normal[names[0]])
    index_range = range_bytes([values.sort_bytes(normal[n]) for n in names[1:]])
    return index_hash, index_range, table_hash, table_range


def _after(fields: list[str], bounds: list[bytes | int], forward: bool) -> Q:
    """Rows strictly after ``bounds`` in the order of ``fields`` (lexicographic), or before when not ``forward``."""
    op = "gt" if forward else "lt"
    q = Q(**{f"{fields[-1]}__{op}": bounds[-1]})
    for name, bound in zip(reversed(fields[:-1]), reversed(bounds[:-1]), strict=True):
        q = Q(**{f"{name}__{op}": bound}) | (Q(**{name: bound}) & q)
    return q


def _next_prefix(prefix: bytes) -> bytes | None:
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _composite_filter(column: str, condition: expressions.KeyCondition) -> Q:
    """A key condition on a multi-attribute key: equalities on the leading RANGE attributes and one condition on
    the last one named, as bounds on the joined components."""
    prefix = b"".join(_component(values.sort_bytes(v)) for v in condition.range_prefix)
    end = _next_prefix(prefix) if prefix else None
    op = condition.range_op
    low, high = prefix, end  # [low, high)
    if op is not None:
        bounds = [prefix + _component(values.sort_bytes(v)) for v in condition.range_values]
        if op == "EQ":
            low, high = bounds[0], _next_prefix(bounds[0])
        elif op == "GT":
            low = _next_prefix(bounds[0]) or bounds[0]
        elif op == "GE":
            low = bounds[0]
        elif op == "LT":
            high = bounds[0]
        elif op == "LE":
            high = _next_prefix(bounds[0])
        elif op == "BETWEEN":
            low, high = bounds[0], _next_prefix(bounds[1])
        elif op == "BEGINS_WITH":
            start = prefix + values.sort_bytes(condition.range_values[0]).replace(b"\x00", b"\x00\xff")
            low, high = start, _next_prefix(start)
        else:
            raise TableValidation(f"Unsupported key condition operator {op}")
    q = Q(**{f"{column}__gte": low}) if low else Q()
    return q & Q(**{f"{column}__lt": high}) if high is not None else q


def _range_filter(column: str, condition: expressions.KeyCondition, *, composite: bool = False) -> Q:
    if composite:
        return _composite_filter(column, condition)
    if condition.range_op is None:
        return Q()
    bounds = [values.sort_bytes(v) for v in condition.range_values]
    op = condition.range_op
    if op == "EQ":
        return Q(**{column: bounds[0]})
    lookups = {"LT": "lt", "LE": "lte", "GT": "gt", "GE": "gte"}
    if op in lookups:
        return Q(**{f"{column}__{lookups[op]}": bounds[0]})
    if op == "BETWEEN":
        return Q(**{f"{column}__gte": bounds[0], f"{column}__lte": bounds[1]})
    if op == "BEGINS_WITH":
        upper = _next_prefix(bounds[0])
        return Q(**{f"{column}__gte": bounds[0]}) & (Q(**{f"{column}__lt": upper}) if upper is not None else Q())
    raise TableValidation(f"Unsupported key condition operator {op}")


def _rows(query: Any, columns: tuple[str, str], limit: int | None = None) -> Iterator[tuple[values.Item, int]]:
    """``(data, size)`` of the rows of an ordered query, fetched in growing chunks (the first no larger than ``limit``)."""
    offset, chunk = 0, min(limit, 100) if limit else 100
    while True:
        batch = list(query.values_list(*columns)[offset:offset + chunk])
        yield from batch
        if len(batch) < chunk:
            return
        offset += chunk
        chunk = min(chunk * 2, 1000)


def _limit(request: Mapping[str, Any], *, query: bool = False) -> int | None:
    """``Limit``, at least 1 (AWS words the refusal differently for Query and Scan)."""
    limit = request.get("Limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        where = "Value at 'Limit'" if query else f"Value '{limit}' at 'limit'"
        raise TableValidation(f"1 validation error detected: {where} failed to satisfy constraint: Member must have value greater than or equal to 1")
    return limit


def _page(target: _Target, rows: Iterator[tuple[values.Item, int]], request: Mapping[str, Any], *, select: str,
          projection: expressions.Projection | None, filter_: expressions.Condition | None, consistent: bool,
          capacity: _Capacity) -> dict[str, Any]:
    """Read rows up to ``Limit`` items or 1 MB, then filter and project them (DynamoDB's order of work)."""
    limit = _limit(request)
    items: list[values.Item] = []
    scanned = count = size = 0
    last: values.Item | None = None
    stopped = False
    table_types = table_key_types(target.table)
    for data, item_size in rows:
        scanned += 1
        size += item_size
        # a global index holds only its projection; a local one fetches the rest of the item from the table when asked
        projected = target.index is not None and (target.is_global or select == "ALL_PROJECTED_ATTRIBUTES")
        visible = _index_projected(target, data) if projected else data
        if filter_ is None or filter_.evaluate(visible):
            count += 1
            if select != "COUNT":
                items.append(projection.apply(visible) if projection is not None else visible)
        last = data
        if (limit is not None and scanned >= limit) or size >= PAGE_BYTES:
            stopped = True
            break
    units = _read_units(size, consistent)
    capacity.add(target.table, 0 if target.index else units, read=True,
                 indexes={target.index["IndexName"]: units} if target.index else None)
    out: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = items
    if stopped and last is not None:
        out["LastEvaluatedKey"] = {k: last[k] for k in {**table_types, **target.types}}
    return out


def _filter(request: Mapping[str, Any], context: expressions.ExpressionContext, legacy: str) -> expressions.Condition | None:
    if request.get("FilterExpression") is not None:
        return context.filter(request["FilterExpression"])
    if request.get(legacy) is not None:
        return expressions.filter_condition(request[legacy], request.get("ConditionalOperator"))
    return None


def _path_heads(node: Any) -> Iterator[str]:
    """The top-level attribute names a compiled expression reads (its ``Path`` operands, anywhere in the tree)."""
    if type(node).__name__ == "Path" and hasattr(node, "elements"):
        if node.elements:
            yield str(node.elements[0])
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _path_heads(getattr(node, f.name))
    elif isinstance(node, tuple | list):
        for member in node:
            yield from _path_heads(member)


def _filter_keys_check(filter_: expressions.Condition | None, target: _Target) -> None:
    """A Query's filter may not read the queried keys, as DynamoDB refuses it."""
    tree = getattr(filter_, "node", None)
    if tree is None:
        return
    for name in _path_heads(tree):
        if name in target.types:
            raise TableValidation(f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {name}")


def item_query(request: Mapping[str, Any]) -> dict[str, Any]:
    """Query a table or an index by its partition key (and a sort key condition)."""
    table = table_find(request.get("TableName") or "")
    target = _target(table, request)
    capacity = _Capacity(_capacity_mode(request))
    context = _context(request)
    if request.get("KeyConditionExpression") is not None:
        key_condition = context.key_condition(request["KeyConditionExpression"], target.types)
    elif request.get("KeyConditions") is not None:
        key_condition = expressions.key_conditions(request["KeyConditions"], target.types)
    else:
        raise TableValidation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    filter_ = _filter(request, context, "QueryFilter")
    projection = _projection(request, context)
    context.finish()
    if request.get("FilterExpression") is not None:
        _filter_keys_check(filter_, target)
    select = _select(target, request, projection)
    forward = request.get("ScanIndexForward", True) is not False
    consistent = bool(request.get("ConsistentRead"))
    hash_type = target.types[key_condition.hash_name]
    if hash_type not in key_condition.hash_value:
        raise TableValidation("One or more parameter values were invalid: Condition parameter type does not match schema type")
    if key_condition.range_name is not None and any(target.types[key_condition.range_name] not in v for v in key_condition.range_values):
        raise TableValidation("One or more parameter values were invalid: Condition parameter type does not match schema type")
    hash_key = values.sort_bytes(_normalized(key_condition.hash_value))
    start = _start_key(target, request.get("ExclusiveStartKey"))
    if start is not None and start[0] != hash_key:
        raise TableValidation("The provided starting key is outside query boundaries based on provided conditions")
    condition = type(key_condition)(key_condition.hash_name, key_condition.hash_value, key_condition.range_name, key_condition.range_op,
                                    tuple(_normalized(v) for v in key_condition.range_values),
                                    tuple(_normalized(v) for v in key_condition.range_prefix))
    composite = len(target.types) > 2
    query: QuerySet[Any]  # of Item, or of IndexEntry
    if target.index is None:
        query = Item.objects.filter(table=table, hash_key=hash_key).filter(_range_filter("range_key", condition))
        query = query.order_by("range_key" if forward else "-range_key")
        if start is not None:
            query = query.filter(_after(["range_key"], [start[1]], forward))
        rows = _rows(query, ("data", "size_bytes"), _limit(request, query=True))
    else:
        query = IndexEntry.objects.filter(table=table, index_name=target.index["IndexName"], hash_key=hash_key).filter(
            _range_filter("range_key", condition, composite=composite))
        fields = ["range_key", "item__hash_key", "item__range_key"]
        query = query.order_by(*(f if forward else f"-{f}" for f in fields))
        if start is not None:
            query = query.filter(_after(fields, [start[1], start[2], start[3]], forward))
        rows = _rows(query, ("item__data", "item__size_bytes"), _limit(request, query=True))
    out = _page(target, rows, request, select=select, projection=projection, filter_=filter_, consistent=consistent, capacity=capacity)
    return _with_capacity(out, capacity)


def item_scan(request: Mapping[str, Any]) -> dict[str, Any]:
    """Scan a table or an index, whole or one ``Segment`` of ``TotalSegments`` (partitions split by a hash of their key)."""
    table = table_find(request.get("TableName") or "")
    target = _target(table, request)
    capacity = _Capacity(_capacity_mode(request))
    context = _context(request)
    filter_ = _filter(request, context, "ScanFilter")
    projection = _projection(request, context)
    context.finish()
    select = _select(target, request, projection)
    consistent = bool(request.get("ConsistentRead"))
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if total is not None and not 1 <= total <= 1000000:
        raise TableValidation(f"1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy constraint: "
                              + ("Member must have value greater than or equal to 1" if total < 1 else "Member must have value less than or equal to 1000000"))
    if segment is not None and segment < 0:
        raise TableValidation(f"1 validation error detected: Value '{segment}' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0")
    if (segment is None) != (total is None):
        # DynamoDB words the two cases differently ("when Segment parameter" / "when parameter TotalSegments")
        raise TableValidation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present" if total is None
                              else "The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
    if segment is not None and total is not None and segment >= total:
        raise TableValidation(f"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}")
    start = _start_key(target, request.get("ExclusiveStartKey"))
    query: QuerySet[Any]  # of Item, or of IndexEntry
    if target.index is None:
        query = Item.objects.filter(table=table)
        fields = ["scan_hash", "hash_key", "range_key"]
        bounds: list[bytes | int] = [scan_hash(start[2]), start[2], start[3]] if start else []
        columns = ("data", "size_bytes")
    else:
        query = IndexEntry.objects.filter(table=table, index_name=target.index["IndexName"])
        fields = ["scan_hash", "hash_key", "range_key", "item__hash_key", "item__range_key"]
        bounds = [scan_hash(start[0]), *start] if start else []
        columns = ("item__data", "item__size_bytes")
    if segment is not None and total is not None:
        low, high = segment * SCAN_SPACE // total, (segment + 1) * SCAN_SPACE // total
        query = query.filter(scan_hash__gte=low, scan_hash__lt=high)
    if bounds:
        query = query.filter(_after(fields, bounds, True))
    rows = _rows(query.order_by(*fields), columns, _limit(request))
    out = _page(target, rows, request, select=select, projection=projection, filter_=filter_, consistent=consistent, capacity=capacity)
    return _with_capacity(out, capacity)


# --- batches ---------------------------------------------------------------------------------------------------------

def _key_identity(key: values.Item) -> str:
    return json.dumps(key, sort_keys=True)


def java_dump(value: Any) -> str:
    """A request member as DynamoDB's validation messages echo it (Java's ``toString``: ``{k=v, ...}``, ``[a, b]``)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_dump(v) for v in value) + "]"
    return str(value)


def item_batch_get(request: Mapping[str, Any]) -> dict[str, Any]:
    """BatchGetItem: up to 100 keys over several tables; what would pass 16 MB comes back in ``UnprocessedKeys``."""
    asked = request.get("RequestItems")
    if not isinstance(asked, dict) or not asked:
        raise TableValidation("The requestItems parameter is required for BatchGetItem")
    for name, spec in asked.items():
        if isinstance(spec, dict) and len(spec.get("Keys") or []) > BATCH_GET_MAX:
            raise TableValidation(f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed to satisfy constraint: "
                                  f"Member must have length less than or equal to {BATCH_GET_MAX}")
    total = sum(len(spec.get("Keys") or []) for spec in asked.values())
    if total > BATCH_GET_MAX:
        raise TableValidation("Too many items requested for the BatchGetItem call")
    capacity = _Capacity(_capacity_mode(request))
    plans = []
    for name, spec in asked.items():
        table = table_find(name)
        keys = spec.get("Keys") or []
        if not keys:
            raise TableValidation(f"1 validation error detected: Value '[]' at 'requestItems.{name}.member.keys' failed to satisfy constraint: "
                                  "Member must have length greater than or equal to 1")
        context = _context(spec)
        projection = _projection(spec, context)
        context.finish()
        checked = [_key_check(table, key) for key in keys]
        if len({_key_identity(k) for k, _, _ in checked}) != len(checked):
            raise TableValidation("Provided list of item keys contains duplicates")
        plans.append((name, table, spec, projection, checked))
    responses: dict[str, list[values.Item]] = {}
    unprocessed: dict[str, Any] = {}
    size = 0
    for name, table, spec, projection, checked in plans:
        found = responses.setdefault(name, [])
        consistent = bool(spec.get("ConsistentRead"))
        wanted = Q()
        for _, hash_key, range_key in checked:
            wanted |= Q(hash_key=hash_key, range_key=range_key)
        rows = {(bytes(h), bytes(r)): (d, s) for h, r, d, s in Item.objects.filter(table=table).filter(wanted).values_list("hash_key", "range_key", "data", "size_bytes")}
        left = []
        units = 0.0
        for key, hash_key, range_key in checked:
            if size >= BATCH_GET_BYTES:
                left.append(key)
                continue
            row = rows.get((hash_key, range_key))
            units += _read_units(row[1] if row else 0, consistent)
            if row is not None:
                size += row[1]
                found.append(projection.apply(row[0]) if projection is not None else row[0])
        capacity.add(table, units, read=True)
        if left:
            unprocessed[name] = {**{k: v for k, v in spec.items() if k != "Keys"}, "Keys": left}
    return _with_capacity({"Responses": responses, "UnprocessedKeys": unprocessed}, capacity, many=True)


def item_batch_write(request: Mapping[str, Any]) -> dict[str, Any]:
    """BatchWriteItem: up to 25 puts and deletes over several tables; no key twice."""
    asked = request.get("RequestItems")
    if not isinstance(asked, dict) or not asked:
        raise TableValidation("The requestItems parameter is required for BatchWriteItem")
    total = sum(len(v or []) for v in asked.values())
    if total > BATCH_WRITE_MAX or any(not v for v in asked.values()):
        raise TableValidation(f"1 validation error detected: Value '{java_dump(asked)}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
                              "[Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
    capacity, metrics = _Capacity(_capacity_mode(request)), _metrics_mode(request)
    plan: list[tuple[Table, values.Item, bytes, bytes, values.Item | None]] = []
    for name, writes in asked.items():
        table = table_find(name)
        seen: set[tuple[bytes, bytes]] = set()
        for write in writes:
            if not isinstance(write, dict) or len(write) != 1 or not ({"PutRequest", "DeleteRequest"} & set(write)):
                raise TableValidation("1 validation error detected: WriteRequest must contain exactly one of PutRequest or DeleteRequest")
            if "PutRequest" in write:
                item = _item_check(table, (write["PutRequest"] or {}).get("Item"))
                hash_key, range_key = _key_bytes(table, item)
                key = values.key_of(item, table_key_types(table))
                plan_item: values.Item | None = item
            else:
                key, hash_key, range_key = _key_check(table, (write["DeleteRequest"] or {}).get("Key"))
                plan_item = None
            if (hash_key, range_key) in seen:
                raise TableValidation("Provided list of item keys contains duplicates")
            seen.add((hash_key, range_key))
            plan.append((table, key, hash_key, range_key, plan_item))
    order = sorted(range(len(plan)), key=lambda i: (plan[i][0].pk, plan[i][2], plan[i][3]))

    def work() -> dict[str, Any]:
        stream = _Stream()
        for i in order:
            table, _, hash_key, range_key, item = plan[i]
            row = _locked(table, hash_key, range_key)
            old_size = row.size_bytes if row is not None else 0
            touched = _store(table, row, hash_key, range_key, item, stream)
            capacity.add(table, _write_units(max(values.item_size(item) if item else 0, old_size)), read=False, indexes=touched)
        stream.flush()
        return {}

    _retrying(work)
    out: dict[str, Any] = {"UnprocessedItems": {}}
    if metrics:
        collected: dict[str, list[dict[str, Any]]] = {}
        for table, key, *_ in plan:
            if (m := _collection_metrics(table, key)) is not None:
                collected.setdefault(table.name, []).append(m)
        out["ItemCollectionMetrics"] = collected
    return _with_capacity(out, capacity, many=True)


# --- transactions ----------------------------------------------------------------------------------------------------

def item_transact_get(request: Mapping[str, Any]) -> dict[str, Any]:
    """TransactGetItems: up to 100 reads, one snapshot."""
    actions = request.get("TransactItems")
    if not isinstance(actions, list) or not actions or len(actions) > TRANSACT_MAX:
        raise TableValidation(f"1 validation error detected: Value '{java_dump(actions if isinstance(actions, list) else [])}' at 'transactItems' failed to "
                              f"satisfy constraint: Member must have length {'less than or equal to 100' if actions else 'greater than or equal to 1'}")
    capacity = _Capacity(_capacity_mode(request))
    plan = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for action in actions:
        get = (action or {}).get("Get")
        if not isinstance(get, dict):
            raise TableValidation("1 validation error detected: Value null at 'transactItems.member.get' failed to satisfy constraint: Member must not be null")
        table = table_find(get.get("TableName") or "")
        context = _context(get)
        projection = _projection(get, context)
        context.finish()
        _, hash_key, range_key = _key_check(table, get.get("Key"))
        if (table.pk, hash_key, range_key) in seen:
            raise TableValidation("Transaction request cannot include multiple operations on one item")
        seen.add((table.pk, hash_key, range_key))
        plan.append((table, hash_key, range_key, projection))
    responses = []
    with transaction.atomic():
        for table, hash_key, range_key, projection in plan:
            row = Item.objects.filter(table=table, hash_key=hash_key, range_key=range_key).only("data", "size_bytes").first()
            capacity.add(table, 2 * _read_units(row.size_bytes if row is not None else 0, True), read=True)
            responses.append({"Item": projection.apply(row.data) if projection is not None else row.data} if row is not None else {})
    return _with_capacity({"Responses": responses}, capacity, many=True)


@dataclass
class _Action:
    kind: str  # Put | Update | Delete | ConditionCheck
    table: Table
    key: values.Item
    hash_key: bytes
    range_key: bytes
    condition: expressions.Condition | None
    on_failure: bool
    item: values.Item | None = None
    update: expressions.Update | None = None


def _action(entry: Any) -> _Action:
    if not isinstance(entry, dict) or len([k for k in ("ConditionCheck", "Put", "Delete", "Update") if entry.get(k) is not None]) != 1:
        raise TableValidation("TransactItems can only contain one of Check, Put, Update or Delete")
    kind = next(k for k in ("ConditionCheck", "Put", "Delete", "Update") if entry.get(k) is not None)
    spec = entry[kind]
    table = table_find(spec.get("TableName") or "")
    on_failure = _on_failure(spec)
    context = _context(spec)
    update = _update_of(table, spec, context) if kind == "Update" else None
    if kind == "Update" and update is None:
        raise TableValidation("1 validation error detected: Value null at 'transactItems.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
    condition = _condition(spec, context)
    if kind == "ConditionCheck" and condition is None:
        raise TableValidation("1 validation error detected: Value null at 'transactItems.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
    context.finish()
    if kind == "Put":
        item = _item_check(table, spec.get("Item"))
        hash_key, range_key = _key_bytes(table, item)
        return _Action(kind, table, values.key_of(item, table_key_types(table)), hash_key, range_key, condition, on_failure, item=item)
    key, hash_key, range_key = _key_check(table, spec.get("Key"))
    return _Action(kind, table, key, hash_key, range_key, condition, on_failure, update=update)


def _digest(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps({k: request.get(k) for k in ("TransactItems", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics")},
                                     sort_keys=True).encode()).hexdigest()


def item_transact_write(request: Mapping[str, Any]) -> dict[str, Any]:
    """TransactWriteItems: up to 100 checks and writes, all applied in one database transaction or none."""
    entries = request.get("TransactItems")
    if not isinstance(entries, list) or not entries or len(entries) > TRANSACT_MAX:
        raise TableValidation(f"1 validation error detected: Value '{java_dump(entries if isinstance(entries, list) else [])}' at 'transactItems' failed to "
                              f"satisfy constraint: Member must have length {'less than or equal to 100' if entries else 'greater than or equal to 1'}")
    capacity, metrics = _Capacity(_capacity_mode(request)), _metrics_mode(request)
    token = request.get("ClientRequestToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 36):
        raise TableValidation("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36")
    actions = [_action(e) for e in entries]
    seen: set[tuple[int, bytes, bytes]] = set()
    for action in actions:
        if (action.table.pk, action.hash_key, action.range_key) in seen:
            raise TableValidation("Transaction request cannot include multiple operations on one item")
        seen.add((action.table.pk, action.hash_key, action.range_key))
    digest = _digest(request) if token else ""

    def work() -> dict[str, Any]:
        if token:
            TransactionToken.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=TOKEN_SECONDS)).delete()
            previous = TransactionToken.objects.filter(token=token).first()
            if previous is not None:
                if previous.request_digest != digest:
                    raise IdempotentParameterMismatch("The request uses the same client token as a previous, but non-identical request.")
                for action in actions:
                    capacity.add(action.table, 2 * _write_units(values.item_size(action.item or action.key)), read=False)
                return {}
            TransactionToken.objects.create(token=token, request_digest=digest)
        rows: dict[int, Item | None] = {}
        for i in sorted(range(len(actions)), key=lambda i: (actions[i].table.pk, actions[i].hash_key, actions[i].range_key)):
            rows[i] = _locked(actions[i].table, actions[i].hash_key, actions[i].range_key)
        reasons: list[dict[str, Any]] = []
        news: list[values.Item | None] = []
        for i, action in enumerate(actions):
            old = row.data if (row := rows[i]) is not None else None
            if action.condition is not None and not action.condition.evaluate(old):
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": _CONDITION_FAILED}
                if action.on_failure and old is not None:
                    reason["Item"] = old
                reasons.append(reason)
                news.append(None)
                continue
            try:
                news.append(_updated(action.table, action.update, old, action.key) if action.kind == "Update" else action.item)
            except TableValidation as error:
                reasons.append({"Code": "ValidationError", "Message": error.message})
                news.append(None)
                continue
            reasons.append({"Code": "None"})
        if any(r["Code"] != "None" for r in reasons):
            codes = ", ".join(r["Code"] for r in reasons)
            raise TransactionCanceled(f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]", reasons=reasons)
        stream = _Stream()
        for i, action in enumerate(actions):
            row = rows[i]
            old_size = row.size_bytes if row is not None else 0
            if action.kind == "ConditionCheck":
                capacity.add(action.table, 2 * _read_units(old_size, True), read=True)
                continue
            new = news[i] if action.kind != "Delete" else None
            touched = _store(action.table, row, action.hash_key, action.range_key, new, stream)
            capacity.add(action.table, 2 * _write_units(max(values.item_size(new) if new else 0, old_size)), read=False,
                         indexes={k: 2 * v for k, v in touched.items()})
        stream.flush()
        return {}

    out = _retrying(work)
    if metrics:
        collected: dict[str, list[dict[str, Any]]] = {}
        for action in actions:
            if action.kind != "ConditionCheck" and (m := _collection_metrics(action.table, action.key)) is not None:
                collected.setdefault(action.table.name, []).append(m)
        out["ItemCollectionMetrics"] = collected
    return _with_capacity(out, capacity, many=True)


# --- time to live ----------------------------------------------------------------------------------------------------

def items_expire(*, now: int | None = None, limit: int = 1000) -> int:
    """Delete items whose TTL has passed (tables with TTL on), each a REMOVE by the service in the stream."""
    moment = int(now if now is not None else timezone.now().timestamp())
    TransactionToken.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=TOKEN_SECONDS)).delete()
    deleted = 0
    for table in Table.objects.filter(ttl_enabled=True):
        candidates = list(Item.objects.filter(table=table, expires_at__lte=moment).values_list("pk", flat=True)[:limit])
        for pk in candidates:
            with transaction.atomic():
                row = Item.objects.select_for_update().filter(pk=pk, expires_at__lte=moment).first()
                if row is None:
                    continue
                fresh = Table.objects.get(pk=table.pk)
                if not fresh.ttl_enabled:
                    break
                stream = _Stream()
                _store(fresh, row, bytes(row.hash_key), bytes(row.range_key), None, stream, identity=TTL_IDENTITY)
                stream.flush()
                deleted += 1
    return deleted
