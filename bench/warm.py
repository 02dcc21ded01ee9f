"""``BENCH_ONLY=warm``: the warm path alone (issue 14 §4): the raw Celery floor (its worker alone on the machine),
then, with Kiln's worker and gunicorn, the warm synchronous invoke, the HTTP route beside a plain Django view and
asynchronous throughput; the same measurements and rows as the full ``make bench``."""

from __future__ import annotations

import sys

from bench import httproute


def floor(procs, env: dict[str, str], results: dict) -> None:
    """Before Kiln's worker starts: raw Celery's round trip and throughput."""
    import os

    import redis

    from bench import floors
    from bench.floor import noop
    from bench.procs import wait_for
    from bench.run import ASYNC_TASKS, WARM_CALLS, WARMUP, WORKER_THREADS, say

    worker = procs.start("floor-worker", [sys.executable, "-m", "celery", "-A", "bench.floor", "worker", "-Q", "bench-floor", "--pool", "threads", "-c", str(WORKER_THREADS),
                                          "-l", "warning", "-n", f"bench-floor-{os.getpid()}@%h"], env)
    wait_for(lambda: noop.apply_async().get(timeout=2) is None, timeout_s=60, what="the raw Celery worker", checks=[lambda: procs.check("floor-worker", worker)])
    results["floor_rtt"] = floors.celery_round_trip(WARM_CALLS, WARMUP)
    results["floor_tp"] = floors.celery_throughput(ASYNC_TASKS, redis.Redis.from_url(os.environ["REDIS_URL"]))
    say(f"raw Celery round trip p50 {results['floor_rtt']['p50']:.2f} ms; throughput {results['floor_tp']['tasks_per_s']:.0f}/s")
    procs.stop(worker)


def measure(port: int, procs, env: dict[str, str]) -> dict:
    from django.contrib.auth.models import User

    from bench.client import Api
    from bench.run import NODE_HELLO, PY_ECHO, PY_HELLO, PY_NOOP, async_throughput, create_function, say, warm_latency
    from functions.runtimes import available_runtimes

    api = Api("127.0.0.1", port)
    User.objects.create_user("bench", password="bench-pass-123", is_staff=True, is_superuser=True)
    api.token = api.json("POST", "/api/v1/auth/token/", {"username": "bench", "password": "bench-pass-123"})["token"]
    create_function(api, "bench-echo", "python3.11", {"index.py": PY_ECHO})
    create_function(api, "bench-noop", "python3.11", {"index.py": PY_NOOP})
    node = "nodejs20.x" if "nodejs20.x" in available_runtimes() else None
    create_function(api, "bench-hello-node" if node else "bench-hello-py", node or "python3.11", {"index.js": NODE_HELLO} if node else {"index.py": PY_HELLO})
    out: dict = {"warm": warm_latency(api, "bench-echo")}
    say(f"warm invoke p50 {out['warm']['p50']:.2f} ms p99 {out['warm']['p99']:.2f} ms")
    out["http"] = httproute.measure(api, port, procs, env, "bench-hello-node" if node else "bench-hello-py")
    say(f"HTTP route {out['http']['route']['rps']:.0f}/s; plain view {out['http']['plain']['rps']:.0f}/s")
    out["throughput"] = async_throughput("bench-noop")
    return out


def rows(results: dict) -> list[tuple[str, str, str, str, str, str]]:
    from bench.run import warm_rows

    merged = {**results, **results.get("warm", {})}
    return warm_rows(merged) + httproute.rows(merged)
