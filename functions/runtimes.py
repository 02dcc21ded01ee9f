"""Which Lambda runtimes Kiln knows, which of them this host can run, and the interpreter of each.

A runtime is offered when its interpreter exists: ``python3.X`` for the Python runtimes, a ``node``
of the right major version for the Node.js ones, the host's ``ruby`` (whatever its version, reported
as it is) for ``ruby3.3``, a JDK of that major version (``java`` and ``javac``, which builds Kiln's
Java bootstrap) under ``/usr/lib/jvm`` for ``java17``/``java21``; ``provided.al2023`` runs the function's own ``bootstrap`` and is always
offered; ``dotnet8`` is known but never installed (no .NET SDK in Debian: a .NET 8 native-AOT binary
runs as a ``provided.al2023`` bootstrap). ``known_runtimes()`` says for each known runtime whether it
is installed and, if not, why. Interpreters are resolved to their real binary once per process (a
version-manager shim costs ~100 ms per start). ``KILN_PYTHON3_11=/path``,
``KILN_NODE_BINARIES=/a/node,/b/node``, ``KILN_RUBY=/path`` and ``KILN_JAVA17_HOME=/path/to/jdk``
point Kiln at interpreters it would not find.
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
JAVA_RUNTIMES = {Runtime.JAVA_17: "17", Runtime.JAVA_21: "21"}
JVM_DIR = "/usr/lib/jvm"


@dataclass(frozen=True)
class RuntimeInfo:
    identifier: str
    family: str  # python | nodejs | ruby | java | provided
    version: str  # the interpreter's own version, e.g. "3.11.7", "20.20.2" or "3.1.2" (ruby3.3 on the host's Ruby)
    executable: str  # absolute path of the real binary ("" for provided)

    @property
    def kiln_bootstrap(self) -> bool:
        """Whether Kiln's own bootstrap runs it (Python, Node.js, Ruby, Java), not the function's (``provided``)."""
        return self.family in KILN_BOOTSTRAP_FAMILIES


KILN_BOOTSTRAP_FAMILIES = ("python", "nodejs", "ruby", "java")


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


def _jdk_version(home: str) -> str:
    """``JAVA_VERSION`` from a JDK's ``release`` file ("" if none): read, not run (a JVM start costs ~100 ms)."""
    try:
        with open(os.path.join(home, "release"), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("JAVA_VERSION="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def _javas() -> dict[str, RuntimeInfo]:
    """A JDK per Java runtime: ``KILN_JAVA17_HOME``-style overrides, else the JDKs under ``/usr/lib/jvm``
    (``bin/java`` and ``bin/javac``, which builds Kiln's bootstrap), by major version."""
    found: dict[str, RuntimeInfo] = {}
    homes = [os.environ[f"KILN_JAVA{major}_HOME"] for major in JAVA_RUNTIMES.values() if os.environ.get(f"KILN_JAVA{major}_HOME")]
    try:
        homes += sorted(os.path.join(JVM_DIR, name) for name in os.listdir(JVM_DIR))
    except OSError:
        pass
    for home in homes:
        version = _jdk_version(home)
        java, javac = os.path.join(home, "bin", "java"), os.path.join(home, "bin", "javac")
        if not version or not os.access(java, os.X_OK) or not os.access(javac, os.X_OK):
            continue
        for runtime, major in JAVA_RUNTIMES.items():
            if version.split(".")[0] == major and runtime.value not in found:
                found[runtime.value] = RuntimeInfo(runtime.value, "java", version, os.path.realpath(java))
    return found


def _not_found_reason(runtime: Runtime, nodes: dict[str, RuntimeInfo]) -> str:
    if runtime in PYTHON_RUNTIMES:
        minor = PYTHON_RUNTIMES[runtime]
        return f"no python{minor} interpreter found (on PATH, or KILN_PYTHON{minor.replace('.', '_')}=/path)"
    if runtime in NODE_RUNTIMES:
        others = ", ".join(sorted(i.version for i in nodes.values())) or "none"
        return f"no Node.js {NODE_RUNTIMES[runtime]} found (Node.js versions found: {others}; KILN_NODE_BINARIES=/path/to/node points Kiln at one)"
    if runtime == Runtime.RUBY_3_3:
        return "no ruby interpreter found; install the Debian package 'ruby' (or set KILN_RUBY=/path)"
    if runtime in JAVA_RUNTIMES:
        major = JAVA_RUNTIMES[runtime]
        return (f"no JDK {major} found under {JVM_DIR} (java and javac: Kiln builds its Java bootstrap with javac); "
                f"install openjdk-{major}-jdk-headless or set KILN_JAVA{major}_HOME")
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
    found.update(_javas())
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
