"""What an attacker with a database backup would read: a real ``pg_dump`` of the test database, as text."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.db import connection


def database_dump() -> str:
    """The test database's rows (``pg_dump --data-only``); fails the test on SQLite or without ``pg_dump``."""
    db = connection.settings_dict
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.fail("this test dumps the PostgreSQL test database with pg_dump (installed with PostgreSQL's client)")
    command = ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", db["NAME"]]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout
