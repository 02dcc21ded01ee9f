"""Malformed but correctly signed AWS requests get a 4xx in the service's own wire format, never a 500 (what
``make fuzz`` found: fuzz/aws.py). Each request is signed with botocore's SigV4Auth and sent through Django's
test client, so no server runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.test import Client

from iam.credentials import access_key_create

pytestmark = pytest.mark.django_db
REGION = "us-east-1"


@pytest.fixture
def key() -> tuple[str, str]:
    issued = access_key_create(root=True)
    return issued.key.access_key_id, issued.secret


def signed(key: tuple[str, str], service: str, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
           signing_name: str | None = None) -> Any:
    """``method path`` signed for ``service`` (botocore's signer, the test client's host) and answered by the test client."""
    request = AWSRequest(method=method, url=f"http://testserver{path}", headers=dict(headers or {}), data=body)
    SigV4Auth(Credentials(*key), signing_name or service, REGION).add_auth(request)
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in request.headers.items() if name.lower() != "content-type"}
    return Client().generic(method, path, data=body, content_type=request.headers.get("Content-Type", ""), HTTP_HOST="testserver", **meta)


def _lambda_error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["X-Amzn-ErrorType"] == code and response.json()["message"], (response["X-Amzn-ErrorType"], response.content)
    return response.json()["message"]


def _json_error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    document = json.loads(response.content)
    assert document["__type"] == code and document["message"], document
    return document["message"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/2018-10-31/layers/x/versions/x/policy", b'{"StatementId": "s", "Action": "lambda:GetLayerVersion", "Principal": "*"}'),
    ("DELETE", "/2018-10-31/layers/x/versions/x/policy/s", b""),
    ("DELETE", "/2018-10-31/layers/x/versions/x", b""),
    ("GET", "/2018-10-31/layers/x/versions/1.5", b""),
])
def test_a_layer_version_that_is_not_a_number_is_refused(key, method: str, path: str, body: bytes) -> None:
    """URI labels are typed as their members are: an integer VersionNumber of 'x' was passed on as text to the database (500)."""
    message = _lambda_error(signed(key, "lambda", method, path, body=body, headers={"Content-Type": "application/json"} if body else None), 400,
                            "InvalidParameterValueException")
    assert "VersionNumber must be an integer" in message


def test_missing_required_members_are_a_validation_error_not_a_key_error(key) -> None:
    """A required member absent reached the handler, which looked it up (KeyError, 500): DynamoDB Streams, Logs, SQS, EventBridge."""
    def call(service: str, target: str, body: dict, version: str = "1.0", signing_name: str | None = None) -> Any:
        return signed(key, service, "POST", "/", body=json.dumps(body).encode(), signing_name=signing_name,
                      headers={"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target})

    message = _json_error(call("dynamodbstreams", "DynamoDBStreams_20120810.DescribeStream", {}, signing_name="dynamodb"), 400, "ValidationException")
    assert message == "1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null"
    _json_error(call("dynamodbstreams", "DynamoDBStreams_20120810.GetShardIterator", {"ShardId": "s", "ShardIteratorType": "LATEST"}, signing_name="dynamodb"),
                400, "ValidationException")
    assert "'logGroupName'" in _json_error(call("logs", "Logs_20140328.ListTagsLogGroup", {}, "1.1"), 400, "ValidationException")
    created = call("sqs", "AmazonSQS.CreateQueue", {"Attributes": {}})
    assert _json_error(created, 400, "MissingParameter") == "The request must contain the parameter QueueName."
    assert created["x-amzn-query-error"] == "MissingParameter;Sender"
    tagged = call("events", "AWSEvents.TagResource", {"ResourceARN": "arn:aws:events:us-east-1:000000000000:rule/r", "Tags": [{"Value": "v"}]}, "1.1")
    assert "'Tags[0].Key'" in _json_error(tagged, 400, "ValidationException")  # a nested structure's required member
    assert "'Tags[0]'" in _json_error(call("events", "AWSEvents.TagResource", {"ResourceARN": "arn:aws:events:us-east-1:000000000000:rule/r",
                                                                              "Tags": [None]}, "1.1"), 400, "ValidationException")


def test_json_nested_thousands_deep_is_a_400(key) -> None:
    """json.loads raised RecursionError on a document nested thousands deep (Scheduler's CreateSchedule: 500)."""
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = signed(key, "scheduler", "POST", "/schedules/s", body=deep, headers={"Content-Type": "application/json"})
    assert "nested too deeply" in _lambda_error(response, 400, "InvalidRequestContentException")
    deep_list = b'{"logGroupName": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = signed(key, "logs", "POST", "/", body=deep_list, headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.CreateLogGroup"})
    assert "nested too deeply" in _json_error(response, 400, "InvalidRequestContentException")


def test_a_nul_character_is_refused_before_the_database_sees_it(key) -> None:
    """PostgreSQL text cannot hold U+0000: a schedule named '\\x00' in the URI was looked up and failed there (DataError, 500)."""
    message = _lambda_error(signed(key, "scheduler", "GET", "/schedules/%00"), 400, "ValidationException")
    assert "NUL" in message
    response = signed(key, "logs", "POST", "/", body=b'{"logGroupName": "a\\u0000b"}',
                      headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.CreateLogGroup"})
    assert "'logGroupName'" in _json_error(response, 400, "ValidationException")


def test_dynamodb_json_nested_thousands_deep_is_a_serialization_error(key) -> None:
    """DynamoDB parses its own bodies (aws/services/dynamodb.py): json.loads' RecursionError was a 500 there too."""
    response = signed(key, "dynamodb", "POST", "/", body=b"[" * 5000 + b"]" * 5000,
                      headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Scan"})
    assert "nested too deeply" in _json_error(response, 400, "com.amazon.coral.service#SerializationException")


def test_a_nul_character_in_a_query_protocol_form_is_refused(key) -> None:
    """SNS Publish stored a Message holding U+0000 (PostgreSQL DataError, 500); every query service parses the form alike."""
    from urllib.parse import urlencode

    def post(form: bytes) -> Any:
        return signed(key, "sns", "POST", "/", body=form, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    assert post(urlencode({"Action": "CreateTopic", "Version": "2010-03-31", "Name": "t"}).encode()).status_code == 200
    form = urlencode({"Action": "Publish", "Version": "2010-03-31", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message": "a\x00b"}).encode()
    response = post(form)
    assert response.status_code == 400, response.content
    assert b"<ErrorResponse" in response.content and b"<Code>ValidationError</Code>" in response.content and b"'Message'" in response.content
