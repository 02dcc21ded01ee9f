"""The issue's Node.js example runs unmodified on a bucket upload: `import AWS from 'aws-sdk'` (SDK v2, from
npm, packaged as a layer) reaches Kiln through the endpoint settings Kiln's Node bootstrap applies
(invoker/runtimes/nodejs/aws_sdk.cjs), with a role that allows s3:GetObject and again with one that does not;
SDK v3 from a layer reads the same upload through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from invoker.models import InvocationStatus
from tests.aws.conftest import allow_role, wait_invocation

HANDLER = """\
import AWS from 'aws-sdk';
const s3 = new AWS.S3();

export const handler = async (event) => {
  const record = event.Records[0];
  const bucket = record.s3.bucket.name;
  const key = record.s3.object.key;
  console.log(`Processing new file: ${key} from bucket: ${bucket}`);
  const file = await s3.getObject({ Bucket: bucket, Key: key }).promise();
  console.log("File size:", file.ContentLength);
  return { statusCode: 200 };
};
"""


HANDLER_V3 = """\
import { S3Client, GetObjectCommand } from "@aws-sdk/client-s3";
const s3 = new S3Client({});

export const handler = async (event) => {
  const { bucket, object } = event.Records[0].s3;
  const file = await s3.send(new GetObjectCommand({ Bucket: bucket.name, Key: object.key }));
  console.log("v3 read:", await file.Body.transformToString());
  return { statusCode: 200 };
};
"""


def _npm_layer(where: Path, package: str) -> str:
    """``package`` installed from npm, zipped as a layer (``nodejs/node_modules``), base64; aws-sdk v2's browser bundles left out."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", package], cwd=where, capture_output=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"npm install {package} failed: {done.stderr.decode()[-500:]}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for root, dirs, files in os.walk(where / "node_modules"):
            dirs[:] = [d for d in dirs if not (root.endswith("aws-sdk") and d in ("dist", "dist-tools", "scripts"))]
            for name in files:
                if not name.endswith((".d.ts", ".md", ".map")):
                    full = Path(root) / name
                    archive.write(full, "nodejs/" + str(full.relative_to(where)))
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="session")
def aws_sdk_v2_layer(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _npm_layer(tmp_path_factory.mktemp("aws-sdk-v2"), "aws-sdk@2")


@pytest.fixture(scope="session")
def aws_sdk_v3_layer(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _npm_layer(tmp_path_factory.mktemp("aws-sdk-v3"), "@aws-sdk/client-s3@3")


@pytest.fixture
def endpoint(kiln_web: str) -> str:
    return kiln_web


def _on_upload(api: Any, layer_zip: str | None, *, name: str, bucket: str, role: str, handler: str = HANDLER, file: str = "index.mjs") -> None:
    layers = []
    if layer_zip is not None:
        layer = api.post("/api/v1/layers/", {"name": f"sdk-{name}", "zip_base64": layer_zip}, format="json")
        assert layer.status_code == 201, layer.content
        layers = [layer.json()["arn"]]
    body = {"name": name, "runtime": "nodejs20.x", "handler": "index.handler", "code": {"files": {file: handler}}, "role": role,
            "layers": layers, "timeout": 30, "memory_size": 256}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    configs = [{"id": "all", "events": ["s3:ObjectCreated:*"], "filter": {}, "function": name}]
    assert api.put(f"/api/v1/buckets/{bucket}/notifications/", configs, format="json").status_code == 200


def test_issue_example_with_and_without_get_object(api, worker, root, aws_sdk_v2_layer, transactional_db) -> None:
    s3 = root("s3")
    for bucket in ("photos", "vault"):
        s3.create_bucket(Bucket=bucket)
    allow_role("photos-reader", ["s3:GetObject"], "arn:aws:s3:::photos/*")
    allow_role("vault-lister", ["s3:ListBucket"], "arn:aws:s3:::vault")
    _on_upload(api, aws_sdk_v2_layer, name="photos-fn", bucket="photos", role="photos-reader")
    _on_upload(api, aws_sdk_v2_layer, name="vault-fn", bucket="vault", role="vault-lister")
    s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"x" * 1234)
    s3.put_object(Bucket="vault", Key="gold.txt", Body=b"secret")

    allowed = wait_invocation({"function_name": "photos-fn"}, seconds=90)
    assert allowed.status == InvocationStatus.SUCCEEDED, allowed.logs
    assert "Processing new file: cat.jpg from bucket: photos" in allowed.logs
    assert "File size: 1234" in allowed.logs

    denied = wait_invocation({"function_name": "vault-fn"}, seconds=90)
    assert denied.status == InvocationStatus.FAILED, denied.logs
    assert denied.error["errorType"] == "AccessDenied", denied.error
    assert "[Kiln] AccessDenied: User: arn:aws:sts::" in denied.logs and "s3:GetObject" in denied.logs


def test_sdk_v3_from_a_layer_reads_the_upload(api, worker, root, aws_sdk_v3_layer, transactional_db) -> None:
    """SDK v3 reads AWS_ENDPOINT_URL itself and addresses an IP endpoint path-style; its ES module import comes from a layer."""
    root("s3").create_bucket(Bucket="v3-inbox")
    allow_role("v3-reader", ["s3:GetObject"], "arn:aws:s3:::v3-inbox/*")
    _on_upload(api, aws_sdk_v3_layer, name="v3-fn", bucket="v3-inbox", role="v3-reader", handler=HANDLER_V3)
    root("s3").put_object(Bucket="v3-inbox", Key="note.txt", Body=b"hello v3")
    done = wait_invocation({"function_name": "v3-fn"}, seconds=90)
    assert done.status == InvocationStatus.SUCCEEDED, (done.error["errorMessage"] if done.error else "", done.logs[-1500:])
    assert "v3 read: hello v3" in done.logs


HANDLER_V3_CJS = """\
const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

exports.handler = async (event) => {
  const { bucket, object } = event.Records[0].s3;
  const file = await new S3Client({}).send(new GetObjectCommand({ Bucket: bucket.name, Key: object.key }));
  const who = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  console.log("bundled read:", await file.Body.transformToString(), "as", who.Arn);
  return { statusCode: 200 };
};
"""


@pytest.mark.parametrize("file, handler", [("index.mjs", HANDLER_V3), ("index.js", HANDLER_V3_CJS)], ids=["esm", "commonjs"])
def test_sdk_v3_is_provided_by_the_runtime(api, worker, root, transactional_db, file: str, handler: str) -> None:
    """As on Lambda's nodejs18+ runtimes, `@aws-sdk/client-*` needs no layer and no bundling (scripts/node_sdk.sh)."""
    from invoker.sandbox import node_sdk_dir

    assert node_sdk_dir() is not None, "make setup installs the runtime's SDK v3 (scripts/node_sdk.sh)"
    bucket = f"bundled-{file.split('.')[1]}"
    root("s3").create_bucket(Bucket=bucket)
    allow_role(f"{bucket}-reader", ["s3:GetObject"], f"arn:aws:s3:::{bucket}/*")
    _on_upload(api, None, name=f"{bucket}-fn", bucket=bucket, role=f"{bucket}-reader", handler=handler, file=file)
    root("s3").put_object(Bucket=bucket, Key="note.txt", Body=b"from the runtime")
    done = wait_invocation({"function_name": f"{bucket}-fn"}, seconds=90)
    assert done.status == InvocationStatus.SUCCEEDED, (done.error["errorMessage"] if done.error else "", done.logs[-1500:])
    assert "v3 read: from the runtime" in done.logs or "bundled read: from the runtime" in done.logs
