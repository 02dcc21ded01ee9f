"""The functions and layers REST API: every limit at its edge, errors in the one envelope."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from functions import limits
from functions.code import zip_check
from functions.models import Function, FunctionRevision

pytestmark = pytest.mark.django_db


def body(name="fn", **overrides):
    data = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": "def handler(e, c):\n    return e\n"}}}
    data.update(overrides)
    return data


def create(api, **overrides):
    return api.post("/api/v1/functions/", body(**overrides), format="json")


def assert_error(response, status, code=None, text=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
    if text:
        assert text in error["message"]


def test_no_credentials_is_401(anon):
    assert_error(anon.get("/api/v1/functions/"), 401, "NotAuthenticated")
    assert_error(anon.post("/api/v1/functions/fn/invoke/", {}, format="json"), 401)


def test_token_auth_round_trip(anon, owner):
    response = anon.post("/api/v1/auth/token/", {"username": "owner", "password": "kiln-pass-123"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get("/api/v1/functions/").status_code == 200
    bad = anon.post("/api/v1/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    assert_error(bad, 400)


def test_create_get_list_patch_delete(api):
    response = create(api, memory_size=256, environment={"A": "1"}, description="demo")
    assert response.status_code == 201
    data = response.json()
    assert data["memory_size"] == 256 and data["timeout"] == 3 and data["ephemeral_storage"] == 512
    assert data["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert data["code"]["files"] == {"index.py": "def handler(e, c):\n    return e\n"}
    assert api.get("/api/v1/functions/fn/").json()["environment"] == {"A": "1"}
    assert [f["name"] for f in api.get("/api/v1/functions/").json()["functions"]] == ["fn"]
    patched = api.patch("/api/v1/functions/fn/", {"timeout": 10}, format="json").json()
    assert patched["timeout"] == 10 and patched["revision"] == 2 and patched["memory_size"] == 256
    assert api.patch("/api/v1/functions/fn/", {"timeout": 10}, format="json").json()["revision"] == 2  # no-op keeps revision
    assert api.delete("/api/v1/functions/fn/").status_code == 204
    assert_error(api.get("/api/v1/functions/fn/"), 404, "ResourceNotFoundException")


def test_duplicate_name_is_409(api):
    assert create(api).status_code == 201
    assert_error(create(api), 409, "ResourceConflictException")
    assert Function.objects.count() == 1


@pytest.mark.parametrize("name,ok", [("a", True), ("x" * 64, True), ("x" * 65, False), ("", False), ("bad name", False), ("bad.name", False), ("ok_Name-1", True)])
def test_name_edges(api, name, ok):
    response = create(api, name=name)
    assert response.status_code == (201 if ok else 400), response.content


@pytest.mark.parametrize("field,value,ok", [
    ("memory_size", 128, True), ("memory_size", 127, False), ("memory_size", 10240, True), ("memory_size", 10241, False),
    ("timeout", 1, True), ("timeout", 0, False), ("timeout", 900, True), ("timeout", 901, False),
    ("ephemeral_storage", 512, True), ("ephemeral_storage", 511, False), ("ephemeral_storage", 10240, True), ("ephemeral_storage", 10241, False),
    ("memory_size", "256", False), ("timeout", True, False),
])
def test_numeric_limits(api, field, value, ok):
    response = create(api, **{field: value})
    if ok:
        assert response.status_code == 201
    else:
        assert_error(response, 400, "InvalidParameterValueException", field)
        assert not Function.objects.exists()


def test_environment_size_edge(api):
    key = "K"
    exact = {key: "v" * (limits.ENVIRONMENT_MAX_BYTES - len(key))}
    assert create(api, name="exact", environment=exact).status_code == 201
    over = {key: "v" * (limits.ENVIRONMENT_MAX_BYTES - len(key) + 1)}
    assert_error(create(api, name="over", environment=over), 400, text="4 KB")


@pytest.mark.parametrize("reserved", ["AWS_REGION", "_HANDLER", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "AWS_ACCESS_KEY_ID"])
def test_reserved_environment_names_refused(api, reserved):
    assert_error(create(api, environment={reserved: "x"}), 400, text="reserved")


def test_bad_handler_and_runtime(api):
    assert_error(create(api, handler="nodot"), 400, text="handler")
    assert_error(create(api, runtime="python2.7"), 400, text="Runtime")
    assert_error(create(api, code={"files": {}}), 400)
    assert_error(create(api, code={"files": {"../evil.py": "x"}}), 400)


def test_runtimes_listed(api):
    runtimes = [r["identifier"] for r in api.get("/api/v1/runtimes/").json()["runtimes"]]
    assert "python3.11" in runtimes and "nodejs20.x" in runtimes


def _zip_of_size(total: int) -> bytes:
    """A stored (uncompressed) zip of exactly ``total`` bytes."""
    def build(payload: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("index.py", "def handler(e, c):\n    return 1\n")
            archive.writestr("pad.bin", b"\0" * payload)
        return buffer.getvalue()
    overhead = len(build(0))
    data = build(total - overhead)
    assert len(data) == total
    return data


def test_zip_upload_size_edge(api):
    at_limit = _zip_of_size(limits.ZIP_MAX_BYTES)
    zip_check(at_limit)  # exactly 50 MB is accepted
    response = create(api, name="zipped", code={"zip_base64": base64.b64encode(_zip_of_size(1024)).decode()})
    assert response.status_code == 201
    over = _zip_of_size(limits.ZIP_MAX_BYTES + 1)
    response = create(api, name="too-big", code={"zip_base64": base64.b64encode(over).decode()})
    assert_error(response, 413, text="50 MB")
    assert not Function.objects.filter(name="too-big").exists()


def test_unzipped_size_edge():
    from core.errors import ValidationFailed

    def deflated(size: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("big.bin", "w", force_zip64=True) as handle:
                chunk = b"\0" * (1 << 20)
                remaining = size
                while remaining:
                    handle.write(chunk[: min(remaining, len(chunk))])
                    remaining -= min(remaining, len(chunk))
        return buffer.getvalue()

    assert zip_check(deflated(limits.UNZIPPED_MAX_BYTES)).unzipped_size == limits.UNZIPPED_MAX_BYTES
    with pytest.raises(ValidationFailed, match="Unzipped size"):
        zip_check(deflated(limits.UNZIPPED_MAX_BYTES + 1))


def _layer_zip(n: int) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"python/layer{n}.py", f"VALUE = {n}\n")
    return base64.b64encode(buffer.getvalue()).decode()


def test_layers_publish_list_and_five_layer_limit(api):
    arns = []
    for n in range(6):
        response = api.post("/api/v1/layers/", {"name": f"lib{n}", "zip_base64": _layer_zip(n), "compatible_runtimes": ["python3.11"]}, format="json")
        assert response.status_code == 201
        assert response.json()["version"] == 1
        arns.append(response.json()["arn"])
    again = api.post("/api/v1/layers/", {"name": "lib0", "zip_base64": _layer_zip(0)}, format="json").json()
    assert again["version"] == 2 and again["arn"] == "arn:aws:lambda:us-east-1:000000000000:layer:lib0:2"
    listed = {layer["name"]: layer for layer in api.get("/api/v1/layers/").json()["layers"]}
    assert [v["version"] for v in listed["lib0"]["versions"]] == [2, 1]
    assert create(api, name="five", layers=arns[:5]).status_code == 201
    assert_error(create(api, name="six", layers=arns), 400, text="at most 5 layers")
    assert_error(create(api, name="ghost", layers=["arn:aws:lambda:us-east-1:000000000000:layer:nope:1"]), 400, text="does not exist")
    assert FunctionRevision.objects.filter(function__name="five").get().layer_links.count() == 5


def test_role_policy_validated(api):
    good = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    assert api.post("/api/v1/roles/", {"name": "reader", "policy_document": good}, format="json").status_code == 201
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]}
    assert_error(api.post("/api/v1/roles/", {"name": "bad", "policy_document": bad}, format="json"), 400, "MalformedPolicyDocument", "Effect")
    assert_error(api.post("/api/v1/roles/", {"name": "bad", "policy_document": "{not json"}, format="json"), 400, "MalformedPolicyDocument", "not valid JSON")
    response = create(api, name="with-role", role="reader")
    assert response.json()["role"] == "arn:aws:iam::000000000000:role/reader"
    assert_error(create(api, name="no-role", role="missing"), 400, text="Role")


def test_invoke_errors(api):
    create(api)
    assert_error(api.post("/api/v1/functions/missing/invoke/", {}, format="json"), 404, "ResourceNotFoundException")
    response = api.post("/api/v1/functions/fn/invoke/", data="{not json", content_type="application/json")
    assert_error(response, 400, "InvalidRequestContentException")
    assert response["X-Kiln-Request-Id"]
    big = '"' + "x" * (limits.SYNC_PAYLOAD_MAX_BYTES - 1) + '"'  # 6 MB + 1 byte
    assert len(big) == limits.SYNC_PAYLOAD_MAX_BYTES + 1
    assert_error(api.post("/api/v1/functions/fn/invoke/", data=big, content_type="application/json"), 413, "RequestTooLargeException")
    async_big = '"' + "x" * (limits.ASYNC_PAYLOAD_MAX_BYTES - 1) + '"'
    assert_error(api.post("/api/v1/functions/fn/invoke/?invocation_type=Event", data=async_big, content_type="application/json"), 413)
    assert_error(api.post("/api/v1/functions/fn/invoke/?invocation_type=Bogus", data="{}", content_type="application/json"), 400)
