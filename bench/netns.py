"""What a sandbox's own network namespace and disk /tmp cost: on-demand cold starts and warm invokes.

``python -m bench.netns`` (root, bubblewrap) starts environments straight from ``ExecutionEnvironment``
(no web, no Celery, no prewarmed runtime), interleaving the network set-ups so that the machine's noise
falls on all of them alike:
- ``shared``: as before network isolation and disk /tmp (bubblewrap ``--share-net`` in the host's
  namespace, the Runtime API on the host's 127.0.0.1, a tmpfs /tmp);
- ``none`` / ``outbound``: a namespace of Kiln's own and a disk /tmp, both from their pools
  (``invoker/network.py``, ``invoker/tmpdisk.py``): what a cold start gets;
- ``outbound, made on demand``: the namespace pool empty, the namespace and its veth pair made in the cold start;
- ``/tmp made on demand``: a /tmp size not seen before (none in the pool): the image made and mounted
  while the sandbox starts, the runtime held before the function's code until it is there.
Init Duration is what Kiln reports: from the start of ``start()`` (network included) to the first
``GET /next``. Prints one line per figure; ``bench/run.py`` folds them into its table.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = ("shared", "none", "outbound", "outbound, made on demand", "/tmp made on demand")
HANDLERS = {"python": ("index.py", "def handler(event, context):\n    return event\n"), "nodejs": ("index.js", "exports.handler = async (e) => e;\n")}


def measure(runtime_names: tuple[str, ...] = ("python3.11", "nodejs20.x"), starts: int = 12, warm_calls: int = 200) -> dict[str, Any]:
    from bench.stats import median, percentile
    from functions.runtimes import runtime_info
    from invoker import codecache, network, sandbox, tmpdisk
    from invoker.environment import EnvironmentConfig, ExecutionEnvironment

    network.prepare(("outbound", "none"))
    tmpdisk.prepare(512)
    time.sleep(1)  # both pools filled
    work = Path(tempfile.mkdtemp(prefix="kiln-bench-netns-"))
    work.chmod(0o711)
    empty = work / "opt"
    empty.mkdir()
    real_acquire, real_spawn, real_take = network.acquire, sandbox.spawn, network._pool.take
    real_tmp_take, real_tmp_pool_take = tmpdisk.take, tmpdisk._pool.take
    real_code_dir, real_opt_dir = codecache.code_dir, codecache.opt_dir
    results: dict[str, Any] = {}
    try:
        for name in runtime_names:
            info = runtime_info(name)
            if info is None:
                continue
            task = work / name
            task.mkdir()
            filename, source = HANDLERS[info.family]
            (task / filename).write_text(source)
            codecache.code_dir = lambda sha, zip_name, task=task: task  # type: ignore[assignment]
            codecache.opt_dir = lambda layers: empty  # type: ignore[assignment]
            inits: dict[str, list[float]] = {m: [] for m in MODES}
            warm: dict[str, list[float]] = {m: [] for m in MODES}
            for i in range(starts):
                for mode in MODES:
                    if mode == "shared":
                        network.acquire = lambda _network: None  # type: ignore[assignment]
                        sandbox.spawn = lambda req: real_spawn(_shared(req))  # type: ignore[assignment]
                        tmpdisk.take = lambda size_mb: None  # type: ignore[assignment]
                    elif mode == "outbound, made on demand":
                        network._pool.take = lambda kind: network.create(kind)  # type: ignore[method-assign]
                    ephemeral = 600 + i if mode == "/tmp made on demand" else 512
                    config = EnvironmentConfig(key=f"bench-{mode}-{i}", function_name="bench", function_arn="arn:bench", version="$LATEST", runtime=info,
                                               handler="index.handler", memory_size=1024 + i, timeout=30, ephemeral_storage=ephemeral, environment={},
                                               code_sha256="bench", code_zip="bench", network="none" if mode == "none" else "outbound")
                    time.sleep(0.3)  # idle before a cold start, the pool's refill done
                    env = ExecutionEnvironment(config)
                    try:
                        failure = env.start()
                        if failure is not None:
                            raise RuntimeError(f"{name} {mode}: {failure.error}")
                        inits[mode].append(env.init_duration_ms or 0.0)
                        if i == 0:  # warm invokes once per mode
                            for n in range(warm_calls):
                                started = time.perf_counter()
                                result = env.invoke(request_id=f"r{n}", payload=b'{"n": 1}', timeout_s=5)
                                warm[mode].append((time.perf_counter() - started) * 1000)
                                assert result.outcome == "success", result
                    finally:
                        env.stop()
                        network.acquire, sandbox.spawn, network._pool.take = real_acquire, real_spawn, real_take  # type: ignore[method-assign]
                        tmpdisk.take, tmpdisk._pool.take = real_tmp_take, real_tmp_pool_take  # type: ignore[method-assign]
            results[name] = {mode: {"init_median": median(inits[mode]), "init_min": min(inits[mode]), "init_max": max(inits[mode]),
                                    "warm_p50": percentile(warm[mode], 50), "warm_p99": percentile(warm[mode], 99)} for mode in MODES}
    finally:
        codecache.code_dir, codecache.opt_dir = real_code_dir, real_opt_dir  # type: ignore[method-assign]
        tmpdisk.stop_all()  # the images made ahead of need and those released: not left behind
        os.system(f"rm -rf {work}")  # noqa: S605 - our own temporary directory
    return results


def _shared(req: Any) -> Any:
    req.own_netns = True  # --share-net, in the host's namespace: the set-up before network isolation
    return req


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ.setdefault("KILN_DATA_DIR", tempfile.mkdtemp(prefix="kiln-bench-data-"))
    os.chmod(os.environ["KILN_DATA_DIR"], 0o711)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    results = measure()
    for name, modes in results.items():
        for mode, figures in modes.items():
            print(f"{name:12} {mode:26} init median {figures['init_median']:6.2f} ms (min {figures['init_min']:.2f}, max {figures['init_max']:.2f})"
                  f"  warm p50 {figures['warm_p50']:.3f} ms p99 {figures['warm_p99']:.3f} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    main()


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    """``bench/run.py``'s table rows: each own-namespace set-up against the host's shared network."""
    out = []
    for name, modes in (r.get("netns") or {}).items():
        shared = modes["shared"]
        for mode in MODES[1:]:
            figures = modes[mode]
            delta = figures["init_median"] - shared["init_median"]
            target = "-" if "on demand" in mode else "<= +2 ms"
            verdict = "" if target == "-" else ("ok" if delta <= 2 else "MISS")
            out.append((f"Cold start {name} on demand, {mode}: Init Duration median / host network and tmpfs /tmp (in process, {len(MODES)} set-ups interleaved)",
                        f"{figures['init_median']:.1f} ms", f"{shared['init_median']:.1f} ms", f"{delta:+.1f} ms", target, verdict))
        out.append((f"Warm invoke {name} (in process), own namespace outbound p50 / host network p50", f"{modes['outbound']['warm_p50']:.3f} ms",
                    f"{shared['warm_p50']:.3f} ms", f"{modes['outbound']['warm_p50'] - shared['warm_p50']:+.3f} ms", "+0", ""))
    return out
