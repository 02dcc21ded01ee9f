"""Which Lambda runtimes Kiln knows, which of them this host can run, and the interpreter of each.

A runtime is offered when its interpreter exists: ``python3.X`` for the Python runtimes, a ``node``
of the right major version for the Node.js ones, the host's ``ruby`` (whatever its version, reported
as it is) for ``ruby3.3``; ``provided.al2023`` runs the function's own ``bootstrap`` and is always
offered; ``dotnet8`` is known but never installed (no .NET SDK in Debian: a .NET 8 native-AOT binary
runs as a ``provided.al2023`` bootstrap). ``known_runtimes()`` says for each known runtime whether it
is installed and, if not, why. Interpreters are resolved to their real binary once per process (a
version-manager shim costs ~100 ms per start). ``KILN_PYTHON3_11=/path``,
``KILN_NODE_BINARIES=/a/node,/b/node`` and ``KILN_RUBY=/path`` point Kiln at interpreters it would
not find on PATH.
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
    family: str  # python | nodejs | ruby | provided
    version: str  # the interpreter's own version, e.g. "3.11.7", "20.20.2" or "3.1.2" (ruby3.3 on the host's Ruby)
    executable: str  # absolute path of the real binary ("" for provided)

    @property
    def kiln_bootstrap(self) -> bool:
        """Whether Kiln's own bootstrap runs it (Python, Node.js, Ruby), not the function's (``provided``)."""
        return self.family in KILN_BOOTSTRAP_FAMILIES


KILN_BOOTSTRAP_FAMILIES = ("python", "nodejs", "ruby")


@dataclass(frozen=True)
class RuntimeStatus:
    """A runtime Kiln knows: installed here (``info``) or not, and then why (``reason``)."""

    identifier: str
    family: str
    info: RuntimeInfo | None
    reason: str = ""

    @property
    def installed(self) -> bool:
        return self.info is not None


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


def _ruby() -> RuntimeInfo | None:
    candidate = os.environ.get("KILN_RUBY", "") or ("/usr/bin/ruby" if os.path.exists("/usr/bin/ruby") else shutil.which("ruby"))
    if not candidate:
        return None
    probe = _probe([candidate, "--disable-gems", "-rrbconfig", "-e", "print RbConfig.ruby, ' ', RUBY_VERSION"])
    if not probe or len(probe) != 2:
        return None
    return RuntimeInfo(Runtime.RUBY_3_3.value, "ruby", probe[1], os.path.realpath(probe[0]))


def _not_found_reason(runtime: Runtime, nodes: dict[str, RuntimeInfo]) -> str:
    if runtime in PYTHON_RUNTIMES:
        minor = PYTHON_RUNTIMES[runtime]
        return f"no python{minor} interpreter found (on PATH, or KILN_PYTHON{minor.replace('.', '_')}=/path)"
    if runtime in NODE_RUNTIMES:
        others = ", ".join(sorted(i.version for i in nodes.values())) or "none"
        return f"no Node.js {NODE_RUNTIMES[runtime]} found (Node.js versions found: {others}; KILN_NODE_BINARIES=/path/to/node points Kiln at one)"
    if runtime == Runtime.RUBY_3_3:
        return "no ruby interpreter found; install the Debian package 'ruby' (or set KILN_RUBY=/path)"
    if runtime == Runtime.DOTNET_8:
        return ("no .NET SDK on this host (none in Debian's package sources); "
                "build a .NET 8 native-AOT binary and run it as a provided.al2023 bootstrap")
    return "not available on this host"


@functools.cache
def known_runtimes() -> dict[str, RuntimeStatus]:
    """Every runtime Kiln knows, keyed by Lambda identifier in the order of ``Runtime``, installed or not."""
    found: dict[str, RuntimeInfo] = {}
    for runtime, minor in PYTHON_RUNTIMES.items():
        info = _python(runtime, minor)
        if info:
            found[runtime.value] = info
    nodes = _nodes()
    found.update(nodes)
    ruby = _ruby()
    if ruby:
        found[ruby.identifier] = ruby
    found[Runtime.PROVIDED_AL2023.value] = RuntimeInfo(Runtime.PROVIDED_AL2023.value, "provided", "al2023", "")
    return {r.value: RuntimeStatus(r.value, r.family, found.get(r.value), "" if r.value in found else _not_found_reason(r, nodes)) for r in Runtime}


@functools.cache
def available_runtimes() -> dict[str, RuntimeInfo]:
    """Runtimes this host can run, keyed by Lambda identifier, in the order of ``Runtime``."""
    return {key: status.info for key, status in known_runtimes().items() if status.info is not None}


def runtime_problem(identifier: str) -> str | None:
    """Why a function cannot be made on ``identifier`` here (unknown, or known and not installed), or None."""
    status = known_runtimes().get(identifier)
    if status is None:
        return f"Runtime {identifier!r} is not one of: {', '.join(known_runtimes())}."
    if status.info is None:
        return f"Runtime {identifier} is not installed on this host: {status.reason}. Installed: {', '.join(available_runtimes())}."
    return None


def runtime_info(identifier: str) -> RuntimeInfo | None:
    return available_runtimes().get(identifier)
