"""Reading tables: by name, listed by name, ARNs, and the ``TableDescription`` DynamoDB answers with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Sum

from core.generations import GenerationCache
from tables.errors import TableNotFound
from tables.models import IndexEntry, Item, Table

# Every data-plane request resolves its table by name; the row changes only when the control plane saves or
# deletes it (tables/apps.py bumps the generation then), so each process keeps the tables it has seen.
# Callers treat the instance as read-only (the stream counter is updated and read with queries of its own).
TABLES: GenerationCache[Table | None] = GenerationCache("tables", ttl_s=30.0)


def table_arn_prefix() -> str:
    return f"arn:aws:dynamodb:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:table/"


def table_arn(table: Table | str) -> str:
    return table_arn_prefix() + (table if isinstance(table, str) else table.name)


def stream_arn(table: Table) -> str:
    return f"{table_arn(table)}/stream/{table.stream_label}"


def table_get(name: str, *, lock: bool = False, arn: str | None = None) -> Table:
    """The table named ``name``; ``ResourceNotFoundException`` as DynamoDB words it (with the ARN when given)."""
    query = Table.objects.select_for_update() if lock else Table.objects
    try:
        return query.get(name=name)
    except Table.DoesNotExist:
        raise TableNotFound(f"Requested resource not found: ResourceArn: {arn} not found" if arn
                            else f"Requested resource not found: Table: {name} not found") from None


def table_find(name: str) -> Table:
    """The table for a data-plane request (DynamoDB's shorter message)."""
    table = TABLES.get(name, lambda: Table.objects.filter(name=name).first(), cacheable=lambda found: found is not None)
    if table is None:
        raise TableNotFound("Requested resource not found")
    return table


def table_names(*, after: str = "", limit: int = 100) -> list[str]:
    query = Table.objects.order_by("name")
    if after:
        query = query.filter(name__gt=after)
    return list(query.values_list("name", flat=True)[:limit])


def table_description(table: Table, *, counts: bool = True) -> dict[str, Any]:
    """DescribeTable's ``Table``: keys, status, sizes, throughput, indexes, stream and class."""
    arn = table_arn(table)
    if counts:
        totals = Item.objects.filter(table=table).aggregate(n=Count("pk"), size=Sum("size_bytes"))
        by_index = {row["index_name"]: row for row in IndexEntry.objects.filter(table=table).values("index_name").annotate(
            n=Count("pk"), size=Sum("item__size_bytes"))}
    else:
        totals, by_index = {"n": 0, "size": 0}, {}
    out: dict[str, Any] = {
        "AttributeDefinitions": table.attribute_definitions, "TableName": table.name, "KeySchema": table.key_schema,
        "TableStatus": table.status, "CreationDateTime": table.created_at.timestamp(),
        "ProvisionedThroughput": _throughput(table.provisioned_throughput),
        "TableSizeBytes": totals["size"] or 0, "ItemCount": totals["n"] or 0, "TableArn": arn, "TableId": str(table.table_id),
        "BillingModeSummary": {"BillingMode": table.billing_mode},
        "TableClassSummary": {"TableClass": table.table_class}, "DeletionProtectionEnabled": table.deletion_protection,
    }
    if table.billing_mode == "PAY_PER_REQUEST":
        out["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": table.created_at.timestamp()}
    for key, indexes in (("GlobalSecondaryIndexes", table.global_indexes), ("LocalSecondaryIndexes", table.local_indexes)):
        if indexes:
            out[key] = [_index(arn, index, by_index.get(index["IndexName"]), glob=key.startswith("Global")) for index in indexes]
    if table.stream_enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    if table.stream_label:
        out["LatestStreamLabel"] = table.stream_label
        out["LatestStreamArn"] = stream_arn(table)
    return out


def _throughput(throughput: dict[str, Any]) -> dict[str, Any]:
    return {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0)}


def _index(table_arn_: str, index: dict[str, Any], totals: dict[str, Any] | None, *, glob: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"],
                           "IndexSizeBytes": (totals or {}).get("size") or 0, "ItemCount": (totals or {}).get("n") or 0,
                           "IndexArn": f"{table_arn_}/index/{index['IndexName']}"}
    if glob:
        out["IndexStatus"] = index.get("IndexStatus", "ACTIVE")
        out["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput") or {})
    return out


def table_key_types(table: Table) -> dict[str, str]:
    """The table's key attributes and their types, hash key first (``values.KeySchema``)."""
    return schema_types(table, table.key_schema)


def schema_types(table: Table, schema: list[dict[str, str]]) -> dict[str, str]:
    types = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
    return {e["AttributeName"]: types[e["AttributeName"]] for e in schema}


def table_index(table: Table, name: str) -> tuple[dict[str, Any], bool] | None:
    """The index named ``name`` and whether it is global; ``None`` if the table has none by that name."""
    for index in table.global_indexes:
        if index["IndexName"] == name:
            return index, True
    for index in table.local_indexes:
        if index["IndexName"] == name:
            return index, False
    return None
