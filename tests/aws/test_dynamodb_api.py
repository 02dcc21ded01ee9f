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
    with pytest.raises(ClientError) as info:
        ddb.list_tags_of_resource(ResourceArn=arn.replace("tab1", "missing"))
    assert _code(info)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:  # another account's table: denied, as AWS does, whether it exists or not
        ddb.list_tags_of_resource(ResourceArn=arn.replace(":000000000000:", ":111122223333:"))
    assert _code(info)[0] == "AccessDeniedException" and "dynamodb:ListTagsOfResource" in _code(info)[1]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    ddb.update_table(TableName="tab1", DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as info:
        ddb.delete_table(TableName="tab1")
    assert _code(info)[0] == "ValidationException"
    ddb.update_table(TableName="tab1", DeletionProtectionEnabled=False)
    ddb.delete_table(TableName="tab1")
    limits = ddb.describe_limits()
    assert limits["TableMaxWriteCapacityUnits"] == 40000
    assert ddb.describe_endpoints()["Endpoints"][0]["CachePeriodInMinutes"] == 1440


# --- items -----------------------------------------------------------------------------------------------------------

def test_put_get_update_delete(ddb: Any) -> None:
    _table(ddb)
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}, "ss": {"SS": ["x", "y"]},
            "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"NS": ["1", "2"]}]}}}}
    assert "Attributes" not in ddb.put_item(TableName="things", Item=item)
    got = ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ConsistentRead=True)["Item"]
    assert got == {**item, "n": {"N": "1.5"}}
    assert ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ProjectionExpression="m.l[2], #n",
                        ExpressionAttributeNames={"#n": "n"})["Item"] == {"n": {"N": "1.5"}, "m": {"M": {"l": {"L": [{"NS": ["1", "2"]}]}}}}
    assert ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, AttributesToGet=["b"])["Item"] == {"b": {"B": b"\x00\xff"}}
    assert "Item" not in ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "2"}})
    old = ddb.put_item(TableName="things", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["n"] == {"N": "1.5"}
    out = ddb.update_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET v = v + :one, w = :w REMOVE x",
                          ExpressionAttributeValues={":one": {"N": "1"}, ":w": {"S": "new"}}, ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "2"}, "w": {"S": "new"}}
    out = ddb.update_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="ADD v :one",
                          ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_OLD")
    assert out["Attributes"] == {"v": {"N": "2"}}
    created = ddb.update_item(TableName="things", Key={"pk": {"S": "new"}, "sk": {"S": "1"}}, UpdateExpression="SET c = :c",
                              ExpressionAttributeValues={":c": {"N": "7"}}, ReturnValues="UPDATED_NEW")
    assert created["Attributes"] == {"c": {"N": "7"}}
    assert ddb.get_item(TableName="things", Key={"pk": {"S": "new"}, "sk": {"S": "1"}})["Item"] == {"pk": {"S": "new"}, "sk": {"S": "1"}, "c": {"N": "7"}}
    with pytest.raises(ClientError) as info:
        ddb.update_item(TableName="things", Key={"pk": {"S": "new"}, "sk": {"S": "1"}}, UpdateExpression="SET pk = :c",
                        ExpressionAttributeValues={":c": {"S": "x"}})
    assert _code(info) == ("ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")
    gone = ddb.delete_item(TableName="things", Key={"pk": {"S": "new"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")["Attributes"]
    assert gone["c"] == {"N": "7"}
    assert "Attributes" not in ddb.delete_item(TableName="things", Key={"pk": {"S": "new"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnValues="ALL_NEW")
    assert _code(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName="things", Key={"pk": {"S": "a"}})
    assert _code(info) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName="nothing", Key={"pk": {"S": "a"}})
    assert _code(info) == ("ResourceNotFoundException", "Requested resource not found")
    table = ddb.describe_table(TableName="things")["Table"]
    assert table["ItemCount"] == 1 and table["TableSizeBytes"] > 0


def test_conditions_and_return_values_on_failure(ddb: Any) -> None:
    _table(ddb)
    key = {"pk": {"S": "c"}, "sk": {"S": "1"}}
    ddb.put_item(TableName="things", Item={**key, "state": {"S": "open"}}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item={**key, "state": {"S": "x"}}, ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _code(info) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert info.value.response["Item"] == {**key, "state": {"S": "open"}}
    assert info.value.__class__.__name__ == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as info:
        ddb.update_item(TableName="things", Key=key, UpdateExpression="SET state = :s", ConditionExpression="state = :closed",
                        ExpressionAttributeValues={":s": {"S": "x"}, ":closed": {"S": "closed"}})
    assert "Item" not in info.value.response
    ddb.update_item(TableName="things", Key=key, UpdateExpression="SET #s = :s", ConditionExpression="#s IN (:o, :c) AND size(#s) > :two",
                    ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":s": {"S": "closed"}, ":o": {"S": "open"}, ":c": {"S": "c"}, ":two": {"N": "2"}})
    with pytest.raises(ClientError) as info:
        ddb.delete_item(TableName="things", Key=key, Expected={"state": {"Value": {"S": "open"}}})
    assert _code(info)[0] == "ConditionalCheckFailedException"
    ddb.delete_item(TableName="things", Key=key, Expected={"state": {"Value": {"S": "closed"}}})
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item=key, ConditionExpression="attribute_exists(pk)", Expected={"pk": {"Exists": True}})
    assert _code(info)[0] == "ValidationException" and "Can not use both expression and non-expression parameters" in _code(info)[1]
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item=key, ExpressionAttributeValues={":x": {"S": "1"}})
    assert _code(info) == ("ValidationException", "ExpressionAttributeValues can only be specified when using expressions")


def test_resource_decimal_query_filters_and_batch_writer(resource: Any, ddb: Any) -> None:
    _table(ddb, "orders", range_type="S")
    table = resource.Table("orders")
    table.put_item(Item={"pk": "user#1", "sk": "order#001", "total": Decimal("19.99"), "tags": {"a", "b"}, "paid": True})
    with table.batch_writer() as batch:
        for i in range(2, 40):
            batch.put_item(Item={"pk": "user#1", "sk": f"order#{i:03d}", "total": Decimal(i), "paid": i % 2 == 0})
        batch.put_item(Item={"pk": "user#1", "sk": "profile", "name": "Ann"})
    assert table.get_item(Key={"pk": "user#1", "sk": "order#001"})["Item"] == {
        "pk": "user#1", "sk": "order#001", "total": Decimal("19.99"), "tags": {"a", "b"}, "paid": True}
    found = table.query(KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").begins_with("order#"))
    assert found["Count"] == 39 and [i["sk"] for i in found["Items"]][:2] == ["order#001", "order#002"]
    paid = table.query(KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").between("order#010", "order#019"), FilterExpression=Attr("paid").eq(True))
    assert paid["Count"] == 5 and paid["ScannedCount"] == 10
    back = table.query(KeyConditionExpression=Key("pk").eq("user#1"), ScanIndexForward=False, Limit=2)
    assert [i["sk"] for i in back["Items"]] == ["profile", "order#039"] and back["LastEvaluatedKey"] == {"pk": "user#1", "sk": "order#039"}
    big = table.scan(FilterExpression=Attr("total").gt(Decimal(30)))
    assert big["Count"] == 9 and big["ScannedCount"] == 40
    counted = table.query(KeyConditionExpression=Key("pk").eq("user#1"), Select="COUNT")
    assert counted["Count"] == 40 and "Items" not in counted
    table.update_item(Key={"pk": "user#1", "sk": "profile"}, UpdateExpression="SET visits = if_not_exists(visits, :zero) + :one, history = list_append(if_not_exists(history, :empty), :h)",
                      ExpressionAttributeValues={":zero": 0, ":one": 1, ":empty": [], ":h": ["login"]})
    assert table.get_item(Key={"pk": "user#1", "sk": "profile"})["Item"]["visits"] == 1


def test_pagination_query_and_scan(ddb: Any) -> None:
    _table(ddb, range_type="N")
    for p in ("a", "b", "c"):
        requests = [{"PutRequest": {"Item": {"pk": {"S": p}, "sk": {"N": str(i)}, "v": {"S": "x" * 10}}}} for i in range(25)]
        ddb.batch_write_item(RequestItems={"things": requests})
    seen, start, pages = [], None, 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(TableName="things", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "b"}}, Limit=7, **extra)
        seen += [int(i["sk"]["N"]) for i in page["Items"]]
        pages += 1
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(25)) and pages == 4
    scanned = [i for p in ddb.get_paginator("scan").paginate(TableName="things", PaginationConfig={"PageSize": 10}) for i in p["Items"]]
    assert len(scanned) == 75 and len({(i["pk"]["S"], i["sk"]["N"]) for i in scanned}) == 75
    segments = [ddb.scan(TableName="things", Segment=s, TotalSegments=3)["Items"] for s in range(3)]
    assert sum(len(s) for s in segments) == 75
    for s in segments:  # a partition lies in one segment
        assert len({i["pk"]["S"] for i in s}) * 25 == len(s)
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName="things", Segment=3, TotalSegments=3)
    assert _code(info)[0] == "ValidationException"


def test_one_megabyte_pages(ddb: Any) -> None:
    _table(ddb, range_type="N")
    blob = "x" * (400 * 1024 - 100)
    for i in range(5):
        ddb.put_item(TableName="things", Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "blob": {"S": blob}})
    first = ddb.query(TableName="things", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}})
    assert first["Count"] == 3 and first["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"N": "2"}}
    rest = ddb.query(TableName="things", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}}, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert rest["Count"] == 2 and "LastEvaluatedKey" not in rest
    ok = "x" * (400 * 1024 - len("pk") - len("big") - len("sk") - 2 - len("blob"))  # the number 9 costs 2 bytes
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item={"pk": {"S": "big"}, "sk": {"N": "9"}, "blob": {"S": ok + "x"}})
    assert _code(info) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    ddb.put_item(TableName="things", Item={"pk": {"S": "big"}, "sk": {"N": "9"}, "blob": {"S": ok}})
    with pytest.raises(ClientError) as info:
        ddb.update_item(TableName="things", Key={"pk": {"S": "big"}, "sk": {"N": "9"}}, UpdateExpression="SET y = :y", ExpressionAttributeValues={":y": {"S": "y"}})
    assert _code(info)[0] == "ValidationException"


def test_numbers_and_sort_order(ddb: Any) -> None:
    _table(ddb, "nums", range_type="N")
    exact = "1234567890123456789012345678901234567.8"
    for n in ("-100", "-1.5", "-1", "0", "0.001", "2", "10", exact, "-9.9E-130", "1E+125"):
        ddb.put_item(TableName="nums", Item={"pk": {"S": "n"}, "sk": {"N": n}})
    got = ddb.query(TableName="nums", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "n"}})["Items"]
    assert [Decimal(i["sk"]["N"]) for i in got] == [Decimal(n) for n in ("-100", "-1.5", "-1", "-9.9E-130", "0", "0.001", "2", "10", exact, "1E+125")]
    assert got[8]["sk"]["N"] == exact
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="nums", Item={"pk": {"S": "n"}, "sk": {"N": "123456789012345678901234567890123456789"}})  # 39 digits
    assert _code(info) == ("ValidationException", "Attempting to store more than 38 significant digits in a Number")
    _table(ddb, "strs")
    for s in ("a", "Z", "é", "b", "aa"):
        ddb.put_item(TableName="strs", Item={"pk": {"S": "s"}, "sk": {"S": s}})
    got = ddb.query(TableName="strs", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "s"}})["Items"]
    assert [i["sk"]["S"] for i in got] == ["Z", "a", "aa", "b", "é"]
    ranged = ddb.query(TableName="nums", KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
                       ExpressionAttributeValues={":p": {"S": "n"}, ":lo": {"N": "-1.5"}, ":hi": {"N": "2.0"}})["Items"]
    assert [Decimal(i["sk"]["N"]) for i in ranged] == [Decimal(n) for n in ("-1.5", "-1", "-9.9E-130", "0", "0.001", "2")]


def test_global_and_local_indexes(ddb: Any) -> None:
    ddb.create_table(
        TableName="people", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in (("pk", "S"), ("sk", "S"), ("city", "S"), ("age", "N"))],
        GlobalSecondaryIndexes=[{"IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}, {"AttributeName": "age", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}}],
        LocalSecondaryIndexes=[{"IndexName": "by-age", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "age", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    people = [("org", "p1", "Oslo", 40, "Ann"), ("org", "p2", "Oslo", 30, "Bob"), ("org", "p3", "Rome", 35, "Cid"), ("org2", "p4", "Oslo", 30, "Dee")]
    for pk, sk, city, age, name in people:
        ddb.put_item(TableName="people", Item={"pk": {"S": pk}, "sk": {"S": sk}, "city": {"S": city}, "age": {"N": str(age)}, "name": {"S": name}, "x": {"S": "hidden"}})
    ddb.put_item(TableName="people", Item={"pk": {"S": "org"}, "sk": {"S": "p5"}, "name": {"S": "no city"}})
    oslo = ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}})
    assert [(i["age"]["N"], i["sk"]["S"]) for i in oslo["Items"]] == [("30", "p2"), ("30", "p4"), ("40", "p1")]
    assert set(oslo["Items"][0]) == {"pk", "sk", "city", "age", "name"}
    page = ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}}, Limit=1)
    assert page["LastEvaluatedKey"] == {"pk": {"S": "org"}, "sk": {"S": "p2"}, "city": {"S": "Oslo"}, "age": {"N": "30"}}
    after = ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}},
                      ExclusiveStartKey=page["LastEvaluatedKey"])
    assert [i["sk"]["S"] for i in after["Items"]] == ["p4", "p1"]
    with pytest.raises(ClientError) as info:
        ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}}, Select="ALL_ATTRIBUTES")
    assert _code(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}}, ConsistentRead=True)
    assert _code(info) == ("ValidationException", "Consistent reads are not supported on global secondary indexes")
    young = ddb.query(TableName="people", IndexName="by-age", KeyConditionExpression="pk = :p AND age < :a", ExpressionAttributeValues={":p": {"S": "org"}, ":a": {"N": "39"}})
    assert young["Items"] == [{"pk": {"S": "org"}, "sk": {"S": "p2"}, "age": {"N": "30"}}, {"pk": {"S": "org"}, "sk": {"S": "p3"}, "age": {"N": "35"}}]
    full = ddb.query(TableName="people", IndexName="by-age", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "org"}}, Select="ALL_ATTRIBUTES")
    assert full["Items"][0]["x"] == {"S": "hidden"} and full["Count"] == 3
    assert ddb.scan(TableName="people", IndexName="by-city")["Count"] == 4
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="people", Item={"pk": {"S": "org"}, "sk": {"S": "p6"}, "age": {"S": "old"}})
    assert _code(info) == ("ValidationException", "One or more parameter values were invalid: Type mismatch for Index Key age Expected: N Actual: S IndexName: by-age")
    ddb.update_item(TableName="people", Key={"pk": {"S": "org"}, "sk": {"S": "p1"}}, UpdateExpression="SET city = :r", ExpressionAttributeValues={":r": {"S": "Rome"}})
    rome = ddb.query(TableName="people", IndexName="by-city", KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Rome"}})
    assert [i["sk"]["S"] for i in rome["Items"]] == ["p3", "p1"]
    # a new GSI is backfilled from the items already there
    ddb.update_table(TableName="people", AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-name", "KeySchema": [{"AttributeName": "name", "KeyType": "HASH"}],
                                                              "Projection": {"ProjectionType": "ALL"}}}])
    table = ddb.describe_table(TableName="people")["Table"]
    by_name = next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "by-name")
    assert by_name["IndexStatus"] == "ACTIVE" and by_name["ItemCount"] == 5 and by_name["IndexArn"].endswith(":table/people/index/by-name")
    assert ddb.query(TableName="people", IndexName="by-name", KeyConditionExpression="#n = :n", ExpressionAttributeNames={"#n": "name"},
                     ExpressionAttributeValues={":n": {"S": "Cid"}})["Items"][0]["sk"] == {"S": "p3"}
    ddb.update_table(TableName="people", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-name"}}])
    assert [i["IndexName"] for i in ddb.describe_table(TableName="people")["Table"]["GlobalSecondaryIndexes"]] == ["by-city"]


def test_multi_attribute_gsi_key(ddb: Any) -> None:
    """A GSI keyed by one HASH and four RANGE attributes: items sort by the RANGE attributes in schema order, an item
    lacking one is not indexed, a key condition gives equalities on a gapless prefix and any condition on the last."""
    names = ["pk", "h", "a", "b", "c", "d"]
    ddb.create_table(TableName="multi", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
                     GlobalSecondaryIndexes=[{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}]
                                              + [{"AttributeName": n, "KeyType": "RANGE"} for n in "abcd"]}])
    rows = [("p1", "T", "live", "b", "r1"), ("p2", "T", "live", "a", "r2"), ("p3", "T", "live", "a", "r1"), ("p4", "T", "draft", "c", "r1"),
            ("p5", "F", "live", "a", "r0"), ("p6", "T", "live", None, "r1"), ("p7", "T", "live", "a!", "r0")]
    for pk, a, b, c, d in rows:
        item = {"pk": pk, "h": "o1", "a": a, "b": b, "c": c, "d": d}
        ddb.put_item(TableName="multi", Item={k: {"S": v} for k, v in item.items() if v is not None})
    described = ddb.describe_table(TableName="multi")["Table"]["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert [e["AttributeName"] for e in described] == ["h", "a", "b", "c", "d"]
    values = {":h": "o1", ":a": "T", ":b": "live", ":c": "a", ":d": "r", ":x": "r1", ":y": "r1"}

    def query(condition: str, **extra: Any) -> Any:
        used = {k: {"S": v} for k, v in values.items() if k in condition}
        return ddb.query(TableName="multi", IndexName="gsi", KeyConditionExpression=condition, ExpressionAttributeValues=used, **extra)

    def pks(condition: str, **extra: Any) -> list[str]:
        return [i["pk"]["S"] for i in query(condition, **extra)["Items"]]

    assert pks("h = :h") == ["p5", "p4", "p3", "p2", "p7", "p1"]  # "a" < "a!" < "b", attribute by attribute (raw joined bytes would put "a!r0" first)
    assert pks("h = :h AND a = :a", ScanIndexForward=False) == ["p1", "p7", "p2", "p3", "p4"]
    assert pks("b = :b AND h = :h AND a = :a") == ["p3", "p2", "p7", "p1"]
    assert pks("h = :h AND a = :a AND b = :b AND c = :c") == ["p3", "p2"]
    assert pks("h = :h AND a = :a AND b = :b AND c > :c") == ["p7", "p1"]
    assert pks("h = :h AND a = :a AND b = :b AND c <= :c") == ["p3", "p2"]
    assert pks("h = :h AND a = :a AND b = :b AND begins_with(c, :c)") == ["p3", "p2", "p7"]
    assert pks("h = :h AND a = :a AND b = :b AND c = :c AND begins_with(d, :d)") == ["p3", "p2"]
    assert pks("h = :h AND a = :a AND b = :b AND c = :c AND d BETWEEN :x AND :y") == ["p3"]
    assert pks("h = :h AND a = :a AND b < :b") == ["p4"]
    page = query("h = :h AND a = :a", Limit=2)
    assert [i["pk"]["S"] for i in page["Items"]] == ["p4", "p3"] and sorted(page["LastEvaluatedKey"]) == ["a", "b", "c", "d", "h", "pk"]
    rest = query("h = :h AND a = :a", ExclusiveStartKey=page["LastEvaluatedKey"])
    assert [i["pk"]["S"] for i in rest["Items"]] == ["p2", "p7", "p1"]
    for condition, missing, present in [("h = :h AND a = :a AND c = :c", "b", "c"), ("h = :h AND a = :a AND b > :b AND c = :c", "b", "c"),
                                        ("h = :h AND b = :b", "a", "b")]:
        with pytest.raises(ClientError) as info:
            query(condition)
        assert _code(info) == ("ValidationException", f"RANGE key attributes {missing} must have equality conditions specified in the query "
                                                      f"because a condition is present on key attribute {present}")


def test_data_plane_table_name_checked_before_lookup(endpoint: str, root_key: tuple[str, str]) -> None:
    """A malformed table name is a ValidationException naming tableName, not a missing table."""
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=root_key[0], aws_secret_access_key=root_key[1],
                       config=Config(retries={"max_attempts": 1}, parameter_validation=False))  # as SDKs that send "" do
    prefix = "1 validation error detected: Value '{}' at 'tableName' failed to satisfy constraint: Member must "
    for name, rule in [("", "have length greater than or equal to 1"), ("a" * 256, "have length less than or equal to 255"),
                       ("bad table!@#", "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")]:
        with pytest.raises(ClientError) as info:
            ddb.put_item(TableName=name, Item={"pk": {"S": "x"}})
        assert _code(info) == ("ValidationException", prefix.format(name) + rule)
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName="ab", Key={"pk": {"S": "x"}})
    assert _code(info)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:  # the enums are checked before the (missing) table is looked up, all together
        ddb.update_item(TableName="no-such-table", Key={"pk": {"S": "x"}}, ReturnValues="BAD", ReturnConsumedCapacity="WORSE")
    assert _code(info) == ("ValidationException", "2 validation errors detected: Value 'BAD' at 'returnValues' failed to satisfy constraint: Member "
                           "must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'WORSE' at 'returnConsumedCapacity' "
                           "failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
    for call, op in [(ddb.batch_get_item, "BatchGetItem"), (ddb.batch_write_item, "BatchWriteItem")]:
        with pytest.raises(ClientError) as info:
            call(RequestItems={})
        assert _code(info) == ("ValidationException", f"The requestItems parameter is required for {op}")
    _table(ddb, "limits", range_key=None)
    with pytest.raises(ClientError) as info:
        ddb.query(TableName="limits", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}}, Limit=0)
    assert _code(info) == ("ValidationException", "1 validation error detected: Value at 'Limit' failed to satisfy constraint: "
                                                  "Member must have value greater than or equal to 1")
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName="limits", Limit=0)
    assert _code(info) == ("ValidationException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
                                                  "Member must have value greater than or equal to 1")


def test_strings_with_nul_characters(ddb: Any) -> None:
    """U+0000 is a valid character in strings and names (PostgreSQL's jsonb cannot hold it: Kiln stores it escaped)."""
    _table(ddb, "nul", range_type="S")
    item = {"pk": {"S": "p"}, "sk": {"S": "a\x00b"}, "x\x00y": {"S": "\x00\ue000"}, "ss": {"SS": ["\x00", "a"]}}
    ddb.put_item(TableName="nul", Item=item)
    ddb.put_item(TableName="nul", Item={"pk": {"S": "p"}, "sk": {"S": "a"}})
    assert ddb.get_item(TableName="nul", Key={"pk": {"S": "p"}, "sk": {"S": "a\x00b"}})["Item"] == item
    got = ddb.query(TableName="nul", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
    assert [i["sk"]["S"] for i in got] == ["a", "a\x00b"]
    updated = ddb.update_item(TableName="nul", Key={"pk": {"S": "p"}, "sk": {"S": "a"}}, UpdateExpression="SET #n = :v",
                              ExpressionAttributeNames={"#n": "n\x00"}, ExpressionAttributeValues={":v": {"S": "\x00"}}, ReturnValues="ALL_NEW")
    assert updated["Attributes"]["n\x00"] == {"S": "\x00"}


def test_batch_limits(ddb: Any) -> None:
    _table(ddb, range_type="N")
    puts = [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(i)}}}} for i in range(26)]
    with pytest.raises(ClientError) as info:
        ddb.batch_write_item(RequestItems={"things": puts})
    assert _code(info)[0] == "ValidationException"
    assert ddb.batch_write_item(RequestItems={"things": puts[:25]})["UnprocessedItems"] == {}
    with pytest.raises(ClientError) as info:
        ddb.batch_write_item(RequestItems={"things": [puts[0], {"DeleteRequest": {"Key": {"pk": {"S": "b"}, "sk": {"N": "0"}}}}]})
    assert _code(info) == ("ValidationException", "Provided list of item keys contains duplicates")
    keys = [{"pk": {"S": "b"}, "sk": {"N": str(i)}} for i in range(101)]
    got = ddb.batch_get_item(RequestItems={"things": {"Keys": keys[:100]}}, ReturnConsumedCapacity="TOTAL")
    assert len(got["Responses"]["things"]) == 25 and got["UnprocessedKeys"] == {}
    assert got["ConsumedCapacity"] == [{"TableName": "things", "CapacityUnits": 50.0, "ReadCapacityUnits": 50.0}]
    with pytest.raises(ClientError) as info:
        ddb.batch_get_item(RequestItems={"things": {"Keys": keys}})
    assert _code(info) == ("ValidationException", "1 validation error detected: Value at 'RequestItems.things.member.Keys' failed to satisfy "
                                                   "constraint: Member must have length less than or equal to 100")
    with pytest.raises(ClientError) as info:  # 100 on each of two tables: too many in all
        ddb.batch_get_item(RequestItems={"things": {"Keys": keys[:60]}, "missing-too": {"Keys": [{"pk": {"S": "x"}}] * 41}})
    assert _code(info) == ("ValidationException", "Too many items requested for the BatchGetItem call")
    with pytest.raises(ClientError) as info:
        ddb.batch_get_item(RequestItems={"things": {"Keys": [keys[0], keys[0]]}})
    assert _code(info) == ("ValidationException", "Provided list of item keys contains duplicates")
    deleted = ddb.batch_write_item(RequestItems={"things": [{"DeleteRequest": {"Key": k}} for k in keys[:10]]}, ReturnConsumedCapacity="TOTAL")
    assert deleted["ConsumedCapacity"][0]["CapacityUnits"] == 10.0
    assert ddb.scan(TableName="things", Select="COUNT")["Count"] == 15


def test_capacity(ddb: Any) -> None:
    _table(ddb, GlobalSecondaryIndexes=[{"IndexName": "by-v", "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
           definitions=[{"AttributeName": "v", "AttributeType": "S"}])
    out = ddb.put_item(TableName="things", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "x" * 3000}}, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {"TableName": "things", "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0, "Table": {"CapacityUnits": 3.0},
                                       "GlobalSecondaryIndexes": {"by-v": {"CapacityUnits": 3.0}}}
    read = ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert read["CapacityUnits"] == 0.5
    read = ddb.get_item(TableName="things", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)["ConsumedCapacity"]
    assert read["CapacityUnits"] == 1.0
    write = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "things", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}], ReturnConsumedCapacity="TOTAL")
    assert write["ConsumedCapacity"] == [{"TableName": "things", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}]


def test_transactions(ddb: Any) -> None:
    _table(ddb)
    _table(ddb, "accounts", range_key=None)
    ddb.put_item(TableName="accounts", Item={"pk": {"S": "alice"}, "balance": {"N": "100"}})
    ddb.put_item(TableName="accounts", Item={"pk": {"S": "bob"}, "balance": {"N": "0"}})

    def transfer(amount: int, **extra: Any) -> Any:
        return ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "accounts", "Key": {"pk": {"S": "alice"}}, "UpdateExpression": "SET balance = balance - :a",
                        "ConditionExpression": "balance >= :a", "ExpressionAttributeValues": {":a": {"N": str(amount)}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "accounts", "Key": {"pk": {"S": "bob"}}, "UpdateExpression": "SET balance = balance + :a",
                        "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
            {"Put": {"TableName": "things", "Item": {"pk": {"S": "log"}, "sk": {"S": str(amount)}}}},
        ], **extra)

    transfer(60)
    with pytest.raises(ClientError) as info:
        transfer(50)
    assert _code(info) == ("TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None]")
    reasons = info.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {"pk": {"S": "alice"}, "balance": {"N": "40"}}}
    assert reasons[1:] == [{"Code": "None"}, {"Code": "None"}]
    balances = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "accounts", "Key": {"pk": {"S": n}}}} for n in ("alice", "bob", "carol")])["Responses"]
    assert [r.get("Item", {}).get("balance") for r in balances] == [{"N": "40"}, {"N": "60"}, None]
    assert "Item" not in ddb.get_item(TableName="things", Key={"pk": {"S": "log"}, "sk": {"S": "50"}})  # nothing of the failed one written
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": "accounts", "Key": {"pk": {"S": "bob"}}, "ConditionExpression": "attribute_exists(pk)"}},
            {"Delete": {"TableName": "accounts", "Key": {"pk": {"S": "bob"}}}}])
    assert _code(info) == ("ValidationException", "Transaction request cannot include multiple operations on one item")
    transfer(10, ClientRequestToken="token-1")
    transfer(10, ClientRequestToken="token-1")  # the same request again: done once
    assert ddb.get_item(TableName="accounts", Key={"pk": {"S": "alice"}})["Item"]["balance"] == {"N": "30"}
    with pytest.raises(ClientError) as info:
        transfer(5, ClientRequestToken="token-1")
    assert _code(info)[0] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "things", "Item": {"pk": {"S": "t"}, "sk": {"S": str(i)}}}} for i in range(101)])
    assert _code(info)[0] == "ValidationException"
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "things", "Item": {"pk": {"S": "t"}, "sk": {"S": str(i)}}}} for i in range(100)])
    assert ddb.query(TableName="things", KeyConditionExpression="pk = :t", ExpressionAttributeValues={":t": {"S": "t"}}, Select="COUNT")["Count"] == 100


def _user(root: Callable[[str], Any], make_client: Callable[..., Any], name: str, statements: list[dict[str, Any]]) -> Any:
    iam = root("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return make_client("dynamodb", (key["AccessKeyId"], key["SecretAccessKey"]))


def test_iam_allow_and_deny(ddb: Any, root: Callable[[str], Any], make_client: Callable[..., Any]) -> None:
    _table(ddb, "UserTable", range_key=None, GlobalSecondaryIndexes=[
        {"IndexName": "by-name", "KeySchema": [{"AttributeName": "name", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
        definitions=[{"AttributeName": "name", "AttributeType": "S"}])
    _table(ddb, "Other", range_key=None)
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/UserTable"
    writer = _user(root, make_client, "writer", [{"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:BatchWriteItem"], "Resource": arn},
                                                 {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{arn}/index/*"}])
    writer.put_item(TableName="UserTable", Item={"pk": {"S": "1"}, "name": {"S": "Ann"}})
    assert writer.query(TableName="UserTable", IndexName="by-name", KeyConditionExpression="#n = :n", ExpressionAttributeNames={"#n": "name"},
                        ExpressionAttributeValues={":n": {"S": "Ann"}})["Count"] == 1
    with pytest.raises(ClientError) as info:
        writer.get_item(TableName="UserTable", Key={"pk": {"S": "1"}})
    assert _code(info) == ("AccessDeniedException", "User: arn:aws:iam::000000000000:user/writer is not authorized to perform: dynamodb:GetItem on resource: "
                           f"{arn} because no identity-based policy allows the dynamodb:GetItem action")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as info:
        writer.query(TableName="UserTable", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "1"}})
    assert _code(info)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as info:
        writer.batch_write_item(RequestItems={"UserTable": [{"PutRequest": {"Item": {"pk": {"S": "2"}}}}], "Other": [{"PutRequest": {"Item": {"pk": {"S": "2"}}}}]})
    assert _code(info)[0] == "AccessDeniedException" and "table/Other" in _code(info)[1]
    writer.transact_write_items(TransactItems=[{"Put": {"TableName": "UserTable", "Item": {"pk": {"S": "3"}}}}])  # PutItem on the table
    with pytest.raises(ClientError) as info:
        writer.transact_write_items(TransactItems=[{"Put": {"TableName": "UserTable", "Item": {"pk": {"S": "4"}}}},
                                                   {"ConditionCheck": {"TableName": "UserTable", "Key": {"pk": {"S": "3"}}, "ConditionExpression": "attribute_exists(pk)"}}])
    assert _code(info)[0] == "AccessDeniedException" and "dynamodb:ConditionCheckItem" in _code(info)[1]
    assert ddb.scan(TableName="UserTable", Select="COUNT")["Count"] == 2


def test_cli_put_get_query(endpoint: str, root_key: tuple[str, str], ddb: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": root_key[0], "AWS_SECRET_ACCESS_KEY": root_key[1], "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(Path(sys.executable).with_name("aws")), "--endpoint-url", endpoint, "dynamodb", *args], env=env,
                                capture_output=True, text=True, timeout=60)
        assert not check or result.returncode == 0, result.stderr
        return result

    cli("create-table", "--table-name", "cli-table", "--attribute-definitions", "AttributeName=id,AttributeType=S",
        "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    cli("wait", "table-exists", "--table-name", "cli-table")
    cli("put-item", "--table-name", "cli-table", "--item", json.dumps({"id": {"S": "1"}, "n": {"N": "42"}, "b": {"B": "AAE="}}))
    got = json.loads(cli("get-item", "--table-name", "cli-table", "--key", json.dumps({"id": {"S": "1"}})).stdout)
    # the CLI v1 sends a blob argument's text as the bytes (base64 on the wire) and prints blobs in base64
    assert got["Item"] == {"id": {"S": "1"}, "n": {"N": "42"}, "b": {"B": "QUFFPQ=="}}
    failed = cli("put-item", "--table-name", "cli-table", "--item", json.dumps({"id": {"S": "1"}}), "--condition-expression", "attribute_not_exists(id)", check=False)
    assert failed.returncode != 0 and "ConditionalCheckFailedException" in failed.stderr
    scanned = json.loads(cli("scan", "--table-name", "cli-table").stdout)
    assert scanned["Count"] == 1


def test_wire_shapes(endpoint: str, ddb: Any) -> None:
    import zlib

    _table(ddb)
    seen: dict[str, Any] = {}
    ddb.meta.events.register("after-call.dynamodb.*", lambda http_response, **_: seen.update(body=http_response.content, headers=http_response.headers))
    ddb.put_item(TableName="things", Item={"pk": {"S": "w"}, "sk": {"S": "1"}, "b": {"B": bytes(range(256))}, "bs": {"BS": [b"\x00", b"\x01"]}})
    got = ddb.get_item(TableName="things", Key={"pk": {"S": "w"}, "sk": {"S": "1"}})["Item"]
    assert got["b"] == {"B": bytes(range(256))} and got["bs"] == {"BS": [b"\x00", b"\x01"]}
    assert int(seen["headers"]["x-amz-crc32"]) == zlib.crc32(seen["body"]) and seen["headers"]["content-type"] == "application/x-amz-json-1.0"
    with pytest.raises(ClientError):
        ddb.get_item(TableName="things", Key={"pk": {"S": "w"}})
    assert json.loads(seen["body"])["__type"] == "com.amazon.coral.validate#ValidationException"
    with pytest.raises(ClientError):
        ddb.put_item(TableName="things", Item={"pk": {"S": "w"}, "sk": {"S": "1"}}, ConditionExpression="attribute_not_exists(pk)")
    assert json.loads(seen["body"]) == {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "The conditional request failed"}
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item={"pk": {"S": ""}, "sk": {"S": "1"}})
    assert _code(info) == ("ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk")
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName="things", Item={"pk": {"S": "w"}, "sk": {"S": "1"}, "s": {"SS": ["a", "a"]}})
    assert _code(info)[0] == "ValidationException"


def test_legacy_parameters(ddb: Any) -> None:
    _table(ddb, range_type="N")
    for i in range(6):
        ddb.put_item(TableName="things", Item={"pk": {"S": "l"}, "sk": {"N": str(i)}, "even": {"BOOL": i % 2 == 0}})
    got = ddb.query(TableName="things", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "l"}]},
                                                      "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "2"}]}},
                    QueryFilter={"even": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}}, AttributesToGet=["sk"])
    assert got["Items"] == [{"sk": {"N": "2"}}, {"sk": {"N": "4"}}] and got["ScannedCount"] == 4
    scanned = ddb.scan(TableName="things", ScanFilter={"sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "3"}]}})
    assert scanned["Count"] == 3
    ddb.update_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "0"}}, AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "5"}}, "even": {"Action": "DELETE"}})
    assert ddb.get_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "0"}})["Item"] == {"pk": {"S": "l"}, "sk": {"N": "0"}, "n": {"N": "5"}}
    # deleting attributes of a missing item does not create it; an update with no actions does
    ddb.update_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "99"}}, AttributeUpdates={"x": {"Action": "DELETE"}})
    ddb.update_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "98"}}, UpdateExpression="REMOVE x")
    assert "Item" not in ddb.get_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "99"}})
    assert "Item" not in ddb.get_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "98"}})
    ddb.update_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "97"}})
    assert ddb.get_item(TableName="things", Key={"pk": {"S": "l"}, "sk": {"N": "97"}})["Item"] == {"pk": {"S": "l"}, "sk": {"N": "97"}}
    with pytest.raises(ClientError) as info:
        ddb.query(TableName="things", KeyConditionExpression="pk = :p", FilterExpression="sk > :s", ExpressionAttributeValues={":p": {"S": "l"}, ":s": {"N": "1"}})
    assert _code(info) == ("ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")


def test_key_operators_and_reverse_pages(ddb: Any) -> None:
    _table(ddb, range_type="N", GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                                                         "Projection": {"ProjectionType": "KEYS_ONLY"}}], definitions=[{"AttributeName": "g", "AttributeType": "S"}])
    ddb.batch_write_item(RequestItems={"things": [{"PutRequest": {"Item": {"pk": {"S": "k"}, "sk": {"N": str(i)}, "g": {"S": "all"}}}} for i in range(10)]})

    def sks(expression: str, **values: str) -> list[int]:
        found = ddb.query(TableName="things", KeyConditionExpression=f"pk = :p AND {expression}",
                          ExpressionAttributeValues={":p": {"S": "k"}, **{f":{k}": {"N": v} for k, v in values.items()}})
        return [int(i["sk"]["N"]) for i in found["Items"]]

    assert sks("sk = :a", a="3") == [3] and sks("sk <= :a", a="2") == [0, 1, 2] and sks("sk >= :a", a="8") == [8, 9]
    assert sks("sk > :a", a="7") == [8, 9] and sks("sk < :a", a="1") == [0]
    for index in (None, "by-g"):
        extra = {"IndexName": index, "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "all"}}} if index else {
            "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "k"}}}
        pages = [p for p in ddb.get_paginator("query").paginate(TableName="things", ScanIndexForward=False, PaginationConfig={"PageSize": 3}, **extra)]
        assert [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(9, -1, -1))
    scanned = [i for p in ddb.get_paginator("scan").paginate(TableName="things", IndexName="by-g", PaginationConfig={"PageSize": 4}) for i in p["Items"]]
    assert sorted(int(i["sk"]["N"]) for i in scanned) == list(range(10))


def test_concurrent_updates_all_count(ddb: Any, make_client: Callable[..., Any], root_key: tuple[str, str]) -> None:
    import threading

    _table(ddb, "counters", range_key=None, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    errors: list[BaseException] = []

    def bump() -> None:
        client = make_client("dynamodb", root_key)
        try:
            for _ in range(5):
                client.update_item(TableName="counters", Key={"pk": {"S": "hits"}}, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert ddb.get_item(TableName="counters", Key={"pk": {"S": "hits"}}, ConsistentRead=True)["Item"]["n"] == {"N": "30"}
    from tables.models import StreamRecord

    images = [r.new_image["n"]["N"] for r in StreamRecord.objects.filter(table__name="counters").order_by("sequence")]
    assert images == [str(i) for i in range(1, 31)]  # sequence order is commit order


def test_required_members_missing_on_the_wire_are_worded_per_operation(make_client: Callable[..., Any], root_key: tuple[str, str]) -> None:
    raw = make_client("dynamodb", root_key, parameter_validation=False)  # what a client without boto3's own checks sends
    with pytest.raises(ClientError) as create:
        raw.create_table(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
    assert _code(create) == ("ValidationException", "The parameter 'TableName' is required but was not present in the request")
    with pytest.raises(ClientError) as put:
        raw.put_item(Item={"pk": {"S": "x"}})
    assert _code(put) == ("ValidationException", "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
