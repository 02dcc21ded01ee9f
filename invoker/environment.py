"""One execution environment: a sandboxed runtime process, its Runtime API and its log stream.

``start()`` spawns the runtime and waits (at most ``INIT_TIMEOUT_S``) for its first ``next``;
``invoke()`` hands it one event, waits for its answer until the deadline, and returns a ``RunResult``
with the output attributed to that invocation. The environment serves one invocation at a time; the
pool decides who may use it. An environment whose process died, timed out or ran out of memory is
stopped and never reused.
"""

from __future__ import annotations

import enum
import json
import math
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from functions.limits import INIT_TIMEOUT_S, SYNC_PAYLOAD_MAX_BYTES
from functions.runtimes import RuntimeInfo
from invoker import codecache, credentials, javabuild, network, sandbox, sdkpreload, tmpdisk
from invoker.launchers import TRAINING_MEMORY_MB, java_argv, java_flags, ruby_paths
from invoker.logs import LOG_CAP_BYTES, render_output
from invoker.runtime_api import RuntimeApiServer, RuntimeEvent, Work, initial_environment

END_MARKER = b"\x1e\x1fKILN-END\n"
OUTPUT_SETTLE_S = 0.02  # provided runtimes write no end marker: wait this long for output to settle


class EnvState(enum.Enum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    STOPPED = "stopped"
    FAILED = "failed"


# An environment's life: started (or held as a spare) until its runtime asks for work, then taken for one
# invocation at a time; stopped or failed from any live state, and never back.
ENV_TRANSITIONS: dict[EnvState, frozenset[EnvState]] = {
    EnvState.STARTING: frozenset({EnvState.READY, EnvState.STOPPED, EnvState.FAILED}),
    EnvState.READY: frozenset({EnvState.BUSY, EnvState.STOPPED, EnvState.FAILED}),
    EnvState.BUSY: frozenset({EnvState.READY, EnvState.STOPPED, EnvState.FAILED}),
    EnvState.STOPPED: frozenset(),
    EnvState.FAILED: frozenset(),
}


class IllegalMove(RuntimeError):
    """An environment asked to move where its life does not go (``ENV_TRANSITIONS``)."""


class EnvironmentStopped(RuntimeError):
    """Kiln stopped the environment while it ran an event (its worker shutting down): the run ended for a reason of
    Kiln's, not the function's, so it is no ``Runtime.ExitError``; the invocation goes back to the queue."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything needed to start an environment, copied out of the database row."""

    key: str  # the revision id: a new revision means a new environment
    function_name: str
    function_arn: str
    version: str
    runtime: RuntimeInfo
    handler: str
    memory_size: int
    timeout: int
    ephemeral_storage: int
    environment: dict[str, str]
    code_sha256: str
    code_zip: str
    layers: tuple[tuple[str, str], ...] = ()
    network: str = "outbound"  # functions.limits.NETWORK_MODES
    aws_credentials: bool = False  # give it a session of ``role_id`` (invoker/credentials.py): a function's, not a template's
    role_id: int | None = None


@dataclass
class RunResult:
    outcome: str  # success | error | timeout | crash | init_error
    body: bytes = b""
    error: dict | None = None
    output: str = ""  # what the function printed during this invocation
    pre_output: str = ""  # printed before it (the init phase, on a cold start)
    duration_ms: float = 0.0
    max_memory_mb: int = 0


@dataclass
class _Output:
    """The runtime's merged stdout/stderr, split into invocations by the end marker."""

    current: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    carry: bytes = b""
    done: list[tuple[bytes, int]] = field(default_factory=list)
    eof: bool = False
    last_data_at: float = 0.0


class ExecutionEnvironment:
    def __init__(self, config: EnvironmentConfig, *, initialization_type: str = "on-demand") -> None:
        self.config = config
        self.id = uuid.uuid4().hex[:16]
        self._state = EnvState.STARTING
        self.initialization_type = initialization_type
        self.created_at = time.time()
        self.last_used_at = self.created_at
        self.invocations = 0
        self.init_duration_ms: float | None = None
        self.init_output = ""
        self._final_peak_mb = 0
        self._events: queue.Queue[RuntimeEvent] = queue.Queue()
        self._api: RuntimeApiServer | None = None
        self._process: sandbox.SandboxedProcess | None = None
        self._out = _Output()
        self._cond = threading.Condition()
        self._uses_marker = config.runtime.kiln_bootstrap
        self._slot: tuple[Path, Path, sandbox.Layout] | None = None  # task dir, opt dir, layout of a pre-started runtime
        self._net: network.SandboxNetwork | None = None  # its namespace and listeners (invoker/network.py)
        self._tmp: tmpdisk.TmpDisk | None = None  # its disk-backed /tmp (invoker/tmpdisk.py)
        self.has_credentials = False  # a role session was issued for it (revoked in ``stop``)
        self.preloads_sdk = False  # a spare loading the AWS SDK while it waits (invoker/sdkpreload.py)
        self._interrupted = False  # stopped by Kiln (``stop(interrupt=True)``) while it ran an event

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def state(self) -> EnvState:
        return self._state

    def _move(self, to: EnvState) -> None:
        if to not in ENV_TRANSITIONS[self._state]:
            raise IllegalMove(f"environment {self.id} cannot go from {self._state.value} to {to.value}")
        self._state = to

    @property
    def alive(self) -> bool:
        """Its runtime's process runs (a spare still starting included)."""
        process = self._process
        return process is not None and process.popen.poll() is None

    def take(self) -> bool:
        """For one invocation: ``READY`` → ``BUSY`` if its runtime still runs; ``False`` (unchanged) otherwise."""
        if self._state != EnvState.READY or not self.alive:
            return False
        self._move(EnvState.BUSY)
        return True

    def untake(self) -> None:
        """``BUSY`` → ``READY`` for an environment taken for a run that did not happen (its lease was refused)."""
        if self._state == EnvState.BUSY:
            self._move(EnvState.READY)

    def _lambda_environment(self, layout: sandbox.Layout, *, issue_credentials: bool = True) -> dict[str, str]:
        c = self.config
        day = time.strftime("%Y/%m/%d", time.gmtime())
        env = dict(c.environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": c.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": c.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(c.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{c.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[{c.version}]{self.id}{uuid.uuid4().hex[:16]}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": self.initialization_type,
                "AWS_LAMBDA_RUNTIME_API": self._api.address if self._api else "",
                "AWS_REGION": settings.KILN_REGION,
                "AWS_DEFAULT_REGION": settings.KILN_REGION,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{c.runtime.identifier}",
                "_HANDLER": c.handler,
                "LAMBDA_TASK_ROOT": layout.task,
                "LAMBDA_RUNTIME_DIR": layout.runtime,
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
                "HOME": layout.tmp,  # the sandbox has no passwd entry: SDK v3 reads ~/.aws/config and fails on a homeless user
                "PATH": f"/usr/local/bin:/usr/bin:/bin:{layout.opt}/bin",
                "LD_LIBRARY_PATH": f"{layout.opt}/lib",
            }
        )
        if issue_credentials and c.aws_credentials and not self.has_credentials:  # at a cold start or an assignment, never at a prewarmed spawn
            env.update(credentials.environment_credentials_issue(environment_id=self.id, function_name=c.function_name, role_id=c.role_id))
            self.has_credentials = True
        if c.runtime.family == "nodejs":
            major = c.runtime.identifier.removeprefix("nodejs").removesuffix(".x")
            # As Lambda's: layers first, then the runtime's AWS SDK v3, then the runtime and the function.
            sdk = f"{layout.node_sdk}:" if layout.node_sdk else ""
            env["NODE_PATH"] = f"{layout.opt}/nodejs/node{major}/node_modules:{layout.opt}/nodejs/node_modules:{sdk}{layout.runtime}:{layout.task}"
        if c.runtime.family == "ruby":
            env.update(ruby_paths(c.runtime.version, layout))
        return env

    def _argv(self, layout: sandbox.Layout, task_dir: Path, opt_dir: Path, *, spare: bool = False) -> list[str]:
        runtime = self.config.runtime
        if runtime.family == "python":
            sandbox.precompile(runtime.executable)
            launcher = f"import sys; sys.path.insert(0, '{layout.runtime}/python'); import kiln_bootstrap; kiln_bootstrap.main()"
            return [runtime.executable, "-I", "-S", "-u", "-c", launcher, "--opt", layout.opt, "--libs", layout.python_libs]
        if runtime.family == "nodejs":
            heap = max(int(self.config.memory_size * 0.85), 64)
            return [runtime.executable, f"--max-old-space-size={heap}", f"{layout.runtime}/nodejs/bootstrap.cjs"]
        if runtime.family == "ruby":
            return [runtime.executable, f"{layout.runtime}/ruby/kiln_bootstrap.rb", "--opt", layout.opt]
        if runtime.family == "java":
            executor = sandbox.executor()
            mode = executor.name
            jar = f"{javabuild.INSIDE}/{javabuild.JAR}" if executor.isolated else str(javabuild.bootstrap_jar(runtime.executable))
            archive = javabuild.class_data_archive(runtime.executable, mode, java_flags(TRAINING_MEMORY_MB), wait=False)
            return java_argv(runtime.executable, self.config.memory_size, jar, layout.opt, archive, opens=spare)
        for base, inside in ((task_dir, layout.task), (opt_dir, layout.opt)):
            if (base / "bootstrap").is_file():
                return [f"{inside}/bootstrap"]
        return [f"{layout.task}/bootstrap"]

    def start(self) -> RunResult | None:
        """Start and initialise; None when ready, else the init failure as a ``RunResult``."""
        c = self.config
        task_dir = codecache.code_dir(c.code_sha256, c.code_zip)
        opt_dir = codecache.opt_dir(list(c.layers))
        tmp_dir = Path(settings.KILN_WORK_DIR) / "envs" / self.id / "tmp"
        layout = sandbox.layout(task_dir, opt_dir, tmp_dir)
        started = time.monotonic()
        failure = self._open_network()
        if failure is not None:
            return failure
        try:
            argv, env = self._argv(layout, task_dir, opt_dir), self._lambda_environment(layout)
        except javabuild.JavaBuildFailed as exc:
            return self._unavailable(f"Kiln's Java bootstrap could not be built: {exc}")
        if self._tmp is not None and not self._tmp.ready.is_set() and holdable(c):
            # A /tmp of a size not made ahead is being made: start the runtime now, held (as a prewarmed
            # one is) before the function's code until it is mounted, then hand it its configuration. It
            # starts with its whole environment and its configuration is empty (a JVM started for a known
            # function could not change its environment: invoker/launchers.py).
            failure = self._launch(task_dir, opt_dir, tmp_dir, [*argv, "--prewarmed", "1"], env) or self._tmp_ready()
            if failure is None and self._api is not None:
                self._api.configure(b"{}")  # nothing to add: it has its environment
        else:
            failure = self._tmp_ready() or self._launch(task_dir, opt_dir, tmp_dir, argv, env)
        return failure or self._await_init(started)

    def _tmp_ready(self) -> RunResult | None:
        error = tmpdisk.failure(self._tmp)
        return self._unavailable(error) if error else None

    def _unavailable(self, message: str) -> RunResult:
        self.stop(failed=True)
        return RunResult("init_error", error={"errorType": "Kiln.SandboxUnavailable", "errorMessage": message})

    def start_prewarmed(self) -> RunResult | None:
        """Start the runtime before its function is known; it waits for ``assign`` (invoker/prewarm.py).

        Code and layers arrive later as hard links in its (bound) task and opt directories, the
        configuration (environment, handler) over the Runtime API."""
        base = Path(settings.KILN_WORK_DIR) / "envs" / self.id
        task_dir, opt_dir, tmp_dir = base / "task", base / "opt", base / "tmp"
        task_dir.mkdir(parents=True)
        opt_dir.mkdir()
        for directory in (base, task_dir, opt_dir):
            directory.chmod(0o755)
        layout = sandbox.layout(task_dir, opt_dir, tmp_dir)
        self._slot = (task_dir, opt_dir, layout)
        failure = self._open_network()
        if failure is not None:
            return failure
        try:
            argv = self._argv(layout, task_dir, opt_dir, spare=True)
        except javabuild.JavaBuildFailed as exc:
            return self._unavailable(f"Kiln's Java bootstrap could not be built: {exc}")
        self.preloads_sdk = sdkpreload.preloads(self.config.runtime)
        flags = ["--prewarmed", "1", *(["--preload-sdk", "1"] if self.preloads_sdk else [])]
        if self.config.runtime.family == "java":  # a JVM runs its warm-up while it waits (kiln.Warm): the code every first event goes through
            flags += ["--warm", "1"]
        return self._launch(task_dir, opt_dir, tmp_dir, [*argv, *flags], initial_environment(self._lambda_environment(layout, issue_credentials=False)))

    def holding(self) -> bool:
        """A pre-started runtime waiting for its function (its ``kiln/configuration`` request has arrived)."""
        return self._api is not None and self._api.holding.is_set()

    def preloaded(self) -> list[str]:
        """What a pre-started runtime said it loaded while it waited (invoker/sdkpreload.py)."""
        return sdkpreload.held_names(self._api.held_body) if self._api is not None else []

    def assign(self, config: EnvironmentConfig) -> RunResult | None:
        """Give a pre-started runtime its function: link the code in, send the configuration, await init."""
        assert self._slot is not None and self._api is not None
        task_dir, opt_dir, layout = self._slot
        started = time.monotonic()
        process = self._process
        if process is not None and process.cgroup is not None and config.memory_size != self.config.memory_size:
            process.cgroup.set_memory_limit(config.memory_size)
        self.config = config
        codecache.link_tree(codecache.code_dir(config.code_sha256, config.code_zip), task_dir)
        if config.layers:
            codecache.link_tree(codecache.opt_dir(list(config.layers)), opt_dir)
        failure = self._tmp_ready()  # made while it started, if its size was new
        if failure is None:
            self._api.configure(json.dumps(self._lambda_environment(layout)).encode())
        return failure or self._await_init(started)

    def _open_network(self) -> RunResult | None:
        """The sandbox's network (invoker/network.py) and, taken alongside, its /tmp (invoker/tmpdisk.py)."""
        isolated = sandbox.executor().isolated
        try:
            self._net = network.open_for(self.config.network, isolated=isolated)
            self._tmp = tmpdisk.take(self.config.ephemeral_storage) if isolated else None
        except OSError as exc:
            return self._unavailable(f"Could not make the sandbox's network or /tmp: {exc}")
        self._api = RuntimeApiServer(self._events, self._net.listener)  # its threads start outside the namespace
        return None

    def _launch(self, task_dir: Path, opt_dir: Path, tmp_dir: Path, argv: list[str], environment: dict[str, str]) -> RunResult | None:
        c = self.config
        handed: socket.socket | None = None
        netns = self._net.netns if self._net else None
        try:
            with network.entered(netns):  # the sandbox starts inside its network namespace
                if c.runtime.kiln_bootstrap and self._api is not None:
                    # Kiln's bootstraps get their Runtime API connection already open: loading `net` to make
                    # one costs Node.js ~9 ms (runtimes/nodejs/bootstrap.cjs), `java.net.Socket` a JVM ~20 ms,
                    # `_socket` Python 0.5 ms. It is the only connection their Runtime API serves. A JVM takes
                    # its number as an argument: it cannot take a variable out of its own environment.
                    handed = self._api.handed_connection()
                    os.set_inheritable(handed.fileno(), True)
                    if c.runtime.family == "java":
                        argv = [*argv, "--runtime-fd", str(handed.fileno())]
                    else:
                        environment = {**environment, "KILN_RUNTIME_FD": str(handed.fileno())}
                self._process = sandbox.spawn(sandbox.SandboxRequest(
                    env_id=self.id, argv_inside=argv, environment=environment, task_dir=task_dir, opt_dir=opt_dir, tmp_dir=tmp_dir,
                    interpreter=c.runtime.executable, memory_mb=c.memory_size, ephemeral_mb=c.ephemeral_storage,
                    pass_fds=(handed.fileno(),) if handed else (), own_netns=netns is not None,
                    tmp_source=self._tmp.mountpoint if self._tmp else None,
                    java_lib=javabuild.bootstrap_classes(c.runtime.executable) if c.runtime.family == "java" else None))
        except sandbox.SandboxUnavailable as exc:
            return self._unavailable(str(exc))
        except OSError as exc:
            self.stop(failed=True)
            return RunResult("init_error", error={"errorType": "Runtime.InvalidEntrypoint", "errorMessage": f"Could not start the runtime: {exc}"})
        finally:
            if handed is not None:
                handed.close()  # the runtime holds its own copy
        threading.Thread(target=self._read_output, name=f"env-output-{self.id}", daemon=True).start()
        return None

    def _await_init(self, started: float) -> RunResult | None:
        deadline = started + INIT_TIMEOUT_S
        while True:
            event = self._next_event(deadline)
            if event is None:
                self.stop(failed=True)
                self.init_output = self._take_all()
                return RunResult("init_error", error={"errorType": "Runtime.InitTimeout", "errorMessage": f"Init phase did not complete within {INIT_TIMEOUT_S} seconds."})
            if event.kind == "next":
                self.init_duration_ms = (event.at - started) * 1000
                self._move(EnvState.READY)
                return None
            if event.kind in ("init_error", "closed"):
                failure = self._failure_from(event)
                self.stop(failed=True)
                self._wait_eof(0.5)
                self.init_output = self._take_all()
                return RunResult("init_error", error=failure)

    def _failure_from(self, event: RuntimeEvent) -> dict:
        if event.kind == "init_error":
            try:
                error = json.loads(event.body or b"{}")
            except ValueError:
                error = {}
            if not isinstance(error, dict):
                error = {"errorMessage": str(error)}
            error.setdefault("errorType", event.error_type or "Runtime.Unknown")
            error.setdefault("errorMessage", "The runtime reported an init error.")
            return error
        return self._exit_error()

    def _exit_error(self) -> dict:
        code = self._process.popen.poll() if self._process else None
        if code is None and self._process:
            # A runtime that connects to the Runtime API itself (the JVM, provided bootstraps) may be seen gone
            # before its process has exited: give it a moment, so the error names the real exit status.
            try:
                code = self._process.popen.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
        oom = bool(self._process and self._process.cgroup and self._process.cgroup.oom_killed())
        if oom:
            return {"errorType": "Runtime.OutOfMemory", "errorMessage": "Runtime exited with error: signal: killed"}
        if code is not None and code < 0:
            return {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: signal: {_signal_name(-code)}"}
        if code is not None and code >= 128 + 1 and code <= 128 + 64:
            return {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: signal: {_signal_name(code - 128)}"}
        return {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: exit status {code}"}

    def interrupt(self) -> None:
        """Say, before anything is stopped, that an event running here now ends by Kiln's doing (``EnvironmentStopped``),
        whatever ends it first: its own stop, or another part of the worker's shutdown."""
        if self._state == EnvState.BUSY:
            self._interrupted = True

    def stop(self, *, failed: bool = False, interrupt: bool = False) -> None:
        """Stop the runtime and free what the environment holds. ``interrupt``: Kiln stops it for reasons of its own
        (its worker shutting down); an event running in it then ends with ``EnvironmentStopped``."""
        if self.state in (EnvState.STOPPED, EnvState.FAILED):
            return
        if interrupt:
            self.interrupt()
        self._final_peak_mb = self.max_memory_mb()  # read before the cgroup goes away
        self._move(EnvState.FAILED if failed else EnvState.STOPPED)
        if self._api:
            self._api.close()
        process = self._process
        if process:
            try:
                os.killpg(process.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if process.cgroup:
                process.cgroup.kill_all()
            try:
                process.popen.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort; the reaper thread collects it later
                pass
            if process.cgroup:
                for _ in range(50):
                    process.cgroup.kill_all()
                    if not any((d / "cgroup.procs").exists() and (d / "cgroup.procs").read_text().strip() for d in process.cgroup.dirs):
                        break
                    time.sleep(0.01)
                process.cgroup.remove()
        if self._net is not None:
            self._net.close()
        if self.has_credentials:
            credentials.environment_credentials_revoke(environment_id=self.id)
        if self._tmp is not None:
            tmpdisk.release(self._tmp)  # unmounted and removed in the background
            self._tmp = None
        tmp = Path(settings.KILN_WORK_DIR) / "envs" / self.id
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

    # -- invoking ------------------------------------------------------------------------------
    def invoke(self, *, request_id: str, payload: bytes, timeout_s: float, trace_id: str = "", client_context: str | None = None) -> RunResult:
        if self._state != EnvState.BUSY:  # taken by the pool already, or invoked directly (READY)
            self._move(EnvState.BUSY)
        self.invocations += 1
        with self._cond:
            pre = bytes(self._out.current)
            self._out.current.clear()
            self._out.dropped = 0
        deadline = time.monotonic() + timeout_s
        deadline_ms = int((time.time() + timeout_s) * 1000)
        assert self._api is not None
        work = Work(request_id, payload, deadline_ms, self.config.function_arn, trace_id or f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0", client_context)
        self._api.deliver(work)
        result = self._await_answer(request_id, deadline, timeout_s)
        result.pre_output = pre.decode("utf-8", "replace")
        result.duration_ms = max((time.monotonic() - (work.delivered_at or time.monotonic())) * 1000, 0.0) if result.outcome != "timeout" else timeout_s * 1000
        result.max_memory_mb = self.max_memory_mb()
        self.last_used_at = time.time()
        if self._state == EnvState.BUSY:
            self._move(EnvState.READY)
        return result

    def _await_answer(self, request_id: str, deadline: float, timeout_s: float) -> RunResult:
        while True:
            event = self._next_event(deadline)
            if self._interrupted and (event is None or event.kind in ("closed", "init_error")):  # an answer that came first stands
                raise EnvironmentStopped(f"Kiln stopped the environment running {request_id} (its worker is shutting down).")
            if event is None:
                self.stop(failed=True)
                self._wait_eof(1.0)
                return RunResult("timeout", error={"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"}, output=self._take_all())
            if event.kind == "next":
                continue  # a late "next" from the previous exchange
            if event.kind == "closed" or event.kind == "init_error":
                self._wait_eof(1.0)
                error = self._exit_error()
                error["errorMessage"] = f"RequestId: {request_id} Error: {error['errorMessage']}"
                self.stop(failed=True)
                return RunResult("crash", error=error, output=self._take_all())
            if event.request_id != request_id:
                continue
            if event.kind == "too_large":
                output = self._take_invocation_output(deadline)
                return RunResult("error", error={"errorType": "Function.ResponseSizeTooLarge", "errorMessage": f"Response payload size exceeded maximum allowed payload size ({SYNC_PAYLOAD_MAX_BYTES} bytes)."}, output=output)
            output = self._take_invocation_output(deadline)
            if event.kind == "response":
                return RunResult("success", body=event.body, output=output)
            try:
                error = json.loads(event.body or b"{}")
            except ValueError:
                error = {"errorMessage": event.body.decode("utf-8", "replace")}
            if not isinstance(error, dict):
                error = {"errorMessage": str(error)}
            error.setdefault("errorType", event.error_type or "Unhandled")
            return RunResult("error", body=event.body, error=error, output=output)

    def _next_event(self, deadline: float) -> RuntimeEvent | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                return self._events.get(timeout=min(remaining, 0.25))
            except queue.Empty:
                if self._process and self._process.popen.poll() is not None:
                    return RuntimeEvent("closed", at=time.monotonic())

    # -- output --------------------------------------------------------------------------------
    def _read_output(self) -> None:
        assert self._process and self._process.popen.stdout
        fd = self._process.popen.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._out.eof = True
                    self._cond.notify_all()
                    self._events.put(RuntimeEvent("closed", at=time.monotonic()))
                    return
                self._ingest(data)
                self._out.last_data_at = time.monotonic()
                self._cond.notify_all()

    def _ingest(self, data: bytes) -> None:
        out = self._out
        buffer = out.carry + data
        if self._uses_marker:
            while True:
                index = buffer.find(END_MARKER)
                if index < 0:
                    break
                self._append(buffer[:index])
                out.done.append((bytes(out.current), out.dropped))
                out.current.clear()
                out.dropped = 0
                buffer = buffer[index + len(END_MARKER):]
            keep = next((k for k in range(min(len(END_MARKER) - 1, len(buffer)), 0, -1) if END_MARKER.startswith(buffer[-k:])), 0)
        else:
            keep = 0
        self._append(buffer[: len(buffer) - keep])
        out.carry = buffer[len(buffer) - keep:] if keep else b""

    def _append(self, data: bytes) -> None:
        out = self._out
        room = LOG_CAP_BYTES - len(out.current)
        if room > 0:
            out.current += data[:room]
        out.dropped += max(len(data) - max(room, 0), 0)

    def _take_invocation_output(self, deadline: float) -> str:
        with self._cond:
            if self._uses_marker:
                limit = min(deadline, time.monotonic() + 2.0)
                while not self._out.done and not self._out.eof and time.monotonic() < limit:
                    self._cond.wait(0.05)
                if self._out.done:
                    data, dropped = self._out.done.pop(0)
                    return render_output(data, dropped)
            else:
                # No end marker: take what arrives until the output has been quiet for a moment,
                # counting from the answer (what was printed just before it may still be in the pipe).
                answered = time.monotonic()
                while not self._out.eof and time.monotonic() - max(self._out.last_data_at, answered) < OUTPUT_SETTLE_S:
                    self._cond.wait(OUTPUT_SETTLE_S)
            data, dropped = bytes(self._out.current), self._out.dropped
            self._out.current.clear()
            self._out.dropped = 0
            return render_output(data, dropped)

    def _take_all(self) -> str:
        with self._cond:
            parts = [render_output(d, n) for d, n in self._out.done] + [render_output(bytes(self._out.current) + self._out.carry, self._out.dropped)]
            self._out.done.clear()
            self._out.current.clear()
            self._out.dropped = 0
            self._out.carry = b""
            return "".join(parts)

    def _wait_eof(self, seconds: float) -> None:
        with self._cond:
            limit = time.monotonic() + seconds
            while not self._out.eof and time.monotonic() < limit:
                self._cond.wait(0.05)

    def max_memory_mb(self) -> int:
        process = self._process
        if process is None:
            return 0
        if self.state in (EnvState.STOPPED, EnvState.FAILED):
            return self._final_peak_mb
        peak = process.cgroup.peak_bytes() if process.cgroup else 0
        if not peak and process.inner_pid:
            try:
                for line in Path(f"/proc/{process.inner_pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = int(line.split()[1]) * 1024
            except (OSError, ValueError):
                pass
        return math.ceil(peak / (1024 * 1024)) if peak else 0


# Variables the interpreter itself reads when it starts: a runtime started before the function is known never saw them.
START_OPTIONS = {"java": "JAVA_TOOL_OPTIONS", "nodejs": "NODE_OPTIONS"}


def holdable(config: EnvironmentConfig) -> bool:
    """Whether the runtime can start before its function's environment is known and take it later:
    Kiln's own bootstraps, except a JVM with ``JAVA_TOOL_OPTIONS`` or a Node.js with ``NODE_OPTIONS``, which must be
    there when it starts."""
    return config.runtime.kiln_bootstrap and START_OPTIONS.get(config.runtime.family, "") not in config.environment


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name.removeprefix("SIG").lower()
    except ValueError:
        return str(number)
