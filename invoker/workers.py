"""Which worker this process is, and whether another one is alive (its heartbeat key, invoker/worker.py)."""

from __future__ import annotations

import logging
import os
import socket

from django.conf import settings

from invoker.redis_client import get_redis

log = logging.getLogger(__name__)


# The host part: the machine's name, or KILN_WORKER_HOST where several workers share one (containers, tests).
WORKER_NAME = f"{settings.KILN_WORKER_HOST or socket.gethostname()}:{os.getpid()}"


def worker_alive(name: str) -> bool:

    return bool(name) and get_redis().exists(f"kiln:worker:{name}") == 1

