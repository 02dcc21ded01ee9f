"""Django's PostgreSQL backend with the connection health check taken at most once per grace period.

``CONN_HEALTH_CHECKS`` makes Django send ``SELECT 1`` before the first query of every request that reuses a
persistent connection: one database round trip per request, the largest single cost of a small AWS request
(a GetItem is otherwise one query). Here a connection that was opened or passed a check less than
``KILN_DB_HEALTH_CHECK_GRACE_SECONDS`` ago (1 s by default; 0 checks every request, as Django does) is not
checked again. A connection broken within that window fails its request's query as it would without the
check; Django then sees ``errors_occurred`` and drops it at the end of that request, as it always does.

``prepared_cursor()`` is a cursor for the statements Kiln runs on every invocation and object write (core/rows.py,
invoker/rows.py): its parameters are bound by the server instead of quoted into the text by psycopg's client-side
cursor (Django's default, kept for everything else: some ORM queries need literal parameters), and psycopg
prepares a statement the connection runs a fifth time, so PostgreSQL parses and plans it once per connection.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapters
from psycopg.pq import Format

TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid
PREPARE_THRESHOLD = 5  # psycopg's default: a statement is prepared on its fifth run on a connection


class DatabaseWrapper(base.DatabaseWrapper):
    # Set by Django's BaseDatabaseWrapper; django-stubs does not declare them.
    health_check_enabled: bool
    health_check_done: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked_at: float | None = None

    def connect(self) -> None:
        super().connect()
        self._checked_at = time.monotonic()
        # Django turns psycopg's preparation off (None); only server-binding cursors prepare, so this reaches
        # prepared_cursor()'s statements and nothing of the ORM's (client-side binding never prepares).
        self.connection.prepare_threshold = PREPARE_THRESHOLD

    def close(self) -> None:
        self._checked_at = None
        super().close()

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        grace = float(getattr(settings, "KILN_DB_HEALTH_CHECK_GRACE_SECONDS", 0.0))
        if self._checked_at is not None and time.monotonic() - self._checked_at < grace:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None:
            self._checked_at = time.monotonic()

    def prepared_cursor(self) -> Any:
        """A cursor (Django's wrapper: its errors are Django's) that binds its parameters on the server."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)  # type: ignore[attr-defined]  # psycopg 3's, not in django-stubs
            # As create_cursor: the session's time zone for timestamps read, where the connection's differs.
            if self.timezone != self.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]  # BaseDatabaseWrapper's wrapping, as cursor() does
