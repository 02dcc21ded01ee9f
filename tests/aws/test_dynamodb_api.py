"""DynamoDB over the AWS endpoint with real boto3 clients (client and resource): every operation, its errors
and limits, conditions, transactions, pagination, number precision, sort order, indexes and IAM."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ddb(root: Callable[[str], Any]) -> Any:
    return root("dynamodb")


@pytest.fixture
def resource(endpoint: str, root_key: tuple[str, str]) -> Any:
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=root_key[0],
                          aws_secret_access_key=root_key[1], config=Config(retries={"max_attempts": 1}))


def _code(info: Any) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def _table(ddb: Any, name: str = "things", *, range_key: str | None = "sk", range_type: str = "S", **extra: Any) -> dict[str, Any]:
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}] + ([{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else [])
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}] + ([{"AttributeName": range_key, "AttributeType": range_type}] if range_key else [])
    definitions += extra.pop("definitions", [])
    return ddb.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=definitions, BillingMode="PAY_PER_REQUEST", **extra)["TableDescription"]


# --- control plane ---------------------------------------------------------------------------------------------------

def test_create_describe_list_delete(ddb: Any) -> None:
    created = ddb.create_table(
        TableName="Music", KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "Song", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}, {"AttributeName": "Song", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}, Tags=[{"Key": "team", "Value": "audio"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert created["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
    assert created["LatestStreamArn"] == created["TableArn"] + "/stream/" + created["LatestStreamLabel"]
    ddb.get_waiter("table_exists").wait(TableName="Music", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    table = ddb.describe_table(TableName="Music")["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
    assert table["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED" and table["TableClassSummary"] == {"TableClass": "STANDARD"}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert len(table["LatestStreamLabel"]) == 23 and table["DeletionProtectionEnabled"] is False
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "team", "Value": "audio"}]
    with pytest.raises(ClientError) as info:
        _table(ddb, "Music")
    assert _code(info) == ("ResourceInUseException", "Table already exists: Music")
    for name in ("alpha", "beta", "gamma"):
        _table(ddb, name)
    assert ddb.list_tables()["TableNames"] == ["Music", "alpha", "beta", "gamma"]
    page = ddb.list_tables(Limit=2)
    assert page == {**page, "TableNames": ["Music", "alpha"], "LastEvaluatedTableName": "alpha"}
    rest = ddb.list_tables(Limit=2, ExclusiveStartTableName="alpha")
    assert rest["TableNames"] == ["beta", "gamma"] and "LastEvaluatedTableName" not in rest
    assert [n for p in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}) for n in p["TableNames"]] == ["Music", "alpha", "beta", "gamma"]
    deleted = ddb.delete_table(TableName="Music")["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName="Music", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    with pytest.raises(ClientError) as info:
        ddb.describe_table(TableName="Music")
    assert _code(info) == ("ResourceNotFoundException", "Requested resource not found: Table: Music not found")
    assert info.value.__class__.__name__ == "ResourceNotFoundException"


@pytest.mark.parametrize("kwargs, message", [
    ({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}]},
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"),
    ({"AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}]},
     "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]"),
    ({"BillingMode": "PROVISIONED"}, "No provisioned throughput specified for the table"),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
     "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"),
    ({"TableName": "a b c"}, "1 validation error detected: Value 'a b c' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    ({"LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk2", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}]},
     "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"),
])
def test_create_table_validation(ddb: Any, kwargs: dict[str, Any], message: str) -> None:
    params: dict[str, Any] = {"TableName": "bad", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}
    params.update(kwargs)
    if kwargs.get("BillingMode") == "PROVISIONED":
        params.pop("ProvisionedThroughput", None)
    with pytest.raises(ClientError) as info:
        ddb.create_table(**params)
    assert _code(info) == ("ValidationException", message)


def test_index_limits(ddb: Any) -> None:
    def gsi(i: int) -> dict[str, Any]:
        return {"IndexName": f"gsi{i}", "KeySchema": [{"AttributeName": f"a{i}", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}

    def defs(n: int) -> list[dict[str, str]]:
        return [{"AttributeName": f"a{i}", "AttributeType": "S"} for i in range(n)]

    created = _table(ddb, "twenty", GlobalSecondaryIndexes=[gsi(i) for i in range(20)], definitions=defs(20))
    assert len(created["GlobalSecondaryIndexes"]) == 20
    with pytest.raises(ClientError) as info:
        _table(ddb, "twentyone", GlobalSecondaryIndexes=[gsi(i) for i in range(21)], definitions=defs(21))
    assert _code(info)[0] == "ValidationException" and "GlobalSecondaryIndex count exceeds the per-table limit of 20" in _code(info)[1]

    def lsi(i: int) -> dict[str, Any]:
        return {"IndexName": f"lsi{i}", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": f"a{i}", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}

    created = _table(ddb, "five", LocalSecondaryIndexes=[lsi(i) for i in range(5)], definitions=defs(5))
    assert created["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}
    with pytest.raises(ClientError) as info:
        _table(ddb, "six", LocalSecondaryIndexes=[lsi(i) for i in range(6)], definitions=defs(6))
    assert _code(info)[0] == "ValidationException"


def test_update_table_ttl_tags_protection(ddb: Any) -> None:
    arn = _table(ddb, "tab1")["TableArn"]
    updated = ddb.update_table(TableName="tab1", BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})["TableDescription"]
    assert updated["TableStatus"] == "UPDATING"
    table = ddb.describe_table(TableName="tab1")["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    first = ddb.update_table(TableName="tab1", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    ddb.update_table(TableName="tab1", StreamSpecification={"StreamEnabled": False})
    off = ddb.describe_table(TableName="tab1")["Table"]
    assert "StreamSpecification" not in off and off["LatestStreamArn"] == first["LatestStreamArn"]
    time.sleep(0.01)
    again = ddb.update_table(TableName="tab1", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
    assert again["LatestStreamLabel"] != first["LatestStreamLabel"]
    assert ddb.describe_time_to_live(TableName="tab1")["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    assert ddb.update_time_to_live(TableName="tab1", TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})["TimeToLiveSpecification"] == {
        "AttributeName": "exp", "Enabled": True}
    assert ddb.describe_time_to_live(TableName="tab1")["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with pytest.raises(ClientError) as info:
        ddb.update_time_to_live(TableName="tab1", TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert _code(info) == ("ValidationException", "TimeToLive is already enabled")
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    ddb.update_table(TableName="tab1", DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as info:
        ddb.delete_table(TableName="tab1")
    assert _code(info)[0] == "ValidationException"
    ddb.update_table(TableName="tab1", DeletionProtectionEnabled=False)
    ddb.delete_table(TableName="tab1")
    limits = ddb.describe_limits()
    assert limits["TableMaxWriteCapacityUnits"] == 40000
    assert ddb.describe_endpoints()["Endpoints"][0]["CachePeriodInMinutes"] == 1440
