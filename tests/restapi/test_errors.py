"""The REST API while its database is away (issue 15, seen by make chaos during a PostgreSQL restart): 503 in the
error envelope with ``Retry-After``, never a 500 with a stack trace.

The fault is real: the connection is pointed at a port where nothing listens, so the token lookup fails to connect.
"""

from __future__ import annotations

import socket

from django.db import connection


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_api_answers_503_while_the_database_is_away(api, transactional_db) -> None:
    assert api.get("/api/v1/functions/").status_code == 200
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": _closed_port()})
    try:
        answer = api.get("/api/v1/functions/")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert answer.status_code == 503, answer.content[:500]
    assert answer["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == "ServiceUnavailable" and "database" in answer.json()["error"]["message"]
    assert api.get("/api/v1/functions/").status_code == 200  # back once the database answers
