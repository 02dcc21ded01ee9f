"""The test run's settings: Kiln's own (``console.settings``), each pytest-xdist worker on Redis and a data
directory of its own. Its test database is pytest-django's (``test_<name>_gwN``).

Set here, before Kiln's settings are read, in this process's environment, which every Kiln process a test
starts (its Celery worker, ``tests/stack.py``'s Kiln) inherits: worker ``gwN`` takes the Redis database ``2N``
below the run's (the one below that is its ``kiln_stack``'s) and ``<KILN_DATA_DIR>/gwN``. Once per process: a
Kiln process started with this module as its settings finds its environment already moved.
"""

from __future__ import annotations

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("KILN_TEST_WORKER") != _worker:
    _number = int(_worker[2:])
    _base, _, _db = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")
    os.environ["REDIS_URL"] = f"{_base}/{(int(_db or 15) - 2 * _number) % 16}"
    if os.environ.get("KILN_DATA_DIR"):
        _data = os.path.join(os.environ["KILN_DATA_DIR"], _worker)
        os.makedirs(_data, exist_ok=True)
        os.chmod(_data, 0o711)  # searchable: sandboxes run as an unprivileged uid (scripts/test.sh)
        os.environ["KILN_DATA_DIR"] = _data
        # The controller's settings set it under the run's data dir, and every worker inherited it.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(_data, "prometheus")
    os.environ["KILN_TEST_WORKER"] = _worker

from console.settings import *  # noqa: E402, F403
