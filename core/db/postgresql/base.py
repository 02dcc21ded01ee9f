"""Django's PostgreSQL backend with the connection health check taken at most once per grace period.

``CONN_HEALTH_CHECKS`` makes Django send ``SELECT 1`` before the first query of every request that reuses a
persistent connection: one database round trip per request, the largest single cost of a small AWS request
(a GetItem is otherwise one query). Here a connection that was opened or passed a check less than
``KILN_DB_HEALTH_CHECK_GRACE_SECONDS`` ago (1 s by default; 0 checks every request, as Django does) is not
checked again. A connection broken within that window fails its request's query as it would without the
check; Django then sees ``errors_occurred`` and drops it at the end of that request, as it always does.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base


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
