"""SDK-warm cold starts: a handler that loads the AWS SDK and builds an S3 client at module level, on a
spare runtime that preloaded the SDK (invoker/sdkpreload.py), against the same work run bare.

Called by ``bench.run`` (``make bench``, after its other cold starts) as ``results["sdkcold"] =
sdkcold.measure_with(api, worker_pid, runtimes)`` and ``rows += sdkcold.rows(r)``; ``BENCH_ONLY=sdkcold``
runs it alone (``measure``). Floors, in the same run: ``python3.11 -S -c "import boto3;
boto3.client('s3')"`` and ``node -e "new (require('@aws-sdk/client-s3').S3Client)({})"`` with the SDK Kiln
binds into its sandboxes on their path and a function's variables (region, keys), median of
``BENCH_BARE_RUNS``. Targets: the prewarmed kind's Init Duration at most 0.1x of its floor. The same
functions' first-of-their-kind starts (on demand: no spare, no preload) are shown for reference, and so
is what preloading costs in memory: Max Memory Used of a handler that loads no SDK on a preloaded spare
beside the same on demand, and the resident set of the runtimes started with ``--preload-sdk``.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

from bench.stats import median

BARE_RUNS = int(os.environ.get("BENCH_BARE_RUNS", "20"))
TARGET = 0.1
PY_SDK = "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef handler(event, context):\n    return {'region': s3.meta.region_name}\n"
PY_PLAIN = "def handler(event, context):\n    return {'plain': True}\n"
NODE_SDK = 'const { S3Client } = require("@aws-sdk/client-s3");\nconst s3 = new S3Client({});\nexports.handler = async () => ({ region: await s3.config.region() });\n'
NODE_PLAIN = "exports.handler = async () => ({ plain: true });\n"
BARE_PY = "import boto3; boto3.client('s3')"
BARE_NODE = "const { S3Client } = require('@aws-sdk/client-s3'); new S3Client({})"
FUNCTION_ENV = {"AWS_ACCESS_KEY_ID": "AKIABENCHBENCHBENCH0", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1", "HOME": "/tmp", "PATH": "/usr/bin:/bin", "TZ": ":UTC", "LANG": "en_US.UTF-8"}


def _median_run(argv: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(argv, check=True, capture_output=True, env=env)  # the page cache warm, the bytecode written
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def bare(runtimes: dict, runs: int = BARE_RUNS) -> dict[str, float]:
    from invoker.sandbox import node_sdk_dir, precompile, python_sdk_dir

    out: dict[str, float] = {}
    py = runtimes.get("python3.11")
    if py:
        precompile(py.executable, sdk=True)  # as the worker does: the SDK's bytecode, for both sides
        out["python"] = _median_run([py.executable, "-S", "-c", BARE_PY], {**FUNCTION_ENV, "PYTHONPATH": str(python_sdk_dir())}, runs)
    node, sdk = runtimes.get("nodejs20.x"), node_sdk_dir()
    if node and sdk:
        out["node"] = _median_run([node.executable, "-e", BARE_NODE], {**FUNCTION_ENV, "NODE_PATH": str(sdk)}, runs)
    return out


def measure_with(api: Any, worker_pid: int, runtimes: dict) -> dict[str, Any]:
    from bench.run import cold_starts, create_function, invoke, runtime_rss_mb, say, wait_for_spare

    result: dict[str, Any] = {"bare": bare(runtimes)}
    say("SDK-warm cold starts: bare " + ", ".join(f"{k} {v:.0f} ms" for k, v in result["bare"].items()))
    node = "nodejs20.x" if "nodejs20.x" in runtimes and "node" in result["bare"] else None
    create_function(api, "bench-sdk-py", "python3.11", {"index.py": PY_SDK})
    create_function(api, "bench-plain-py", "python3.11", {"index.py": PY_PLAIN})
    if node:
        create_function(api, "bench-sdk-node", node, {"index.js": NODE_SDK})
        create_function(api, "bench-plain-node", node, {"index.js": NODE_PLAIN})
    result["py_new"] = cold_starts(api, "bench-sdk-py", new_kind=True)
    result["py"] = cold_starts(api, "bench-sdk-py", wait_spare=True)
    say(f"python boto3 handler init: on demand {result['py_new']['init_ms']:.0f} ms, preloaded spare {result['py']['init_ms']:.1f} ms")
    if node:
        result["node_new"] = cold_starts(api, "bench-sdk-node", new_kind=True)
        result["node"] = cold_starts(api, "bench-sdk-node", wait_spare=True)
        say(f"node S3Client handler init: on demand {result['node_new']['init_ms']:.0f} ms, preloaded spare {result['node']['init_ms']:.1f} ms")
    # Memory: a function that loads no SDK, on demand (a kind never seen: no spare) and then on a spare that
    # preloaded it (its default kind again): Max Memory Used (the cgroup's peak) of each cold start.
    result["mem"] = {}
    for family, name in (("py", "bench-plain-py"), *([("node", "bench-plain-node")] if node else [])):
        steps = (("plain", {"network": "none"}), ("again", {"network": "outbound"}), ("spare", {"environment": {"BENCH_COLD": str(time.time_ns())}}))
        for where, change in steps:  # "again" makes its default kind wanted (other kinds' starts may have displaced it)
            api.json("PATCH", f"/api/v1/functions/{name}/", change)
            if where == "spare":
                wait_for_spare(api.json("GET", f"/api/v1/functions/{name}/"))
            status, headers, body = invoke(api, name, {})
            record = api.json("GET", f"/api/v1/invocations/{headers['x-kiln-request-id']}/")
            if status != 200 or not record["cold_start"]:
                raise RuntimeError(f"{name} answered {status} (cold start: {record['cold_start']}): {body[:300]!r}")
            result["mem"][f"{family}_{where}"] = record["max_memory_used_mb"]
    result["rss"] = {"py_preloaded": runtime_rss_mb(worker_pid, "kiln_bootstrap.main", "--preload-sdk")}
    if node:
        result["rss"]["node_preloaded"] = runtime_rss_mb(worker_pid, "bootstrap.cjs", "--preload-sdk")
    return result


def measure(port: int, procs: Any, env: dict[str, str]) -> dict[str, Any]:
    """``BENCH_ONLY=sdkcold``: the worker ``bench.run`` started, a user and token of its own."""
    from django.contrib.auth.models import User

    from bench.client import Api
    from bench.procs import wait_for
    from functions.runtimes import available_runtimes

    api = Api("127.0.0.1", port)
    wait_for(lambda: api.request("GET", "/healthz")[0] == 200, timeout_s=60, what="gunicorn /healthz", checks=[])
    User.objects.create_user("bench-sdk", password="bench-pass-123", is_staff=True, is_superuser=True)
    api.token = api.json("POST", "/api/v1/auth/token/", {"username": "bench-sdk", "password": "bench-pass-123"})["token"]
    return measure_with(api, procs.pid_of("kiln-worker"), available_runtimes())


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    s = r.get("sdkcold")
    if not s:
        return []
    out = []
    for key, label, floor_label in (("py", "Python (python3.11), `import boto3` + `boto3.client('s3')` at module level", f'`python3.11 -S -c "{BARE_PY}"`'),
                                    ("node", "Node.js (nodejs20.x), `require('@aws-sdk/client-s3')` + `new S3Client({})` at module level", "`node -e` doing the same")):
        cold, bare_ms = s.get(key), s["bare"].get("python" if key == "py" else "node")
        if not cold or not bare_ms:
            continue
        ratio = cold["init_ms"] / bare_ms
        out.append((f"SDK-warm cold start, {label}, prewarmed kind (a spare that preloaded the SDK): Init Duration median (min-max) / bare {floor_label}",
                    f"{cold['init_ms']:.1f} ms ({cold['init_min']:.0f}-{cold['init_max']:.0f})", f"{bare_ms:.0f} ms", f"{ratio:.3f}x", f"<= {TARGET}x",
                    "ok" if ratio <= TARGET else "MISS"))
        new = s.get(f"{key}_new")
        if new:
            out.append(("  (the same handler's first-of-its-kind start: on demand, no spare, the SDK loaded by the handler)",
                        f"{new['init_ms']:.0f} ms ({new['init_min']:.0f}-{new['init_max']:.0f})", f"{bare_ms:.0f} ms", f"{new['init_ms'] / bare_ms:.2f}x", "-", ""))
        out.append((f"  (Max Memory Used of those starts: prewarmed kind / first of its kind; end to end {cold['wall_ms']:.0f} ms / {new['wall_ms'] if new else float('nan'):.0f} ms)",
                    f"{cold['mem_mb']:.0f} MB", f"{new['mem_mb']:.0f} MB" if new else "-", "", "-", ""))
    mem, rss = s.get("mem", {}), s.get("rss", {})
    for family, label in (("py", "Python"), ("node", "Node.js")):
        plain, spare = mem.get(f"{family}_plain"), mem.get(f"{family}_spare")
        if plain is not None and spare is not None:
            out.append((f"Memory of preloading, {label}: Max Memory Used of a no-SDK handler's cold start on a spare that preloaded the SDK / on demand",
                        f"{spare} MB", f"{plain} MB", f"{spare - plain:+d} MB", "-", ""))
        preloaded = rss.get(f"{family}_preloaded")
        if preloaded:
            out.append((f"  (RSS median of the {len(preloaded)} {label} runtimes started with `--preload-sdk`: spares and the environments they became)",
                        f"{median(preloaded):.0f} MB", "", "", "-", ""))
    return out
