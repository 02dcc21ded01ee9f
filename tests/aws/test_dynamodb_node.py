"""The issue's DocumentClient example, unmodified, behind an HTTP route: SDK v2 (`aws-sdk` from npm, as a
layer) writes the item through Kiln's DynamoDB endpoint with a role allowing dynamodb:PutItem on the
table, and fails with AccessDeniedException with a role that does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from invoker.models import Invocation, InvocationStatus
from tests.aws.conftest import allow_role
from tests.aws.test_function_sdk_node import aws_sdk_v2_layer  # noqa: F401 - the session fixture

HANDLER = """\
import AWS from 'aws-sdk';
const dynamo = new AWS.DynamoDB.DocumentClient();

export const handler = async (event) => {
  const data = JSON.parse(event.body);
  await dynamo.put({ TableName: "UserTable", Item: { id: data.id, name: data.name } }).promise();
  return { statusCode: 200, body: JSON.stringify({ message: "User saved" }) };
};
"""


@pytest.fixture
def endpoint(kiln_web: str) -> str:
    return kiln_web


def _route(api: Any, layer: str, *, name: str, role: str) -> str:
    made = api.post("/api/v1/layers/", {"name": f"sdk-{name}", "zip_base64": layer}, format="json")
    assert made.status_code == 201, made.content
    body = {"name": name, "runtime": "nodejs20.x", "handler": "index.handler", "code": {"files": {"index.mjs": HANDLER}}, "role": role,
            "layers": [made.json()["arn"]], "timeout": 30, "memory_size": 256}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    created = api.post("/api/v1/http-apis/", {"name": name}, format="json").json()
    route = api.post(f"/api/v1/http-apis/{created['id']}/routes/", {"route_key": "POST /users", "function": name}, format="json")
    assert route.status_code == 201, route.content
    return f"/gw/{created['id']}/users"


def test_document_client_put_behind_a_route(api, worker, root, aws_sdk_v2_layer, transactional_db) -> None:  # noqa: F811
    ddb = root("dynamodb")
    ddb.create_table(TableName="UserTable", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    allow_role("user-writer", ["dynamodb:PutItem"], "arn:aws:dynamodb:us-east-1:000000000000:table/UserTable")
    allow_role("user-reader", ["dynamodb:GetItem"], "arn:aws:dynamodb:us-east-1:000000000000:table/UserTable")
    saved = Client().post(_route(api, aws_sdk_v2_layer, name="save-user", role="user-writer"), json.dumps({"id": "u1", "name": "Ann"}),
                          content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert json.loads(saved.content) == {"message": "User saved"}
    assert ddb.get_item(TableName="UserTable", Key={"id": {"S": "u1"}})["Item"] == {"id": {"S": "u1"}, "name": {"S": "Ann"}}

    refused = Client().post(_route(api, aws_sdk_v2_layer, name="save-user-denied", role="user-reader"), json.dumps({"id": "u2", "name": "Bob"}),
                            content_type="application/json")
    assert refused.status_code == 502  # a function error, as the gateway answers it
    denied = Invocation.objects.get(function_name="save-user-denied")
    assert denied.status == InvocationStatus.FAILED and denied.error["errorType"] == "AccessDeniedException", denied.error
    assert "is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/UserTable" in denied.error["errorMessage"]
    assert "Item" not in ddb.get_item(TableName="UserTable", Key={"id": {"S": "u2"}})


HANDLER_V3 = """\
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, GetCommand, QueryCommand, UpdateCommand, ExecuteStatementCommand } from "@aws-sdk/lib-dynamodb";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async () => {
  await doc.send(new PutCommand({ TableName: "Orders", Item: { pk: "u1", sk: "order#1", total: 19.99, tags: new Set(["a", "b"]) } }));
  await doc.send(new UpdateCommand({ TableName: "Orders", Key: { pk: "u1", sk: "order#1" }, UpdateExpression: "ADD visits :one",
                                     ExpressionAttributeValues: { ":one": 1 } }));
  const got = await doc.send(new GetCommand({ TableName: "Orders", Key: { pk: "u1", sk: "order#1" } }));
  const found = await doc.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p AND begins_with(sk, :o)",
                                                  ExpressionAttributeValues: { ":p": "u1", ":o": "order#" } }));
  const partiql = await doc.send(new ExecuteStatementCommand({ Statement: 'SELECT visits FROM "Orders" WHERE pk = ? AND begins_with(sk, ?)',
                                                               Parameters: ["u1", "order#"] }));
  return { total: got.Item.total, visits: got.Item.visits, tags: [...got.Item.tags].sort(), count: found.Count, partiql: partiql.Items };
};
"""


def test_sdk_v3_lib_dynamodb_from_the_runtime(api, worker, root, transactional_db) -> None:
    ddb = root("dynamodb")
    ddb.create_table(TableName="Orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    allow_role("orders-app", ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query",
                             "dynamodb:PartiQLSelect"], "arn:aws:dynamodb:us-east-1:000000000000:table/Orders")
    body = {"name": "orders-v3", "runtime": "nodejs20.x", "handler": "index.handler", "code": {"files": {"index.mjs": HANDLER_V3}},
            "role": "orders-app", "timeout": 30, "memory_size": 256}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    answer = root("lambda").invoke(FunctionName="orders-v3", Payload=b"{}")
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    assert payload == {"total": 19.99, "visits": 1, "tags": ["a", "b"], "count": 1, "partiql": [{"visits": 1}]}
    assert ddb.get_item(TableName="Orders", Key={"pk": {"S": "u1"}, "sk": {"S": "order#1"}})["Item"]["tags"] == {"SS": ["a", "b"]}
