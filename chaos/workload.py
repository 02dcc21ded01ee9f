"""What the harness asks of Kiln: a trivial Python function that records each of its runs in a Kiln
DynamoDB table, asynchronous invocations of it through the REST API, and SQS messages it receives through
an event source mapping.

A sandbox shares nothing with the harness, so the function records a run through Kiln's own endpoint:
``ADD runs :token`` on the item of its request id (or an SQS message's id), with a token drawn per run. An
SDK retry of the same write adds the same token, so the size of the set is the number of times the
function really ran for that id.
"""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

FUNCTION = "chaos-recorder"
TABLE = "chaos-runs"
QUEUE = "chaos-queue"
ROLE = "chaos-recorder-role"

HANDLER = '''import os
import uuid

import boto3
from botocore.config import Config

# Retries span a database restart: the write must not fail the run because Kiln was briefly away.
_db = boto3.client("dynamodb", config=Config(retries={"max_attempts": 12, "mode": "standard"}, connect_timeout=3, read_timeout=15))


def _record(key):
    _db.update_item(TableName=os.environ["TABLE"], Key={"id": {"S": key}}, UpdateExpression="ADD runs :run",
                    ExpressionAttributeValues={":run": {"SS": [uuid.uuid4().hex]}})


def handler(event, context):
    if "Records" in event:
        for record in event["Records"]:
            _record("sqs:" + record["messageId"])
        return {"records": len(event["Records"])}
    _record(context.aws_request_id)
    return {"n": event.get("n")}
'''


# Without the records (the short run of ``make test``): the same answer, no SDK and no write per run.
ECHO = '''def handler(event, context):
    if "Records" in event:
        return {"records": len(event["Records"])}
    return {"n": event.get("n")}
'''


def aws_client(service: str, url: str, root_key: tuple[str, str]) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=root_key[0], aws_secret_access_key=root_key[1],
                        config=Config(retries={"max_attempts": 10, "mode": "standard"}, connect_timeout=5, read_timeout=60))


def setup(url: str, root_key: tuple[str, str], *, sqs: bool, record: bool = True) -> str | None:
    """The role, the table, the function and (with ``sqs``) the queue and its mapping; the queue's URL.
    Without ``record`` the function only answers (``ECHO``): runs are then not counted."""
    iam = aws_client("iam", url, root_key)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": "*"}]}
    iam.put_role_policy(RoleName=ROLE, PolicyName="record-runs", PolicyDocument=json.dumps(allow))
    dynamodb = aws_client("dynamodb", url, root_key)
    dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.py", HANDLER if record else ECHO)
    lam = aws_client("lambda", url, root_key)
    lam.create_function(FunctionName=FUNCTION, Runtime="python3.11", Role=role, Handler="index.handler", Code={"ZipFile": archive.getvalue()},
                        Timeout=60, MemorySize=128, Environment={"Variables": {"TABLE": TABLE}})
    if not sqs:
        return None
    queues = aws_client("sqs", url, root_key)
    queue_url = queues.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    arn = queues.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(FunctionName=FUNCTION, EventSourceArn=arn, BatchSize=10)
    return queue_url


@dataclass
class Submitted:
    """What the harness sent and what Kiln answered."""

    accepted: dict[str, int] = field(default_factory=dict)  # request id -> the event's n
    refused: dict[int, int] = field(default_factory=dict)  # status (0: no answer) -> how many times
    unanswered: int = 0  # requests whose answer was lost after they were sent (they may have been accepted)
    sqs_sent: set[str] = field(default_factory=set)  # message ids SQS accepted
    first_at: float = 0.0
    last_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit_all(url: str, token: str, count: int, threads: int, submitted: Submitted, *, deadline: float, on_progress: Callable[[int], None] | None = None) -> None:
    """Submit ``count`` Event invocations ``{"n": i}`` from ``threads`` threads, each on its own keep-alive
    connection; an event Kiln did not accept (refused, or no answer) is sent again after a pause, as a
    client would, until ``deadline``."""
    host, port = url.removeprefix("http://").split(":")
    path = f"/api/v1/functions/{FUNCTION}/invoke/?invocation_type=Event"
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    next_n = iter(range(count))
    n_lock = threading.Lock()
    submitted.first_at = time.monotonic()

    def one_thread() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while True:
            with n_lock:
                n = next(next_n, None)
            if n is None:
                break
            body = json.dumps({"n": n}).encode()
            while time.monotonic() < deadline:
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    with submitted.lock:
                        submitted.unanswered += 1
                    time.sleep(0.2)
                    continue
                if answer.status == 202:
                    with submitted.lock:
                        submitted.accepted[json.loads(data)["request_id"]] = n
                        if on_progress is not None:
                            on_progress(len(submitted.accepted))
                    break
                with submitted.lock:
                    submitted.refused[answer.status] = submitted.refused.get(answer.status, 0) + 1
                time.sleep(0.2)
        conn.close()

    workers = [threading.Thread(target=one_thread, name=f"chaos-submit-{i}", daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    submitted.last_at = time.monotonic()


def send_messages(url: str, root_key: tuple[str, str], queue_url: str, count: int, submitted: Submitted, *, deadline: float) -> None:
    """``count`` SQS messages in batches of ten; a batch entry SQS did not accept is sent again."""
    queues = aws_client("sqs", url, root_key)
    n = 0
    while n < count and time.monotonic() < deadline:
        entries = [{"Id": str(i), "MessageBody": json.dumps({"m": n + i})} for i in range(min(10, count - n))]
        try:
            answer = queues.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except Exception:  # noqa: BLE001 - Kiln away for a moment (a fault): the batch is sent again
            time.sleep(0.5)
            continue
        with submitted.lock:
            submitted.sqs_sent.update(entry["MessageId"] for entry in answer.get("Successful", []))
        n += len(answer.get("Successful", []))
        time.sleep(0.05)


def recorded_runs(url: str, root_key: tuple[str, str]) -> dict[str, int]:
    """How many times the function ran per request id (or ``sqs:<message id>``), from its table."""
    dynamodb = aws_client("dynamodb", url, root_key)
    runs: dict[str, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            runs[item["id"]["S"]] = len(item.get("runs", {}).get("SS", []))
    return runs
