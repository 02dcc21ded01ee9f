"""Kiln's Java bootstrap, built with the runtime's own ``javac`` on first use and cached in the work dir.

The sources (``invoker/runtimes/java/src``: the bootstrap and the ``com.amazonaws.services.lambda.runtime``
interfaces functions compile against) are built once per JDK and source set into
``KILN_WORK_DIR/java/<digest>``, which a sandbox binds read-only at ``/var/lang/java``:

- ``bootstrap.jar``: the classes, run by a spare as ``java -jar`` (its manifest opens ``java.lang`` to the bootstrap,
  which a prewarmed JVM needs to take its function's environment: an ``--add-opens`` flag would cost every start
  the JDK's archived module graph, ~15-40 ms) and by a JVM started for a known function on the class path
  (``invoker/launchers.py``);
- ``probe/``: ``kilnwarm.Probe``, handlers compiled as a user's are, which a prewarmed JVM runs once before it
  waits (``kiln.Warm``) and the archive's training run loads (not on the class path: loaded as a function is);
- ``bootstrap.jsa`` / ``host.jsa``: an application class-data (CDS) archive of everything a bootstrap's life
  loads, written by a training run (``kiln.Train``) with the JVM flags functions run with, for the jar's path in
  a bubblewrap sandbox (``/var/lang/java``) or on the host (``KILN_SANDBOX=process``): the JVM validates the
  class path it was made for. A JVM maps those classes instead of parsing and verifying them.

The worker builds it in the background at start (``invoker/worker.py``), so the first Java cold start rarely
waits for ``javac`` and the training run (~2-4 s together). A training run that fails only costs the archive.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path

from django.conf import settings

from invoker.sandbox import RUNTIMES_DIR

log = logging.getLogger(__name__)
SOURCES = RUNTIMES_DIR / "java" / "src"
PROBE_SOURCES = RUNTIMES_DIR / "java" / "probe"
RELEASE = "17"  # the bytecode level: runs on every supported JDK
JAR = "bootstrap.jar"
INSIDE = "/var/lang/java"  # where a bubblewrap sandbox binds the build
ARCHIVES = {"bwrap": "bootstrap.jsa", "process": "host.jsa"}
MANIFEST = "Manifest-Version: 1.0\r\nMain-Class: kiln.Bootstrap\r\nAdd-Opens: java.base/java.lang\r\n\r\n"
_lock = threading.Lock()
_train_lock = threading.Lock()


class JavaBuildFailed(RuntimeError):
    """``javac`` could not build Kiln's Java bootstrap (the message is its output)."""


_built: dict[tuple[str, str], Path] = {}  # (java, work dir) -> the build: every Java cold start asks, the sources are read once


def bootstrap_classes(java: str) -> Path:
    """The directory of Kiln's built Java bootstrap for the JDK whose ``bin/java`` is ``java``."""
    known = _built.get((java, str(settings.KILN_WORK_DIR)))
    if known is not None and known.is_dir():
        return known
    target = _build(java)
    _built[(java, str(settings.KILN_WORK_DIR))] = target
    return target


def _build(java: str) -> Path:
    javac = Path(java).with_name("javac")
    sources = sorted(SOURCES.rglob("*.java"))
    probes = sorted(PROBE_SOURCES.rglob("*.java"))
    digest = hashlib.sha256(f"{javac}\n{RELEASE}\n{MANIFEST}\n".encode())
    for root, files in ((SOURCES, sources), (PROBE_SOURCES, probes)):
        for source in files:
            digest.update(str(source.relative_to(root)).encode() + b"\0" + source.read_bytes())
    target = Path(settings.KILN_WORK_DIR) / "java" / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    with _lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".java-", dir=target.parent))
        try:
            _javac(javac, staging / "classes", [*sources, *probes])  # one javac start for both
            (staging / "probe").mkdir()
            (staging / "classes" / "kilnwarm").rename(staging / "probe" / "kilnwarm")
            _jar(staging / "classes", staging / JAR)
            shutil.rmtree(staging / "classes")
        except JavaBuildFailed:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for directory, _dirs, names in os.walk(staging):  # readable by the sandbox's uid
            os.chmod(directory, 0o755)
            for name in names:
                os.chmod(os.path.join(directory, name), 0o644)
        try:
            staging.rename(target)
        except OSError:  # another process (the worker, a test) made it first
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
    return target


def bootstrap_jar(java: str) -> Path:
    """Kiln's Java bootstrap and the aws-lambda-java-core interfaces, as one jar (what functions compile against)."""
    return bootstrap_classes(java) / JAR


def _javac(javac: Path, out: Path, sources: list[Path]) -> None:
    # Concatenation compiled inline: an invokedynamic concatenation's first use spins classes at run time (the
    # probe's too: kiln.Warm bootstraps a concatenation as javac emits it for functions, through its factory).
    argv = [str(javac), "--release", RELEASE, "-XDstringConcat=inline", "-nowarn", "-encoding", "UTF-8", "-d", str(out)]
    try:
        built = subprocess.run([*argv, *map(str, sources)], capture_output=True, text=True, timeout=300,
                               env={"PATH": "/usr/bin:/bin", "HOME": str(out.parent)})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaBuildFailed(f"could not run {javac}: {exc}") from exc
    if built.returncode != 0:
        raise JavaBuildFailed(f"{javac} failed: {built.stdout}{built.stderr}")


def _jar(classes: Path, jar: Path) -> None:
    """The classes as a jar with Kiln's manifest (``zipfile``: the same format ``jar`` writes, without a JDK tool)."""
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("META-INF/MANIFEST.MF", MANIFEST)
        for path in sorted(classes.rglob("*.class")):
            out.write(path, path.relative_to(classes).as_posix())


def class_data_archive(java: str, mode: str, flags: list[str], *, wait: bool = True) -> str | None:
    """The CDS archive for a JVM started with ``flags`` in sandbox ``mode`` (the path that JVM sees), trained
    first if it is not there; None when it could not be made (that JDK and mode then start without one). With
    ``wait=False`` (a cold start) a missing archive is trained in the background and this start goes without."""
    name = ARCHIVES.get(mode)
    if name is None:
        return None
    directory = bootstrap_classes(java)
    archive, failed = directory / name, directory / f".{name}.failed"
    if not archive.is_file() and not failed.exists():
        if wait:
            _train_once(java, directory, name, mode, flags)
        else:
            threading.Thread(target=_train_once, args=(java, directory, name, mode, flags), name="kiln-java-cds", daemon=True).start()
    if not archive.is_file():
        return None
    return f"{INSIDE}/{name}" if mode == "bwrap" else str(archive)


def _train_once(java: str, directory: Path, name: str, mode: str, flags: list[str]) -> None:
    with _train_lock:
        if not (directory / name).is_file() and not (directory / f".{name}.failed").exists():
            _train(java, directory, name, mode, flags)


def _train(java: str, directory: Path, name: str, mode: str, flags: list[str]) -> None:
    partial = f".{name}.{os.getpid()}.{threading.get_ident()}"
    if mode == "bwrap":
        inside = [java, *flags, f"-XX:ArchiveClassesAtExit={INSIDE}/{partial}", "-jar", f"{INSIDE}/{JAR}", "--train"]
        argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", str(directory), INSIDE]
        home = Path(os.path.realpath(java)).parent.parent
        if not str(home).startswith("/usr/"):
            argv += ["--ro-bind", str(home), str(home)]
        argv += ["--", *inside]
    else:
        argv = [java, *flags, f"-XX:ArchiveClassesAtExit={directory / partial}", "-jar", str(directory / JAR), "--train"]
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
        problem = None if run.returncode == 0 and (directory / partial).is_file() else f"status {run.returncode}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem is not None:
        log.warning("Kiln's Java class-data archive for %s (%s) could not be made; Java starts without it: %s", java, mode, problem)
        (directory / f".{name}.failed").write_text(problem)
        (directory / partial).unlink(missing_ok=True)
        return
    os.chmod(directory / partial, 0o644)
    os.replace(directory / partial, directory / name)
