"""Code Kiln did not write, trying to break out from inside a function. Each attempt must be contained,
the worker must keep serving, and the next invocation of another function must succeed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings

from invoker.sandbox import sandbox_mode
from tests.conftest import invoke

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(sandbox_mode() != "bwrap", reason="isolation needs bubblewrap; .ci/run installs it"),
]

ATTACKS = r'''
import os, signal, errno

def attempt(fn):
    try:
        return "ALLOWED: " + repr(fn())[:200]
    except Exception as exc:
        return "DENIED: " + type(exc).__name__ + ": " + str(exc)[:200]

def handler(event, context):
    kind = event["kind"]
    if kind == "files":
        return {path: attempt(lambda p=path: open(p, "rb").read(200)) for path in event["paths"]}
    if kind == "write":
        def write(p):
            with open(p, "w") as handle:
                handle.write("x")
            return p
        return {path: attempt(lambda p=path: write(p)) for path in event["paths"]}
    if kind == "sysctl":  # writes back the value it reads: harmless if it ever got through
        def rewrite(p):
            with open(p) as handle:
                current = handle.read()
            with open(p, "w") as handle:
                handle.write(current)
            return current
        return {path: attempt(lambda p=path: rewrite(p)) for path in event["paths"]}
    if kind == "unshare":
        import subprocess
        out = subprocess.run(["unshare", "-Urm", "true"], capture_output=True, text=True)
        return {"returncode": out.returncode, "stderr": out.stderr}
    if kind == "signal":
        return attempt(lambda: os.kill(event["pid"], signal.SIGKILL))
    if kind == "whoami":
        return {"uid": os.getuid(), "pid": os.getpid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
    if kind == "forkbomb":
        children = 0
        try:
            while children < 5000:
                if os.fork() == 0:
                    import time
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as exc:
            return {"children": children, "error": errno.errorcode.get(exc.errno, str(exc.errno))}
        return {"children": children, "error": None}
    if kind == "openfiles":
        import resource
        handles = []
        try:
            while len(handles) < 5000:
                handles.append(open("/dev/null", "rb"))
        except OSError as exc:
            error = errno.errorcode.get(exc.errno, str(exc.errno))
        else:
            error = None
        opened = len(handles)
        for handle in handles:
            handle.close()
        return {"opened": opened, "error": error, "limit": list(resource.getrlimit(resource.RLIMIT_NOFILE))}
    if kind == "memory":
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
    if kind == "filltmp":
        written = 0
        chunk = b"\0" * (1 << 20)
        try:
            with open("/tmp/fill", "wb") as handle:
                while written < event["mb"] * (1 << 20):
                    handle.write(chunk)
                    written += len(chunk)
                handle.flush()
        except OSError as exc:
            return {"written_mb": written >> 20, "error": errno.errorcode.get(exc.errno, str(exc.errno))}
        return {"written_mb": written >> 20, "error": None}
    if kind == "spin":
        while True:
            pass
'''


@pytest.fixture
def attacker(api):
    def make(name: str, **config):
        body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": ATTACKS}}, **config}
        assert api.post("/api/v1/functions/", body, format="json").status_code == 201
        return name
    return make


@pytest.fixture
def bystander(make_function):
    make_function("bystander", "echo")
    return "bystander"


def still_serving(api, bystander):
    assert invoke(api, bystander, {"still": "ok"}).json() == {"still": "ok"}


def test_cannot_read_host_secrets_source_or_database(api, attacker, bystander):
    attacker("reader")
    db = settings.DATABASES["default"]["NAME"]
    paths = ["/proc/1/environ", f"/proc/{os.getppid()}/environ", f"/proc/{os.getpid()}/environ", str(settings.BASE_DIR / "console" / "settings.py"),
             str(settings.DATA_DIR / "secret_key"), str(db), "/etc/shadow", "/root/.bash_history"]
    results = invoke(api, "reader", {"kind": "files", "paths": paths}).json()
    for path, outcome in results.items():
        if path == "/proc/1/environ" and outcome.startswith("ALLOWED"):
            assert "SECRET" not in outcome and "DATABASE" not in outcome and "REDIS" not in outcome, outcome
            continue
        assert outcome.startswith("DENIED"), (path, outcome)
    still_serving(api, bystander)


def test_cannot_change_kernel_settings(api, attacker, bystander):
    """The sandbox's uid is the host's uid 0 without capabilities; /proc/sys must still be read-only
    (a writable core_pattern would run a program of the function's choosing as root on the host)."""
    attacker("tuner")
    paths = ["/proc/sys/kernel/core_pattern", "/proc/sys/kernel/printk", "/proc/sys/vm/swappiness", "/proc/sys/net/ipv4/ip_forward"]
    results = invoke(api, "tuner", {"kind": "sysctl", "paths": paths}).json()
    for path in paths:
        assert results[path].startswith("DENIED") and ("Read-only file system" in results[path] or "Permission denied" in results[path]), (path, results[path])
    still_serving(api, bystander)


def _runtime_host_uids() -> dict[int, int]:
    """pid → host uid of every Kiln runtime process on this host (bootstraps inside sandboxes)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if cmd.startswith(("bwrap", "/usr/bin/setpriv", "/bin/sh")) or not ("kiln_bootstrap" in cmd or "bootstrap.cjs" in cmd):
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        found[int(entry.name)] = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    return found


def test_runtimes_are_an_unprivileged_uid_on_the_host(api, attacker, client):
    """Run by root, Kiln starts bubblewrap as uid 993 (setpriv), so a sandbox is not the host's root."""
    sandbox = client.get("/healthz").json()["checks"]["sandbox"]
    attacker("sleeper", timeout=20)
    assert invoke(api, "sleeper", {"kind": "files", "paths": []}).status_code == 200
    uids = _runtime_host_uids()
    assert uids, "no runtime process found"
    userns = Path("/proc/sys/user/max_user_namespaces")
    if os.geteuid() == 0 and shutil.which("setpriv") and userns.exists() and int(userns.read_text()) > 0:
        assert sandbox["host_uid"] == 993, sandbox  # this host can: it must
    if os.geteuid() == 0 and sandbox["host_uid"] != 0:
        assert set(uids.values()) == {sandbox["host_uid"]} == {993}, uids
    else:  # Kiln not root: the runtimes are Kiln's own uid; root without the means: reported as 0
        assert set(uids.values()) == {sandbox["host_uid"]}, (uids, sandbox)


def test_cannot_make_namespaces_of_its_own(api, attacker, bystander):
    attacker("nester")
    outcome = invoke(api, "nester", {"kind": "unshare"}).json()
    assert outcome["returncode"] != 0 and "unshare failed" in outcome["stderr"], outcome
    still_serving(api, bystander)


def test_sees_the_hosts_name_resolution_and_certificates_and_no_other_etc(api, attacker):
    attacker("etc-reader")
    wanted = [p for p in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf") if os.path.isfile(p)]
    results = invoke(api, "etc-reader", {"kind": "files", "paths": [*wanted, "/etc/passwd", "/etc/shadow", "/etc/hostname", "/etc/ssl/private/x"]}).json()
    for path in wanted:
        assert results[path].startswith("ALLOWED"), (path, results[path])
    assert all(results[p].startswith("DENIED") for p in ("/etc/passwd", "/etc/shadow", "/etc/hostname", "/etc/ssl/private/x")), results


def test_sees_only_its_own_processes_and_runs_unprivileged(api, attacker, bystander):
    attacker("whoami")
    info = invoke(api, "whoami", {"kind": "whoami"}).json()
    assert info["uid"] != 0
    assert max(info["pids"]) < 50  # its own PID namespace: the worker and the host are invisible
    outcome = invoke(api, "whoami", {"kind": "signal", "pid": os.getpid()}).json()
    assert outcome.startswith("DENIED") or os.getpid() < 50
    still_serving(api, bystander)


def test_cannot_write_outside_tmp(api, attacker, bystander):
    attacker("writer")
    results = invoke(api, "writer", {"kind": "write", "paths": ["/var/task/evil.py", "/etc/evil", "/opt/evil", "/evil", "/usr/evil", "/tmp/fine"]}).json()
    assert results.pop("/tmp/fine").startswith("ALLOWED")
    for path, outcome in results.items():
        assert outcome.startswith("DENIED"), (path, outcome)
    still_serving(api, bystander)


def test_fork_bomb_is_contained(api, attacker, bystander):
    attacker("bomber", timeout=20, memory_size=3008)  # enough memory that the process limit bites first
    result = invoke(api, "bomber", {"kind": "forkbomb"}).json()
    assert result["children"] < 1100 and result["error"] == "EAGAIN", result
    assert result["children"] >= 1000, result  # the limit is 1024 tasks, the runtime's own included
    still_serving(api, bystander)


def test_open_files_stop_at_1024(api, attacker, bystander):
    attacker("opener")
    result = invoke(api, "opener", {"kind": "openfiles"}).json()
    assert result["limit"] == [1024, 1024], result  # soft and hard: the function cannot raise it
    assert result["error"] == "EMFILE" and 1000 <= result["opened"] < 1024, result  # 0-2 and the runtime's own fds count
    still_serving(api, bystander)


def test_memory_past_the_limit_is_out_of_memory(api, attacker, bystander):
    attacker("hog", memory_size=128, timeout=30)
    response = invoke(api, "hog", {"kind": "memory"})
    error = response.json()
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in error["errorMessage"]
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["status"] == "failed" and record["max_memory_used_mb"] >= 100
    still_serving(api, bystander)


def test_filling_tmp_fails_with_enospc(api, attacker, bystander):
    attacker("filler", memory_size=1024, ephemeral_storage=512, timeout=30)
    result = invoke(api, "filler", {"kind": "filltmp", "mb": 700}).json()
    assert result["error"] == "ENOSPC" and 500 <= result["written_mb"] <= 512, result
    still_serving(api, bystander)


def test_spinning_forever_times_out(api, attacker, bystander):
    attacker("spinner", timeout=1)
    response = invoke(api, "spinner", {"kind": "spin"})
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["status"] == "timed_out"
    still_serving(api, bystander)


def test_a_root_started_sandbox_still_cannot_change_kernel_settings(tmp_path, monkeypatch, settings):
    """Where bubblewrap must be started by root (the sandbox is then the host's uid 0 without
    capabilities), /proc's tunables are covered read-only."""
    from invoker import sandbox

    if sandbox_mode() != "bwrap":
        pytest.skip("needs bubblewrap")
    settings.KILN_WORK_DIR = tmp_path / "work"
    monkeypatch.setattr(sandbox, "host_uid_switch", lambda: ())
    task = tmp_path / "task"
    task.mkdir()
    script = "cat /proc/sys/kernel/printk > /tmp/v && cat /tmp/v > /proc/sys/kernel/printk && echo WROTE; grep Uid /proc/self/status"
    process = sandbox.spawn(sandbox.SandboxRequest(env_id=f"rootmode-{os.getpid()}", argv_inside=["/bin/sh", "-c", script], environment={},
                                                   task_dir=task, opt_dir=task, tmp_dir=tmp_path / "tmp", interpreter="", memory_mb=128, ephemeral_mb=16))
    output = process.popen.stdout.read().decode()
    process.popen.wait()
    if process.cgroup:
        process.cgroup.remove()
    assert "WROTE" not in output and "Read-only file system" in output, output


# The same attempts from Kiln's Ruby runtime: its own bootstrap, the host's Ruby, the same sandbox.
RUBY_ATTACKS = r'''
def attempt
  "ALLOWED: " + yield.inspect[0, 200]
rescue SystemCallError, IOError => e
  "DENIED: #{e.class}: #{e.message[0, 200]}"
end

def handler(event:, context:)
  case event["kind"]
  when "files" then event["paths"].to_h { |path| [path, attempt { File.binread(path, 200) }] }
  when "write" then event["paths"].to_h { |path| [path, attempt { File.write(path, "x") }] }
  when "whoami" then { uid: Process.uid, pid: Process.pid, pids: Dir.children("/proc").grep(/\A\d+\z/).map(&:to_i).sort }
  when "signal" then attempt { Process.kill(:KILL, event["pid"]) }
  when "forkbomb"
    children = 0
    begin
      while children < 5000
        fork { sleep 30; exit! 0 }
        children += 1
      end
    rescue Errno::EAGAIN => e
      return { children: children, error: "EAGAIN" }
    end
    { children: children, error: nil }
  when "memory"
    hog = []
    loop { hog << ("x" * (16 << 20)) }
  when "spin" then loop {}
  end
end
'''


@pytest.fixture
def ruby_attacker(api):
    from functions.runtimes import runtime_info

    if runtime_info("ruby3.3") is None:
        pytest.skip("needs the host's ruby; .ci/run installs it")

    def make(name: str, **config):
        body = {"name": name, "runtime": "ruby3.3", "handler": "index.handler", "code": {"files": {"index.rb": RUBY_ATTACKS}}, **config}
        assert api.post("/api/v1/functions/", body, format="json").status_code == 201
        return name
    return make


def test_ruby_cannot_read_host_secrets_or_write_outside_tmp(api, ruby_attacker, bystander):
    ruby_attacker("rb-reader")
    paths = [f"/proc/{os.getppid()}/environ", f"/proc/{os.getpid()}/environ", str(settings.BASE_DIR / "console" / "settings.py"),
             str(settings.DATA_DIR / "secret_key"), "/etc/shadow", "/root/.bash_history"]
    for path, outcome in invoke(api, "rb-reader", {"kind": "files", "paths": paths}).json().items():
        assert outcome.startswith("DENIED"), (path, outcome)
    results = invoke(api, "rb-reader", {"kind": "write", "paths": ["/var/task/evil.rb", "/var/runtime/ruby/evil.rb", "/etc/evil", "/opt/evil", "/usr/evil", "/tmp/fine"]}).json()
    assert results.pop("/tmp/fine").startswith("ALLOWED")
    for path, outcome in results.items():
        assert outcome.startswith("DENIED"), (path, outcome)
    still_serving(api, bystander)


def test_ruby_sees_only_its_own_processes_and_runs_unprivileged(api, ruby_attacker, bystander):
    ruby_attacker("rb-whoami")
    info = invoke(api, "rb-whoami", {"kind": "whoami"}).json()
    assert info["uid"] != 0 and max(info["pids"]) < 50, info
    outcome = invoke(api, "rb-whoami", {"kind": "signal", "pid": os.getpid()}).json()
    assert outcome.startswith("DENIED") or os.getpid() < 50
    still_serving(api, bystander)


def _ruby_groups() -> dict[str, int]:
    """Kiln Ruby processes on the host by the cgroup (pids controller, or v2's) they run in."""
    groups: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and b"kiln_bootstrap.rb" in _cmdline(proc):
            try:
                lines = (proc / "cgroup").read_text().splitlines()
            except OSError:
                continue
            group = next((line.split(":", 2)[2] for line in lines if ":pids:" in line), lines[-1].split(":", 2)[2] if lines else "")
            groups[group] = groups.get(group, 0) + 1
    return groups


def test_ruby_fork_bomb_is_contained(api, ruby_attacker, bystander):
    """Ruby's ``fork`` retries EAGAIN once a second for ever: held at the process limit, the bomb waits out its
    timeout, and stopping the environment ends every process it made (the cgroup is killed whole)."""
    import threading

    ruby_attacker("rb-bomber", timeout=8, memory_size=3008)
    answers: list = []
    call = threading.Thread(target=lambda: answers.append(invoke(api, "rb-bomber", {"kind": "forkbomb"})))
    call.start()
    bomb_group, peak = "", 0
    while call.is_alive():  # the bomb's environment is the group that fills up with Ruby processes
        for group, count in _ruby_groups().items():
            if count > peak:
                bomb_group, peak = group, count
        time.sleep(0.2)
    call.join()
    response = answers[0]
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["status"] == "timed_out"
    assert peak > 100, peak  # it did fork, up to the limit
    still_serving(api, bystander)
    deadline = time.monotonic() + 15
    while _ruby_groups().get(bomb_group, 0) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ruby_groups().get(bomb_group, 0) == 0, f"{_ruby_groups().get(bomb_group)} of the bomb's processes outlived its environment"


def _cmdline(process: Path) -> bytes:
    try:
        return (process / "cmdline").read_bytes()
    except OSError:
        return b""


def test_ruby_memory_past_the_limit_is_out_of_memory(api, ruby_attacker, bystander):
    ruby_attacker("rb-hog", memory_size=128, timeout=30)
    response = invoke(api, "rb-hog", {"kind": "memory"})
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == "Runtime.OutOfMemory", response.json()
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["max_memory_used_mb"] >= 100
    still_serving(api, bystander)


def test_ruby_spinning_forever_times_out(api, ruby_attacker, bystander):
    ruby_attacker("rb-spinner", timeout=1)
    response = invoke(api, "rb-spinner", {"kind": "spin"})
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["status"] == "timed_out"
    still_serving(api, bystander)


# And from Kiln's Java runtime: a JVM in the same sandbox.
JAVA_ATTACKS = r'''package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.nio.file.*;
import java.util.*;

public class Handler implements RequestHandler<Map<String, Object>, Object> {
    static String attempt(java.util.concurrent.Callable<Object> action) {
        try {
            Object value = action.call();
            return "ALLOWED: " + String.valueOf(value).substring(0, Math.min(200, String.valueOf(value).length()));
        } catch (Exception e) {
            return "DENIED: " + e;
        }
    }

    @SuppressWarnings("unchecked")
    public Object handleRequest(Map<String, Object> event, Context context) {
        Map<String, Object> out = new TreeMap<>();
        List<String> paths = (List<String>) event.getOrDefault("paths", List.of());
        switch ((String) event.get("kind")) {
            case "files":
                for (String p : paths) out.put(p, attempt(() -> Files.readAllBytes(Path.of(p)).length));
                return out;
            case "write":
                for (String p : paths) out.put(p, attempt(() -> Files.writeString(Path.of(p), "x")));
                return out;
            case "whoami":
                try {
                    out.put("status", Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:")).findFirst().orElse(""));
                    out.put("pids", Files.list(Path.of("/proc")).filter(p -> p.getFileName().toString().matches("\\d+")).count());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                return out;
            case "memory":
                List<byte[]> hog = new ArrayList<>();
                while (true) hog.add(new byte[16 << 20]);
            case "spin":
                while (true) { }
            default:
                return null;
        }
    }
}
'''


@pytest.fixture
def java_attacker(api):
    from functions.runtimes import runtime_info

    if runtime_info("java17") is None:
        pytest.skip("needs a JDK 17; .ci/run installs default-jdk-headless")

    def make(name: str, **config):
        body = {"name": name, "runtime": "java17", "handler": "example.Handler", "code": {"files": {"example/Handler.java": JAVA_ATTACKS}}, "timeout": 20, **config}
        assert api.post("/api/v1/functions/", body, format="json").status_code == 201
        return name
    return make


def test_java_cannot_read_host_secrets_write_outside_tmp_or_see_other_processes(api, java_attacker, bystander):
    java_attacker("java-reader")
    paths = [f"/proc/{os.getppid()}/environ", f"/proc/{os.getpid()}/environ", str(settings.BASE_DIR / "console" / "settings.py"),
             str(settings.DATA_DIR / "secret_key"), "/etc/shadow", "/root/.bash_history"]
    for path, outcome in invoke(api, "java-reader", {"kind": "files", "paths": paths}).json().items():
        assert outcome.startswith("DENIED"), (path, outcome)
    results = invoke(api, "java-reader", {"kind": "write", "paths": ["/var/task/Evil.class", "/var/lang/java/Evil.class", "/etc/evil", "/opt/evil", "/usr/evil", "/tmp/fine"]}).json()
    assert results.pop("/tmp/fine").startswith("ALLOWED")
    for path, outcome in results.items():
        assert outcome.startswith("DENIED"), (path, outcome)
    who = invoke(api, "java-reader", {"kind": "whoami"}).json()
    assert who["status"].split()[1] != "0" and who["pids"] < 50, who
    still_serving(api, bystander)


def test_java_heap_past_the_memory_is_an_out_of_memory_error(api, java_attacker, bystander):
    java_attacker("java-hog", memory_size=256)
    response = invoke(api, "java-hog", {"kind": "memory"})
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] in ("java.lang.OutOfMemoryError", "Runtime.OutOfMemory"), response.json()
    still_serving(api, bystander)


def test_java_spinning_forever_times_out(api, java_attacker, bystander):
    java_attacker("java-spinner", timeout=2)
    response = invoke(api, "java-spinner", {"kind": "spin"})
    assert api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["status"] == "timed_out"
    still_serving(api, bystander)
