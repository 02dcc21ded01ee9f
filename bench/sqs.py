"""SQS figures: SendMessage / ReceiveMessage / DeleteMessageBatch messages per second on Kiln's endpoint beside
moto's server (``moto.server``, in memory) in the same run with the same boto3 client, and the latency from
SendMessage to the handler's start through an event source mapping (p50, p99).

Called by ``bench.run`` (``make bench``) with its gunicorn, worker and process supervisor:
``results["sqs"] = sqs.measure(port, procs, env)`` and ``rows += sqs.rows(r)``. Kiln verifies SigV4, asks IAM and
writes every message to PostgreSQL; moto keeps messages in a dict and checks nothing: the ratio says what that costs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench import instant
from bench.procs import Processes, free_port, wait_for
from bench.stats import percentile

MESSAGES = int(os.environ.get("BENCH_SQS_MESSAGES", "1000"))
LATENCY_SENDS = int(os.environ.get("BENCH_SQS_LATENCY", "50"))
PY_STAMP = "import time\n\ndef handler(event, context):\n    return {'started': time.time(), 'id': event['Records'][0]['messageId']}\n"


def _client(url: str, key: tuple[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={"max_attempts": 1}, max_pool_connections=4))


def _rates(client: Any, name: str) -> dict[str, float]:
    url = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    for i in range(20):  # warm-up
        client.send_message(QueueUrl=url, MessageBody=f"warm {i}")
    client.purge_queue(QueueUrl=url)
    body = "x" * 100
    started = time.perf_counter()
    for _ in range(MESSAGES):
        client.send_message(QueueUrl=url, MessageBody=body)
    send_s = time.perf_counter() - started
    handles: list[str] = []
    started = time.perf_counter()
    while len(handles) < MESSAGES:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            raise RuntimeError(f"{name}: received {len(handles)} of {MESSAGES}")
        handles += [m["ReceiptHandle"] for m in got]
    receive_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(handles), 10):
        client.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "ReceiptHandle": h} for j, h in enumerate(handles[i:i + 10])])
    delete_s = time.perf_counter() - started
    left = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    if any(v != "0" for v in left.values()):
        raise RuntimeError(f"{name}: messages left after deleting: {left}")
    return {"send": MESSAGES / send_s, "receive": MESSAGES / receive_s, "delete": MESSAGES / delete_s}


def _latency(client: Any) -> dict[str, float]:
    import json

    from events import mappings
    from events.models import EventSourceMapping, MappingState
    from functions.services import Code, FunctionConfig, function_create
    from invoker.models import FINAL_STATUSES, Invocation, Trigger
    from queues.selectors import queue_get

    function = function_create(name="bench-sqs-stamp", config=FunctionConfig(runtime="python3.11", handler="index.handler"), code=Code(files={"index.py": PY_STAMP}))
    url = client.create_queue(QueueName="bench-sqs-mapped")["QueueUrl"]
    mapping = mappings.mapping_create(function=function, qualifier="", source_arn=queue_get("bench-sqs-mapped").arn, data=mappings.MappingInput(batch_size=1))
    wait_for(lambda: EventSourceMapping.objects.get(pk=mapping.pk).state == MappingState.ENABLED, timeout_s=30, what="the mapping to be enabled")
    samples = []
    for i in range(LATENCY_SENDS + 3):
        sent = time.time()
        message_id = client.send_message(QueueUrl=url, MessageBody=f"stamp {i}")["MessageId"]
        deadline = time.time() + 60
        while True:
            row = Invocation.objects.filter(trigger=Trigger.QUEUE, function_name="bench-sqs-stamp", status__in=FINAL_STATUSES).order_by("-queued_at").first()
            if row is not None and row.result and json.loads(row.result).get("id") == message_id:
                break
            if time.time() > deadline:
                raise RuntimeError(f"message {i} did not reach the handler within 60 s")
            time.sleep(0.002)
        if i >= 3:
            samples.append((json.loads(row.result)["started"] - sent) * 1000)
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": len(samples)}


def _floor_rates(client: Any) -> dict[str, float]:
    """SendMessage and DeleteMessageBatch against ``bench.instant``: boto3's own time per call, which no server can go below."""
    url = client.meta.endpoint_url + "/000000000000/floor"
    body = "x" * 100
    started = time.perf_counter()
    for _ in range(MESSAGES):
        client.send_message(QueueUrl=url, MessageBody=body)
    send_s = time.perf_counter() - started
    handle = "h" * 120  # about the length of a real receipt handle
    started = time.perf_counter()
    for _ in range(0, MESSAGES, 10):
        client.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "ReceiptHandle": handle} for j in range(10)])
    delete_s = time.perf_counter() - started
    return {"send": MESSAGES / send_s, "delete": MESSAGES / delete_s}


def measure(port: int, procs: Processes, env: dict[str, str]) -> dict:
    from iam.credentials import access_key_create

    issued = access_key_create(root=True)
    kiln = _client(f"http://127.0.0.1:{port}", (issued.key.access_key_id, issued.secret))
    moto_port = free_port()
    moto = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], env)
    try:
        other = _client(f"http://127.0.0.1:{moto_port}", ("testing", "testing"))
        wait_for(lambda: bool(other.list_queues() is not None), timeout_s=60, what="moto's server", checks=[lambda: procs.check("moto", moto)])
        result = {"moto": _rates(other, "bench-sqs"), "kiln": _rates(kiln, "bench-sqs")}
    finally:
        procs.stop(moto)
    result["floor"] = instant.floor_rates(procs, env, _client, _floor_rates)
    print(f"[bench] SQS msg/s (before the latency part): {result}", flush=True)
    result["latency"] = _latency(kiln)
    return result


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    if "sqs" not in r:
        return []
    kiln, moto, lat = r["sqs"]["kiln"], r["sqs"]["moto"], r["sqs"]["latency"]
    out = []
    for op, label in (("send", "SendMessage, one per call"), ("receive", "ReceiveMessage, 10 per call"), ("delete", "DeleteMessageBatch, 10 per call")):
        ratio = kiln[op] / moto[op]
        out.append((f"SQS {label}: Kiln / moto server, {MESSAGES} messages, boto3", f"{kiln[op]:.0f} msg/s", f"{moto[op]:.0f} msg/s", f"{ratio:.2f}x", ">= 3x",
                    "ok" if ratio >= 3 else "MISS"))
    floor = r["sqs"].get("floor")
    for op, label in (("send", "SendMessage"), ("delete", "DeleteMessageBatch, 10 per call")) if floor else ():
        # 3x moto asks for a call in a third of moto's time; boto3's own time (a server answering at once) bounds it
        out.append((f"SQS {label}: boto3 alone (a server answering at once) / moto server", f"{floor[op]:.0f} msg/s", f"moto {moto[op]:.0f} msg/s",
                    f"{floor[op] / moto[op]:.2f}x", "(bound)", ""))
    out.append((f"SQS → Lambda: SendMessage to handler start p50 ({lat['n']} sends, BatchSize 1, warm)", f"{lat['p50']:.1f} ms", "-", "-", "-", ""))
    out.append(("SQS → Lambda: SendMessage to handler start p99", f"{lat['p99']:.1f} ms", "-", "-", "-", ""))
    return out
