"""Lambda's event source mapping operations with boto3: states Creating → Enabled → Disabling → Disabled ..., limits, errors.

The source kind is registered by the test, as ``queues`` registers SQS: the registry is the extension point, and
what is tested is the mapping's life through the API (states, validation, conditional moves, settle after commit).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from events import mappings
from events.mappings import SourceKind
from events.models import EventSourceMapping
from iam.models import Role
from tests.aws.test_lambda_api import CODE, ROLE_ARN


@pytest.fixture
def test_kind() -> Any:
    calls: list[tuple[str, str]] = []
    kind = SourceKind(name="testq", arn=re.compile(r"^arn:aws:testq:[a-z0-9-]+:\d{12}:[a-z-]+$"), batch_default=10, batch_max=10_000,
                      start=lambda m: calls.append(("start", str(m.uuid))), stop=lambda m: calls.append(("stop", str(m.uuid))))
    mappings.source_kind_register(kind)
    yield calls
    mappings._KINDS.pop("testq", None)


def test_mapping_life_through_the_lambda_api(root: Any, transactional_db: None, test_kind: list[tuple[str, str]]) -> None:
    Role.objects.create(name="lambda-api-role")
    lam = root("lambda")
    lam.create_function(FunctionName="consumer", Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": CODE})
    with pytest.raises(ClientError) as unserved:
        lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn="arn:aws:kafka:us-east-1:000000000000:cluster/x")
    assert unserved.value.response["Error"]["Code"] == "InvalidParameterValueException" and "no event source" in unserved.value.response["Error"]["Message"]
    source = "arn:aws:testq:us-east-1:000000000000:orders"
    with pytest.raises(ClientError) as batch:
        lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn=source, BatchSize=10_001)
    assert batch.value.response["Error"]["Code"] == "InvalidParameterValueException"
    created = lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn=source, BatchSize=10_000, MaximumBatchingWindowInSeconds=5,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202 and created["State"] == "Creating" and created["BatchSize"] == 10_000
    uuid = created["UUID"]
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled" and got["FunctionArn"].endswith(":function:consumer") and test_kind == [("start", uuid)]
    with pytest.raises(ClientError) as duplicate:
        lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn=source)
    assert duplicate.value.response["Error"]["Code"] == "ResourceConflictException"
    disabling = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabling["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled" and test_kind[-1] == ("stop", uuid)
    updating = lam.update_event_source_mapping(UUID=uuid, BatchSize=50)
    assert updating["State"] == "Updating" and lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    listed = lam.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid] and listed[0]["BatchSize"] == 50
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    assert not EventSourceMapping.objects.filter(pk=uuid).exists() and test_kind[-1] == ("stop", uuid)
    with pytest.raises(ClientError) as gone:
        lam.get_event_source_mapping(UUID=uuid)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException" and gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
