"""Go on provided.al2023, as on Lambda: the function's ``bootstrap`` is a Go binary speaking the Runtime API.

The binary is built here by the host's Go toolchain (Debian's ``golang-go``) from a handler that uses the
standard library only: no modules are downloaded (``GOPROXY=off``, ``GOFLAGS`` empty, a private
``GOCACHE``/``GOPATH``). It is zipped as ``bootstrap`` and runs through the whole stack: API, worker,
sandbox. Binaries built elsewhere against aws-lambda-go run the same way (README).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import stat
import subprocess
import time
import zipfile

import pytest

from invoker.sandbox import sandbox_mode
from tests.conftest import invoke

GO = shutil.which("go")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(GO is None, reason="needs Go; .ci/run installs golang-go"),
]

HANDLER_GO = r'''// A Lambda function for provided.al2023 written against the Runtime API with Go's standard library only.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

type event struct {
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Paths []string `json:"paths"`
}

// probe says, per path, whether this process could read it, and who it runs as.
func probe(paths []string) map[string]any {
	files := map[string]string{}
	for _, path := range paths {
		if _, err := os.ReadFile(path); err != nil {
			files[path] = "DENIED: " + err.Error()
		} else {
			files[path] = "ALLOWED"
		}
	}
	entries, _ := os.ReadDir("/proc")
	pids := 0
	for _, entry := range entries {
		if _, err := strconv.Atoi(entry.Name()); err == nil {
			pids++
		}
	}
	return map[string]any{"files": files, "uid": os.Getuid(), "pid": os.Getpid(), "pids": pids}
}

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	fmt.Println("go init", os.Getenv("_HANDLER"))
	for {
		resp, err := http.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		deadline, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil {
			post(api+"/invocation/"+id+"/error", map[string]any{"errorMessage": err.Error(), "errorType": "json.SyntaxError"}, "Unhandled")
			continue
		}
		fmt.Println("go handling", id)
		switch ev.Kind {
		case "fail":
			post(api+"/invocation/"+id+"/error", map[string]any{"errorMessage": "go says no to " + ev.Name, "errorType": "errorString", "stackTrace": []string{}}, "Unhandled")
		case "sleep":
			time.Sleep(30 * time.Second)
		case "probe":
			post(api+"/invocation/"+id+"/response", probe(ev.Paths), "")
		default:
			remaining := deadline - time.Now().UnixMilli()
			post(api+"/invocation/"+id+"/response", map[string]any{"hello": ev.Name, "from": "go", "function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "remaining_ok": remaining > 0}, "")
		}
	}
}

func post(url string, value any, errorType string) {
	data, _ := json.Marshal(value)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
'''


@pytest.fixture(scope="module")
def go_bootstrap(tmp_path_factory) -> bytes:
    """The handler above, built as a static Linux binary (~25 s with an empty build cache on 2 cores)."""
    root = tmp_path_factory.mktemp("go")
    (root / "main.go").write_text(HANDLER_GO)
    (root / "go.mod").write_text("module kiln.test/hello\n\ngo 1.19\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "GOCACHE": str(root / "cache"), "GOPATH": str(root / "gopath"),
           "GOFLAGS": "", "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    built = subprocess.run([GO, "build", "-trimpath", "-ldflags=-s", "-o", "bootstrap", "."], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return (root / "bootstrap").read_bytes()


def _zip(files: dict[str, bytes]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | (0o755 if name == "bootstrap" else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return base64.b64encode(buffer.getvalue()).decode()


def record(api, response) -> dict:
    return api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()


def test_a_go_binary_answers_fails_and_times_out_through_the_real_stack(api, go_bootstrap):
    body = {"name": "go-hello", "runtime": "provided.al2023", "handler": "bootstrap", "timeout": 2, "code": {"zip_base64": _zip({"bootstrap": go_bootstrap})}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201, "created"

    ok = invoke(api, "go-hello", {"name": "kiln"})
    assert ok.status_code == 200 and "X-Kiln-Function-Error" not in ok, ok.content
    assert ok.json() == {"hello": "kiln", "from": "go", "function": "go-hello", "remaining_ok": True}
    first = record(api, ok)
    assert first["status"] == "succeeded" and first["cold_start"] is True and first["init_duration_ms"] > 0
    assert "go init bootstrap" in first["logs"] and f"go handling {first['request_id']}" in first["logs"]

    warm = invoke(api, "go-hello", {"name": "again"})
    assert warm.json()["hello"] == "again" and record(api, warm)["cold_start"] is False  # the binary's loop continues

    failed = invoke(api, "go-hello", {"kind": "fail", "name": "this"})
    assert failed.status_code == 200 and failed["X-Kiln-Function-Error"] == "Unhandled"
    assert failed.json() == {"errorMessage": "go says no to this", "errorType": "errorString", "stackTrace": []}
    assert record(api, failed)["status"] == "failed"

    started = time.monotonic()
    slow = invoke(api, "go-hello", {"kind": "sleep"})
    assert time.monotonic() - started < 15 and slow["X-Kiln-Function-Error"] == "Unhandled"
    timed_out = record(api, slow)
    assert timed_out["status"] == "timed_out" and timed_out["error"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in timed_out["logs"]

    after = invoke(api, "go-hello", {"name": "after"})  # a new environment: the timed-out one was stopped
    assert after.json()["hello"] == "after" and record(api, after)["cold_start"] is True


@pytest.mark.skipif(sandbox_mode() != "bwrap", reason="isolation needs bubblewrap; .ci/run installs it")
def test_a_go_binary_is_sandboxed_like_any_runtime(api, go_bootstrap, bystander_py):
    """The same sandbox as every runtime: Kiln's files and the host's secrets unreadable, its own PID namespace, not root."""
    from django.conf import settings

    body = {"name": "go-probe", "runtime": "provided.al2023", "handler": "bootstrap", "code": {"zip_base64": _zip({"bootstrap": go_bootstrap})}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    paths = [str(settings.BASE_DIR / "console" / "settings.py"), str(settings.DATA_DIR / "secret_key"), f"/proc/{os.getpid()}/environ", "/etc/shadow", "/etc/hosts"]
    result = invoke(api, "go-probe", {"kind": "probe", "paths": paths}).json()
    assert result["files"].pop("/etc/hosts") == "ALLOWED"
    assert all(outcome.startswith("DENIED") for outcome in result["files"].values()), result
    assert result["uid"] != 0 and result["pids"] < 50, result
    assert invoke(api, bystander_py, {"still": "ok"}).json() == {"still": "ok"}


@pytest.fixture
def bystander_py(make_function) -> str:
    make_function("go-bystander", "echo")
    return "go-bystander"
