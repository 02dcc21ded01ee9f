"""Shared fixtures: personas, an authenticated API client, and a real Celery worker.

The ``worker`` fixture starts ``celery -A console worker`` as a separate process against the test
database (pytest-django's ``test_<name>``) and the Redis database of this run, and waits for its
heartbeat. Tests that need a worker use ``transactional_db`` so the worker sees their rows.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apitokens.services import api_token_issue
from tests import handlers
from tests.stack import Stack
from tests.stack import start as stack_start
from tests.stack import stop as stack_stop

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The web port the test worker forwards into its sandboxes as Kiln's endpoint (no Kiln web server runs
# there in the tests; tests/invoker/test_network.py serves it), so a Kiln on this host's 8000 is not hit.
WORKER_KILN_PORT = _free_port()


def pytest_configure(config: pytest.Config) -> None:
    """Passwords hashed with a fast hasher in this process: the hundreds of logins the fixtures create would
    otherwise spend ~0.4 s each in PBKDF2 (a million rounds). Kiln's own processes the tests start (workers,
    ``tests/stack.py``'s Kiln) keep its settings' hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _flush_through_deadlocks()


def _flush_through_deadlocks() -> None:
    """A transactional test's teardown empties every table in one ``TRUNCATE``; the session's Celery worker, which
    keeps polling the database (schedules, the reaper, stream mappings), can hold a row lock that PostgreSQL
    resolves by failing that statement as a deadlock. Tried again then: the worker's transaction is gone."""
    from django.core.management.base import CommandError
    from django.db.utils import OperationalError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(5):
            try:
                return original(self)
            except (CommandError, OperationalError) as exc:
                if attempt == 4 or "deadlock detected" not in f"{exc} {exc.__cause__}":
                    raise
                time.sleep(0.2)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]


def process_env() -> dict[str, str]:
    """The environment of a Kiln process the tests start: this session's test database and data dir."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "console.settings"  # Kiln's own: tests/settings.py has moved this environment already
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env["KILN_DATA_DIR"] = str(settings.DATA_DIR)
    return env


class Worker:
    """The session's real Celery worker (a separate process on the test database and Redis). Spares that preload
    the AWS SDK are off in it (``KILN_PREWARM_SDK=0``: each refill would cost seconds of CPU on every cold start of
    the suite); the SDK preload tests restart it with them on (``restart``)."""

    def __init__(self, node: str = "test", env: dict[str, str] | None = None, queues: str = "invoke-sync,invoke,control", args: tuple[str, ...] = ()) -> None:
        """``node`` names the Celery node and the log; ``env`` is added to every start (another host's work dir, say);
        ``queues`` are those it consumes and ``args`` go to ``celery worker`` after Kiln's own."""
        self.process: subprocess.Popen[bytes] | None = None
        self.node = node
        self.env = env or {}
        self.queues = queues
        self.args = args
        self.log_path = Path(settings.DATA_DIR) / ("worker.log" if node == "test" else f"worker-{node}.log")
        self._log = None

    @property
    def name(self) -> str:
        """The worker's name in its heartbeat and in the invocations it runs (invoker/workers.py)."""
        assert self.process is not None
        return f"{self.env.get('KILN_WORKER_HOST') or socket.gethostname()}:{self.process.pid}"

    def start(self, **overrides: str) -> None:
        from invoker.redis_client import get_redis

        redis = get_redis()
        env = process_env()
        env["KILN_PORT"] = str(WORKER_KILN_PORT)
        env["KILN_ASYNC_RETRY_DELAYS"] = "0.3,0.3"  # Lambda's 1 and 2 minutes, shortened for the tests
        env["KILN_PREWARM_SDK"] = "0"
        env.update(self.env)
        env.update(overrides)
        self._log = open(self.log_path, "ab")
        since = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", self.queues, "--pool", "threads", "-c", "6", "--without-mingle", "--without-gossip", "-l", "info", "-n", f"{self.node}-{os.getpid()}@%h", *self.args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            raw = redis.get(f"kiln:worker:{self.name}")
            if raw and json.loads(raw).get("at", 0) >= since:
                return  # this process's own heartbeat
            if self.process.poll() is not None:
                raise RuntimeError("the Celery worker exited at start:\n" + self.log_path.read_text()[-4000:])
            time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("the Celery worker did not start within 60 s:\n" + self.log_path.read_text()[-4000:])

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()

    def restart(self, **overrides: str) -> None:
        self.stop()
        self.start(**overrides)


@pytest.fixture(scope="session")
def worker(django_db_setup: None, django_db_blocker) -> Iterator[Worker]:
    from invoker.redis_client import get_redis

    get_redis().flushdb()
    running = Worker()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session", autouse=True)
def static_collected() -> None:
    """Pages render ``{% static %}`` through the hashed manifest, as a started Kiln does (console/staticfiles.py)."""
    from console.staticfiles import ensure_collected

    ensure_collected()


@pytest.fixture(scope="session")
def kiln_stack() -> Iterator[Stack]:
    """Kiln as `make run` starts it (scripts/run.sh): gunicorn, worker and beat on SQLite, a free port, a temp dir;
    Redis: the database below this session's, or with ``TEST_STACK_REDIS=private`` a redis-server of its own."""
    test_db = int(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[-1] or 15)
    stack = stack_start(redis_db=(test_db - 1) % 16, private_redis=os.environ.get("TEST_STACK_REDIS") == "private")
    yield stack
    stack_stop(stack)


@pytest.fixture(autouse=True)
def _metrics_write_through(settings) -> None:
    """Runs finished in the test process write their roll-ups at once (tests of ``metrics.buffer`` turn
    the buffer on themselves); the ``worker`` process keeps the default once-a-second writer."""
    settings.KILN_METRICS_FLUSH_SECONDS = 0


def _user(username: str, *, staff: bool = True) -> User:
    return User.objects.create_user(username=username, password="kiln-pass-123", is_staff=staff, is_superuser=staff)


@pytest.fixture
def owner(db: None) -> User:
    return _user("owner")


@pytest.fixture
def outsider(db: None) -> User:
    return _user("outsider", staff=False)


@pytest.fixture
def api(owner: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=owner)}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def make_function(api: APIClient):
    """Create a function through the API from a handler fixture; returns the response JSON."""

    def make(name: str, handler: str = "echo", runtime: str = "python3.11", **config: object) -> dict:
        files, handler_name = handlers.code(handler, runtime)
        body = {"name": name, "runtime": runtime, "handler": handler_name, "code": {"files": files}, **config}
        response = api.post("/api/v1/functions/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make


def invoke(api: APIClient, name: str, event: object = None, **params: str):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.post(f"/api/v1/functions/{name}/invoke/" + (f"?{query}" if query else ""), data=json.dumps(event if event is not None else {}), content_type="application/json")


def wait_final(api: APIClient, request_id: str, seconds: float = 20.0) -> dict:
    """Poll the invocation until it is final; its record."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        data = api.get(f"/api/v1/invocations/{request_id}/").json()
        if data["status"] not in ("queued", "running"):
            return data
        time.sleep(0.1)
    raise AssertionError(f"invocation {request_id} still {data['status']}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests first: later tests' sandboxes add and remove network interfaces on the host (their
    environments' veth pairs, also when idle ones are reaped), and Chromium aborts a page's requests with
    ERR_NETWORK_CHANGED when an interface appears or goes. Before any such test has run, none does."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") else 1)
