"""The Lambda API (rest-json) with real boto3 against a live Kiln and a real worker running the functions."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import urllib.request
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.models import Function
from iam.credentials import access_key_create
from iam.models import Role
from iam.users import user_create, user_policy_put
from invoker.models import Invocation

ROLE_ARN = "arn:aws:iam::000000000000:role/lambda-api-role"

HANDLER = """\
import json, os

def handler(event, context):
    print('hello from', os.environ['AWS_LAMBDA_FUNCTION_VERSION'])
    if isinstance(event, dict) and event.get('fail'):
        raise ValueError('asked to fail')
    cc = context.client_context
    return {'event': event, 'version': os.environ['AWS_LAMBDA_FUNCTION_VERSION'], 'greeting': os.environ.get('GREETING'),
            'arn': context.invoked_function_arn, 'custom': cc.custom if cc else None}
"""


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CODE = zip_of({"app.py": HANDLER})


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


@pytest.fixture
def lam(root: Any, transactional_db: None) -> Any:
    Role.objects.create(name="lambda-api-role")
    return root("lambda")


def _create(lam: Any, name: str = "api-fn", **extra: Any) -> dict[str, Any]:
    return lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": CODE}, **extra)


def test_create_get_list_update_delete(lam: Any) -> None:
    created = _create(lam, Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256, Timeout=5, Description="first", Tags={"team": "core"})
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:api-fn"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    assert created["CodeSize"] == len(CODE) and created["Version"] == "$LATEST" and created["State"] == "Active"
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}} and created["MemorySize"] == 256 and created["Role"] == ROLE_ARN
    lam.get_waiter("function_active_v2").wait(FunctionName="api-fn")
    got = lam.get_function(FunctionName="api-fn")
    assert got["Tags"] == {"team": "core"} and got["Configuration"]["Description"] == "first"
    with urllib.request.urlopen(got["Code"]["Location"]) as response:  # the presigned location downloads the same zip
        assert response.read() == CODE
    updated = lam.update_function_configuration(FunctionName="api-fn", Timeout=7, RevisionId=created["RevisionId"])
    assert updated["Timeout"] == 7 and updated["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName="api-fn")
    with pytest.raises(ClientError) as stale:
        lam.update_function_configuration(FunctionName="api-fn", Timeout=8, RevisionId=created["RevisionId"])
    assert _error(stale)[:2] == ("PreconditionFailedException", 412)
    new_code = zip_of({"app.py": HANDLER.replace("hello from", "hello again from")})
    code_update = lam.update_function_code(FunctionName="api-fn", ZipFile=new_code)
    assert code_update["CodeSize"] == len(new_code) and code_update["Timeout"] == 7
    for i in range(3):
        _create(lam, f"page-fn-{i}")
    pages = list(lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}))
    names = [f["FunctionName"] for page in pages for f in page["Functions"]]
    assert names == ["api-fn", "page-fn-0", "page-fn-1", "page-fn-2"] and len(pages) == 2
    assert lam.get_function_configuration(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:api-fn")["Timeout"] == 7
    lam.delete_function(FunctionName="api-fn")
    with pytest.raises(ClientError) as gone:
        lam.get_function(FunctionName="api-fn")
    assert _error(gone)[:2] == ("ResourceNotFoundException", 404)


def test_create_errors(lam: Any) -> None:
    _create(lam)
    with pytest.raises(ClientError) as exists:
        _create(lam)
    assert _error(exists)[:2] == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as memory:
        _create(lam, "big-fn", MemorySize=10_241)
    assert _error(memory)[:2] == ("InvalidParameterValueException", 400) and "memorySize" in _error(memory)[2]
    assert _create(lam, "edge-fn", MemorySize=10_240, Timeout=900)["MemorySize"] == 10_240
    with pytest.raises(ClientError) as bad_zip:
        lam.create_function(FunctionName="bad-zip", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": b"not a zip"})
    assert _error(bad_zip)[:2] == ("InvalidZipFileException", 400)
    with pytest.raises(ClientError) as no_role:
        lam.create_function(FunctionName="no-role", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/missing", Handler="app.handler", Code={"ZipFile": CODE})
    assert _error(no_role)[:2] == ("InvalidParameterValueException", 400)
    assert not Function.objects.filter(name__in=["bad-zip", "no-role", "big-fn"]).exists()


def test_invoke_sync_async_dry_run_tail_and_client_context(lam: Any, worker: Any) -> None:
    _create(lam, Environment={"Variables": {"GREETING": "hi"}})
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    answer = lam.invoke(FunctionName="api-fn", Payload=json.dumps({"n": 1}), LogType="Tail", ClientContext=context)
    body = json.loads(answer["Payload"].read())
    assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == "$LATEST" and "FunctionError" not in answer
    assert body["event"] == {"n": 1} and body["greeting"] == "hi" and body["custom"] == {"tenant": "t1"}
    assert "hello from $LATEST" in base64.b64decode(answer["LogResult"]).decode()
    failed = lam.invoke(FunctionName="api-fn", Payload=json.dumps({"fail": True}))
    error = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled" and error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail"
    queued = lam.invoke(FunctionName="api-fn", InvocationType="Event", Payload=b'{"async": true}')
    assert queued["StatusCode"] == 202
    assert lam.invoke(FunctionName="api-fn", InvocationType="DryRun")["StatusCode"] == 204
    deadline = time.monotonic() + 30
    while not Invocation.objects.filter(function_name="api-fn", invocation_type="Event", status="succeeded").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_invoke_errors_and_payload_limits(lam: Any, worker: Any) -> None:
    _create(lam)
    with pytest.raises(ClientError) as missing:
        lam.invoke(FunctionName="nope", Payload=b"{}")
    assert _error(missing)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as too_big_async:
        lam.invoke(FunctionName="api-fn", InvocationType="Event", Payload=b'"' + b"a" * (1024 * 1024 - 1) + b'"')
    assert _error(too_big_async)[:2] == ("RequestEntityTooLargeException", 413)
    edge = lam.invoke(FunctionName="api-fn", InvocationType="Event", Payload=b'"' + b"a" * (1024 * 1024 - 2) + b'"')
    assert edge["StatusCode"] == 202
    with pytest.raises(ClientError) as bad_json:
        lam.invoke(FunctionName="api-fn", Payload=b"{not json")
    assert _error(bad_json)[0] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as bad_context:
        lam.invoke(FunctionName="api-fn", Payload=b"{}", ClientContext="not-base64!")
    assert _error(bad_context)[0] == "InvalidRequestContentException"
    lam.put_function_concurrency(FunctionName="api-fn", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as throttled:
        lam.invoke(FunctionName="api-fn", Payload=b"{}")
    code, status, _ = _error(throttled)
    assert (code, status) == ("TooManyRequestsException", 429) and throttled.value.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert lam.get_function_concurrency(FunctionName="api-fn")["ReservedConcurrentExecutions"] == 0
    lam.delete_function_concurrency(FunctionName="api-fn")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="api-fn")


def test_versions_and_weighted_alias(lam: Any, worker: Any) -> None:
    _create(lam, Environment={"Variables": {"GREETING": "v1"}})
    v1 = lam.publish_version(FunctionName="api-fn", Description="one")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(":api-fn:1")
    assert lam.publish_version(FunctionName="api-fn")["Version"] == "1"  # nothing changed since: the same version
    lam.update_function_configuration(FunctionName="api-fn", Environment={"Variables": {"GREETING": "v2"}})
    v2 = lam.publish_version(FunctionName="api-fn")
    assert v2["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="api-fn")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    lam.update_function_configuration(FunctionName="api-fn", Environment={"Variables": {"GREETING": "latest"}})
    # a version is immutable: later updates do not touch it
    first = json.loads(lam.invoke(FunctionName="api-fn", Qualifier="1", Payload=b"{}")["Payload"].read())
    assert first["greeting"] == "v1" and first["version"] == "1" and first["arn"].endswith(":api-fn:1")
    assert json.loads(lam.invoke(FunctionName="api-fn:2", Payload=b"{}")["Payload"].read())["greeting"] == "v2"
    alias = lam.create_alias(FunctionName="api-fn", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert alias["AliasArn"].endswith(":api-fn:live") and alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.5}
    executed = {lam.invoke(FunctionName="api-fn", Qualifier="live", Payload=b"{}")["ExecutedVersion"] for _ in range(16)}
    assert executed == {"1", "2"}
    assert set(Invocation.objects.filter(function_name="api-fn", qualifier="live").values_list("executed_version", flat=True)) == {"1", "2"}
    moved = lam.update_alias(FunctionName="api-fn", Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {}})
    assert moved["FunctionVersion"] == "2" and "RoutingConfig" not in moved
    assert lam.invoke(FunctionName="api-fn:live", Payload=b"{}")["ExecutedVersion"] == "2"
    assert [a["Name"] for a in lam.list_aliases(FunctionName="api-fn")["Aliases"]] == ["live"]
    with pytest.raises(ClientError) as in_use:
        lam.delete_function(FunctionName="api-fn", Qualifier="2")
    assert _error(in_use)[:2] == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as latest_weights:
        lam.create_alias(FunctionName="api-fn", Name="bad", FunctionVersion="$LATEST", RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    assert _error(latest_weights)[0] == "InvalidParameterValueException"
    lam.delete_alias(FunctionName="api-fn", Name="live")
    lam.delete_function(FunctionName="api-fn", Qualifier="2")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="api-fn")["Versions"]] == ["$LATEST", "1"]


def test_event_invoke_config_destination_and_permissions(lam: Any, worker: Any) -> None:
    _create(lam)
    _create(lam, "dest-fn")
    dest_arn = "arn:aws:lambda:us-east-1:000000000000:function:dest-fn"
    config = lam.put_function_event_invoke_config(FunctionName="api-fn", MaximumRetryAttempts=0, MaximumEventAgeInSeconds=60,
                                                  DestinationConfig={"OnFailure": {"Destination": dest_arn}, "OnSuccess": {"Destination": dest_arn}})
    assert config["MaximumRetryAttempts"] == 0 and config["DestinationConfig"]["OnFailure"]["Destination"] == dest_arn
    with pytest.raises(ClientError) as age:
        lam.put_function_event_invoke_config(FunctionName="api-fn", MaximumEventAgeInSeconds=21_601)
    assert _error(age)[0] == "InvalidParameterValueException"
    lam.invoke(FunctionName="api-fn", InvocationType="Event", Payload=json.dumps({"fail": True}))
    deadline = time.monotonic() + 45
    while not Invocation.objects.filter(function_name="dest-fn", status="succeeded").exists():
        assert time.monotonic() < deadline, "the OnFailure destination was not invoked"
        time.sleep(0.2)
    record = json.loads(Invocation.objects.get(function_name="dest-fn").payload)
    assert record["requestContext"]["condition"] == "RetriesExhausted" and record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"fail": True} and record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail" and record["version"] == "1.0"
    lam.delete_function_event_invoke_config(FunctionName="api-fn")
    with pytest.raises(ClientError) as none:
        lam.get_function_event_invoke_config(FunctionName="api-fn")
    assert _error(none)[:2] == ("ResourceNotFoundException", 404)
    added = json.loads(lam.add_permission(FunctionName="api-fn", StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                                          SourceArn="arn:aws:s3:::bucket")["Statement"])
    assert added["Principal"] == {"Service": "s3.amazonaws.com"}
    policy = json.loads(lam.get_policy(FunctionName="api-fn")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s3"]
    with pytest.raises(ClientError) as duplicate:
        lam.add_permission(FunctionName="api-fn", StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    assert _error(duplicate)[:2] == ("ResourceConflictException", 409)
    lam.remove_permission(FunctionName="api-fn", StatementId="s3")
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName="api-fn")


def test_tags_layers_urls_and_account(lam: Any) -> None:
    created = _create(lam)
    arn = created["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    layer_zip = zip_of({"python/helper.py": "X = 1\n"})
    layer = lam.publish_layer_version(LayerName="helpers", Content={"ZipFile": layer_zip}, CompatibleRuntimes=["python3.11"], CompatibleArchitectures=["x86_64"])
    assert layer["Version"] == 1 and layer["LayerVersionArn"].endswith(":layer:helpers:1")
    with urllib.request.urlopen(layer["Content"]["Location"]) as response:
        assert response.read() == layer_zip
    assert lam.get_layer_version_by_arn(Arn=layer["LayerVersionArn"])["Version"] == 1
    assert [entry["LayerName"] for entry in lam.list_layers(CompatibleRuntime="python3.11")["Layers"]] == ["helpers"]
    assert lam.list_layers(CompatibleRuntime="nodejs20.x")["Layers"] == []
    lam.update_function_configuration(FunctionName="api-fn", Layers=[layer["LayerVersionArn"]])
    assert lam.get_function_configuration(FunctionName="api-fn")["Layers"][0]["Arn"] == layer["LayerVersionArn"]
    url = lam.create_function_url_config(FunctionName="api-fn", AuthType="NONE", Cors={"AllowOrigins": ["*"]})
    assert ".lambda-url.localhost" in url["FunctionUrl"] and url["Cors"]["AllowOrigins"] == ["*"]
    assert lam.update_function_url_config(FunctionName="api-fn", AuthType="AWS_IAM")["AuthType"] == "AWS_IAM"
    assert len(lam.list_function_url_configs(FunctionName="api-fn")["FunctionUrlConfigs"]) == 1
    lam.delete_function_url_config(FunctionName="api-fn")
    with pytest.raises(ClientError) as no_url:
        lam.get_function_url_config(FunctionName="api-fn")
    assert _error(no_url)[:2] == ("ResourceNotFoundException", 404)
    account = lam.get_account_settings()
    assert account["AccountLimit"]["ConcurrentExecutions"] >= 1 and account["AccountUsage"]["FunctionCount"] == 1


def test_iam_decides_lambda_operations(make_client: Any, lam: Any) -> None:
    _create(lam)
    user = user_create(name="reader")
    user_policy_put(user=user, name="read", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:InvokeFunction", "lambda:CreateFunction"],
         "Resource": "arn:aws:lambda:us-east-1:000000000000:function:*"}]})
    issued = access_key_create(user=user)
    reader = make_client("lambda", (issued.key.access_key_id, issued.secret))
    assert reader.get_function(FunctionName="api-fn")["Configuration"]["FunctionName"] == "api-fn"
    with pytest.raises(ClientError) as denied:
        reader.delete_function(FunctionName="api-fn")
    code, status, message = _error(denied)
    assert (code, status) == ("AccessDeniedException", 403) and "lambda:DeleteFunction" in message
    with pytest.raises(ClientError) as pass_role:
        reader.create_function(FunctionName="x", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": CODE})
    assert _error(pass_role)[0] == "AccessDeniedException"
    bad = make_client("lambda", (issued.key.access_key_id, "x" * 40))
    with pytest.raises(ClientError) as signature:
        bad.list_functions()
    assert _error(signature)[:2] == ("InvalidSignatureException", 403)


def test_provisioned_concurrency_on_a_version(lam: Any, worker: Any) -> None:
    _create(lam)
    with pytest.raises(ClientError) as latest:
        lam.put_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    assert _error(latest)[0] == "InvalidParameterValueException"
    lam.publish_version(FunctionName="api-fn")
    put = lam.put_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert put["RequestedProvisionedConcurrentExecutions"] == 1 and put["Status"] in ("IN_PROGRESS", "READY")
    deadline = time.monotonic() + 60
    while lam.get_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="1")["Status"] != "READY":
        assert time.monotonic() < deadline, "the provisioned environment never became ready"
        time.sleep(0.5)
    assert lam.get_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="1")["AllocatedProvisionedConcurrentExecutions"] == 1
    answer = lam.invoke(FunctionName="api-fn", Qualifier="1", Payload=b"{}")
    assert answer["ExecutedVersion"] == "1"
    ran = Invocation.objects.get(function_name="api-fn", executed_version="1")
    assert ran.init_duration_ms is None  # it ran on the environment initialised ahead, not a cold start
    listed = lam.list_provisioned_concurrency_configs(FunctionName="api-fn")["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == ["arn:aws:lambda:us-east-1:000000000000:function:api-fn:1"]
    lam.delete_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="1")
    with pytest.raises(ClientError) as gone:
        lam.get_provisioned_concurrency_config(FunctionName="api-fn", Qualifier="1")
    assert _error(gone)[:2] == ("ProvisionedConcurrencyConfigNotFoundException", 404)


def test_code_from_a_bucket_publish_on_create_and_layer_permissions(lam: Any, root: Any) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="deploys")
    s3.put_object(Bucket="deploys", Key="builds/fn.zip", Body=CODE)
    created = lam.create_function(FunctionName="from-s3", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler",
                                  Code={"S3Bucket": "deploys", "S3Key": "builds/fn.zip"}, Publish=True)
    assert created["Version"] == "1" and created["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    with pytest.raises(ClientError) as missing_key:
        lam.update_function_code(FunctionName="from-s3", S3Bucket="deploys", S3Key="builds/none.zip")
    assert _error(missing_key)[0] == "InvalidParameterValueException" and "NoSuchKey" in _error(missing_key)[2]
    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in everything] == [("from-s3", "$LATEST"), ("from-s3", "1")]
    lam.create_alias(FunctionName="from-s3", Name="stable", FunctionVersion="1")
    assert lam.get_function(FunctionName="from-s3:stable")["Configuration"]["FunctionArn"].endswith(":from-s3:1")
    layer = lam.publish_layer_version(LayerName="shared", Content={"S3Bucket": "deploys", "S3Key": "builds/fn.zip"}, CompatibleRuntimes=["python3.11"])
    statement = json.loads(lam.add_layer_version_permission(LayerName="shared", VersionNumber=layer["Version"], StatementId="everyone",
                                                            Action="lambda:GetLayerVersion", Principal="*")["Statement"])
    assert statement["Principal"] == "*" and statement["Resource"] == layer["LayerVersionArn"]
    assert json.loads(lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)["Policy"])["Statement"][0]["Sid"] == "everyone"
    lam.remove_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="everyone")
    with pytest.raises(ClientError):
        lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    assert lam.list_layer_versions(LayerName="shared")["LayerVersions"] == []
    with pytest.raises(ClientError) as streaming:
        lam.invoke_with_response_stream(FunctionName="from-s3", Payload=b"{}")
    assert _error(streaming)[:2] == ("UnsupportedMediaTypeException", 415)


def test_limits_at_their_edges(lam: Any, worker: Any) -> None:
    """ClientContext (3583 bytes of base64), tags (50 per function; keys 128, values 256 characters), MaxItems (10000)."""
    _create(lam)
    def context_of(length: int) -> str:  # base64 of a JSON object, ``length`` characters (a multiple of 4)
        pad = length // 4 * 3 - len(b'{"custom": {"p": ""}}')
        text = base64.b64encode(b'{"custom": {"p": "' + b"x" * pad + b'"}}').decode()
        assert len(text) == length
        return text
    at_limit = context_of(3580)  # the last length base64 has at or under 3583
    assert lam.invoke(FunctionName="api-fn", Payload=b"{}", ClientContext=at_limit)["StatusCode"] == 200
    over = context_of(3584)  # one step of base64 further
    with pytest.raises(ClientError) as too_long:
        lam.invoke(FunctionName="api-fn", Payload=b"{}", ClientContext=over)
    assert _error(too_long)[0] == "InvalidParameterValueException" and "3583" in _error(too_long)[2]
    arn = "arn:aws:lambda:us-east-1:000000000000:function:api-fn"
    lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(49)} | {"k" * 128: "v" * 256})
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 50
    with pytest.raises(ClientError) as fifty_one:
        lam.tag_resource(Resource=arn, Tags={"one-more": "v"})
    assert _error(fifty_one)[0] == "InvalidParameterValueException" and "at most 50" in _error(fifty_one)[2]
    lam.untag_resource(Resource=arn, TagKeys=["k0"])
    with pytest.raises(ClientError) as long_key:
        lam.tag_resource(Resource=arn, Tags={"k" * 129: "v"})
    assert _error(long_key)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as long_value:
        lam.tag_resource(Resource=arn, Tags={"x": "v" * 257})
    assert _error(long_value)[0] == "InvalidParameterValueException"
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 49  # nothing half-written
    assert len(lam.list_functions(MaxItems=10_000)["Functions"]) == 1
    with pytest.raises(ClientError) as max_items:
        lam.list_functions(MaxItems=10_001)
    assert _error(max_items)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as bad_marker:
        lam.list_aliases(FunctionName="api-fn", Marker="nope")
    assert _error(bad_marker)[0] == "InvalidParameterValueException"
