"""The CloudWatch Logs API (read side) over invocation logs, with real boto3 against a live Kiln and a real worker."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iam.models import Role
from tests.aws.test_lambda_api import CODE, ROLE_ARN


@pytest.fixture
def clients(root: Any, transactional_db: None) -> tuple[Any, Any]:
    Role.objects.create(name="lambda-api-role")
    return root("lambda"), root("logs")


def test_invocation_lines_are_log_events(clients: tuple[Any, Any], worker: Any) -> None:
    lam, logs = clients
    lam.create_function(FunctionName="logged", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": CODE})
    started = int(time.time() * 1000) - 1000
    request_ids = [lam.invoke(FunctionName="logged", Payload=json.dumps({"i": i}))["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid") for i in range(3)]
    assert all(request_ids)
    events = [e for page in logs.get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/logged", startTime=started) for e in page["events"]]
    messages = [e["message"] for e in events]
    assert sum(m.startswith("START RequestId:") for m in messages) == 3 and sum(m.startswith("REPORT RequestId:") for m in messages) == 3
    assert sum("hello from $LATEST" in m for m in messages) == 3
    assert all(e["logStreamName"].startswith(time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime())) for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events) and len({e["eventId"] for e in events}) == len(events)
    # paging one event at a time gives the same events, in the same order
    paged, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName="/aws/lambda/logged", startTime=started, limit=1, **({"nextToken": token} if token else {}))
        paged += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in events]
    only_reports = logs.filter_log_events(logGroupName="/aws/lambda/logged", filterPattern="REPORT -nothing")["events"]
    assert len(only_reports) == 3 and all(e["message"].startswith("REPORT") for e in only_reports)
    assert logs.filter_log_events(logGroupName="/aws/lambda/logged", startTime=int(time.time() * 1000) + 60_000)["events"] == []
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
    assert len(streams) == 1
    stream_events = logs.get_log_events(logGroupName="/aws/lambda/logged", logStreamName=streams[0]["logStreamName"])["events"]
    assert len(stream_events) == len(events)
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/log")["logGroups"]] == ["/aws/lambda/logged"]


def test_log_errors(clients: tuple[Any, Any]) -> None:
    lam, logs = clients
    with pytest.raises(ClientError) as missing:
        logs.filter_log_events(logGroupName="/aws/lambda/nothing")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as too_many:
        logs.filter_log_events(logGroupName="/aws/lambda/nothing", limit=10_001)
    assert too_many.value.response["Error"]["Code"] in ("InvalidParameterException", "ResourceNotFoundException")
    lam.create_function(FunctionName="quiet", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": CODE})
    assert logs.filter_log_events(logGroupName="/aws/lambda/quiet", limit=10_000)["events"] == []  # the limit's edge
    with pytest.raises(ClientError) as over_limit:
        logs.filter_log_events(logGroupName="/aws/lambda/quiet", limit=10_001)
    assert over_limit.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as bad_token:
        logs.filter_log_events(logGroupName="/aws/lambda/quiet", nextToken="not-a-token")
    assert bad_token.value.response["Error"]["Code"] == "InvalidParameterException"
