"""DynamoDB figures with boto3, Kiln beside moto's server started in the same run: sequential PutItem,
GetItem, Query (a partition of 20 items, ``Limit=20``) and PartiQL ``SELECT`` of one item by its key with ``?``
parameters (ExecuteStatement) operations per second on a table with a hash and a range key, small items of ten
attributes, one client; and the same PutItem and GetItem against ``bench.instant``, a server that answers at once:
the most any server could reach with this client.

Called by ``bench.run`` (``make bench``) with its gunicorn: ``results["dynamodb"] = dynamodb.measure(port, procs, env)``
and ``rows += dynamodb.rows(r)``; ``BENCH_ONLY=dynamodb`` runs this section alone. Kiln verifies SigV4, asks IAM
and writes every item to PostgreSQL; moto keeps items in a dict and checks nothing: the ratio says what that costs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench import instant
from bench.procs import Processes, free_port, wait_for

OPS = int(os.environ.get("BENCH_DDB_OPS", "500"))
PARTITION = 20


def _client(url: str, key: tuple[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={"max_attempts": 1}, max_pool_connections=4))


def _item(pk: str, sk: int) -> dict[str, dict[str, Any]]:
    """A small item: the two keys and eight other attributes of the usual types."""
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "name": {"S": f"user {sk}"}, "email": {"S": f"u{sk}@example.com"},
            "age": {"N": str(20 + sk % 50)}, "active": {"BOOL": sk % 2 == 0}, "score": {"N": str(sk * 3 + 1)},
            "tags": {"SS": ["a", "b"]}, "city": {"S": "Lisbon"}, "meta": {"M": {"v": {"N": "1"}, "src": {"S": "bench"}}}}


def _rates(client: Any, table: str) -> dict[str, float]:
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    wait_for(lambda: client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE", timeout_s=30, what=f"{table} to be ACTIVE")
    for i in range(20):  # warm the connection and the server
        client.put_item(TableName=table, Item=_item("warm", i))
        client.get_item(TableName=table, Key={"pk": {"S": "warm"}, "sk": {"N": str(i)}})
        client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "warm"}}, Limit=PARTITION)
    started = time.perf_counter()
    for i in range(OPS):
        client.put_item(TableName=table, Item=_item(f"p{i // PARTITION}", i % PARTITION))
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(OPS):
        got = client.get_item(TableName=table, Key={"pk": {"S": f"p{i // PARTITION}"}, "sk": {"N": str(i % PARTITION)}})
        if got.get("Item") != _item(f"p{i // PARTITION}", i % PARTITION):
            raise RuntimeError(f"{table}: GetItem {i} answered {got.get('Item')}")
    get_s = time.perf_counter() - started
    partitions = OPS // PARTITION
    started = time.perf_counter()
    for i in range(OPS):
        got = client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"p{i % partitions}"}}, Limit=PARTITION)
        if got["Count"] != PARTITION:
            raise RuntimeError(f"{table}: Query {i} counted {got['Count']}")
    query_s = time.perf_counter() - started
    statement = f'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?'
    started = time.perf_counter()
    for i in range(OPS):
        found = client.execute_statement(Statement=statement, Parameters=[{"S": f"p{i // PARTITION}"}, {"N": str(i % PARTITION)}])
        if found["Items"] != [_item(f"p{i // PARTITION}", i % PARTITION)]:
            raise RuntimeError(f"{table}: ExecuteStatement {i} answered {found['Items']}")
    select_s = time.perf_counter() - started
    return {"put": OPS / put_s, "get": OPS / get_s, "query": OPS / query_s, "select": OPS / select_s}


def _floor_rates(client: Any) -> dict[str, float]:
    """PutItem and GetItem against ``bench.instant``: boto3's own time per call (building, signing, sending and
    parsing), which no server can go below."""
    for i in range(20):
        client.put_item(TableName="floor", Item=_item("warm", i))
    rates = {}
    for op, call in (("put", lambda i: client.put_item(TableName="floor", Item=_item(f"p{i // PARTITION}", i % PARTITION))),
                     ("get", lambda i: client.get_item(TableName="floor", Key={"pk": {"S": f"p{i // PARTITION}"}, "sk": {"N": str(i % PARTITION)}}))):
        started = time.perf_counter()
        for i in range(OPS):
            call(i)
        rates[op] = OPS / (time.perf_counter() - started)
    return rates


def measure(port: int, procs: Processes, env: dict[str, str]) -> dict:
    from iam.credentials import access_key_create

    issued = access_key_create(root=True)
    kiln = _client(f"http://127.0.0.1:{port}", (issued.key.access_key_id, issued.secret))
    moto_port = free_port()
    moto = procs.start("moto-ddb", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], env)
    try:
        other = _client(f"http://127.0.0.1:{moto_port}", ("testing", "testing"))
        wait_for(lambda: other.list_tables() is not None, timeout_s=60, what="moto's server", checks=[lambda: procs.check("moto-ddb", moto)])
        out = {"moto": _rates(other, "bench-ddb"), "kiln": _rates(kiln, "bench-ddb")}
    finally:
        procs.stop(moto)
    out["floor"] = instant.floor_rates(procs, env, _client, _floor_rates)
    return out


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    if "dynamodb" not in r:
        return []
    kiln, moto = r["dynamodb"]["kiln"], r["dynamodb"]["moto"]
    out = []
    for op, label in (("put", "PutItem, 10 attributes"), ("get", "GetItem"), ("query", f"Query, partition of {PARTITION}, Limit {PARTITION}"),
                      ("select", "ExecuteStatement, SELECT one item by key")):
        ratio = kiln[op] / moto[op]
        out.append((f"DynamoDB {label}: Kiln / moto server, {OPS} sequential, boto3", f"{kiln[op]:.0f} ops/s", f"moto {moto[op]:.0f} ops/s", f"{ratio:.2f}x", ">= 3x",
                    "ok" if ratio >= 3 else "MISS"))
    floor = r["dynamodb"].get("floor")
    for op, label in (("put", "PutItem"), ("get", "GetItem")):
        if floor:
            # 3x moto asks for a call in a third of moto's time; boto3's own time (a server answering at once) bounds it
            out.append((f"DynamoDB {label}: boto3 alone (a server answering at once) / moto server", f"{floor[op]:.0f} ops/s", f"moto {moto[op]:.0f} ops/s",
                        f"{floor[op] / moto[op]:.2f}x", "(bound)", ""))
    return out
