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
