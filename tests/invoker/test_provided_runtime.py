"""The provided.al2023 runtime: the function's own ``bootstrap`` speaks the Runtime API.

A shell bootstrap (curl), and AWS's own Python runtime interface client (awslambdaric) as the
bootstrap, prove Kiln's Runtime API is faithful enough for clients Kiln did not write.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]

SHELL_BOOTSTRAP = r"""#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "shell got $EVENT"
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\"shell\": true, \"event\": $EVENT}" > /dev/null
done
"""


def _zip(files: dict[str, bytes], executable: set[str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | (0o755 if name in executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return base64.b64encode(buffer.getvalue()).decode()


def test_shell_bootstrap(api):
    body = {"name": "shell", "runtime": "provided.al2023", "handler": "function.handler",
            "code": {"zip_base64": _zip({"bootstrap": SHELL_BOOTSTRAP.encode()}, {"bootstrap"})}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    response = invoke(api, "shell", {"hi": 1})
    assert response.json() == {"shell": True, "event": {"hi": 1}}
    logs = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()["logs"]
    assert 'shell got {"hi": 1}' in logs or 'shell got {"hi":1}' in logs


def _package_files(package: str) -> dict[str, bytes]:
    spec = importlib.util.find_spec(package)
    assert spec and spec.origin
    origin = Path(spec.origin)
    root = origin.parent if origin.name == "__init__.py" else origin
    base = root.parent
    if root.is_file():
        return {root.name: root.read_bytes()}
    return {str(p.relative_to(base)): p.read_bytes() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3.11"), reason="awslambdaric's wheel here is built for CPython 3.11; Debian's python3.11 runs it")
def test_awslambdaric_as_bootstrap(api):
    files: dict[str, bytes] = {}
    for package in ("awslambdaric", "simplejson", "snapshot_restore_py", "runtime_client"):
        files.update(_package_files(package))
    files["bootstrap"] = b'#!/bin/sh\nexport PYTHONPATH="$LAMBDA_TASK_ROOT"\nexec /usr/bin/python3.11 -m awslambdaric "$_HANDLER"\n'
    files["app.py"] = b"def handler(event, context):\n    print('ric sees', context.aws_request_id)\n    return {'ric': True, 'event': event, 'remaining': context.get_remaining_time_in_millis() > 0}\n"
    files["fail.py"] = b"def handler(event, context):\n    raise RuntimeError('ric error')\n"
    code = _zip(files, {"bootstrap"})
    assert api.post("/api/v1/functions/", {"name": "ric", "runtime": "provided.al2023", "handler": "app.handler", "code": {"zip_base64": code}}, format="json").status_code == 201
    response = invoke(api, "ric", {"x": 1})
    assert response.json() == {"ric": True, "event": {"x": 1}, "remaining": True}, response.content
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert f"ric sees {response['X-Kiln-Request-Id']}" in record["logs"]
    assert invoke(api, "ric", {"x": 2}).json()["event"] == {"x": 2}  # warm: the client's loop continues
    assert api.patch("/api/v1/functions/ric/", {"handler": "fail.handler"}, format="json").status_code == 200
    failed = invoke(api, "ric", {})
    assert failed["X-Kiln-Function-Error"] == "Unhandled"
    assert failed.json()["errorType"] == "RuntimeError" and failed.json()["errorMessage"] == "ric error"
