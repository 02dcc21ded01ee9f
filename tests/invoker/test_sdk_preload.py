"""Spare runtimes that loaded the AWS SDK before their function was known (invoker/sdkpreload.py).

Through the real worker, sandboxes and Kiln's AWS endpoint: a function on such a spare has its own
environment, region, endpoint and credentials, calls Kiln with them, sees nothing of a function served
before it, and a function bringing its own boto3 (in its code or a layer) or setting a variable the v3
SDK reads at load gets its own, on a runtime started on demand.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.conf import settings

from invoker.sdkpreload import NODE_LOAD_TIME_VARIABLES, conflicts
from tests.aws.conftest import allow_role
from tests.aws.conftest import kiln_web as kiln_web  # noqa: F401 - the fixture: Kiln's endpoint on the port sandboxes reach
from tests.conftest import invoke
from tests.handlers import zip_base64 as _zip

PY_SDK = """\
import sys
PRELOADED = 'botocore' in sys.modules  # loaded before this module was: a spare that preloaded the SDK
import os
import random
import boto3
import botocore

s3 = boto3.client('s3')
SEEN_BEFORE = getattr(botocore, 'KILN_TEST_MARK', None)  # set by a function served earlier, if state leaked
botocore.KILN_TEST_MARK = os.environ.get('MARK')
STATE = {'mark': os.environ.get('MARK')}

def handler(event, context):
    out = {'preloaded': PRELOADED, 'seen_before': SEEN_BEFORE, 'mark': STATE['mark'], 'region': s3.meta.region_name,
           'endpoint': s3.meta.endpoint_url, 'retry_mode': s3.meta.config.retries.get('mode'), 'signing_key': s3._request_signer._credentials.access_key,
           'env': dict(os.environ), 'random': random.random(), 'urandom': os.urandom(16).hex(), 'boto3': boto3.__file__}
    out['buckets'] = [b['Name'] for b in s3.list_buckets()['Buckets']]
    out['arn'] = boto3.client('sts').get_caller_identity()['Arn']
    return out
"""

PY_OWN_BOTO3 = """\
import sys
PRELOADED = 'botocore' in sys.modules
import boto3

def handler(event, context):
    return {'preloaded': PRELOADED, 'version': boto3.__version__, 'file': boto3.__file__}
"""

NODE_SDK = """\
const preloaded = Object.keys(require.cache).some((file) => file.includes("/@aws-sdk/client-s3/"));
const { S3Client, ListBucketsCommand } = require("@aws-sdk/client-s3");
const client = new S3Client({});
globalThis.kilnTestMark = process.env.MARK;

exports.handler = async () => {
  const credentials = await client.config.credentials();
  const listed = await client.send(new ListBucketsCommand({}));
  return { preloaded, region: await client.config.region(), maxAttempts: await client.config.maxAttempts(), accessKey: credentials.accessKeyId, envKey: process.env.AWS_ACCESS_KEY_ID,
           buckets: (listed.Buckets || []).map((b) => b.Name), awslambda: typeof globalThis.awslambda, mark: globalThis.kilnTestMark };
};
"""

NODE_GLOBAL = """\
const preloaded = Object.keys(require.cache).some((file) => file.includes("/@aws-sdk/client-s3/"));
require("@aws-sdk/client-s3");
exports.handler = async () => ({ preloaded, awslambda: typeof globalThis.awslambda });
"""

NODE_OWN_CLIENT = """\
const preloaded = Object.keys(require.cache).some((file) => file.includes("/@aws-sdk/client-s3/"));
const sdk = require("@aws-sdk/client-s3");
exports.handler = async () => ({ preloaded, bundled: sdk.BUNDLED === true, file: require.resolve("@aws-sdk/client-s3") });
"""

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker", "kiln_web")]


@pytest.fixture(scope="module", autouse=True)
def _preloading_worker(worker):
    """The session's worker keeps its spares bare (tests/conftest.py); here it preloads the SDK, as make run's does."""
    worker.restart(KILN_PREWARM_SDK="1")
    yield
    worker.restart()


def _create(api, name: str, runtime: str, files: dict[str, str], handler: str = "index.handler", **config: object) -> None:
    body = {"name": name, "runtime": runtime, "handler": handler, "timeout": 30, "code": {"files": files}, **config}
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 201, response.content


def _new_revision(api, name: str, environment: dict[str, str], attempt: int) -> None:
    response = api.patch(f"/api/v1/functions/{name}/", {"environment": {**environment, "ATTEMPT": str(attempt)}}, format="json")
    assert response.status_code == 200, response.content


def invoke_on_spare(api, name: str, environment: dict[str, str], *, attempts: int = 30) -> tuple[dict, dict]:
    """Cold-start ``name`` (a new revision each time) until a spare that preloaded the SDK serves it: after each
    cold start the worker makes the next spare of the kind, which holds only once its SDK is loaded."""
    for attempt in range(attempts):
        _new_revision(api, name, environment, attempt)
        response = invoke(api, name)
        assert response.status_code == 200, response.content
        out = response.json()
        assert "errorType" not in out, out
        record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
        assert record["cold_start"] is True
        if out["preloaded"]:
            return out, record
        time.sleep(1.0)
    raise AssertionError(f"{name} was never served by a spare that preloaded the SDK")


def _worker_log_says(text: str) -> bool:
    path = Path(settings.DATA_DIR) / "worker.log"
    return path.exists() and text in path.read_text(errors="replace")


def test_a_python_function_on_a_preloaded_spare_has_its_own_environment_and_credentials(api):
    allow_role("lister-a", ["s3:ListAllMyBuckets"], "*")
    allow_role("lister-b", ["s3:ListAllMyBuckets"], "*")
    _create(api, "sdk-a", "python3.11", {"index.py": PY_SDK}, role="lister-a")
    _create(api, "sdk-b", "python3.11", {"index.py": PY_SDK}, role="lister-b")
    a, _ = invoke_on_spare(api, "sdk-a", {"MARK": "a", "ONLY_A": "secret-of-a", "AWS_RETRY_MODE": "adaptive"})
    b, _ = invoke_on_spare(api, "sdk-b", {"MARK": "b"})
    # Each has its own configuration, endpoint and credentials, resolved from its own environment, and they work.
    assert a["retry_mode"] == "adaptive" and b["retry_mode"] != "adaptive"
    assert a["region"] == b["region"] == settings.KILN_REGION
    assert a["endpoint"] == a["env"]["AWS_ENDPOINT_URL"] and b["endpoint"] == b["env"]["AWS_ENDPOINT_URL"]
    assert a["signing_key"] == a["env"]["AWS_ACCESS_KEY_ID"] and b["signing_key"] == b["env"]["AWS_ACCESS_KEY_ID"]
    assert a["signing_key"] != b["signing_key"] and a["signing_key"].startswith("ASIA")
    assert a["arn"].endswith(":assumed-role/lister-a/sdk-a") and b["arn"].endswith(":assumed-role/lister-b/sdk-b")
    assert isinstance(a["buckets"], list) and isinstance(b["buckets"], list)
    assert a["boto3"] == b["boto3"] == "/var/lang/sdk/boto3/__init__.py"
    # Nothing of A reaches B: its module state, its variables, its credentials, its random streams.
    assert a["mark"] == "a" and b["mark"] == "b" and a["seen_before"] is None and b["seen_before"] is None
    assert "ONLY_A" not in b["env"] and "secret-of-a" not in json.dumps(b["env"])
    assert a["env"]["AWS_SECRET_ACCESS_KEY"] not in json.dumps(b["env"]) and a["env"]["AWS_SESSION_TOKEN"] not in json.dumps(b["env"])
    assert a["random"] != b["random"] and a["urandom"] != b["urandom"]
    assert "KILN_RUNTIME_FD" not in a["env"] and "DATABASE_URL" not in a["env"]


def test_a_function_bringing_its_own_boto3_gets_its_own_not_the_preloaded_one(api):
    """In its code or in a layer: Lambda's sys.path puts both before the runtime's boto3."""
    bundled = "__version__ = '0.0.bundled'\n"
    _create(api, "own-boto3", "python3.11", {"index.py": PY_OWN_BOTO3, "boto3/__init__.py": bundled})
    layer = api.post("/api/v1/layers/", {"name": "boto3-layer", "zip_base64": _zip({"python/boto3/__init__.py": "__version__ = '0.0.layer'\n"})}, format="json").json()
    _create(api, "layer-boto3", "python3.11", {"index.py": PY_OWN_BOTO3}, layers=[layer["arn"]])
    _create(api, "plain-boto3", "python3.11", {"index.py": PY_OWN_BOTO3})
    invoke_on_spare(api, "plain-boto3", {})  # spares of this kind preload the SDK
    for name, version, file in (("own-boto3", "0.0.bundled", "/var/task/boto3/__init__.py"), ("layer-boto3", "0.0.layer", "/opt/python/boto3/__init__.py")):
        for attempt in range(30):  # until a held spare was there and refused: the worker says so
            time.sleep(1.0)
            _new_revision(api, name, {}, attempt)
            out = invoke(api, name).json()
            assert out == {"preloaded": False, "version": version, "file": file}, out
            if _worker_log_says(f"{name} brings its own boto3"):
                break
        else:
            raise AssertionError(f"no held spare was ever refused to {name}")


def test_a_node_function_on_a_preloaded_spare_uses_its_own_credentials_and_region(api):
    allow_role("node-lister", ["s3:ListAllMyBuckets"], "*")
    _create(api, "node-sdk", "nodejs20.x", {"index.js": NODE_SDK}, role="node-lister")
    out, record = invoke_on_spare(api, "node-sdk", {"MARK": "n", "AWS_MAX_ATTEMPTS": "7"})
    assert out["region"] == settings.KILN_REGION and out["maxAttempts"] == 7 and out["accessKey"] == out["envKey"] and out["accessKey"].startswith("ASIA")
    assert isinstance(out["buckets"], list) and out["mark"] == "n" and out["awslambda"] == "object"
    # The spare's throwaway clients left the SDK's once-per-process warning to the function's own first client.
    from functions.runtimes import available_runtimes

    warns = int(available_runtimes()["nodejs20.x"].version.split(".")[0]) < 22  # the SDK warns on Node.js before 22
    assert record["logs"].count("NodeVersionSupportWarning") == (1 if warns else 0), record["logs"]


def test_a_node_function_gets_its_own_bundled_client_and_load_time_variables_are_honoured(api):
    package = json.dumps({"name": "@aws-sdk/client-s3", "version": "0.0.0", "main": "index.js"})
    _create(api, "node-own", "nodejs20.x", {"index.js": NODE_OWN_CLIENT, "node_modules/@aws-sdk/client-s3/package.json": package,
                                            "node_modules/@aws-sdk/client-s3/index.js": "exports.BUNDLED = true;\n"})
    out, _ = invoke_on_spare(api, "node-own", {})  # the spare's preloaded copy is another file: not the one it gets
    assert out["bundled"] is True and out["file"] == "/var/task/node_modules/@aws-sdk/client-s3/index.js"
    _create(api, "node-no-global", "nodejs20.x", {"index.js": NODE_GLOBAL})
    for attempt in range(30):
        time.sleep(1.0)
        _new_revision(api, "node-no-global", {"AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA": "true"}, attempt)
        out = invoke(api, "node-no-global").json()
        assert out["preloaded"] is False and out["awslambda"] == "undefined", out
        if _worker_log_says("node-no-global brings its own AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA"):
            break
    else:
        raise AssertionError("no held spare was ever refused to node-no-global")


def test_conflicts_are_the_preloaded_names_the_functions_paths_provide(tmp_path):
    from functions.runtimes import RuntimeInfo

    python = RuntimeInfo("python3.11", "python", "3.11.7", "/usr/bin/python3.11")
    task, opt = tmp_path / "task", tmp_path / "opt"
    for path in ("urllib3/__init__.py", "six.py", "certifi/cacert.pem", "boto3-1.0.dist-info/METADATA", "index.py", "_cffi.cpython-311-x86_64-linux-gnu.so"):
        (task / path).parent.mkdir(parents=True, exist_ok=True)
        (task / path).write_text("")
    (opt / "python" / "lib" / "python3.11" / "site-packages" / "dateutil").mkdir(parents=True)
    preloaded = ["boto3", "botocore", "certifi", "dateutil", "six", "urllib3", "_cffi", "json"]
    assert conflicts(python, preloaded, {}, task, opt) == ["_cffi", "certifi", "dateutil", "six", "urllib3"]
    assert conflicts(python, preloaded, {}, task, None) == ["_cffi", "certifi", "six", "urllib3"]
    assert conflicts(python, [], {}, task, opt) == []  # a spare that preloaded nothing serves anyone
    node = RuntimeInfo("nodejs20.x", "nodejs", "20.20.2", "/usr/bin/node")
    assert conflicts(node, ["@aws-sdk/client-s3"], {"A": "1"}, task, opt) == []
    assert conflicts(node, ["@aws-sdk/client-s3"], {NODE_LOAD_TIME_VARIABLES[0]: "true"}, task, opt) == [NODE_LOAD_TIME_VARIABLES[0]]
