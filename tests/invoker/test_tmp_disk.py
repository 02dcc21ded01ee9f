"""``/tmp`` as Lambda gives it: on disk, sized to the ephemeral storage, not counted as memory, private,
``ENOSPC`` at its size, gone when the environment stops (invoker/tmpdisk.py), in real sandboxes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from functions.runtimes import runtime_info
from invoker import tmpdisk
from invoker.sandbox import sandbox_mode
from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker"),
              pytest.mark.skipif(sandbox_mode() != "bwrap" or not tmpdisk.available()[0], reason="needs bubblewrap and a root worker")]

TMP = r'''
import errno, hashlib, os

def handler(event, context):
    kind = event["kind"]
    if kind == "statvfs":
        st = os.statvfs("/tmp")
        return {"size_mb": st.f_blocks * st.f_frsize / 2**20, "free_mb": st.f_bavail * st.f_frsize / 2**20, "entries": os.listdir("/tmp")}
    if kind == "write":
        chunk = os.urandom(1 << 20)
        digest = hashlib.sha256()
        written = 0
        try:
            with open("/tmp/data", "wb") as handle:
                for _ in range(event["mb"]):
                    handle.write(chunk)
                    digest.update(chunk)
                    written += 1
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            os.unlink("/tmp/data")
            return {"written_mb": written, "error": errno.errorcode.get(exc.errno, str(exc.errno))}
        again = hashlib.sha256()
        with open("/tmp/data", "rb") as handle:
            while block := handle.read(1 << 20):
                again.update(block)
        os.unlink("/tmp/data")
        return {"written_mb": written, "error": None, "read_back": again.hexdigest() == digest.hexdigest()}
    if kind == "mark":
        open("/tmp/" + event["name"], "w").write("here")
        return "marked"
    if kind == "exit":
        os._exit(1)
'''


def _make(api, name: str, **config) -> str:
    body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": TMP}}, "timeout": 120, **config}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    return name


def _disks() -> Path:
    return Path(settings.KILN_WORK_DIR) / "tmpdisk"


def test_a_128_mb_function_writes_500_mb_and_reads_it_back(api):
    fn = _make(api, "video", memory_size=128)
    space = invoke(api, fn, {"kind": "statvfs"}).json()
    assert 512 <= space["free_mb"] < 513 and space["entries"] == [], space  # Lambda's /tmp: empty, 512 MB
    response = invoke(api, fn, {"kind": "write", "mb": 500})
    assert response.status_code == 200 and response.json() == {"written_mb": 500, "error": None, "read_back": True}, response.content
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert record["status"] == "succeeded" and record["max_memory_used_mb"] <= 128, record


def test_513_mb_fails_with_enospc(api):
    fn = _make(api, "overfill", memory_size=128)
    result = invoke(api, fn, {"kind": "write", "mb": 513}).json()
    assert result["error"] == "ENOSPC" and 500 <= result["written_mb"] < 513, result
    assert invoke(api, fn, {"kind": "statvfs"}).json()["free_mb"] >= 512  # the function's own file gone, its space back
    images = [p.stat() for p in _disks().glob("*/*.img") if 512 * 2**20 < p.stat().st_size < 600 * 2**20]
    assert images and min(st.st_blocks * 512 for st in images) < 64 * 2**20  # and the host's disk back too (discard)


def test_10240_mb_is_honoured_without_allocating_it(api):
    fn = _make(api, "big-tmp", memory_size=256, ephemeral_storage=10240)
    space = invoke(api, fn, {"kind": "statvfs"}).json()
    assert 10240 <= space["free_mb"] < 10241, space
    big = [p.stat() for p in _disks().glob("*/*.img") if p.stat().st_size >= 10240 * 2**20]
    assert big and all(st.st_blocks * 512 < 100 * 2**20 for st in big), big  # a 10 GB file taking a few MB of disk
    result = invoke(api, fn, {"kind": "write", "mb": 600}).json()
    assert result == {"written_mb": 600, "error": None, "read_back": True}, result


def test_nothing_is_left_on_disk_after_the_environment_stops(api):
    fn = _make(api, "leaver")
    name = f"marker-{os.getpid()}-{time.time_ns()}"
    assert invoke(api, fn, {"kind": "mark", "name": name}).json() == "marked"
    mounts = [p.parent for p in _disks().glob(f"*/*/{name}")]
    assert len(mounts) == 1, mounts  # private: on one environment's disk, of the host's only there
    mountpoint = mounts[0]
    image = mountpoint.parent / f"{mountpoint.name}.img"
    assert image.is_file() and os.path.ismount(mountpoint)
    invoke(api, fn, {"kind": "exit"})  # the runtime dies: the environment is stopped
    deadline = time.time() + 10
    while time.time() < deadline and (image.exists() or mountpoint.exists()):
        time.sleep(0.1)
    assert not image.exists() and not mountpoint.exists()
    assert str(mountpoint) not in Path("/proc/self/mounts").read_text()


INIT_WRITER = r'''
import os
st = os.statvfs("/tmp")
AT_INIT = st.f_blocks * st.f_frsize / 2**20
open("/tmp/written-at-init", "w").write("x")

def handler(event, context):
    return {"size_at_init_mb": AT_INIT, "kept": os.path.exists("/tmp/written-at-init")}
'''


@pytest.mark.parametrize("runtime", ["python3.11"])
def test_a_new_size_is_mounted_before_the_function_code_runs(api, runtime):
    """A size the worker has not made ahead is made while the sandbox starts; the function's init
    code must still find it, not the empty directory under it."""
    size = 700 + os.getpid() % 200
    body = {"name": "new-size", "runtime": runtime, "handler": "index.handler", "code": {"files": {"index.py": INIT_WRITER}}, "ephemeral_storage": size}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    result = invoke(api, "new-size", {}).json()
    assert size <= result["size_at_init_mb"] < size + 60 and result["kept"] is True, result


JAVA_INIT_WRITER = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.File;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

public class Handler {
    static final long AT_INIT = new File("/tmp").getTotalSpace() / (1024 * 1024);
    static final String MARK = System.getenv("MARK");
    static {
        try {
            Files.write(new File("/tmp/written-at-init").toPath(), new byte[] {1});
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }

    public Object handleRequest(Map<String, Object> event, Context context) {
        Map<String, Object> out = new HashMap<>();
        out.put("size_at_init_mb", AT_INIT);
        out.put("kept", new File("/tmp/written-at-init").exists());
        out.put("mark", MARK);
        return out;
    }
}
"""


@pytest.mark.skipif(runtime_info("java17") is None, reason="needs a JDK 17")
def test_a_jvm_held_for_a_new_size_starts_with_its_environment_and_finds_its_tmp(api):
    """Held for its /tmp, a JVM started for a known function has that function's environment from its start
    (it cannot take it later: invoker/launchers.py) and its code runs once the new /tmp is mounted."""
    size = 900 + os.getpid() % 200
    body = {"name": "new-size-java", "runtime": "java17", "handler": "example.Handler::handleRequest", "timeout": 30,
            "code": {"files": {"example/Handler.java": JAVA_INIT_WRITER}}, "ephemeral_storage": size, "environment": {"MARK": "from-the-start"}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    response = invoke(api, "new-size-java", {})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    result = response.json()
    assert size <= result["size_at_init_mb"] < size + 60 and result["kept"] is True and result["mark"] == "from-the-start", result
