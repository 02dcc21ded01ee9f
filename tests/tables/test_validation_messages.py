"""DynamoDB's validation messages where the conformance suite's captures of real DynamoDB pin them exactly:
CreateTable's required and enumerated members, key schema limits, batch and transaction sizes, Scan segments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tables import items
from tables.errors import TableValidation
from tables.services import table_create

DEFS = [{"AttributeName": "pk", "AttributeType": "S"}]
HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def _refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(TableValidation) as info:
        call(**kwargs)
    return info.value.message


@pytest.mark.django_db
def test_create_table_messages() -> None:
    create = table_create
    assert _refused(create, name=None, attribute_definitions=DEFS, key_schema=HASH, provisioned_throughput=THROUGHPUT) == (
        "The parameter 'TableName' is required but was not present in the request")
    assert _refused(create, name="dup", attribute_definitions=DEFS, provisioned_throughput=THROUGHPUT,
                    key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}]) == (
        "Invalid KeySchema: Some index key attribute have no definition")
    three = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "x", "KeyType": "RANGE"}]
    assert re.fullmatch(r"1 validation error detected: Value '\[KeySchemaElement\(attributeName=pk, keyType=HASH\), KeySchemaElement\(attributeName=sk, "
                        r"keyType=RANGE\), KeySchemaElement\(attributeName=x, keyType=RANGE\)\]' at 'keySchema' failed to satisfy constraint: "
                        r"Member must have length less than or equal to 2",
                        _refused(create, name="three", attribute_definitions=DEFS, key_schema=three, provisioned_throughput=THROUGHPUT))
    assert _refused(create, name="badkey", attribute_definitions=DEFS, key_schema=[{"AttributeName": "pk", "KeyType": "INVALID"}],
                    provisioned_throughput=THROUGHPUT) == (
        "1 validation error detected: Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]")
    assert _refused(create, name="badtype", attribute_definitions=[{"AttributeName": "pk", "AttributeType": "INVALID"}], key_schema=HASH,
                    provisioned_throughput=THROUGHPUT) == (
        "1 validation error detected: Value 'INVALID' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [B, N, S]")


@pytest.mark.django_db
def test_batch_transaction_and_segment_messages() -> None:
    table_create(name="things", attribute_definitions=DEFS, key_schema=HASH, billing_mode="PAY_PER_REQUEST")
    puts = [{"PutRequest": {"Item": {"pk": {"S": f"p{i}"}}}} for i in range(26)]
    assert re.fullmatch(r"1 validation error detected: Value '\{things=\[.+\]\}' at 'requestItems' failed to satisfy constraint: Map value must satisfy "
                        r"constraint: \[Member must have length less than or equal to 25, Member must have length greater than or equal to 1\]",
                        _refused(items.item_batch_write, request={"RequestItems": {"things": puts}}), flags=re.S)
    for call in (items.item_transact_get, items.item_transact_write):
        assert _refused(call, request={"TransactItems": []}) == (
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
    many = [{"Put": {"TableName": "things", "Item": {"pk": {"S": f"t{i}"}}}} for i in range(101)]
    assert re.fullmatch(r"1 validation error detected: Value '\[.+\]' at 'transactItems' failed to satisfy constraint: Member must have length less than "
                        r"or equal to 100", _refused(items.item_transact_write, request={"TransactItems": many}), flags=re.S)
    assert _refused(items.item_scan, request={"TableName": "things", "TotalSegments": 4}) == (
        "The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
    assert _refused(items.item_scan, request={"TableName": "things", "Segment": 1}) == (
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
