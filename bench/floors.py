"""Floors measured in the same run: raw Celery, bare interpreter starts, bubblewrap set-up."""

from __future__ import annotations

import shutil
import subprocess
import time

from bench.stats import median, percentile


def celery_round_trip(calls: int, warmup: int) -> dict[str, float]:
    from bench.floor import noop

    for _ in range(warmup):
        noop.apply_async().get(timeout=30)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        noop.apply_async().get(timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": len(samples)}


def celery_throughput(tasks: int, redis_client) -> dict[str, float]:
    """Publish ``tasks`` no-ops, then wait until every result is stored; tasks per second overall."""
    from bench.floor import noop

    started = time.perf_counter()
    results = [noop.apply_async() for _ in range(tasks)]
    published = time.perf_counter()
    pending = [f"celery-task-meta-{r.id}" for r in results]
    deadline = started + 300
    while pending and time.perf_counter() < deadline:
        found = redis_client.mget(pending)
        pending = [key for key, value in zip(pending, found) if value is None]
        if pending:
            time.sleep(0.02)
    done = time.perf_counter()
    if pending:
        raise RuntimeError(f"raw Celery: {len(pending)} of {tasks} tasks not done after 300 s")
    return {"tasks_per_s": tasks / (done - started), "seconds": done - started, "publish_s": published - started}


def _median_run(argv: list[str], runs: int) -> float:
    subprocess.run(argv, check=True, capture_output=True)  # warm the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin"})
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def bwrap_argv(inner: list[str], interpreter: str = "") -> list[str]:
    """The sandbox set-up alone: the namespaces and mounts Kiln's sandbox makes, around ``inner``."""
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--share-net", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "993", "--gid", "993", "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    if interpreter and not interpreter.startswith("/usr/"):
        from pathlib import Path

        root = str(Path(interpreter).parent.parent)
        argv += ["--ro-bind", root, root]
    return argv + ["--"] + inner


def process_starts(runtimes: dict, runs: int) -> dict[str, float]:
    out: dict[str, float] = {}
    py = runtimes.get("python3.11")
    node = runtimes.get("nodejs20.x") or runtimes.get("nodejs22.x")
    out["bwrap"] = _median_run(bwrap_argv(["/bin/true"]), runs) if shutil.which("bwrap") else 0.0
    if py:
        out["python"] = _median_run([py.executable, "-I", "-S", "-c", "pass"], runs)
        if shutil.which("bwrap"):
            out["python_in_bwrap"] = _median_run(bwrap_argv([py.executable, "-I", "-S", "-c", "pass"], py.executable), runs)
    if node:
        out["node"] = _median_run([node.executable, "-e", "0"], runs)
        # Kiln sizes Node's heap to the function's memory with a V8 flag, as Lambda does; any V8 flag
        # makes Node reject the code cache built into its binary, which costs every such start.
        out["node_heap_flag"] = _median_run([node.executable, "--max-old-space-size=870", "-e", "0"], runs)
        if shutil.which("bwrap"):
            out["node_in_bwrap"] = _median_run(bwrap_argv([node.executable, "-e", "0"], node.executable), runs)
    ruby = runtimes.get("ruby3.3")
    if ruby:
        # Ruby's own default start (RubyGems loaded), as every Kiln Ruby runtime starts.
        out["ruby"] = _median_run([ruby.executable, "-e", ""], runs)
        if shutil.which("bwrap"):
            out["ruby_in_bwrap"] = _median_run(bwrap_argv([ruby.executable, "-e", ""], ruby.executable), runs)
    java = runtimes.get("java17")
    if java:
        from invoker.javabuild import INSIDE, JAR, bootstrap_classes

        # A JVM doing nothing with Kiln's bootstrap jar on its class path (kiln.Noop), the JDK's default flags.
        classes = str(bootstrap_classes(java.executable))
        out["java"] = _median_run([java.executable, "-cp", f"{classes}/{JAR}", "kiln.Noop"], runs)
        if shutil.which("bwrap"):
            out["java_in_bwrap"] = _median_run(_bwrap_with(classes, [java.executable, "-cp", f"{INSIDE}/{JAR}", "kiln.Noop"]), runs)
    return out


def _bwrap_with(classes: str, inner: list[str]) -> list[str]:
    """``bwrap_argv`` with Kiln's Java bootstrap bound where a Java sandbox has them."""
    argv = bwrap_argv(inner)
    at = argv.index("--")
    return argv[:at] + ["--ro-bind", classes, "/var/lang/java"] + argv[at:]
