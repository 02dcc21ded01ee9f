"""Starting a function's runtime as an isolated OS process tree.

Two modes, chosen by ``KILN_SANDBOX`` (``auto``: bubblewrap, and where it cannot work here Kiln refuses
to start functions and says why; it runs them unisolated only when told to, ``KILN_SANDBOX=process``):
- ``bwrap``: bubblewrap with its own mount, PID, IPC, UTS, cgroup, user and network namespaces (the
  network one made by the worker, ``invoker/network.py``), uid 993, no new privileges; code read-only
  at ``/var/task``, layers read-only at ``/opt``, Kiln's runtime bootstraps read-only at
  ``/var/runtime``, the interpreter's files read-only, a private ``/tmp`` of the ephemeral storage's
  size (on disk, ``invoker/tmpdisk.py``); nothing else of the host (no Kiln source, no data dir).
- ``process``: a plain child process in its own session with rlimits only, on the host's network; Kiln
  warns at start and on ``/healthz`` that functions are not isolated.
Both give the process a scrubbed environment (only what the caller passes) and, where the host lets
Kiln write cgroups, a memory and process limit that nothing the function starts can escape.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from invoker.cgroups import Cgroup, migration_status

log = logging.getLogger(__name__)

RUNTIMES_DIR = Path(__file__).resolve().parent / "runtimes"
NODE_SDK_PATH = "/var/runtime-sdk/node_modules"  # where a sandbox sees the Node.js runtimes' AWS SDK v3
MAX_PROCESSES = 1024
MAX_OPEN_FILES = 1024
SANDBOX_UID = 993
# boto3 and what it needs, bundled into every Python runtime as Lambda does.
PYTHON_SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
HOST_READ_ONLY = ("/usr",)
# What a function sees of the host's /etc: certificates, name resolution, the time zone, alternatives.
# The JDKs' configuration too: their conf/ files are links into /etc/java-N-openjdk.
HOST_ETC = ("ssl", "ca-certificates", "resolv.conf", "hosts", "nsswitch.conf", "localtime", "alternatives", "java-17-openjdk", "java-21-openjdk")
HOST_ETC_SKIP = ("private",)  # /etc/ssl/private: the host's keys stay out
# Kernel tunables and device settings under /proc, covered read-only in a sandbox bubblewrap had to start as root.
PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi", "/proc/scsi", "/proc/tty")


@dataclass(frozen=True)
class Layout:
    """Where things are, as the function sees them."""

    task: str
    opt: str
    runtime: str
    python_libs: str
    tmp: str
    node_sdk: str = ""  # the Node.js runtimes' AWS SDK v3 node_modules ("" when not installed)


@dataclass
class SandboxRequest:
    env_id: str
    argv_inside: list[str]
    environment: dict[str, str]
    task_dir: Path
    opt_dir: Path
    tmp_dir: Path
    interpreter: str  # absolute path of the real interpreter binary ("" for provided)
    memory_mb: int
    ephemeral_mb: int
    pass_fds: tuple[int, ...] = ()  # open fds the runtime inherits under the same numbers
    own_netns: bool = False  # spawned inside a network namespace Kiln made (invoker.network.entered)
    tmp_source: Path | None = None  # a mounted disk for /tmp (invoker/tmpdisk.py); None: a tmpfs
    java_lib: Path | None = None  # Kiln's compiled Java bootstrap, bound at /var/lang/java (Java runtimes only)


class SandboxUnavailable(RuntimeError):
    """Kiln will not start a function here: the isolation it promises is not available, and why."""


@dataclass
class SandboxedProcess:
    popen: subprocess.Popen[bytes]
    cgroup: Cgroup | None
    inner_pid: int | None = None  # the runtime's pid on the host (bubblewrap's child)
    notes: list[str] = field(default_factory=list)


def link_or_copy(source: str, destination: str) -> None:
    """``shutil.copytree``'s copy function for trees of Kiln's own: a hard link, a copy across filesystems."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def node_sdk_dir() -> Path | None:
    """The ``node_modules`` of the AWS SDK v3 clients the Node.js runtimes provide (``scripts/node_sdk.sh``
    installs them per lock file), or ``None`` when they are not installed."""
    lock = RUNTIMES_DIR / "nodejs" / "sdk" / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16] if lock.exists() else ""
    path = Path(settings.BASE_DIR) / ".node-sdk" / digest / "node_modules"
    return path if digest and (path / "@aws-sdk").is_dir() else None


@functools.cache
def python_sdk_dirs() -> dict[str, str]:
    """Host paths of the SDK packages in Kiln's own environment (name → dir or .py file)."""
    found = {}
    for name in PYTHON_SDK_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        found[name] = str(origin.parent if origin.name == "__init__.py" else origin)
    return found


@functools.cache
def python_sdk_dir() -> Path:
    """One directory holding the SDK packages (hard links where the filesystem allows), so the sandbox
    binds a single directory and the process mode puts a single entry on ``sys.path``."""
    dirs = python_sdk_dirs()
    digest = hashlib.sha256("\n".join(f"{n}={p}" for n, p in sorted(dirs.items())).encode()).hexdigest()[:16]
    target = Path(settings.KILN_WORK_DIR) / "sdk" / f"python-{digest}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sdk-", dir=target.parent))

    for path in dirs.values():
        source = Path(path)
        if source.is_dir():
            shutil.copytree(source, staging / source.name, copy_function=link_or_copy)
        else:
            link_or_copy(str(source), str(staging / source.name))
    staging.chmod(0o755)
    try:
        staging.rename(target)
    except OSError:  # another thread made it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _etc_signature(source: Path) -> str:
    parts = []
    for name in HOST_ETC:
        try:
            st = os.lstat(source / name)
        except OSError:
            continue
        parts.append(f"{name}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


_etc_lock = threading.Lock()


def etc_dir(source: Path = Path("/etc")) -> Path:
    """A copy of the host's ``HOST_ETC`` entries, bound as the sandbox's ``/etc`` in one mount (seven
    bind mounts cost ~1 ms of every sandbox start). A new copy is made when an entry changes (its
    inode, size or mtime), so an edited ``resolv.conf`` or ``hosts`` reaches the next sandbox."""
    target = Path(settings.KILN_WORK_DIR) / "etc" / _etc_signature(source)
    if target.is_dir():
        return target
    with _etc_lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".etc-", dir=target.parent))
        for name in HOST_ETC:
            entry = source / name
            if entry.is_symlink():
                os.symlink(os.readlink(entry), staging / name)
            elif entry.is_dir():
                shutil.copytree(entry, staging / name, symlinks=True, ignore=shutil.ignore_patterns(*HOST_ETC_SKIP))
            elif entry.is_file():
                shutil.copy2(entry, staging / name)
        staging.chmod(0o755)
        staging.rename(target)
    return target


@functools.cache
def precompile(interpreter: str, *, sdk: bool = False) -> None:
    """Write the bytecode of Kiln's Python bootstrap (and, once in the background, of the SDK) for this
    interpreter: inside the sandbox those directories are read-only, so nothing would be cached there."""
    targets = [str(RUNTIMES_DIR / "python")] + ([str(python_sdk_dir())] if sdk else [])
    try:
        subprocess.run([interpreter, "-I", "-S", "-m", "compileall", "-q", *targets], capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not precompile %s for %s: %s", targets, interpreter, exc)


@functools.cache
def bwrap_works() -> tuple[bool, str]:
    """Whether bubblewrap is installed and can create its namespaces here, with the reason if not."""
    binary = shutil.which("bwrap")
    if not binary:
        return False, "bubblewrap (bwrap) is not installed; install the Debian package 'bubblewrap'"
    probe = [binary, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--proc", "/proc", "--dev", "/dev", "--uid", str(SANDBOX_UID), "/bin/true"]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap failed to start: {exc}"
    if result.returncode != 0:
        return False, f"bubblewrap cannot create namespaces here: {result.stderr.decode(errors='replace').strip()}"
    return True, "bubblewrap"


@functools.cache
def _no_nested_userns() -> tuple[str, ...]:
    """Flags that stop a function from making user namespaces of its own (and, with them, mounts);
    bubblewrap 0.8+ has them, older ones run without (the rest of the sandbox does not depend on it)."""
    try:
        text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return ("--unshare-user", "--disable-userns") if "--disable-userns" in text else ()


def _reachable(path: Path, uid: int) -> bool:
    """Whether ``uid`` (not root) can walk to ``path``: every directory on the way searchable by it."""
    for directory in [path, *path.parents]:
        try:
            st = os.stat(directory)
        except OSError:
            return False
        if st.st_uid != uid and not st.st_mode & 0o001:
            return False
    return True


def _first_blocking(path: Path, uid: int) -> Path:
    """The outermost directory on the way to ``path`` that ``uid`` cannot search."""
    for directory in reversed([path, *path.parents]):
        try:
            st = os.stat(directory)
        except OSError:
            return directory
        if st.st_uid != uid and not st.st_mode & 0o001:
            return directory
    return path


@functools.cache
def host_uid_switch() -> tuple[str, ...]:
    """The command prefix that starts bubblewrap as the unprivileged host uid ``SANDBOX_UID``.

    Started by root, bubblewrap maps the sandbox's uid to the host's uid 0: no capabilities, but the
    owner of every root-owned file. Started through ``setpriv`` as ``SANDBOX_UID``, it makes its
    namespaces as an ordinary user (unprivileged user namespaces) and the sandbox is that uid on the
    host too. Empty, with a warning, when Kiln is not root (bubblewrap runs as Kiln's own uid) or this
    host cannot: no ``setpriv`` or no unprivileged user namespaces. A directory the sandbox binds that the
    uid cannot reach (``KILN_WORK_DIR`` under a data dir made by ``mktemp -d``) is not a reason to fall
    back to the weaker root-started sandbox: ``SandboxUnavailable`` says what to change.
    """
    setpriv, bwrap = shutil.which("setpriv"), shutil.which("bwrap")
    if os.geteuid() != 0 or not setpriv or not bwrap:
        return ()
    Path(settings.KILN_WORK_DIR).mkdir(parents=True, exist_ok=True)
    blocked = [_first_blocking(d, SANDBOX_UID) for d in (Path(settings.KILN_WORK_DIR), RUNTIMES_DIR) if not _reachable(d, SANDBOX_UID)]
    if blocked:
        raise SandboxUnavailable(
            f"the sandbox's uid {SANDBOX_UID} cannot reach Kiln's work directory: {', '.join(map(str, blocked))} is not searchable by it. "
            f"Make it searchable (chmod o+x {blocked[0]}: lets it pass through, not list) or set KILN_WORK_DIR to a directory outside it; "
            "Kiln does not fall back to a sandbox running as the host's root")
    switch = (setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups")
    probe = [*switch, bwrap, "--unshare-all", *_no_nested_userns(), "--share-net", "--die-with-parent", "--cap-drop", "ALL",
             "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--ro-bind", "/usr", "/usr",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--proc", "/proc", "--dev", "/dev", "--size", "1048576", "--tmpfs", "/tmp", "/bin/true"]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("sandboxes run as the host's uid 0: bubblewrap as uid %s failed (%s)", SANDBOX_UID, exc)
        return ()
    if result.returncode != 0:
        log.warning("sandboxes run as the host's uid 0: bubblewrap as uid %s failed: %s", SANDBOX_UID, result.stderr.decode(errors="replace").strip())
        return ()
    return switch


_interpreter_lock = threading.Lock()


def interpreter_source(root: str) -> str:
    """What to bind at an interpreter's install prefix ``root`` for a sandbox run as ``SANDBOX_UID``:
    the prefix itself when that uid can reach it, else (say, a pyenv version under ``/root``) a copy
    made of hard links in ``KILN_WORK_DIR``: the interpreter, its shared library and its standard
    library, without the host's ``site-packages`` (functions get their SDK from ``/var/lang/sdk``)."""
    prefix = Path(root)
    if _reachable(prefix, SANDBOX_UID):
        return root
    # Keyed by the prefix and its bin/ and lib/ as they are now: a reinstalled interpreter gets a new copy.
    stamp = [root] + [f"{st.st_ino}:{st.st_mtime_ns}" for st in (os.stat(prefix / top) for top in ("bin", "lib") if (prefix / top).is_dir())]
    target = Path(settings.KILN_WORK_DIR) / "interpreters" / hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    if target.is_dir():
        return str(target)
    with _interpreter_lock:
        if target.is_dir():
            return str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".interp-", dir=target.parent))

        def ignore(directory: str, names: list[str]) -> list[str]:
            here = Path(directory)
            if here.parent == prefix:  # bin/ and lib/: the interpreter, its library and stdlib only
                return [n for n in names if not n.startswith(("python", "libpython"))]
            if here.parent == prefix / "lib":  # lib/python3.X/: not the host's installed packages
                return [n for n in names if n == "site-packages"]
            return []

        for top in ("bin", "lib"):
            if (prefix / top).is_dir():
                shutil.copytree(prefix / top, staging / top, symlinks=True, copy_function=link_or_copy, ignore=ignore)
        for site in (staging / "lib").glob("python*/"):
            (site / "site-packages").mkdir(exist_ok=True)
        for directory, dirs, _ in os.walk(staging):
            for name in dirs:
                os.chmod(os.path.join(directory, name), 0o755)
        staging.chmod(0o755)
        staging.rename(target)
    return str(target)


def sandbox_mode() -> str:
    """``bwrap``, ``process`` (only when ``KILN_SANDBOX=process``) or ``refused`` (no isolation here)."""
    wanted = settings.KILN_SANDBOX
    if wanted == "process":
        return "process"
    works, reason = bwrap_works()
    if wanted == "bwrap" and not works:
        raise RuntimeError(f"KILN_SANDBOX=bwrap but {reason}")
    return "bwrap" if works else "refused"


def refusal() -> str | None:
    """Why Kiln will not start functions here, or None."""
    mode = sandbox_mode()
    if mode == "refused":
        return (f"{bwrap_works()[1]}; Kiln starts no functions without their namespaces (network included). "
                "Set KILN_SANDBOX=process to run them as plain processes, NOT isolated from the host or each other")
    if mode == "bwrap":
        try:
            host_uid_switch()
        except SandboxUnavailable as exc:
            return str(exc)
    return None


def sandbox_status() -> dict[str, Any]:
    from invoker import network, tmpdisk

    works, reason = bwrap_works()
    mode = sandbox_mode()
    refused = refusal()
    host_uid = SANDBOX_UID if mode == "bwrap" and not refused and host_uid_switch() else os.geteuid()
    status: dict[str, object] = {"mode": mode, "isolated": mode == "bwrap" and not refused,
                                 "detail": refused or (reason if not works else "bubblewrap namespaces"),
                                 "host_uid": host_uid, "cgroup_migrations": migration_status()}
    if mode == "bwrap":
        status["network"] = network.status()
        status["tmp"] = tmpdisk.status()
    elif mode == "refused":
        status["network"] = {"isolation": "none: functions do not start", "detail": status["detail"], "egress": False, "endpoint": None}
        status["tmp"] = {"backing": "none", "detail": "functions do not start"}
    else:
        status["network"] = {"isolation": "none: the host's network", "detail": "KILN_SANDBOX=process", "egress": True, "endpoint": None}
        status["tmp"] = {"backing": "directory", "detail": "a directory on the host's disk, not limited in size"}
    return status


@dataclass
class Launch:
    """How an executor starts a runtime: the command, its environment, the fds it inherits, and the read end
    of bubblewrap's info pipe (-1: none; the runtime's pid is then the process's own)."""

    command: list[str]
    environment: dict[str, str]
    pass_fds: tuple[int, ...]
    info_read_fd: int = -1
    info_write_fd: int = -1


class Executor(Protocol):
    """A kind of sandbox the pool's environments run in; ``executor()`` picks the one in force."""

    name: str
    isolated: bool

    def layout(self, task_dir: Path, opt_dir: Path, tmp_dir: Path) -> Layout: ...

    def launch(self, req: SandboxRequest) -> Launch: ...


class BwrapExecutor:
    """bubblewrap: its own namespaces (network: the worker's, invoker/network.py), a read-only root, the sandbox uid."""

    name = "bwrap"
    isolated = True

    def layout(self, task_dir: Path, opt_dir: Path, tmp_dir: Path) -> Layout:
        return Layout(task="/var/task", opt="/opt", runtime="/var/runtime", python_libs="/var/lang/sdk", tmp="/tmp", node_sdk=NODE_SDK_PATH)

    def launch(self, req: SandboxRequest) -> Launch:
        switch = host_uid_switch()  # raises SandboxUnavailable before anything is made
        read_fd, write_fd = os.pipe()
        os.set_inheritable(write_fd, True)
        return Launch([*switch, *_bwrap_argv(req, write_fd)], {"PATH": "/usr/bin:/bin"}, (write_fd, *req.pass_fds), read_fd, write_fd)


class ProcessExecutor:
    """``KILN_SANDBOX=process``: a plain process with rlimits and a cgroup, NOT isolated from the host."""

    name = "process"
    isolated = False

    def layout(self, task_dir: Path, opt_dir: Path, tmp_dir: Path) -> Layout:
        node_sdk = node_sdk_dir()
        return Layout(task=str(task_dir), opt=str(opt_dir), runtime=str(RUNTIMES_DIR), python_libs=str(python_sdk_dir()), tmp=str(tmp_dir),
                      node_sdk=str(node_sdk) if node_sdk else "")

    def launch(self, req: SandboxRequest) -> Launch:
        req.tmp_dir.mkdir(parents=True, exist_ok=True)
        return Launch(list(req.argv_inside), {**req.environment, "TMPDIR": str(req.tmp_dir)}, req.pass_fds)


class RefusedExecutor:
    """No isolation here and none allowed: every start is refused, saying what to change."""

    name = "refused"
    isolated = False

    def layout(self, task_dir: Path, opt_dir: Path, tmp_dir: Path) -> Layout:
        return ProcessExecutor().layout(task_dir, opt_dir, tmp_dir)  # where things would be: nothing starts

    def launch(self, req: SandboxRequest) -> Launch:
        raise SandboxUnavailable(refusal() or "no sandbox")


_EXECUTORS: dict[str, Executor] = {"bwrap": BwrapExecutor(), "process": ProcessExecutor(), "refused": RefusedExecutor()}


def executor() -> Executor:
    return _EXECUTORS[sandbox_mode()]


def layout(request_task_dir: Path, opt_dir: Path, tmp_dir: Path) -> Layout:
    return executor().layout(request_task_dir, opt_dir, tmp_dir)


def _interpreter_root(interpreter: str) -> str | None:
    """The install prefix to expose for an interpreter outside /usr (e.g. a pyenv version)."""
    if not interpreter or interpreter.startswith("/usr/"):
        return None
    return str(Path(interpreter).parent.parent)


def _bwrap_argv(req: SandboxRequest, info_fd: int) -> list[str]:
    # --unshare-all makes a network namespace too, unless the worker made one and spawns inside it.
    share_net = ("--share-net",) if req.own_netns else ()
    argv = ["bwrap", "--unshare-all", *_no_nested_userns(), *share_net, "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--info-fd", str(info_fd)]
    for path in HOST_READ_ONLY:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", str(etc_dir()), "/etc"]
    for link, target in (("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64")):
        if os.path.islink(link):
            argv += ["--symlink", target, link]
        elif os.path.isdir(link):
            argv += ["--ro-bind", link, link]
    root = _interpreter_root(req.interpreter)
    if root:
        argv += ["--ro-bind", interpreter_source(root) if host_uid_switch() else root, root]
    argv += ["--proc", "/proc"]
    if not host_uid_switch():
        # bubblewrap started by root: the sandbox's uid maps to the host's uid 0 (with no capabilities),
        # which may write /proc's kernel tunables; they are covered read-only (bubblewrap covers them
        # only when it finds them writable before it switches to the sandbox's uid). As the host's
        # unprivileged uid the sandbox cannot write them, and the six mounts (~1 ms) are not needed.
        for path in PROC_READ_ONLY:
            argv += ["--ro-bind-try", path, path]
    argv += ["--dev", "/dev"]
    if req.tmp_source is not None:
        argv += ["--bind", str(req.tmp_source), "/tmp"]
    else:
        argv += ["--size", str(req.ephemeral_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    argv += ["--ro-bind", str(req.task_dir), "/var/task",
             "--ro-bind", str(req.opt_dir), "/opt",
             "--ro-bind", str(RUNTIMES_DIR), "/var/runtime"]
    argv += ["--ro-bind", str(python_sdk_dir()), "/var/lang/sdk"]
    node_sdk = node_sdk_dir()
    if node_sdk is not None:
        argv += ["--ro-bind", str(node_sdk), NODE_SDK_PATH]
    if req.java_lib is not None:
        argv += ["--ro-bind", str(req.java_lib), "/var/lang/java"]
    argv += ["--remount-ro", "/", "--chdir", "/var/task", "--clearenv"]
    for key, value in req.environment.items():
        argv += ["--setenv", key, value]
    return argv + ["--"] + req.argv_inside


def spawn(req: SandboxRequest) -> SandboxedProcess:
    """Start the runtime; the caller owns the returned process and must ``terminate`` it."""
    launch = executor().launch(req)  # refuses before anything is made
    try:
        cgroup = Cgroup.create(req.env_id, memory_mb=req.memory_mb, max_pids=MAX_PROCESSES)
    except BaseException:
        for fd in (launch.info_read_fd, launch.info_write_fd):
            if fd >= 0:
                os.close(fd)
        raise
    prelude = f"ulimit -n {MAX_OPEN_FILES}"
    if cgroup is None:
        # No cgroups here: bound what rlimits can (virtual memory only for Python: V8 reserves far
        # more address space than it uses, so Node is bounded by its heap size flag instead).
        if req.interpreter and "python" in Path(req.interpreter).name:
            prelude += f"; ulimit -v {(req.memory_mb + 256) * 1024}"
    read_fd, write_fd = launch.info_read_fd, launch.info_write_fd
    joins = "".join(f'echo $$ > "{d}/cgroup.procs"; ' for d in (cgroup.dirs if cgroup else []))
    script = f'{joins}{prelude}; exec "$@"'
    try:
        popen = subprocess.Popen(
            ["/bin/sh", "-c", script, "kiln-sandbox", *launch.command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=launch.environment,
            cwd=str(req.task_dir),
            start_new_session=True,
            pass_fds=launch.pass_fds,
            close_fds=True,
        )
    except BaseException:
        if cgroup:
            cgroup.remove()
        if read_fd >= 0:
            os.close(read_fd)
        raise
    finally:
        if write_fd >= 0:
            os.close(write_fd)
    process = SandboxedProcess(popen=popen, cgroup=cgroup)
    if read_fd >= 0:
        with os.fdopen(read_fd, "rb") as info:
            data = info.read()  # bwrap closes it once the sandbox runs (or on failure)
        try:
            process.inner_pid = int(json.loads(data or b"{}").get("child-pid"))
        except (ValueError, TypeError):
            process.inner_pid = None
    else:
        process.inner_pid = popen.pid
    return process
