"""The short chaos run of ``make test`` (issue 15): Kiln as ``make run`` starts it, 1,000 asynchronous invocations,
one SIGKILL of its Celery worker and one crash of its Redis (no persistence: every message is lost) while they
are submitted; every accepted invocation must end final with the answer its event asks for, none recorded twice
(chaos/run.py does the counting). The function only answers here (no write per run, to keep the run short), so
re-runs are not counted; ``make chaos`` counts them.

It runs on a database of the test's PostgreSQL server and a private redis-server, and reuses the static files
the session collected, so most of its time is the load itself.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest
from django.conf import settings

from chaos.faults import Plan
from chaos.run import Options, run

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the harness runs Kiln on PostgreSQL"),
]


def test_nothing_accepted_is_lost_through_a_worker_kill_and_a_redis_crash() -> None:
    database = settings.DATABASES["default"]
    server = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/postgres"
    name = urlparse(settings.DATABASE_URL).path.lstrip("/") + "_chaos"  # beside the session's own: kiln_h2 -> kiln_h2_chaos
    options = Options(count=1000, sqs_messages=0, threads=6, worker_concurrency=6, postgres_server=server, database_name=name,
                      plan=Plan(worker_kills=1, first_kill_s=2.0, web_kill_at_s=None, redis_restart_at_s=4.0, postgres_restart_at_s=None),
                      static_root=settings.STATIC_ROOT, drain_timeout_s=120, record=False)
    report = run(options)
    print(report.render())
    assert report.accepted == 1000, report.render()
    assert report.drained and report.lost == 0, report.render()
    assert report.recorded_twice == 0 and report.wrong_result == 0, report.render()
    assert report.succeeded == report.accepted + report.unconfirmed_rows, report.render()  # a trivial function: nothing fails
    assert any("SIGKILL Celery worker" in fault for fault in report.faults) and any("Redis: started again" in fault for fault in report.faults)
    assert not report.fault_errors
