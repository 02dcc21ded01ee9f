"""What a Celery worker process does beside tasks: heartbeats, idle-environment reaping, clean shutdown.

Started from Celery's ``worker_ready`` signal; a heartbeat key ``kiln:worker:<name>`` (15 s expiry)
says the worker is alive, and carries a snapshot of its environments for the console and /healthz.
"""

from __future__ import annotations

import json
import logging
import threading

from celery.signals import worker_ready, worker_shutdown

from invoker.pool import get_pool
from invoker.redis_client import get_redis
from invoker.sandbox import sandbox_status
from invoker.services import WORKER_NAME

log = logging.getLogger(__name__)
HEARTBEAT_S = 5
_stop = threading.Event()


def _beat() -> None:
    pool = get_pool()
    while not _stop.is_set():
        try:
            pool.reap_idle()
            get_redis().set(
                f"kiln:worker:{WORKER_NAME}",
                json.dumps({"name": WORKER_NAME, "sandbox": sandbox_status(), "environments": pool.snapshot()}),
                ex=HEARTBEAT_S * 3,
            )
        except Exception as exc:  # noqa: BLE001 - keep beating through a Redis hiccup
            log.warning("heartbeat failed: %s", exc)
        _stop.wait(HEARTBEAT_S)


@worker_ready.connect
def _on_ready(**_: object) -> None:
    status = sandbox_status()
    if not status["isolated"]:
        log.warning("SANDBOX NOT ISOLATED: %s. Functions run as plain processes with rlimits only.", status["detail"])
    else:
        log.info("sandbox: %s", status["detail"])
    threading.Thread(target=_beat, name="kiln-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _on_shutdown(**_: object) -> None:
    _stop.set()
    get_pool().stop_all()
    try:
        get_redis().delete(f"kiln:worker:{WORKER_NAME}")
    except Exception:  # noqa: BLE001
        pass
