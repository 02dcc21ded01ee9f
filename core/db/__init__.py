"""Kiln's database backends (``core.db.postgresql``) and what the hot statements run on."""

from __future__ import annotations

from typing import Any

from django.db import connection


def prepared_cursor() -> Any:
    """The default connection's cursor for a hot statement: bound by the server and prepared once per connection where
    the backend can (PostgreSQL, core/db/postgresql/base.py), else the ordinary cursor (SQLite)."""
    make = getattr(connection, "prepared_cursor", None)
    return make() if make is not None else connection.cursor()
