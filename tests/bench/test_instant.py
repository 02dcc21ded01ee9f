"""bench/instant.py: the server that answers at once is a floor only if boto3 takes its answers as successes, for
each protocol the bench times (DynamoDB's and SQS's JSON, S3's REST with and without ``100 Continue``)."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config


@pytest.fixture
def instant() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "bench.instant", str(port)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "bench.instant did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def _client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t",
                        config=Config(retries={"max_attempts": 1}))


def test_boto3_takes_each_answer_as_a_success(instant: str) -> None:
    ddb, sqs, s3 = _client("dynamodb", instant), _client("sqs", instant), _client("s3", instant)
    for _ in range(3):  # on one kept-alive connection each
        assert ddb.put_item(TableName="t", Item={"pk": {"S": "a"}})["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})
        assert sqs.send_message(QueueUrl=f"{instant}/000000000000/q", MessageBody="x" * 100)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.put_object(Bucket="b", Key="k", Body=b"x" * 1024)["ResponseMetadata"]["HTTPStatusCode"] == 200
        # a file-like body: botocore asks "Expect: 100-continue" and sends it only after the server's 100
        assert s3.put_object(Bucket="b", Key="big", Body=io.BytesIO(b"x" * 2_000_000))["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_object(Bucket="b", Key="k")["Body"].read() == b""
