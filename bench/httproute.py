"""HTTP-route figures: requests per second and p50/p99 latency of ``GET /hello`` through an HTTP API
route to a warm function (the issue's Node.js handler, else a Python one), beside a plain Django view
returning the same JSON on its own gunicorn (same settings and middleware, ``bench.plain_settings``).
Called by ``bench.run`` (``make bench``) with its gunicorn, worker and signed-in client.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from bench.client import Api
from bench.stats import percentile

HTTP_CALLS = int(os.environ.get("BENCH_HTTP_CALLS", "500"))
HTTP_RPS_REQUESTS = int(os.environ.get("BENCH_HTTP_RPS_REQUESTS", "1000"))
HTTP_CONCURRENCY = int(os.environ.get("BENCH_HTTP_CONCURRENCY", "4"))
EXPECTED = {"message": "Hello from Lambda!"}
RPS_TARGET = 0.25  # issue 14 §4


def _latency(host: str, port: int, path: str, calls: int) -> dict[str, float]:
    client = Api(host, port)
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        status, _, body = client.request("GET", path)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200 or json.loads(body) != EXPECTED:
            raise RuntimeError(f"GET {path} call {i} answered {status}: {body[:300]!r}")
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": len(samples)}


def _throughput(host: str, port: int, path: str, total: int, concurrency: int) -> float:
    per_thread = max(total // concurrency, 1)
    errors: list[str] = []

    def run() -> None:
        client = Api(host, port)
        for _ in range(per_thread):
            status, _, body = client.request("GET", path)
            if status != 200:
                errors.append(f"{status}: {body[:200]!r}")
                return

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"GET {path} under load: {errors[0]}")
    return per_thread * concurrency / elapsed


def measure(api: Api, port: int, procs, env: dict[str, str], function: str) -> dict:
    """``function`` exists and answers the issue's hello response; ``api`` is signed in."""
    from bench.procs import free_port, wait_for
    from bench.run import GUNICORN_ARGS  # the same server settings for both

    created = api.json("POST", "/api/v1/http-apis/", {"name": "bench"}, expect=201)
    api.json("POST", f"/api/v1/http-apis/{created['id']}/routes/", {"route_key": "GET /hello", "function": function}, expect=201)
    route_path = f"/gw/{created['id']}/hello"
    _latency("127.0.0.1", port, route_path, 30)  # warm-up: environments for the worker threads
    _throughput("127.0.0.1", port, route_path, HTTP_CONCURRENCY * 10, HTTP_CONCURRENCY)
    route = _latency("127.0.0.1", port, route_path, HTTP_CALLS)
    route["rps"] = _throughput("127.0.0.1", port, route_path, HTTP_RPS_REQUESTS, HTTP_CONCURRENCY)

    plain_port = free_port()
    plain_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.plain_settings"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    plain_web = procs.start("plain-gunicorn", [gunicorn, "bench.plain_wsgi", "-b", f"127.0.0.1:{plain_port}", *GUNICORN_ARGS, "--log-level", "warning"], plain_env)
    try:
        # A fresh connection per probe: http.client cannot reuse one whose connect was refused.
        wait_for(lambda: Api("127.0.0.1", plain_port).request("GET", "/hello")[0] == 200, timeout_s=60, what="the plain-view gunicorn", checks=[lambda: procs.check("plain-gunicorn", plain_web)])
        _latency("127.0.0.1", plain_port, "/hello", 30)
        plain = _latency("127.0.0.1", plain_port, "/hello", HTTP_CALLS)
        plain["rps"] = _throughput("127.0.0.1", plain_port, "/hello", HTTP_RPS_REQUESTS, HTTP_CONCURRENCY)
    finally:
        procs.stop(plain_web)
    return {"route": route, "plain": plain, "function": function}


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    if "http" not in r:
        return []
    route, plain, function = r["http"]["route"], r["http"]["plain"], r["http"]["function"]
    return [
        (f"HTTP route GET /hello ({function}, warm) p50 / plain Django view, same JSON, p50", f"{route['p50']:.1f} ms", f"{plain['p50']:.1f} ms", f"{route['p50'] / plain['p50']:.1f}x", "-", ""),
        ("HTTP route p99 / plain Django view p99", f"{route['p99']:.1f} ms", f"{plain['p99']:.1f} ms", f"{route['p99'] / plain['p99']:.1f}x", "-", ""),
        (f"HTTP route requests per second ({HTTP_CONCURRENCY} clients, {HTTP_RPS_REQUESTS} requests) / plain Django view", f"{route['rps']:.0f} /s", f"{plain['rps']:.0f} /s",
         f"{route['rps'] / plain['rps']:.2f}x", f">= {RPS_TARGET}x", "ok" if route["rps"] / plain["rps"] >= RPS_TARGET else "MISS"),
    ]
