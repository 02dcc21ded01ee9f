"""botocore's service models, loaded once per process (they drive every protocol parser and serializer)."""

from __future__ import annotations

import threading
from functools import lru_cache

import botocore.session
from botocore.model import ServiceModel

_lock = threading.Lock()


@lru_cache(maxsize=16)
def service_model(name: str) -> ServiceModel:
    with _lock:
        return botocore.session.get_session().get_service_model(name)
