"""Which Lambda runtimes this host can run, and the absolute interpreter path of each.

A runtime is offered when its interpreter exists: ``python3.X`` for the Python runtimes, a ``node``
of the right major version for the Node.js ones; ``provided.al2023`` runs the function's own
``bootstrap`` and is always offered. Interpreters are resolved to their real binary once per
process (a version-manager shim costs ~100 ms per start). ``KILN_PYTHON3_11=/path`` and
``KILN_NODE_BINARIES=/a/node,/b/node`` point Kiln at interpreters it would not find on PATH.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from functions.models import Runtime

PYTHON_RUNTIMES = {Runtime.PYTHON_3_11: "3.11", Runtime.PYTHON_3_12: "3.12", Runtime.PYTHON_3_13: "3.13"}
NODE_RUNTIMES = {Runtime.NODEJS_20: "20", Runtime.NODEJS_22: "22"}


@dataclass(frozen=True)
class RuntimeInfo:
    identifier: str
    family: str  # python | nodejs | provided
    version: str  # the interpreter's own version, e.g. "3.11.7" or "20.20.2"
    executable: str  # absolute path of the real binary ("" for provided)

    @property
    def kiln_bootstrap(self) -> bool:
        """Whether Kiln's own bootstrap runs it (Python, Node.js), not the function's (``provided``)."""
        return self.family in ("python", "nodejs")


def _probe(command: list[str]) -> list[str] | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split() if out.returncode == 0 else None


def _python(runtime: Runtime, minor: str) -> RuntimeInfo | None:
    override = os.environ.get("KILN_PYTHON" + minor.replace(".", "_"), "")
    candidate = override or shutil.which(f"python{minor}")
    if not candidate:
        return None
    probe = _probe([candidate, "-I", "-S", "-c", "import sys;print(sys.executable, '%d.%d.%d' % sys.version_info[:3])"])
    if not probe or len(probe) != 2 or not probe[1].startswith(minor + "."):
        return None
    return RuntimeInfo(runtime.value, "python", probe[1], os.path.realpath(probe[0]))


def _nodes() -> dict[str, RuntimeInfo]:
    candidates = [p for p in os.environ.get("KILN_NODE_BINARIES", "").split(",") if p]
    candidates += [p for p in (shutil.which(n) for n in ("node22", "node20", "node", "nodejs")) if p]
    found: dict[str, RuntimeInfo] = {}
    for candidate in candidates:
        probe = _probe([candidate, "-p", "process.execPath + ' ' + process.versions.node"])
        if not probe or len(probe) != 2:
            continue
        major = probe[1].split(".")[0]
        for runtime, wanted in NODE_RUNTIMES.items():
            if wanted == major and runtime.value not in found:
                found[runtime.value] = RuntimeInfo(runtime.value, "nodejs", probe[1], os.path.realpath(probe[0]))
    return found


@functools.cache
def available_runtimes() -> dict[str, RuntimeInfo]:
    """Runtimes this host can run, keyed by Lambda identifier, in the order of ``Runtime``."""
    found: dict[str, RuntimeInfo] = {}
    for runtime, minor in PYTHON_RUNTIMES.items():
        info = _python(runtime, minor)
        if info:
            found[runtime.value] = info
    found.update(_nodes())
    found[Runtime.PROVIDED_AL2023.value] = RuntimeInfo(Runtime.PROVIDED_AL2023.value, "provided", "al2023", "")
    order = [r.value for r in Runtime]
    return {key: found[key] for key in order if key in found}


def runtime_info(identifier: str) -> RuntimeInfo | None:
    return available_runtimes().get(identifier)
