"""S3 Put/GetBucketNotificationConfiguration with real boto3: LambdaFunctionConfigurations onto Kiln's bucket
notifications (the REST API's rows), S3's validation errors, all-or-nothing replacement, IAM decisions, and an
upload through the S3 API invoking the configured function in the real worker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.arns import function_arn
from events.models import BucketNotification
from invoker.models import InvocationStatus
from tests.aws.conftest import wait_invocation


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _lambda(arn: str, events: list[str], *, config_id: str | None = None, **rules: str) -> dict[str, Any]:
    config: dict[str, Any] = {"LambdaFunctionArn": arn, "Events": events}
    if config_id:
        config["Id"] = config_id
    if rules:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": name, "Value": value} for name, value in rules.items()]}}
    return config


@pytest.fixture
def s3(api, make_function, root) -> Any:
    make_function("on-upload")
    make_function("on-delete")
    client = root("s3")
    client.create_bucket(Bucket="inbox")
    return client


def _put(s3: Any, *configs: dict[str, Any], **extra: Any) -> Any:
    return s3.put_bucket_notification_configuration(Bucket="inbox", NotificationConfiguration={"LambdaFunctionConfigurations": list(configs), **extra})


def test_put_and_get_round_trip_on_the_same_rows_as_the_rest_api(api, s3) -> None:
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket="inbox")
    _put(s3, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"], config_id="images", prefix="img/", Suffix=".jpg"),
         _lambda(function_arn("on-delete"), ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:Delete"]))
    got = s3.get_bucket_notification_configuration(Bucket="inbox")["LambdaFunctionConfigurations"]
    assert got[0] == {"Id": "images", "LambdaFunctionArn": function_arn("on-upload"), "Events": ["s3:ObjectCreated:*"],
                      "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "img/"}, {"Name": "Suffix", "Value": ".jpg"}]}}}
    generated = got[1]["Id"]
    assert generated and got[1] == {"Id": generated, "LambdaFunctionArn": function_arn("on-delete"), "Events": ["s3:ObjectRemoved:Delete"]}
    assert api.get("/api/v1/buckets/inbox/notifications/").json() == [
        {"id": "images", "events": ["s3:ObjectCreated:*"], "filter": {"prefix": "img/", "suffix": ".jpg"}, "function": "on-upload"},
        {"id": generated, "events": ["s3:ObjectRemoved:Delete"], "filter": {"prefix": "", "suffix": ""}, "function": "on-delete"}]
    # what the REST API writes, the S3 API reads
    configs = [{"id": "all", "events": ["s3:ObjectCreated:Put"], "filter": {"suffix": ".txt"}, "function": "on-delete"}]
    assert api.put("/api/v1/buckets/inbox/notifications/", configs, format="json").status_code == 200
    assert s3.get_bucket_notification_configuration(Bucket="inbox")["LambdaFunctionConfigurations"] == [
        {"Id": "all", "LambdaFunctionArn": function_arn("on-delete"), "Events": ["s3:ObjectCreated:Put"],
         "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".txt"}]}}}]
    # an empty configuration removes them all
    s3.put_bucket_notification_configuration(Bucket="inbox", NotificationConfiguration={})
    assert not BucketNotification.objects.exists()
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket="inbox")


def test_invalid_configurations_are_refused_as_s3_refuses_them_and_nothing_changes(s3) -> None:
    _put(s3, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"], config_id="keep"))
    upload = function_arn("on-upload")
    missing, qualified = function_arn("nope"), function_arn("on-upload", "live")
    cases = [
        ([_lambda(upload, ["s3:ObjectCreated:Everything"])], "The event is not supported for notifications", {}),
        ([_lambda(upload, ["s3:ObjectCreated:*"], Name=".jpg")], "filter rule name must be either prefix or suffix",
         {"ArgumentName": "FilterRule.Name", "ArgumentValue": "Name"}),
        ([{**_lambda(upload, ["s3:ObjectCreated:*"]), "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "Prefix", "Value": "b"}]}}}],
         "Cannot specify more than one prefix rule in a filter.", {}),
        ([_lambda(upload, ["s3:ObjectCreated:*"], prefix="x" * 1025)], "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation", {}),
        ([_lambda(upload, ["s3:ObjectCreated:*"], config_id="a", prefix="logs/"),
          _lambda(function_arn("on-delete"), ["s3:ObjectCreated:Put"], config_id="b", prefix="logs/2026/")],
         "Configurations overlap. Configurations on the same bucket cannot share a common event type.", {}),
        ([_lambda(upload, ["s3:ObjectCreated:*"], config_id="ok"), _lambda(missing, ["s3:ObjectRemoved:*"]), _lambda(qualified, ["s3:ObjectRemoved:*"])],
         "Unable to validate the following destination configurations",
         {"ArgumentName1": f"{missing}, null", "ArgumentValue1": f"Not authorized to invoke function [{missing}]",
          "ArgumentName2": f"{qualified}, null", "ArgumentValue2": f"Not authorized to invoke function [{qualified}]"}),
    ]
    for configs, message, fields in cases:
        with pytest.raises(ClientError) as exc:
            _put(s3, *configs)
        assert _error(exc) == ("InvalidArgument", 400), message
        error = exc.value.response["Error"]
        assert error["Message"] == message
        assert {k: error[k] for k in fields} == fields
    # none of them wrote anything: the first configuration stands
    assert [(c.config_id, c.function.name) for c in BucketNotification.objects.all()] == [("keep", "on-upload")]


def test_prefixes_that_cannot_both_match_a_key_do_not_overlap(s3) -> None:
    _put(s3, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"], prefix="images/"),
         _lambda(function_arn("on-delete"), ["s3:ObjectCreated:*"], prefix="videos/"),
         _lambda(function_arn("on-delete"), ["s3:ObjectRemoved:*"], prefix="images/"))
    assert BucketNotification.objects.count() == 3


def test_queue_topic_and_eventbridge_destinations_are_not_implemented(s3) -> None:
    queue = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectCreated:*"]}]}
    topic = {"TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Events": ["s3:ObjectCreated:*"]}]}
    for extra, name in ((queue, "QueueConfigurations"), (topic, "TopicConfigurations"), ({"EventBridgeConfiguration": {}}, "EventBridgeConfiguration")):
        with pytest.raises(ClientError) as exc:
            _put(s3, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"]), **extra)
        assert _error(exc) == ("NotImplemented", 501)
        assert name in exc.value.response["Error"]["Message"]
    assert not BucketNotification.objects.exists()


def test_unknown_bucket_and_iam_decisions(root, make_client, s3) -> None:
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_notification_configuration(Bucket="nobucket")
    assert _error(missing) == ("NoSuchBucket", 404)
    iam = root("iam")
    iam.create_user(UserName="watcher")
    iam.put_user_policy(UserName="watcher", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetBucketNotification", "Resource": "arn:aws:s3:::inbox"}]}))
    key = iam.create_access_key(UserName="watcher")["AccessKey"]
    watcher = make_client("s3", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert watcher.get_bucket_notification_configuration(Bucket="inbox")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as denied:
        _put(watcher, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"]))
    assert _error(denied) == ("AccessDenied", 403)
    assert "s3:PutBucketNotification" in denied.value.response["Error"]["Message"]
    assert not BucketNotification.objects.exists()
    iam.put_user_policy(UserName="watcher", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutBucketNotification", "Resource": "arn:aws:s3:::inbox"}]}))
    _put(watcher, _lambda(function_arn("on-upload"), ["s3:ObjectCreated:*"]))
    with pytest.raises(ClientError) as get_denied:
        watcher.get_bucket_notification_configuration(Bucket="inbox")
    assert _error(get_denied) == ("AccessDenied", 403)


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> str:
    """The live server the worker's functions are pointed at when a test needs the worker; Django's otherwise."""
    if "worker" in request.fixturenames:
        return request.getfixturevalue("kiln_web")
    return request.getfixturevalue("live_server").url


def test_an_upload_invokes_the_configured_function(api, worker, root, make_function, transactional_db) -> None:
    make_function("on-upload")
    s3 = root("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_bucket_notification_configuration(Bucket="photos", NotificationConfiguration={"LambdaFunctionConfigurations": [
        _lambda(function_arn("on-upload"), ["s3:ObjectCreated:Put"], config_id="jpegs", prefix="in/", suffix=".jpg")]})
    s3.put_object(Bucket="photos", Key="in/skipped.png", Body=b"not a jpeg")
    s3.put_object(Bucket="photos", Key="in/cat 1.jpg", Body=b"meow")
    invocation = wait_invocation({"function_name": "on-upload"})
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    record = json.loads(invocation.result)["Records"][0]  # the echo handler returns the event it got
    assert (record["eventName"], record["s3"]["configurationId"], record["s3"]["object"]["key"], record["s3"]["object"]["size"]) == (
        "ObjectCreated:Put", "jpegs", "in/cat+1.jpg", 4)
    assert record["s3"]["bucket"]["name"] == "photos"
    from invoker.models import Invocation

    assert Invocation.objects.filter(function_name="on-upload").count() == 1
