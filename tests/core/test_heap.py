"""core.heap: a server process's start is frozen out of the garbage collector's scans (each check in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "console.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_heap_freeze_takes_what_is_alive_out_of_the_collections_and_frees_the_garbage_first() -> None:
    before, after, frozen, freed = _python(
        "import gc, weakref\n"
        "from core.heap import heap_freeze\n"
        "class Cycle: pass\n"
        "a = Cycle(); a.me = a; gone = weakref.ref(a); del a\n"  # garbage only a collection frees
        "keep = [[i] for i in range(50_000)]\n"
        "before = len(gc.get_objects())\n"
        "frozen = heap_freeze()\n"
        "print(before, len(gc.get_objects()), frozen, gone() is None)\n"
    )
    assert int(frozen) > 50_000
    assert int(after) < int(before) - 50_000  # the frozen objects are no longer scanned
    assert freed == "True"  # the collection before the freeze freed the cycle: garbage is not kept forever


def test_the_web_application_starts_with_its_urlconf_frozen() -> None:
    frozen, resolver_scanned = _python(
        "import gc\n"
        "import console.wsgi\n"
        "from django.urls import get_resolver\n"
        "resolver = get_resolver()\n"
        "print(gc.get_freeze_count(), any(o is resolver for o in gc.get_objects()))\n"
    )
    assert int(frozen) > 50_000
    assert resolver_scanned == "False"
