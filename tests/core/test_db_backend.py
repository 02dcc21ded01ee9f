"""The PostgreSQL backend's health check: skipped for a connection checked within the grace period, taken after
it, and a connection that fails it is replaced (real PostgreSQL; the server-side kill is real too)."""

from __future__ import annotations

import time

import pytest
from django.db import connections

connection = connections["default"]  # the wrapper itself, not Django's proxy

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend wraps PostgreSQL's")


def _new_request() -> None:
    """What Django does between requests (request_started / request_finished)."""
    connection.close_if_unusable_or_obsolete()


def test_health_check_at_most_once_per_grace(transactional_db: None, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection.health_check_enabled
    checks: list[int] = []
    real = type(connection).is_usable
    monkeypatch.setattr(type(connection), "is_usable", lambda self: checks.append(1) or real(self))
    settings.KILN_DB_HEALTH_CHECK_GRACE_SECONDS = 30.0
    connection.close()
    connection.ensure_connection()
    for _ in range(3):
        _new_request()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert checks == []  # opened (or checked) less than the grace ago: no SELECT 1 per request
    settings.KILN_DB_HEALTH_CHECK_GRACE_SECONDS = 0.2
    time.sleep(0.25)
    _new_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == [1]
    settings.KILN_DB_HEALTH_CHECK_GRACE_SECONDS = 0.0  # 0: every request checks, as Django's own backend
    _new_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == [1, 1]


def test_a_dead_connection_is_replaced_after_the_grace(transactional_db: None, settings) -> None:
    settings.KILN_DB_HEALTH_CHECK_GRACE_SECONDS = 0.0
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    _new_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_the_prepared_cursor_binds_on_the_server_and_prepares_a_statement_run_often(transactional_db: None) -> None:
    from django.db import IntegrityError

    from core.db import prepared_cursor

    connection.close()
    statement = "SELECT %s::int + 1, %s::text || 'x', %s::timestamptz"
    for n in range(6):
        with prepared_cursor() as cursor:
            cursor.execute(statement, [n, "it's", "2026-12-06T10:00:00Z"])
            plus_one, text, when = cursor.fetchone()
    assert (plus_one, text) == (6, "it'sx")  # a quote in a value is data, not SQL
    assert when.tzinfo is not None and when.isoformat() == "2026-12-06T10:00:00+00:00"
    with connection.cursor() as cursor:  # the same session: PostgreSQL lists what it has prepared
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%$1::int + 1%"])
        assert cursor.fetchone()[0] == 1  # placeholders sent as $n, planned once for this connection
    with pytest.raises(IntegrityError), prepared_cursor() as cursor:  # its errors are Django's, as the ORM's
        cursor.execute("CREATE TEMP TABLE t_unique (n int PRIMARY KEY)")
        cursor.execute("INSERT INTO t_unique VALUES (%s), (%s)", [1, 1])
