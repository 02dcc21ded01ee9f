"""Kiln's Java bootstrap, compiled with the runtime's own ``javac`` on first use and cached in the work dir.

The sources (``invoker/runtimes/java/src``: the bootstrap and the ``com.amazonaws.services.lambda.runtime``
interfaces functions compile against) are built once per JDK and source set into
``KILN_WORK_DIR/java/<digest>``; a sandbox binds that directory read-only at ``/var/lang/java``. The
worker builds it in the background at start (``invoker/worker.py``), so the first Java cold start
rarely waits for ``javac`` (~2-4 s).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from django.conf import settings

from invoker.sandbox import RUNTIMES_DIR

SOURCES = RUNTIMES_DIR / "java" / "src"
RELEASE = "17"  # the bytecode level: runs on every supported JDK
_lock = threading.Lock()


class JavaBuildFailed(RuntimeError):
    """``javac`` could not build Kiln's Java bootstrap (the message is its output)."""


def bootstrap_classes(java: str) -> Path:
    """The directory of Kiln's compiled Java bootstrap for the JDK whose ``bin/java`` is ``java``."""
    javac = Path(java).with_name("javac")
    sources = sorted(SOURCES.rglob("*.java"))
    digest = hashlib.sha256(f"{javac}\n{RELEASE}\n".encode())
    for source in sources:
        digest.update(str(source.relative_to(SOURCES)).encode() + b"\0" + source.read_bytes())
    target = Path(settings.KILN_WORK_DIR) / "java" / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    with _lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".java-", dir=target.parent))
        try:
            built = subprocess.run([str(javac), "--release", RELEASE, "-nowarn", "-encoding", "UTF-8", "-d", str(staging), *map(str, sources)],
                                   capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(staging)})
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise JavaBuildFailed(f"could not run {javac}: {exc}") from exc
        if built.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise JavaBuildFailed(f"{javac} failed: {built.stdout}{built.stderr}")
        for directory, _dirs, files in os.walk(staging):  # readable by the sandbox's uid
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        try:
            staging.rename(target)
        except OSError:  # another process (the worker, a test) made it first
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
    return target
