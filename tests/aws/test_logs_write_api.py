"""CloudWatch Logs' write side with real boto3 against a live Kiln: groups, retention, tags, streams,
PutLogEvents at its limits, GetLogEvents/FilterLogEvents, subscription filters (delivered end to end to a
real function by a real worker), and one AWS CLI v1 call."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iam.models import Role
from invoker.models import Invocation, Trigger
from logs import delivery, limits
from tests.aws.conftest import wait_invocation
from tests.aws.test_cli import _cli
from tests.aws.test_lambda_api import ROLE_ARN, zip_of

ARN = "arn:aws:logs:us-east-1:000000000000:log-group:"


@pytest.fixture
def logs(root: Any, transactional_db: None) -> Any:
    return root("logs")


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def _now() -> int:
    return int(time.time() * 1000)


def test_groups_retention_and_tags(logs: Any) -> None:
    logs.create_log_group(logGroupName="/app/web", tags={"team": "a"})
    with pytest.raises(ClientError) as again:
        logs.create_log_group(logGroupName="/app/web")
    assert _code(again) == ("ResourceAlreadyExistsException", "The specified log group already exists")
    with pytest.raises(ClientError) as bad_name:
        logs.create_log_group(logGroupName="bad name!")
    assert _code(bad_name)[0] == "InvalidParameterException"
    logs.create_log_group(logGroupName="g" * 512)  # the name's length edge
    with pytest.raises(ClientError) as long_name:
        logs.create_log_group(logGroupName="g" * 513)
    assert _code(long_name)[0] == "InvalidParameterException"
    for name in ("/app/api", "/other/x"):
        logs.create_log_group(logGroupName=name)
    groups = logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/app/api", "/app/web"]
    assert groups[1]["arn"] == ARN + "/app/web:*" and groups[1]["logGroupArn"] == ARN + "/app/web"
    assert groups[1]["metricFilterCount"] == 0 and groups[1]["storedBytes"] == 0 and "retentionInDays" not in groups[1]
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePattern="OTHER")["logGroups"]] == ["/other/x"]
    paged = [g["logGroupName"] for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 1}) for g in page["logGroups"]]
    assert paged == ["/app/api", "/app/web", "/other/x", "g" * 512]
    with pytest.raises(ClientError) as over:
        logs.describe_log_groups(limit=51)
    assert _code(over)[0] == "InvalidParameterException"
    assert len(logs.describe_log_groups(limit=50)["logGroups"]) == 4
    # retention: AWS's values only
    for days in (1, 3653):
        logs.put_retention_policy(logGroupName="/app/web", retentionInDays=days)
    assert logs.describe_log_groups(logGroupNamePrefix="/app/web")["logGroups"][0]["retentionInDays"] == 3653
    for days in (2, 0, 3654):
        with pytest.raises(ClientError) as bad:
            logs.put_retention_policy(logGroupName="/app/web", retentionInDays=days)
        assert _code(bad)[0] == "InvalidParameterException" and "enum value set" in _code(bad)[1]
    logs.delete_retention_policy(logGroupName="/app/web")
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix="/app/web")["logGroups"][0]
    with pytest.raises(ClientError) as missing:
        logs.put_retention_policy(logGroupName="/nope", retentionInDays=1)
    assert _code(missing) == ("ResourceNotFoundException", "The specified log group does not exist.")
    # tags, both APIs
    logs.tag_resource(resourceArn=ARN + "/app/web", tags={"env": "prod"})
    assert logs.list_tags_for_resource(resourceArn=ARN + "/app/web")["tags"] == {"team": "a", "env": "prod"}
    logs.untag_resource(resourceArn=ARN + "/app/web", tagKeys=["team"])
    logs.tag_log_group(logGroupName="/app/web", tags={"k": "v"})
    assert logs.list_tags_log_group(logGroupName="/app/web")["tags"] == {"env": "prod", "k": "v"}
    logs.untag_log_group(logGroupName="/app/web", tags=["k"])
    assert logs.list_tags_for_resource(resourceArn=ARN + "/app/web")["tags"] == {"env": "prod"}
    with pytest.raises(ClientError) as too_many:
        logs.tag_resource(resourceArn=ARN + "/app/web", tags={f"t{i}": "v" for i in range(50)})
    assert _code(too_many)[0] == "TooManyTagsException"
    logs.tag_resource(resourceArn=ARN + "/app/web", tags={f"t{i}": "v" for i in range(49)})  # 50 with env
    with pytest.raises(ClientError) as no_group:
        logs.list_tags_for_resource(resourceArn=ARN + "/nope")
    assert _code(no_group)[0] == "ResourceNotFoundException"
    logs.delete_log_group(logGroupName="/app/web")
    with pytest.raises(ClientError) as gone:
        logs.delete_log_group(logGroupName="/app/web")
    assert _code(gone) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_streams_and_put_log_events_limits(logs: Any) -> None:
    logs.create_log_group(logGroupName="/app/batch")
    with pytest.raises(ClientError) as no_group:
        logs.create_log_stream(logGroupName="/nope", logStreamName="s")
    assert _code(no_group) == ("ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_stream(logGroupName="/app/batch", logStreamName="s1")
    with pytest.raises(ClientError) as again:
        logs.create_log_stream(logGroupName="/app/batch", logStreamName="s1")
    assert _code(again) == ("ResourceAlreadyExistsException", "The specified log stream already exists")
    with pytest.raises(ClientError) as colon:
        logs.create_log_stream(logGroupName="/app/batch", logStreamName="a:b")
    assert _code(colon)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as no_stream:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="nope", logEvents=[{"timestamp": _now(), "message": "x"}])
    assert _code(no_stream) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(ClientError) as no_group_put:
        logs.put_log_events(logGroupName="/nope", logStreamName="s1", logEvents=[{"timestamp": _now(), "message": "x"}])
    assert _code(no_group_put) == ("ResourceNotFoundException", "The specified log group does not exist.")
    now = _now()
    # 10,000 events are one batch; 10,001 are refused
    put = logs.put_log_events(logGroupName="/app/batch", logStreamName="s1", logEvents=[{"timestamp": now, "message": f"e{i}"} for i in range(10_000)],
                              sequenceToken="anything")  # accepted and ignored
    assert put["nextSequenceToken"] and "rejectedLogEventsInfo" not in put
    with pytest.raises(ClientError) as too_many:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="s1", logEvents=[{"timestamp": now, "message": "e"} for _ in range(10_001)])
    assert _code(too_many)[0] == "InvalidParameterException"
    # the batch's size counts 26 bytes per event: exactly 1,048,576 is accepted, one byte more refused
    logs.create_log_stream(logGroupName="/app/batch", logStreamName="big")
    half = (limits.BATCH_BYTES_MAX - 2 * 26) // 2
    edge = [{"timestamp": now, "message": "a" * half}, {"timestamp": now, "message": "b" * (limits.BATCH_BYTES_MAX - 2 * 26 - half)}]
    logs.put_log_events(logGroupName="/app/batch", logStreamName="big", logEvents=edge)
    edge[1]["message"] += "b"
    with pytest.raises(ClientError) as too_big:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="big", logEvents=edge)
    assert _code(too_big) == ("InvalidParameterException", f"Upload too large: {limits.BATCH_BYTES_MAX + 1} bytes exceeds limit of {limits.BATCH_BYTES_MAX}")
    # one event: at most 1 MB with its 26 bytes
    logs.put_log_events(logGroupName="/app/batch", logStreamName="big", logEvents=[{"timestamp": now, "message": "c" * (limits.EVENT_BYTES_MAX - 26)}])
    with pytest.raises(ClientError) as event_big:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="big", logEvents=[{"timestamp": now, "message": "c" * (limits.EVENT_BYTES_MAX - 25)}])
    assert _code(event_big)[0] == "InvalidParameterException" and "Log event too large" in _code(event_big)[1]
    # chronological order
    with pytest.raises(ClientError) as order:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="s1", logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])
    assert _code(order) == ("InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.")
    # a batch spanning more than 24 hours is refused; exactly 24 hours is fine
    day = 24 * 3600 * 1000
    logs.create_log_stream(logGroupName="/app/batch", logStreamName="span")
    logs.put_log_events(logGroupName="/app/batch", logStreamName="span", logEvents=[{"timestamp": now - day, "message": "a"}, {"timestamp": now, "message": "b"}])
    with pytest.raises(ClientError) as span:
        logs.put_log_events(logGroupName="/app/batch", logStreamName="span", logEvents=[{"timestamp": now - day - 1, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert _code(span)[0] == "InvalidParameterException" and "24 hours" in _code(span)[1]
    # too old / too new are rejected, not errors; the rest is stored
    logs.create_log_stream(logGroupName="/app/batch", logStreamName="mixed")
    events = [{"timestamp": now - 15 * day, "message": "old1"}, {"timestamp": now - 15 * day + 1, "message": "old2"}, {"timestamp": now, "message": "ok"},
              {"timestamp": now + 3 * 3600 * 1000, "message": "new"}]
    mixed = logs.put_log_events(logGroupName="/app/batch", logStreamName="mixed", logEvents=events)
    assert mixed["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3}
    assert [e["message"] for e in logs.get_log_events(logGroupName="/app/batch", logStreamName="mixed")["events"]] == ["ok"]
    # older than the group's retention: expired
    logs.put_retention_policy(logGroupName="/app/batch", retentionInDays=1)
    expired = logs.put_log_events(logGroupName="/app/batch", logStreamName="mixed", logEvents=[{"timestamp": now - 2 * day, "message": "x"}, {"timestamp": now, "message": "y"}])
    assert expired["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    # streams: order, prefix, LastEventTime
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app/batch")["logStreams"]]
    assert names == ["big", "mixed", "s1", "span"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app/batch", logStreamNamePrefix="s")["logStreams"]] == ["s1", "span"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app/batch", descending=True, limit=2)["logStreams"]] == ["span", "s1"]
    by_time = logs.describe_log_streams(logGroupName="/app/batch", orderBy="LastEventTime", descending=True)["logStreams"]
    assert by_time[0]["lastEventTimestamp"] >= by_time[-1]["lastEventTimestamp"]
    with pytest.raises(ClientError) as prefix_and_time:
        logs.describe_log_streams(logGroupName="/app/batch", orderBy="LastEventTime", logStreamNamePrefix="s")
    assert _code(prefix_and_time)[0] == "InvalidParameterException"
    s1 = logs.describe_log_streams(logGroupName="/app/batch", logStreamNamePrefix="s1")["logStreams"][0]
    assert s1["firstEventTimestamp"] == now and s1["storedBytes"] > 0 and s1["arn"].endswith(":log-stream:s1")
    logs.delete_log_stream(logGroupName="/app/batch", logStreamName="big")
    with pytest.raises(ClientError) as deleted:
        logs.delete_log_stream(logGroupName="/app/batch", logStreamName="big")
    assert _code(deleted) == ("ResourceNotFoundException", "The specified log stream does not exist.")


def test_get_and_filter_log_events(logs: Any) -> None:
    logs.create_log_group(logGroupName="/app/read")
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName="/app/read", logStreamName=stream)
    now = _now() - 10_000
    logs.put_log_events(logGroupName="/app/read", logStreamName="a", logEvents=[{"timestamp": now + i * 2, "message": f"a{i} " + json.dumps({"n": i})} for i in range(5)])
    logs.put_log_events(logGroupName="/app/read", logStreamName="b", logEvents=[{"timestamp": now + i * 2 + 1, "message": f'{{"level": "{"ERROR" if i % 2 else "INFO"}", "n": {i}}}'} for i in range(5)])
    # GetLogEvents: the latest by default, from the head when asked; the same token back at the end
    tail = logs.get_log_events(logGroupName="/app/read", logStreamName="a", limit=2)
    assert [e["message"][:2] for e in tail["events"]] == ["a3", "a4"]
    head = logs.get_log_events(logGroupName="/app/read", logStreamName="a", limit=2, startFromHead=True)
    assert [e["message"][:2] for e in head["events"]] == ["a0", "a1"]
    forward = logs.get_log_events(logGroupName="/app/read", logStreamName="a", limit=2, nextToken=head["nextForwardToken"])
    assert [e["message"][:2] for e in forward["events"]] == ["a2", "a3"]
    back = logs.get_log_events(logGroupName="/app/read", logStreamName="a", limit=2, nextToken=tail["nextBackwardToken"])
    assert [e["message"][:2] for e in back["events"]] == ["a1", "a2"]
    token, seen = head["nextForwardToken"], []
    while True:
        page = logs.get_log_events(logGroupName="/app/read", logStreamName="a", limit=2, nextToken=token)
        seen += [e["message"][:2] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == ["a2", "a3", "a4"]
    assert logs.get_log_events(logGroupName="/app/read", logStreamName="a", startTime=now + 4, endTime=now + 8)["events"][0]["message"].startswith("a2")
    with pytest.raises(ClientError) as no_stream:
        logs.get_log_events(logGroupName="/app/read", logStreamName="zz")
    assert _code(no_stream)[0] == "ResourceNotFoundException"
    # FilterLogEvents: interleaved by time across streams, patterns, paging
    every = logs.filter_log_events(logGroupName="/app/read")["events"]
    assert [e["logStreamName"] for e in every] == ["a", "b"] * 5 and len({e["eventId"] for e in every}) == 10
    errors = logs.filter_log_events(logGroupName="/app/read", filterPattern='{ $.level = "ERROR" }')["events"]
    assert [json.loads(e["message"])["n"] for e in errors] == [1, 3]
    assert [e["message"][:2] for e in logs.filter_log_events(logGroupName="/app/read", filterPattern="?a1 ?a4")["events"]] == ["a1", "a4"]
    assert len(logs.filter_log_events(logGroupName="/app/read", logStreamNames=["b"])["events"]) == 5
    assert len(logs.filter_log_events(logGroupName="/app/read", logStreamNamePrefix="a", startTime=now + 4)["events"]) == 3
    paged = [e["eventId"] for page in logs.get_paginator("filter_log_events").paginate(logGroupName="/app/read", PaginationConfig={"PageSize": 3})
             for e in page["events"]]
    assert paged == [e["eventId"] for e in every]
    with pytest.raises(ClientError) as bad_pattern:
        logs.filter_log_events(logGroupName="/app/read", filterPattern="{ $.level = }")
    assert _code(bad_pattern)[0] == "InvalidParameterException"


HANDLER = """\
import base64, gzip, json

def handler(event, context):
    document = json.loads(gzip.decompress(base64.b64decode(event['awslogs']['data'])))
    print('DELIVERED', json.dumps(document))
    return document
"""

NOISY = """\
def handler(event, context):
    print('PAYMENT FAILED order=' + str(event.get('order')))
    print('all good otherwise')
    return 'ok'
"""


def _function(lam: Any, name: str, code: str, allow_logs: bool = True) -> str:
    arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": zip_of({"app.py": code})})["FunctionArn"]
    if allow_logs:
        lam.add_permission(FunctionName=name, StatementId="logs", Action="lambda:InvokeFunction", Principal="logs.amazonaws.com",
                           SourceArn=ARN + "*")
    return arn


def test_subscription_filter_rules(root: Any, logs: Any) -> None:
    Role.objects.create(name="lambda-api-role")
    lam = root("lambda")
    target = _function(lam, "sub-target", HANDLER)
    closed = _function(lam, "sub-closed", HANDLER, allow_logs=False)
    logs.create_log_group(logGroupName="/app/subs")
    with pytest.raises(ClientError) as no_permission:
        logs.put_subscription_filter(logGroupName="/app/subs", filterName="f", filterPattern="", destinationArn=closed)
    assert _code(no_permission) == ("InvalidParameterException", "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.")
    with pytest.raises(ClientError) as no_function:
        logs.put_subscription_filter(logGroupName="/app/subs", filterName="f", filterPattern="", destinationArn=target.replace("sub-target", "missing"))
    assert _code(no_function)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as not_lambda:
        logs.put_subscription_filter(logGroupName="/app/subs", filterName="f", filterPattern="", destinationArn="arn:aws:kinesis:us-east-1:000000000000:stream/s")
    assert _code(not_lambda)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as bad_pattern:
        logs.put_subscription_filter(logGroupName="/app/subs", filterName="f", filterPattern="{ $.a = ", destinationArn=target)
    assert _code(bad_pattern)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as no_group:
        logs.put_subscription_filter(logGroupName="/nope", filterName="f", filterPattern="", destinationArn=target)
    assert _code(no_group)[0] == "ResourceNotFoundException"
    logs.put_subscription_filter(logGroupName="/app/subs", filterName="one", filterPattern="ERROR", destinationArn=target)
    logs.put_subscription_filter(logGroupName="/app/subs", filterName="two", filterPattern="", destinationArn=target)
    logs.put_subscription_filter(logGroupName="/app/subs", filterName="one", filterPattern="WARN", destinationArn=target)  # replaces
    with pytest.raises(ClientError) as third:
        logs.put_subscription_filter(logGroupName="/app/subs", filterName="three", filterPattern="", destinationArn=target)
    assert _code(third)[0] == "LimitExceededException"
    described = logs.describe_subscription_filters(logGroupName="/app/subs")["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["destinationArn"]) for f in described] == [("one", "WARN", target), ("two", "", target)]
    assert described[0]["distribution"] == "ByLogStream" and described[0]["logGroupName"] == "/app/subs"
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName="/app/subs", filterNamePrefix="t")["subscriptionFilters"]] == ["two"]
    logs.delete_subscription_filter(logGroupName="/app/subs", filterName="two")
    with pytest.raises(ClientError) as gone:
        logs.delete_subscription_filter(logGroupName="/app/subs", filterName="two")
    assert _code(gone)[0] == "ResourceNotFoundException"
    # a function's own group cannot be delivered to that function
    with pytest.raises(ClientError) as loop:
        logs.put_subscription_filter(logGroupName="/aws/lambda/sub-target", filterName="self", filterPattern="", destinationArn=target)
    assert _code(loop)[0] == "InvalidParameterException" and "own log group" in _code(loop)[1]


def _decoded(invocation: Invocation) -> dict[str, Any]:
    event = json.loads(invocation.payload)
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def test_subscription_delivers_written_and_invocation_logs(root: Any, logs: Any, worker: Any, kiln_web: str) -> None:
    from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel

    Role.objects.create(name="lambda-api-role")
    lam = root("lambda")
    target = _function(lam, "collector", HANDLER)
    # events written with PutLogEvents: only the matching ones, in the awslogs event, to a real function
    logs.create_log_group(logGroupName="/app/payments")
    logs.create_log_stream(logGroupName="/app/payments", logStreamName="web-1")
    logs.put_subscription_filter(logGroupName="/app/payments", filterName="errors", filterPattern='{ $.level = "ERROR" }', destinationArn=target)
    now = _now()
    logs.put_log_events(logGroupName="/app/payments", logStreamName="web-1", logEvents=[
        {"timestamp": now, "message": json.dumps({"level": "INFO", "m": "fine"})},
        {"timestamp": now + 1, "message": json.dumps({"level": "ERROR", "m": "declined"})}])
    done = wait_invocation({"function_name": "collector", "trigger": Trigger.LOGS})
    assert done.status == "succeeded", done.error
    assert done.trigger_detail["log_group"] == "/app/payments" and done.trigger_detail["filter_name"] == "errors"
    parsed = CloudWatchLogsModel.model_validate(json.loads(done.payload))
    decoded = parsed.awslogs.decoded_data
    assert decoded.messageType == "DATA_MESSAGE" and decoded.owner == "000000000000" and decoded.logGroup == "/app/payments"
    assert decoded.logStream == "web-1" and decoded.subscriptionFilters == ["errors"]
    assert [json.loads(e.message)["m"] for e in decoded.logEvents] == ["declined"]
    assert json.loads(done.result)["logEvents"][0]["timestamp"] == now + 1  # the function decoded it too
    # a function's own invocation logs in /aws/lambda/<fn> reach a filter on that group targeting another function
    _function(lam, "payments", NOISY)
    logs.put_subscription_filter(logGroupName="/aws/lambda/payments", filterName="failures", filterPattern="PAYMENT FAILED", destinationArn=target)
    lam.invoke(FunctionName="payments", Payload=json.dumps({"order": 17}))
    deadline = time.time() + 30
    while time.time() < deadline and not Invocation.objects.filter(function_name="collector", trigger_detail__filter_name="failures").exists():
        delivery.invocation_logs_deliver()  # what beat runs every few seconds
        time.sleep(0.5)
    delivered = wait_invocation({"function_name": "collector", "trigger_detail__filter_name": "failures"})
    assert delivered.status == "succeeded", delivered.error
    document = _decoded(delivered)
    assert document["logGroup"] == "/aws/lambda/payments" and document["logStream"].startswith(time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()))
    assert [e["message"] for e in document["logEvents"]] == ["PAYMENT FAILED order=17\n"]
    assert str(delivered.parent_id) == str(Invocation.objects.get(function_name="payments").id)  # the console's causal chain
    CloudWatchLogsModel.model_validate(json.loads(delivered.payload))
    delivery.invocation_logs_deliver()  # nothing twice
    assert Invocation.objects.filter(function_name="collector", trigger_detail__filter_name="failures").count() == 1


def test_cli_put_and_filter(endpoint: str, root_key: tuple[str, str], transactional_db: None) -> None:
    _cli(endpoint, root_key, "logs", "create-log-group", "--log-group-name", "/cli/app")
    _cli(endpoint, root_key, "logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "s")
    events = json.dumps([{"timestamp": _now(), "message": "hello from the cli"}])
    put = json.loads(_cli(endpoint, root_key, "logs", "put-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "s", "--log-events", events).stdout)
    assert put["nextSequenceToken"]
    found = json.loads(_cli(endpoint, root_key, "logs", "filter-log-events", "--log-group-name", "/cli/app", "--filter-pattern", "cli").stdout)
    assert [e["message"] for e in found["events"]] == ["hello from the cli"]
    missing = _cli(endpoint, root_key, "logs", "create-log-group", "--log-group-name", "/cli/app", check=False)
    assert missing.returncode != 0 and "ResourceAlreadyExistsException" in missing.stderr


def test_iam_decides_per_group_and_stream(logs: Any, make_client: Any) -> None:
    from iam.credentials import access_key_create
    from iam.users import user_create, user_policy_put

    logs.create_log_group(logGroupName="/team/a")
    logs.create_log_group(logGroupName="/team/b")
    user = user_create(name="writer")
    user_policy_put(user=user, name="write", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": ARN + "/team/a:*"}]})
    issued = access_key_create(user=user)
    client = make_client("logs", (issued.key.access_key_id, issued.secret))
    client.create_log_stream(logGroupName="/team/a", logStreamName="s")
    client.put_log_events(logGroupName="/team/a", logStreamName="s", logEvents=[{"timestamp": _now(), "message": "allowed"}])
    for call in (lambda: client.create_log_stream(logGroupName="/team/b", logStreamName="s"),
                 lambda: client.filter_log_events(logGroupName="/team/a"), lambda: client.delete_log_group(logGroupName="/team/a")):
        with pytest.raises(ClientError) as denied:
            call()
        assert _code(denied)[0] == "AccessDeniedException" and denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
