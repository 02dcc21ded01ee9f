"""Java cold starts alone (``BENCH_ONLY=javacold``): the Java hello's Init Duration, first of its kind and on a
prewarmed JVM, against a bare JVM doing nothing (``java -cp bootstrap.jar kiln.Noop``, the JDK's default
flags) plus bubblewrap starting ``/bin/true``, measured in the same run. Issue 16's targets: at most 1.5x
first of its kind, at most 0.2x prewarmed. The full ``make bench`` has the same rows among the others."""

from __future__ import annotations

import shutil
from typing import Any

FIRST_TARGET, PREWARMED_TARGET = 1.5, 0.2


def measure(port: int, procs: Any, env: dict[str, str]) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from bench.client import Api
    from bench.floors import _bwrap_with, _median_run, bwrap_argv
    from bench.procs import wait_for
    from bench.run import cold_starts, create_java_function, say
    from functions.runtimes import available_runtimes
    from invoker.javabuild import INSIDE, JAR, bootstrap_classes

    java = available_runtimes().get("java17")
    if java is None:
        return {}
    api = Api("127.0.0.1", port)
    wait_for(lambda: api.request("GET", "/healthz")[0] == 200, timeout_s=60, what="gunicorn /healthz", checks=[])
    User.objects.create_user("bench-java", password="bench-pass-123", is_staff=True, is_superuser=True)
    api.token = api.json("POST", "/api/v1/auth/token/", {"username": "bench-java", "password": "bench-pass-123"})["token"]
    classes = str(bootstrap_classes(java.executable))
    bare = {"java": _median_run([java.executable, "-cp", f"{classes}/{JAR}", "kiln.Noop"], 15),
            "bwrap": _median_run(bwrap_argv(["/bin/true"]), 15) if shutil.which("bwrap") else 0.0}
    if shutil.which("bwrap"):
        bare["java_in_bwrap"] = _median_run(_bwrap_with(classes, [java.executable, "-cp", f"{INSIDE}/{JAR}", "kiln.Noop"]), 15)
    say("bare JVM " + ", ".join(f"{k} {v:.1f} ms" for k, v in bare.items()))
    create_java_function(api, "bench-java-hello", java.executable)
    first = cold_starts(api, "bench-java-hello", new_kind=True)
    prewarmed = cold_starts(api, "bench-java-hello", wait_spare=True)
    say(f"java init: first of its kind {first['init_ms']:.1f} ms, prewarmed {prewarmed['init_ms']:.1f} ms")
    return {"bare": bare, "first": first, "prewarmed": prewarmed}


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    j = r.get("javacold")
    if not j:
        return []
    floor = j["bare"]["java"] + j["bare"]["bwrap"]
    out = []
    for key, label, target in (("first", "first of its kind", FIRST_TARGET), ("prewarmed", "prewarmed kind", PREWARMED_TARGET)):
        cold = j[key]
        ratio = cold["init_ms"] / floor
        out.append((f"Cold start Java (java17), {label}: Init Duration median (min-max) / bare `-cp bootstrap.jar kiln.Noop` + bwrap /bin/true",
                    f"{cold['init_ms']:.1f} ms ({cold['init_min']:.0f}-{cold['init_max']:.0f})", f"{j['bare']['java']:.1f} ms + {j['bare']['bwrap']:.1f} ms",
                    f"{ratio:.2f}x", f"<= {target}x", "ok" if ratio <= target else "MISS"))
        out.append((f"  (end to end {cold['wall_ms']:.0f} ms; the bare JVM inside bwrap: {j['bare'].get('java_in_bwrap', float('nan')):.1f} ms)", "", "", "", "-", ""))
    return out
