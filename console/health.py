"""``GET /healthz``: whether Kiln can serve, with the state of the database, broker, workers and sandbox."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse

from invoker.redis_client import get_redis
from invoker.selectors import worker_snapshots


def workers() -> list[dict[str, Any]]:
    return worker_snapshots()


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001
        checks["database"] = {"ok": False, "error": str(exc)}
    try:
        get_redis().ping()
        checks["broker"] = {"ok": True}
        found = workers()
        checks["workers"] = {"ok": bool(found), "count": len(found), "names": [w["name"] for w in found], "details": found}
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = {"ok": False, "error": str(exc)}
        checks["workers"] = {"ok": False, "count": 0, "names": []}
    from invoker.sandbox import sandbox_status  # the probe of this host's sandbox, only when asked

    status = sandbox_status()
    checks["sandbox"] = {"ok": True, **status}
    if status["mode"] == "refused" or (status["mode"] == "bwrap" and not status["isolated"]):
        checks["sandbox"]["warning"] = f"Functions will NOT start: {status['detail']}"
    elif not status["isolated"]:
        checks["sandbox"]["warning"] = "Functions are NOT isolated (KILN_SANDBOX=process): they share the host's network and files."
    healthy = checks["database"]["ok"] and checks["broker"]["ok"] and checks["workers"]["ok"]
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503)
