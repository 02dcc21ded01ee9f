"""``make bench``: start PostgreSQL-backed Kiln (gunicorn + a Celery worker) on a private data dir and
Redis DB, measure its figures and the floors they are judged against in the same run, print a table
and append it to docs/benchmarks.md. Run through ``scripts/bench.sh``, which sets the environment.

``BENCH_ONLY=dynamodb,s3api,sqs,sdkcold,javacold`` (a comma-separated list of sections) starts gunicorn (and for ``sqs`` a worker) alone,
runs only those sections and prints their rows without appending to docs/benchmarks.md: for iterating on one.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

WARM_CALLS = int(os.environ.get("BENCH_WARM_CALLS", "500"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "30"))
COLD_STARTS = int(os.environ.get("BENCH_COLD_STARTS", "10"))
BARE_RUNS = int(os.environ.get("BENCH_BARE_RUNS", "20"))
ASYNC_TASKS = int(os.environ.get("BENCH_ASYNC_TASKS", "5000"))
ASYNC_BATCH = 100
WORKER_THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "4"))
# gunicorn as scripts/run.sh (make run) starts it: 2 processes of 4 threads (gthread: keep-alive connections).
GUNICORN_ARGS = ("-w", "2", "--threads", "4")
# Before each cold start of a prewarmed kind, the worker's heartbeat must list a spare of that runtime that
# holds: the one made after the previous start, which (Python, Node.js) first loads the AWS SDK
# (invoker/sdkpreload.py), ~0.5-1 s of CPU on a quiet machine and several times that on a busy one.
SPARE_WAIT_S = float(os.environ.get("BENCH_SPARE_WAIT", "60"))

PY_ECHO = "def handler(event, context):\n    return event\n"
PY_HELLO = "def handler(event, context):\n    print('Event:', event)\n    return {'statusCode': 200, 'body': '{\"message\": \"Hello from Lambda!\"}'}\n"
PY_NOOP = "def handler(event, context):\n    return None\n"
JAVA_HELLO = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        System.out.println("Event: " + event);
        return Map.of("statusCode", 200, "body", "{\\"message\\": \\"Hello from Lambda!\\"}");
    }
}
"""
RUBY_HELLO = "def handler(event:, context:)\n  puts \"Event: #{event}\"\n  { statusCode: 200, body: '{\"message\": \"Hello from Lambda!\"}' }\nend\n"
NODE_HELLO = (
    'exports.handler = async (event) => {\n  console.log("Event:", event);\n'
    '  return { statusCode: 200, body: JSON.stringify({ message: "Hello from Lambda!" }) };\n};\n'
)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


# -- set-up ------------------------------------------------------------------------------------
def prepare_database(url: str) -> None:
    """Drop and create the bench database (a dedicated one: every run starts from empty tables)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError("migrate failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])


def sandbox_mode() -> str:
    from invoker.sandbox import sandbox_status

    return str(sandbox_status()["mode"])


# -- Kiln measurements ---------------------------------------------------------------------------
def create_function(api, name: str, runtime: str, files: dict[str, str]) -> None:
    api.json("POST", "/api/v1/functions/", {"name": name, "runtime": runtime, "handler": "index.handler", "code": {"files": files}, "timeout": 30}, expect=201)


def create_java_function(api, name: str, java: str) -> None:
    """The Java hello, compiled here (as a user would, against Kiln's copy of aws-lambda-java-core) and
    zipped as classes: the cold start is the JVM's and the bootstrap's, not javac's."""
    import base64
    import io
    import subprocess
    import tempfile
    import zipfile

    from invoker.javabuild import bootstrap_jar

    with tempfile.TemporaryDirectory() as root:
        source = Path(root) / "example" / "Hello.java"
        source.parent.mkdir()
        source.write_text(JAVA_HELLO)
        subprocess.run([str(Path(java).with_name("javac")), "--release", "17", "-cp", str(bootstrap_jar(java)), "-d", f"{root}/classes", str(source)], check=True, capture_output=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in Path(root, "classes").rglob("*.class"):
                archive.write(path, str(path.relative_to(Path(root, "classes"))))
    body = {"name": name, "runtime": "java17", "handler": "example.Hello::handleRequest", "timeout": 30, "code": {"zip_base64": base64.b64encode(buffer.getvalue()).decode()}}
    api.json("POST", "/api/v1/functions/", body, expect=201)


def invoke(api, name: str, event: object) -> tuple[int, dict[str, str], bytes]:
    return api.request("POST", f"/api/v1/functions/{name}/invoke/", event)


def warm_latency(api, name: str) -> dict[str, float]:
    from bench.stats import percentile

    for i in range(WARMUP):
        status, _, body = invoke(api, name, {"warmup": i})
        assert status == 200 and json.loads(body) == {"warmup": i}, (status, body)
    samples = []
    for i in range(WARM_CALLS):
        started = time.perf_counter()
        status, _, body = invoke(api, name, {"n": i})
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200 or json.loads(body) != {"n": i}:
            raise RuntimeError(f"warm invoke {i} answered {status}: {body[:300]!r}")
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": len(samples)}


def wait_for_spare(function: dict) -> None:
    """Until a heartbeat of the worker (every 5 s) written from now on lists a spare that holds of the kind
    of ``function`` (its API data: runtime, ephemeral storage, network, and memory where the spare's is not
    0, i.e. any) (``Prewarmer.spares``)."""
    import redis

    def fits(spare: dict) -> bool:
        return (spare["holding"] and spare["runtime"] == function["runtime"] and spare["ephemeral_storage"] == function["ephemeral_storage"]
                and spare["network"] == function["network"] and spare["memory_size"] in (0, function["memory_size"]))

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    since = time.time()
    deadline = time.monotonic() + SPARE_WAIT_S
    while time.monotonic() < deadline:
        for key in r.scan_iter(match="kiln:worker:*"):
            beat = json.loads(r.get(key) or b"{}")
            if beat.get("at", 0) >= since and any(fits(spare) for spare in beat.get("spares", [])):
                return
        time.sleep(0.2)
    raise RuntimeError(f"no spare for {function['name']} held within {SPARE_WAIT_S:.0f} s")


def cold_starts(api, name: str, *, new_kind: bool = False, wait_spare: bool = False) -> dict[str, object]:
    """Force a new environment per call with a new revision, read init_duration_ms.

    By default the revision changes only the environment variables, so each cold start is of a kind the
    worker has seen (a prewarmed runtime may serve it); with ``new_kind`` each changes the ephemeral
    storage and the memory size too, a kind never seen, so every start is made on demand: cgroups,
    sandbox, interpreter, init. ``wait_spare``: before each start, wait until the heartbeat lists a spare of
    its kind that holds (the revision PATCHed first, so no start is made meanwhile)."""
    from bench.stats import median

    inits, walls, memory = [], [], []
    for i in range(COLD_STARTS + 1):
        change: dict[str, object] = {"environment": {"BENCH_COLD": f"{time.time_ns()}-{i}"}}
        if new_kind:
            change["memory_size"] = 1024 + 64 * i + (32 if "node" in name else 16 if "ruby" in name else 48 if "java" in name else 0)
            change["ephemeral_storage"] = 1024 + 16 * i + (8 if "node" in name else 4 if "ruby" in name else 12 if "java" in name else 0)
        api.json("PATCH", f"/api/v1/functions/{name}/", change)
        if wait_spare and i:  # not before the first, which makes the kind wanted again after other kinds' starts
            wait_for_spare(api.json("GET", f"/api/v1/functions/{name}/"))
        time.sleep(0.3)  # as between real cold starts: the worker is idle (its background refills done) before one
        started = time.perf_counter()
        status, headers, body = invoke(api, name, {"cold": i})
        wall = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"cold invoke of {name} answered {status}: {body[:300]!r}")
        record = api.json("GET", f"/api/v1/invocations/{headers['x-kiln-request-id']}/")
        if not record["cold_start"] or record["init_duration_ms"] is None:
            raise RuntimeError(f"{name}: invocation {record['request_id']} was not a cold start: {record}")
        if i == 0:
            continue  # the first one also unpacks the code into the cache
        inits.append(record["init_duration_ms"])
        walls.append(wall)
        memory.append(record["max_memory_used_mb"])
    return {"init_ms": median(inits), "init_min": min(inits), "init_max": max(inits), "wall_ms": median(walls), "n": len(inits), "mem_mb": median(memory)}


def idle_memory(api, name: str, worker_pid: int, marker: str) -> dict[str, float]:
    """Max Memory Used of a warm invocation, and the RSS of the idle runtime process(es) on the host."""
    for i in range(3):
        status, headers, _ = invoke(api, name, {"memory": i})
        assert status == 200
    record = api.json("GET", f"/api/v1/invocations/{headers['x-kiln-request-id']}/")
    time.sleep(0.2)
    rss = runtime_rss_mb(worker_pid, marker)
    return {"max_memory_used_mb": record["max_memory_used_mb"], "rss_mb": max(rss) if rss else float("nan"), "environments": len(rss)}


def runtime_rss_mb(root_pid: int, *markers: str) -> list[float]:
    """RSS of the runtime processes under ``root_pid`` whose command line contains every marker (the bootstraps,
    not the bubblewrap, shell or setpriv processes that started them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            stack.append(child)
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                first = cmd.split(" ")[0]
                if all(m in cmd for m in markers) and not first.endswith(("bwrap", "sh", "setpriv")) and "kiln-sandbox" not in cmd:
                    for line in Path(f"/proc/{child}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            found.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
    return found


def async_throughput(function_name: str) -> dict[str, float]:
    """Submit ``ASYNC_TASKS`` Event invocations in-process (batches of 100 per transaction) and wait
    until every row is final; all must have succeeded."""
    from django.db import transaction

    from functions.models import Function
    from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger
    from invoker.submit import invocation_submit

    function = Function.objects.get(name=function_name)
    revision = function.latest
    final = [InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TIMED_OUT, InvocationStatus.THROTTLED]
    rows = Invocation.objects.filter(function=function)

    def wait_final(expected: int, timeout_s: float) -> float:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if rows.filter(status__in=final).count() >= expected:
                return time.perf_counter()
            time.sleep(0.05)
        raise RuntimeError(f"only {rows.filter(status__in=final).count()} of {expected} asynchronous invocations final after {timeout_s:.0f} s")

    # Warm up: one environment per worker thread.
    with transaction.atomic():
        for _ in range(WORKER_THREADS * 2):
            invocation_submit(function=function, payload=b"{}", invocation_type=InvocationType.EVENT, trigger=Trigger.API, revision=revision)
    wait_final(WORKER_THREADS * 2, 60)
    before = rows.count()

    started = time.perf_counter()
    for start in range(0, ASYNC_TASKS, ASYNC_BATCH):
        with transaction.atomic():
            for _ in range(min(ASYNC_BATCH, ASYNC_TASKS - start)):
                invocation_submit(function=function, payload=b"{}", invocation_type=InvocationType.EVENT, trigger=Trigger.API, revision=revision)
    submitted = time.perf_counter()
    done = wait_final(before + ASYNC_TASKS, 240)
    succeeded = rows.filter(status=InvocationStatus.SUCCEEDED).count() - before
    if succeeded != ASYNC_TASKS:
        by_status = dict(rows.values_list("status").annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id")))
        raise RuntimeError(f"asynchronous invocations: {succeeded} of {ASYNC_TASKS} succeeded ({by_status})")
    return {"tasks_per_s": ASYNC_TASKS / (done - started), "seconds": done - started, "submit_s": submitted - started, "succeeded": succeeded}


# -- report --------------------------------------------------------------------------------------
def fmt(value: float, unit: str = "ms") -> str:
    if value != value:  # NaN
        return "n/a"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "/s":
        return f"{value:.0f} /s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value}"


WARM_P50_TARGET, WARM_P99_TARGET, ASYNC_TARGET = 1.5, 3.0, 0.6  # issue 14 §4


def warm_rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    """The warm path's rows: synchronous invoke and asynchronous throughput against raw Celery."""
    rows = []
    rt, warm = r["floor_rtt"], r["warm"]
    ratio = warm["p50"] / rt["p50"]
    rows.append(("Warm sync invoke p50 (REST, python3.11 echo) / raw Celery apply_async().get() p50", fmt(warm["p50"]), fmt(rt["p50"]), f"{ratio:.2f}x",
                 f"<= {WARM_P50_TARGET}x", "ok" if ratio <= WARM_P50_TARGET else "MISS"))
    ratio = warm["p99"] / rt["p99"]
    rows.append(("Warm sync invoke p99 / raw Celery p99", fmt(warm["p99"]), fmt(rt["p99"]), f"{ratio:.2f}x", f"<= {WARM_P99_TARGET}x", "ok" if ratio <= WARM_P99_TARGET else "MISS"))
    if "throughput" in r:
        tp, ftp = r["throughput"], r["floor_tp"]
        ratio = tp["tasks_per_s"] / ftp["tasks_per_s"]
        rows.append((f"Throughput, {ASYNC_TASKS} async no-op invocations all recorded / raw Celery {ASYNC_TASKS} no-ops with results",
                     f"{fmt(tp['tasks_per_s'], '/s')} ({tp['seconds']:.1f} s)", f"{fmt(ftp['tasks_per_s'], '/s')} ({ftp['seconds']:.1f} s)", f"{ratio:.2f}x",
                     f">= {ASYNC_TARGET}x", "ok" if ratio >= ASYNC_TARGET else "MISS"))
    return rows


def build_rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    """(what, Kiln, floor, ratio, target, verdict) rows."""
    rows = warm_rows(r)
    bare = r["bare"]
    bare_args = {"python": "-I -S -c pass", "ruby": "-e ''", "java": "-cp bootstrap.jar kiln.Noop"}
    for label, key, bare_key in (("Python (python3.11), first of its kind", "cold_py_new", "python"), ("Node.js (nodejs20.x), first of its kind", "cold_node_new", bare_key_node(r)),
                                 ("Ruby (ruby3.3 on the host's Ruby), first of its kind", "cold_ruby_new", "ruby"),
                                 ("Python (python3.11), prewarmed kind", "cold_py", "python"), ("Node.js (nodejs20.x), prewarmed kind", "cold_node", bare_key_node(r)),
                                 ("Ruby (ruby3.3 on the host's Ruby), prewarmed kind", "cold_ruby", "ruby"),
                                 ("Java (java17), first of its kind", "cold_java_new", "java"), ("Java (java17), prewarmed kind", "cold_java", "java")):
        cold = r.get(key)
        if not cold or bare_key not in bare:
            continue
        floor = bare[bare_key] + bare["bwrap"]
        ratio = cold["init_ms"] / floor
        target = 0.2 if key == "cold_java" else 1.5  # issue 16: a prewarmed JVM at most 0.2x the bare one
        rows.append((f"Cold start {label}: Init Duration median (min-max) / bare `{bare_args.get(bare_key, '-e 0')}` + bwrap /bin/true",
                     f"{fmt(cold['init_ms'])} ({cold['init_min']:.0f}-{cold['init_max']:.0f})", f"{fmt(bare[bare_key])} + {fmt(bare['bwrap'])}", f"{ratio:.2f}x",
                     f"<= {target}x", "ok" if ratio <= target else "MISS"))
        flagged = bare.get("node_heap_flag") if bare_key == "node" else None
        if flagged:
            rows.append(("  (bare `node --max-old-space-size=N -e 0`, the heap flag every Kiln Node.js runtime starts with, + bwrap)", "", f"{fmt(flagged)} + {fmt(bare['bwrap'])}", f"{cold['init_ms'] / (flagged + bare['bwrap']):.2f}x", "-", ""))
        inside = bare.get(bare_key + "_in_bwrap")
        if inside:
            rows.append((f"  (same interpreter started inside bwrap, for reference; cold invoke end to end {fmt(cold['wall_ms'])})", "", fmt(inside), f"{cold['init_ms'] / inside:.2f}x", "-", ""))
    for label, key in (("python3.11", "mem_py"), ("nodejs20.x", "mem_node"), ("ruby3.3", "mem_ruby"), ("java17", "mem_java")):
        mem = r.get(key)
        if mem:
            rows.append((f"Idle warm environment memory, {label}: Max Memory Used (cgroup peak) / runtime RSS", f"{mem['max_memory_used_mb']} MB", f"RSS {fmt(mem['rss_mb'], 'MB')}", "", "-", ""))
    from bench import httproute, netns, s3api, s3notify, sdkcold, sqs

    rows += sdkcold.rows(r)
    rows += netns.rows(r)
    rows += httproute.rows(r)
    if r.get("s3"):
        rows += s3notify.rows(r)
    rows += s3api.rows(r)
    if r.get("sqs"):
        rows += sqs.rows(r)
    from bench import dynamodb

    rows += dynamodb.rows(r)
    return rows


def bare_key_node(r: dict) -> str:
    return "node"


def render_table(rows) -> str:
    header = ("Figure", "Kiln", "Floor (same run)", "Ratio", "Target", "")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(6)]
    line = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(row) for row in rows)])


def render_markdown(rows, r: dict) -> str:
    date = subprocess.run(["date", "-u", "+%F"], capture_output=True, text=True).stdout.strip()
    lines = [f"## {date}", "", r["machine"], ""]
    lines.append("| Figure | Kiln | Floor (same run) | Ratio | Target | |")
    lines.append("|---|---|---|---|---|---|")
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    lines.append("")
    details = r.get("details")
    if details:
        lines += [details, ""]
    return "\n".join(lines) + "\n"


DOC_HEADER = """# Kiln benchmarks

`make bench` (`scripts/bench.sh` → `python -m bench.run`) measures Kiln on this machine and, in the same
run, the floors each figure is judged against, then appends a dated section below. It needs the
machine's PostgreSQL (`postgres://postgres@127.0.0.1:5432/kiln_bench`, dropped and created afresh each
run) and Redis (database 10, flushed at start); it uses a private data dir (`mktemp`), starts its own
gunicorn (`-w 2`) and Celery worker (`--pool threads -c 4`), and stops them on exit. About 2-3 minutes.
Knobs: `BENCH_WARM_CALLS`, `BENCH_COLD_STARTS`, `BENCH_ASYNC_TASKS`, `BENCH_DATABASE_URL`, `BENCH_REDIS_DB`.

What each row means:
- **Warm sync invoke**: `POST /api/v1/functions/{name}/invoke/` of a python3.11 echo function over HTTP
  (one `http.client` connection; gunicorn's sync workers close it after each answer), p50/p99 of 500
  calls after 30 warm-up calls: auth, the row written, the Celery task published, the worker claiming,
  running on a warm environment through the Runtime API, finishing the row and waking the web process.
  Floor: a bench-only Celery app's no-op `apply_async().get()` on the same Redis (Redis result backend,
  its own worker with the same `--pool threads -c 4`), p50/p99 of 500 calls. Target: p50 at most 2x.
- **Cold start**: `Init Duration` (`init_duration_ms`) of a hello function's invocation on a new
  environment, forced by PATCHing the function's environment before each call (a new revision starts a
  new environment); median of 10 (the first, which also unpacks the code, is left out). It runs from
  the sandbox spawn to the runtime's first `GET /runtime/invocation/next`. Floor: the bare interpreter
  start (`python3.11 -I -S -c pass`, `node -e 0`, `ruby -e ''` (RubyGems loaded, as Ruby and Kiln start
  it), `java -cp bootstrap.jar kiln.Noop` (a JVM doing nothing, the JDK's default flags), real binaries as Kiln
  resolves them, median of 20) plus the sandbox set-up (`bwrap --unshare-all ... /bin/true`, median of
  20). Target: at most 1.5x. The reference row starts the same interpreter inside that bwrap in one go.
  The Java hello is a compiled class in a zip (not sources, which Kiln would compile at init).
  Before each start of a prewarmed Python or Node.js kind the bench waits until the worker's heartbeat
  lists a spare of that kind that holds (it loads the AWS SDK first, `invoker/sdkpreload.py`).
- **SDK-warm cold start** (`bench/sdkcold.py`, `BENCH_ONLY=sdkcold`): a handler that imports boto3 and
  builds `boto3.client('s3')` (Node.js: `@aws-sdk/client-s3`, `new S3Client({})`) at module level, Init
  Duration on a spare that preloaded the SDK / the bare command doing the same. Target: at most 0.1x.
- **Throughput**: 5,000 `Event` invocations of a no-op python3.11 function submitted in-process with
  `invoker.submit.invocation_submit` (batches of 100 per transaction), from the first submit until
  every row is final; all 5,000 must have succeeded. Floor: 5,000 raw Celery no-ops published from one
  thread, until every result is stored. Target: at least 0.5x.
- **Idle warm environment memory**: `max_memory_used_mb` of a warm invocation (the environment's cgroup
  peak, as the REPORT line's Max Memory Used) and the resident set of the runtime process itself.

"""


def append_doc(markdown: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if not DOC.exists():
        DOC.write_text(DOC_HEADER)
    with DOC.open("a") as f:
        f.write(markdown)


# -- main ----------------------------------------------------------------------------------------
ONLY = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}


def _answers(port: int) -> bool:
    """Whether gunicorn answers at all (/healthz waits on a worker, which this mode does not start); a new
    connection per try (``http.client`` refuses to reuse one whose connect failed)."""
    from bench.client import Api

    try:
        return Api("127.0.0.1", port).request("GET", "/api/v1/functions/")[0] in (401, 403)
    except OSError:
        return False


def run_only(procs, env: dict[str, str], results: dict) -> int:
    """``BENCH_ONLY``: gunicorn alone, the selected sections, their rows printed (not appended to the doc)."""
    from bench import dynamodb, javacold, s3api, sdkcold, sqs, warm
    from bench.procs import free_port, wait_for

    sections = {"dynamodb": ("DynamoDB: PutItem/GetItem/Query/ExecuteStatement ops/s beside moto's server", dynamodb),
                "s3api": ("S3 API: PutObject/GetObject beside moto's server", s3api),
                "sqs": ("SQS: send/receive/delete messages/s beside moto's server, and SendMessage to handler start", sqs),
                "sdkcold": ("SDK-warm cold starts: boto3 / v3 S3 client handlers on spares that preloaded the SDK, beside the bare commands", sdkcold),
                "javacold": ("Java cold starts: the Java hello first of its kind and prewarmed, beside a bare JVM", javacold),
                "warm": ("The warm path: synchronous invoke, HTTP route and asynchronous throughput beside raw Celery and a plain Django view", warm)}
    unknown = ONLY - set(sections)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown section(s) {sorted(unknown)}; known: {', '.join(sorted(sections))}")
    from console.staticfiles import ensure_collected

    ensure_collected()  # here, not in gunicorn's first worker: on a busy machine collecting outlasts the wait below
    if "warm" in ONLY:
        warm.floor(procs, env, results.setdefault("warm", {}))  # its worker alone on the machine, before Kiln's
    port = free_port()
    web = procs.start("gunicorn", [str(Path(sys.executable).parent / "gunicorn"), "console.wsgi", "-b", f"127.0.0.1:{port}", *GUNICORN_ARGS, "--log-level", "warning"], env)
    wait_for(lambda: _answers(port), timeout_s=120, what="gunicorn", checks=[lambda: procs.check("gunicorn", web)])
    if ONLY & {"sqs", "sdkcold", "javacold", "warm"}:  # functions run: SQS's SendMessage-to-handler latency through a mapping, the SDK cold starts
        import redis

        worker = procs.start("kiln-worker", [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", "invoke-sync,invoke,control", "--pool", "threads", "-c",
                                             str(WORKER_THREADS), "-l", "warning", "-n", f"bench-{os.getpid()}@%h"], env)
        r = redis.Redis.from_url(os.environ["REDIS_URL"])
        wait_for(lambda: any(True for _ in r.scan_iter(match="kiln:worker:*")), timeout_s=60, what="Kiln's worker heartbeat",
                 checks=[lambda: procs.check("kiln-worker", worker)])
    rows = []
    for name in sorted(ONLY):
        title, module = sections[name]
        say(title)
        results[name] = {**results.get(name, {}), **module.measure(port, procs, env)}
        rows += module.rows(results)
        print(render_table(module.rows(results)), flush=True)  # each section as it ends: a later failure loses nothing
    print()
    print(render_table(rows))
    return 0


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    data_dir = Path(os.environ["KILN_DATA_DIR"])
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    env = dict(os.environ)
    from bench.procs import Processes, free_port, wait_for

    procs = Processes(data_dir)
    results: dict = {}
    t0 = time.perf_counter()
    try:
        import redis

        r = redis.Redis.from_url(os.environ["REDIS_URL"])
        r.flushdb()
        say(f"data dir {data_dir}; database {os.environ['DATABASE_URL']}; redis {os.environ['REDIS_URL']} (flushed)")
        prepare_database(os.environ["DATABASE_URL"])
        migrate(env)
        import django

        django.setup()
        from functions.runtimes import available_runtimes

        if ONLY:
            return run_only(procs, env, results)
        runtimes = available_runtimes()
        say("runtimes: " + ", ".join(f"{k}={v.executable or '-'}" for k, v in runtimes.items()))

        # 1. Floors: raw Celery (its worker alone on the machine), then process starts.
        say("raw Celery floor: starting its worker")
        floor_worker = procs.start("floor-worker", [sys.executable, "-m", "celery", "-A", "bench.floor", "worker", "-Q", "bench-floor", "--pool", "threads", "-c", str(WORKER_THREADS), "-l", "warning", "-n", f"bench-floor-{os.getpid()}@%h"], env)
        from bench import floors
        from bench.floor import noop

        wait_for(lambda: noop.apply_async().get(timeout=2) is None, timeout_s=60, what="the raw Celery worker", checks=[lambda: procs.check("floor-worker", floor_worker)])
        results["floor_rtt"] = floors.celery_round_trip(WARM_CALLS, WARMUP)
        say(f"raw Celery round trip p50 {results['floor_rtt']['p50']:.2f} ms p99 {results['floor_rtt']['p99']:.2f} ms")
        results["floor_tp"] = floors.celery_throughput(ASYNC_TASKS, r)
        say(f"raw Celery throughput {results['floor_tp']['tasks_per_s']:.0f}/s (publish {results['floor_tp']['publish_s']:.1f} s)")
        procs.stop(floor_worker)
        results["bare"] = floors.process_starts(runtimes, BARE_RUNS)
        say("bare starts (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in results["bare"].items()))

        # 2. Kiln: worker and web.
        from console.staticfiles import ensure_collected

        ensure_collected()  # before gunicorn, whose first worker would otherwise collect while /healthz is awaited
        say("starting Kiln's Celery worker and gunicorn")
        worker = procs.start("kiln-worker", [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", "invoke-sync,invoke,control", "--pool", "threads", "-c", str(WORKER_THREADS), "-l", "warning", "-n", f"bench-{os.getpid()}@%h"], env)
        port = free_port()
        web = procs.start("gunicorn", [str(Path(sys.executable).parent / "gunicorn"), "console.wsgi", "-b", f"127.0.0.1:{port}", *GUNICORN_ARGS, "--log-level", "warning"], env)
        wait_for(lambda: any(True for _ in r.scan_iter(match="kiln:worker:*")), timeout_s=60, what="Kiln's worker heartbeat", checks=[lambda: procs.check("kiln-worker", worker)])
        from bench.client import Api

        api = Api("127.0.0.1", port)
        wait_for(lambda: api.request("GET", "/healthz")[0] == 200, timeout_s=60, what="gunicorn /healthz", checks=[lambda: procs.check("gunicorn", web)])
        from django.contrib.auth.models import User

        User.objects.create_user("bench", password="bench-pass-123", is_staff=True, is_superuser=True)
        api.token = api.json("POST", "/api/v1/auth/token/", {"username": "bench", "password": "bench-pass-123"})["token"]
        results["sandbox"] = sandbox_mode()

        create_function(api, "bench-echo", "python3.11", {"index.py": PY_ECHO})
        create_function(api, "bench-noop", "python3.11", {"index.py": PY_NOOP})
        create_function(api, "bench-hello-py", "python3.11", {"index.py": PY_HELLO})
        node_runtime = "nodejs20.x" if "nodejs20.x" in runtimes else ("nodejs22.x" if "nodejs22.x" in runtimes else None)
        if node_runtime:
            create_function(api, "bench-hello-node", node_runtime, {"index.js": NODE_HELLO})
        ruby_runtime = "ruby3.3" if "ruby3.3" in runtimes else None
        if ruby_runtime:
            create_function(api, "bench-hello-ruby", ruby_runtime, {"index.rb": RUBY_HELLO})
        java_runtime = runtimes.get("java17")
        if java_runtime:
            create_java_function(api, "bench-hello-java", java_runtime.executable)

        say("warm synchronous invoke latency")
        results["warm"] = warm_latency(api, "bench-echo")
        say(f"warm invoke p50 {results['warm']['p50']:.2f} ms p99 {results['warm']['p99']:.2f} ms")

        say("HTTP route GET /hello to a warm function, and a plain Django view")
        from bench import httproute

        results["http"] = httproute.measure(api, port, procs, env, "bench-hello-node" if node_runtime else "bench-hello-py")
        say(f"HTTP route p50 {results['http']['route']['p50']:.2f} ms, {results['http']['route']['rps']:.0f}/s; plain view p50 {results['http']['plain']['p50']:.2f} ms, {results['http']['plain']['rps']:.0f}/s")

        say("bucket notifications: upload to handler start, and upload/download throughput")
        from bench import s3notify

        results["s3"] = s3notify.measure(api, port)

        say("S3 API with boto3: Kiln beside moto's server")
        from bench import s3api

        results["s3api"] = s3api.measure(port, procs, env)
        say(f"S3 API PUT {results['s3api']['kiln']['put_ops']:.0f}/s (moto {results['s3api']['moto']['put_ops']:.0f}/s)")

        say("SQS: send/receive/delete messages/s beside moto's server, and SendMessage to handler start")
        from bench import sqs

        results["sqs"] = sqs.measure(port, procs, env)
        say("SQS msg/s Kiln / moto: " + ", ".join(f"{op} {results['sqs']['kiln'][op]:.0f} / {results['sqs']['moto'][op]:.0f}" for op in ("send", "receive", "delete")))

        say("DynamoDB: PutItem/GetItem/Query/ExecuteStatement ops/s beside moto's server")
        from bench import dynamodb

        results["dynamodb"] = dynamodb.measure(port, procs, env)
        say("DynamoDB ops/s Kiln / moto: " + ", ".join(f"{op} {results['dynamodb']['kiln'][op]:.0f} / {results['dynamodb']['moto'][op]:.0f}" for op in ("put", "get", "query")))

        say("cold starts")
        results["cold_py_new"] = cold_starts(api, "bench-hello-py", new_kind=True)
        if node_runtime:
            results["cold_node_new"] = cold_starts(api, "bench-hello-node", new_kind=True)
        if ruby_runtime:
            results["cold_ruby_new"] = cold_starts(api, "bench-hello-ruby", new_kind=True)
        results["cold_py"] = cold_starts(api, "bench-hello-py", wait_spare=True)
        if node_runtime:
            results["cold_node"] = cold_starts(api, "bench-hello-node", wait_spare=True)
        if ruby_runtime:
            results["cold_ruby"] = cold_starts(api, "bench-hello-ruby")
        if java_runtime:
            results["cold_java_new"] = cold_starts(api, "bench-hello-java", new_kind=True)
            results["cold_java"] = cold_starts(api, "bench-hello-java")
        say(f"cold python init {results['cold_py']['init_ms']:.1f} ms" + (f", node init {results['cold_node']['init_ms']:.1f} ms" if node_runtime else ""))
        from bench import sdkcold

        results["sdkcold"] = sdkcold.measure_with(api, worker.pid, runtimes)

        if results["sandbox"] == "bwrap" and os.geteuid() == 0:
            say("network namespaces: on-demand cold starts and warm invokes in process, with and without")
            from bench import netns

            results["netns"] = netns.measure(starts=int(os.environ.get("BENCH_NETNS_STARTS", "8")), warm_calls=100)

        results["mem_py"] = idle_memory(api, "bench-hello-py", worker.pid, "kiln_bootstrap.main")
        if node_runtime:
            results["mem_node"] = idle_memory(api, "bench-hello-node", worker.pid, "bootstrap.cjs")
        if ruby_runtime:
            results["mem_ruby"] = idle_memory(api, "bench-hello-ruby", worker.pid, "kiln_bootstrap.rb")
        if java_runtime:
            results["mem_java"] = idle_memory(api, "bench-hello-java", worker.pid, "kiln.Bootstrap")

        say(f"throughput of {ASYNC_TASKS} asynchronous invocations")
        results["throughput"] = async_throughput("bench-noop")
        say(f"throughput {results['throughput']['tasks_per_s']:.0f}/s (submit {results['throughput']['submit_s']:.1f} s)")

        py = runtimes.get("python3.11")
        node = runtimes.get(node_runtime) if node_runtime else None
        results["machine"] = (f"{os.cpu_count()} CPUs, {platform.platform()}; sandbox: {results['sandbox']}; "
                              f"Python {py.version if py else '-'}, Node.js {node.version if node else '-'}, Ruby {runtimes['ruby3.3'].version if ruby_runtime else '-'}, Java {java_runtime.version if java_runtime else '-'}; "
                              f"PostgreSQL + Redis on localhost; Celery worker `--pool threads -c {WORKER_THREADS}`, gunicorn `-w 2`.")
        results["details"] = (
            f"Details: raw Celery publish of {ASYNC_TASKS} took {results['floor_tp']['publish_s']:.1f} s; Kiln's in-process submit of "
            f"{ASYNC_TASKS} took {results['throughput']['submit_s']:.1f} s. Cold invoke end to end (PATCH excluded): python "
            f"{results['cold_py']['wall_ms']:.0f} ms" + (f", node {results['cold_node']['wall_ms']:.0f} ms" if node_runtime else "")
            + (f", ruby {results['cold_ruby']['wall_ms']:.0f} ms" if ruby_runtime else "") + (f", java {results['cold_java']['wall_ms']:.0f} ms." if java_runtime else ".")
        )
        rows = build_rows(results)
        print()
        print(render_table(rows))
        print()
        print(results["machine"])
        print(results["details"])
        append_doc(render_markdown(rows, results))
        say(f"appended to {DOC.relative_to(ROOT)}; total {time.perf_counter() - t0:.0f} s")
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
