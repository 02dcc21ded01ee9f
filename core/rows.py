"""Hand-written statements for a hot path's single-row reads and writes, where compiling the ORM's query was the cost.

Under ``make chaos`` the DynamoDB ``UpdateItem`` of every run spent more of the web's GIL time in Django's SQL
compiler (``select_for_update().filter(...).first()``: ``as_sql``, ``pre_sql_setup``, ``get_order_by``) and in
``objects.create`` than in the database (docs/chaos.md, run 8). These helpers build each statement once per
model, columns and database vendor, and do what the ORM does around it: every concrete field, each field's
``pre_save`` (``auto_now``) and database adaptation on the way in, the backend's and the field's converters on
the way out (``Model.from_db``), so the instances are the ORM's own. They send no signals: use them only for
models without save/delete receivers. ``invoker/rows.py`` inserts the invocation's row with ``row_insert`` and keeps
its own conditional updates (claim, finish).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

from core.db import prepared_cursor

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


def _quote(name: str | None) -> str:
    assert name is not None
    return connection.ops.quote_name(name)


def _field(model: type[Model], name: str) -> Field:
    """A concrete field by name or attname (``table`` or ``table_id``)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field), name
    return field


@cache
def _select(model: type[Model], where: tuple[str, ...], for_update: bool, vendor: str) -> tuple[str, list[str], list[tuple[list[Converter], Any]]]:
    del vendor  # part of the key: the SQL and converters are the backend's
    meta = model._meta
    fields = list(meta.concrete_fields)
    columns = ", ".join(_quote(f.column) for f in fields)
    condition = " AND ".join(f"{_quote(_field(model, name).column)} = %s" for name in where)
    sql = f"SELECT {columns} FROM {_quote(meta.db_table)} WHERE {condition}"
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    converters = []
    for field in fields:
        col = field.get_col(meta.db_table)
        converters.append((list(connection.ops.get_db_converters(col)) + list(col.get_db_converters(connection)), col))
    return sql, [f.attname for f in fields], converters


def _where_params(model: type[Model], where: dict[str, Any]) -> list[Any]:
    return [_field(model, name).get_db_prep_value(value, connection, prepared=False) for name, value in where.items()]


def row_select_one(model: type[M], where: dict[str, Any], *, for_update: bool = False) -> M | None:
    """The row of ``model`` whose fields equal ``where`` (``{"table": pk, "hash_key": b"..."}``: a unique key), locked
    ``FOR UPDATE`` where the database has it, as ``select_for_update().filter(**where).first()`` returns it."""
    sql, names, converters = _select(model, tuple(where), for_update, connection.vendor)
    with prepared_cursor() as cursor:
        cursor.execute(sql, _where_params(model, where))
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (chain, col) in zip(row, converters, strict=True):
        for convert in chain:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, names, values)


@cache
def _insert(model: type[Model], vendor: str, unique: tuple[str, ...] = ()) -> tuple[str, list[Field]]:
    del vendor
    meta = model._meta
    pk = meta.pk
    auto = pk is not None and getattr(pk, "db_returning", False)
    fields = [f for f in meta.concrete_fields if not (auto and f is pk)]
    sql = (f"INSERT INTO {_quote(meta.db_table)} ({', '.join(_quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if unique:
        sql += f" ON CONFLICT ({', '.join(_quote(_field(model, name).column) for name in unique)}) DO NOTHING"
    if auto and connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {_quote(pk.column)}"
    return sql, fields


def row_insert(instance: M) -> M:
    """Write a new ``instance`` in one statement as ``objects.create`` would (an auto primary key read back); a
    unique violation raises ``IntegrityError``."""
    _insert_row(instance, ())
    return instance


def row_insert_new(instance: M, unique: Sequence[str]) -> bool:
    """Write a new ``instance`` unless a row with its values of the ``unique`` fields exists (a unique constraint's):
    ``INSERT ... ON CONFLICT DO NOTHING``, so no error aborts the transaction around it. Whether it was written (the
    primary key read back then); a concurrent writer's row for the same key is waited for, as the database does."""
    return _insert_row(instance, tuple(unique))


def _insert_row(instance: Model, unique: tuple[str, ...]) -> bool:
    model = type(instance)
    sql, fields = _insert(model, connection.vendor, unique)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    pk = model._meta.pk
    auto = pk is not None and getattr(pk, "db_returning", False)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        if auto and connection.features.can_return_columns_from_insert:
            row = cursor.fetchone()  # no row: nothing inserted (a row count is not reliable before the fetch on SQLite)
            if row is None:
                return False
            setattr(instance, pk.attname, row[0])
        elif cursor.rowcount == 0:
            return False
        elif auto:
            setattr(instance, pk.attname, connection.ops.last_insert_id(cursor, model._meta.db_table, pk.column))
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


@cache
def _update(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, list[Field]]:
    del vendor
    meta = model._meta
    fields = [_field(model, name) for name in names]
    assignments = ", ".join(f"{_quote(f.column)} = %s" for f in fields)
    assert meta.pk is not None
    return f"UPDATE {_quote(meta.db_table)} SET {assignments} WHERE {_quote(meta.pk.column)} = %s", fields


def row_update(instance: Model, names: Sequence[str]) -> None:
    """``instance.save(update_fields=names)`` in one prepared statement (each field's ``pre_save``: ``auto_now``)."""
    model = type(instance)
    sql, fields = _update(model, tuple(names), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in fields]
    params.append(instance.pk)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
