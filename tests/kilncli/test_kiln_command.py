"""The installed ``kiln`` executable against a live Kiln and a real worker: deploy (create, update, --watch),
invoke (payloads, qualifiers, async, tail, exit codes), logs (through the CloudWatch Logs API), and the errors a user sees."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

import pytest

from iam.models import Role
from kilncli.archive import build_zip

KILN = str(Path(sys.executable).with_name("kiln"))
ROLE_ARN = "arn:aws:iam::000000000000:role/kiln-cli-role"
CREATE = ["--runtime", "python3.11", "--handler", "app.handler", "--role", ROLE_ARN]

APP = """\
import uuid

VERSION = {version!r}
BOOT = uuid.uuid4().hex  # one per execution environment
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    print('marker', VERSION, event.get('tag', ''))
    if event.get('fail'):
        raise ValueError('asked to fail')
    return {{'version': VERSION, 'event': event, 'boot': BOOT, 'count': COUNT}}
"""


def _env(key: tuple[str, str] | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "KILN_ENDPOINT"}
    env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PYTHONUNBUFFERED": "1"})
    if key:
        env.update({"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1]})
    env.update(extra)
    return env


def kiln(endpoint: str, key: tuple[str, str] | None, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KILN, "--endpoint-url", endpoint, *args], env=_env(key, **env), input=stdin, capture_output=True, text=True, timeout=120)


def write_app(root: Path, version: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP.format(version=version))


@pytest.fixture
def role(transactional_db: None) -> Role:
    return Role.objects.create(name="kiln-cli-role")


def _line_fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def test_deploy_creates_then_updates_and_invoke(endpoint: str, root_key: tuple[str, str], root: Any, role: Role, worker: Any, tmp_path: Path) -> None:
    src = tmp_path / "fn"
    write_app(src, "one")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"stale")

    no_runtime = kiln(endpoint, root_key, "deploy", str(src), "--function", "cli-fn", "--handler", "app.handler", "--role", ROLE_ARN)
    assert no_runtime.returncode == 2 and no_runtime.stdout == ""
    assert "function 'cli-fn' does not exist" in no_runtime.stderr and "missing --runtime" in no_runtime.stderr
    assert "Traceback" not in no_runtime.stderr

    created = kiln(endpoint, root_key, "deploy", str(src), "--function", "cli-fn", *CREATE)
    assert created.returncode == 0, created.stderr
    assert created.stdout.count("\n") == 1 and created.stdout.startswith("created cli-fn: CodeSha256=")
    fields = _line_fields(created.stdout)
    lam = root("lambda")
    config = lam.get_function_configuration(FunctionName="cli-fn")
    assert fields["CodeSha256"] == config["CodeSha256"] == build_zip(src).sha256 and fields["RevisionId"] == config["RevisionId"]
    assert config["Runtime"] == "python3.11" and config["Handler"] == "app.handler" and config["Role"] == ROLE_ARN
    with urllib.request.urlopen(lam.get_function(FunctionName="cli-fn")["Code"]["Location"]) as response:
        assert response.read() == build_zip(src).data  # what Kiln keeps is the zip kiln built (no __pycache__)

    ran = kiln(endpoint, root_key, "invoke", "cli-fn", "--payload", '{"tag": "first"}', "--tail")
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["version"] == "one" and result["event"] == {"tag": "first"}
    assert "marker one first" in ran.stderr and "REPORT RequestId" in ran.stderr

    write_app(src, "two")
    updated = kiln(endpoint, root_key, "deploy", str(src), "--function", "cli-fn")  # no create flags needed to update
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith("updated cli-fn: CodeSha256=")
    new = _line_fields(updated.stdout)
    assert new["CodeSha256"] != fields["CodeSha256"] and new["RevisionId"] != fields["RevisionId"]
    assert new["RevisionId"] == lam.get_function_configuration(FunctionName="cli-fn")["RevisionId"]
    assert json.loads(kiln(endpoint, root_key, "invoke", "cli-fn").stdout)["version"] == "two"

    os.utime(src / "app.py", (time.time() + 5, time.time() + 5))  # a touch: the same zip, the same CodeSha256
    again = kiln(endpoint, root_key, "deploy", str(src), "--function", "cli-fn")
    assert again.returncode == 0 and _line_fields(again.stdout)["CodeSha256"] == new["CodeSha256"]

    # Configuration flags on an existing function update it; the endpoint can come from KILN_ENDPOINT.
    (src / "other.py").write_text("def handler(event, context):\n    return 'other'\n")
    changed = subprocess.run([KILN, "deploy", str(src), "--function", "cli-fn", "--handler", "other.handler"], env=_env(root_key, KILN_ENDPOINT=endpoint),
                             capture_output=True, text=True, timeout=120)
    assert changed.returncode == 0, changed.stderr
    assert lam.get_function_configuration(FunctionName="cli-fn")["Handler"] == "other.handler"
    assert kiln(endpoint, root_key, "invoke", "cli-fn").stdout == '"other"\n'


def test_invoke_exit_codes_payloads_qualifiers(endpoint: str, root_key: tuple[str, str], root: Any, role: Role, worker: Any, tmp_path: Path) -> None:
    src = tmp_path / "fn"
    write_app(src, "v1")
    assert kiln(endpoint, root_key, "deploy", str(src), "--function", "inv-fn", *CREATE).returncode == 0
    lam = root("lambda")
    assert lam.publish_version(FunctionName="inv-fn")["Version"] == "1"
    write_app(src, "v2")
    assert kiln(endpoint, root_key, "deploy", str(src), "--function", "inv-fn").returncode == 0

    failed = kiln(endpoint, root_key, "invoke", "inv-fn", "--payload", '{"fail": true}')
    assert failed.returncode == 1
    error = json.loads(failed.stdout)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail"

    assert json.loads(kiln(endpoint, root_key, "invoke", "inv-fn", "--qualifier", "1").stdout)["version"] == "v1"
    assert json.loads(kiln(endpoint, root_key, "invoke", "inv-fn:1").stdout)["version"] == "v1"
    event_file = tmp_path / "event.json"
    event_file.write_text('{"tag": "from-file"}')
    assert json.loads(kiln(endpoint, root_key, "invoke", "inv-fn", "--payload-file", str(event_file)).stdout)["event"] == {"tag": "from-file"}
    assert json.loads(kiln(endpoint, root_key, "invoke", "inv-fn", "--payload-file", "-", stdin='{"tag": "stdin"}').stdout)["event"] == {"tag": "stdin"}

    queued = kiln(endpoint, root_key, "invoke", "inv-fn", "--async", "--payload", '{"tag": "async"}')
    assert queued.returncode == 0 and queued.stdout == "" and "queued inv-fn (StatusCode 202" in queued.stderr

    missing = kiln(endpoint, root_key, "invoke", "nope")
    assert missing.returncode == 2 and "function 'nope' not found" in missing.stderr and "Traceback" not in missing.stderr
    no_version = kiln(endpoint, root_key, "invoke", "inv-fn", "--qualifier", "9")
    assert no_version.returncode == 2 and "function 'inv-fn:9' not found" in no_version.stderr
    bad_json = kiln(endpoint, root_key, "invoke", "inv-fn", "--payload", "{not json")
    assert bad_json.returncode == 2 and "--payload is not valid JSON" in bad_json.stderr
    no_file = kiln(endpoint, root_key, "invoke", "inv-fn", "--payload-file", str(tmp_path / "absent.json"))
    assert no_file.returncode == 2 and "absent.json" in no_file.stderr
    both = kiln(endpoint, root_key, "invoke", "inv-fn", "--payload", "{}", "--payload-file", str(event_file))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_bad_input_and_setup_errors(endpoint: str, root_key: tuple[str, str], role: Role, tmp_path: Path) -> None:
    missing_dir = kiln(endpoint, root_key, "deploy", str(tmp_path / "nowhere"), "--function", "f", *CREATE)
    assert missing_dir.returncode == 2 and f"kiln: {tmp_path / 'nowhere'}: no such directory" in missing_dir.stderr
    a_file = tmp_path / "app.py"
    a_file.write_text("x = 1\n")
    not_dir = kiln(endpoint, root_key, "deploy", str(a_file), "--function", "f", *CREATE)
    assert not_dir.returncode == 2 and "not a directory" in not_dir.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = kiln(endpoint, root_key, "deploy", str(empty), "--function", "f", *CREATE)
    assert nothing.returncode == 2 and "no files to deploy" in nothing.stderr
    no_function = kiln(endpoint, root_key, "deploy", str(tmp_path))
    assert no_function.returncode == 2 and "--function" in no_function.stderr

    src = tmp_path / "fn"
    write_app(src, "one")
    no_key = kiln(endpoint, None, "deploy", str(src), "--function", "f", *CREATE)
    assert no_key.returncode == 2 and "no AWS credentials" in no_key.stderr
    wrong_key = kiln(endpoint, ("AKIAUNKNOWNUNKNOWN00", "x" * 40), "invoke", "f")
    assert wrong_key.returncode == 2 and wrong_key.stderr.startswith("kiln: ") and "Traceback" not in wrong_key.stderr
    unreachable = kiln("http://127.0.0.1:9", root_key, "invoke", "f")
    assert unreachable.returncode == 2 and "cannot reach Kiln" in unreachable.stderr and "Traceback" not in unreachable.stderr


# The long-running commands are started with SIGINT at its default, as a terminal's foreground program is: a test run
# started in the background of a non-interactive shell ignores SIGINT (and SIGQUIT), every child inherits that, and
# Python then installs no KeyboardInterrupt handler (seen in a CI run: SigIgn 0x81001006, so Ctrl-C never reached kiln).
CTRL_C_DEFAULT = (sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])")


def _interrupted(process: subprocess.Popen[str], stderr_path: Path) -> int:
    """Ctrl-C: SIGINT, then the exit code. A process that still runs after a minute is killed and reported with what it
    ignored (``SigIgn``: SIGINT is the mask's bit 2) and where its threads were blocked (``wchan``), with what it wrote."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{process.pid}/status").read_text()
        ignored = next((line for line in status.splitlines() if line.startswith("SigIgn")), "")
        blocked = {task.name: (task / "wchan").read_text() for task in Path(f"/proc/{process.pid}/task").iterdir()}
        process.kill()
        process.wait()
        raise AssertionError(f"kiln did not stop on SIGINT within 60 s ({ignored}; threads blocked in {blocked}); "
                             f"stderr: {stderr_path.read_text()[-2000:]}") from None


class _Lines:
    """A process's output lines as they come, each with the time it arrived."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put((time.monotonic(), line.rstrip("\n")))

    def next(self, timeout: float) -> tuple[float, str]:
        return self.queue.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def test_watch_redeploys_on_save_and_the_next_invoke_runs_it_fresh(endpoint: str, root_key: tuple[str, str], root: Any, role: Role, worker: Any, tmp_path: Path) -> None:
    src = tmp_path / "fn"
    write_app(src, "one")
    stderr_path = tmp_path / "watch.stderr"
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen([*CTRL_C_DEFAULT, KILN, "--endpoint-url", endpoint, "deploy", str(src), "--function", "watch-fn", *CREATE, "--watch"],
                                   env=_env(root_key), stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        lines = _Lines(process.stdout)  # type: ignore[arg-type]
        _, first = lines.next(timeout=60)
        assert first.startswith("created watch-fn: CodeSha256="), first
        lam = root("lambda")
        warm = [json.loads(lam.invoke(FunctionName="watch-fn", Payload=b"{}")["Payload"].read()) for _ in range(2)]
        assert [r["version"] for r in warm] == ["one", "one"]
        assert warm[0]["boot"] == warm[1]["boot"] and [r["count"] for r in warm] == [1, 2]  # one warm environment, reused

        saved = time.monotonic()
        write_app(src, "two")
        deployed_at, line = lines.next(timeout=10)
        assert line.startswith("updated watch-fn: CodeSha256=") and _line_fields(line)["CodeSha256"] == build_zip(src).sha256
        asked = time.monotonic()
        assert asked - deployed_at < 1.0
        answer = json.loads(lam.invoke(FunctionName="watch-fn", Payload=b"{}")["Payload"].read())
        answered = time.monotonic()
        assert answer["version"] == "two"
        assert answer["boot"] != warm[0]["boot"] and answer["count"] == 1  # the new revision runs in a fresh environment
        print(f"save -> deploy line {deployed_at - saved:.2f} s; save -> new code's answer {answered - saved:.2f} s")
        assert deployed_at - saved < 3.0

        os.utime(src / "app.py", (time.time() + 5, time.time() + 5))  # a touch: nothing new to deploy
        (src / "__pycache__").mkdir()
        (src / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"compiled")  # litter is not watched
        assert lines.none_within(1.0)

        (src / "app.py").write_text("def handler(:\n")  # a save with a syntax error deploys (the function fails, not the deploy)
        _, broken = lines.next(timeout=10)
        assert broken.startswith("updated watch-fn:")
        assert lam.invoke(FunctionName="watch-fn", Payload=b"{}")["FunctionError"] == "Unhandled"
        write_app(src, "three")
        _, fixed = lines.next(timeout=10)
        assert fixed.startswith("updated watch-fn:")
        assert json.loads(lam.invoke(FunctionName="watch-fn", Payload=b"{}")["Payload"].read())["version"] == "three"
    finally:
        code = _interrupted(process, stderr_path)
    err = stderr_path.read_text()
    assert code == 0 and "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "watching" in err and "stopped watching" in err


def test_logs_since_and_follow(endpoint: str, root_key: tuple[str, str], root: Any, role: Role, worker: Any, tmp_path: Path) -> None:
    src = tmp_path / "fn"
    write_app(src, "one")
    assert kiln(endpoint, root_key, "deploy", str(src), "--function", "logs-fn", *CREATE).returncode == 0
    assert kiln(endpoint, root_key, "invoke", "logs-fn", "--payload", '{"tag": "past"}').returncode == 0

    printed = kiln(endpoint, root_key, "logs", "logs-fn", "--since", "5m")
    assert printed.returncode == 0, printed.stderr
    mine = [line for line in printed.stdout.splitlines() if "marker one past" in line]
    assert len(mine) == 1 and "[$LATEST]" in mine[0]
    assert kiln(endpoint, root_key, "logs", "logs-fn", "--since", "2099-01-01T00:00:00Z").stdout == ""
    missing = kiln(endpoint, root_key, "logs", "no-such-fn")
    assert missing.returncode == 2 and "no logs for function 'no-such-fn'" in missing.stderr

    stderr_path = tmp_path / "follow.stderr"
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen([*CTRL_C_DEFAULT, KILN, "--endpoint-url", endpoint, "logs", "logs-fn", "--follow", "--since", "5m"],
                                   env=_env(root_key), stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        lines = _Lines(process.stdout)  # type: ignore[arg-type]
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while not any("marker one past" in s for s in seen):
            seen.append(lines.next(timeout=max(0.1, deadline - time.monotonic()))[1])
        lam = root("lambda")
        lam.invoke(FunctionName="logs-fn", Payload=json.dumps({"tag": "live"}).encode())
        while not any("marker one live" in s for s in seen):
            seen.append(lines.next(timeout=max(0.1, deadline - time.monotonic()))[1])
        assert sum("marker one past" in s for s in seen) == 1  # each event once
    finally:
        code = _interrupted(process, stderr_path)
    assert code == 0 and "Traceback" not in stderr_path.read_text()


def test_tail_log_is_the_invocations_last_4_kb(endpoint: str, root_key: tuple[str, str], role: Role, worker: Any, tmp_path: Path) -> None:
    src = tmp_path / "fn"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    for i in range(1000):\n        print('line', i)\n    return None\n")
    assert kiln(endpoint, root_key, "deploy", str(src), "--function", "tail-fn", *CREATE).returncode == 0
    ran = kiln(endpoint, root_key, "invoke", "tail-fn", "--tail")
    assert ran.returncode == 0 and ran.stdout == "null\n"
    assert "line 999\n" in ran.stderr and "\nline 0\n" not in ran.stderr and len(ran.stderr.encode()) <= 4096
