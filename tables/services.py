"""The table service's control plane: create, describe, list, update and delete tables; time to live; tags.

Validation follows DynamoDB's CreateTable/UpdateTable rules and messages (names, key schema, attribute
definitions covering exactly the keys of the table and its indexes, billing mode and throughput, index
limits and projections, streams). A table is written ``CREATING`` (an update ``UPDATING``) and made
``ACTIVE`` right after commit, so a waiter polling DescribeTable sees it ready at once. A global secondary
index added by UpdateTable is backfilled from the table's items in the same transaction. The data plane
(items) lives in ``tables.items``.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from tables import selectors
from tables.errors import LimitExceeded, TableInUse, TableNotFound, TableValidation
from tables.items import expires_of, index_entry_for
from tables.models import BillingMode, IndexEntry, Item, StreamViewType, Table, TableStatus

NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-]+$")
GSI_MAX = 20
LSI_MAX = 5
PROJECTED_NON_KEY_MAX = 100
TAGS_MAX = 50
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
INVALID = "One or more parameter values were invalid: "


def _name_check(name: Any, what: str = "tableName") -> str:
    if name is None:
        raise TableValidation(f"The parameter '{what[:1].upper()}{what[1:]}' is required but was not present in the request")
    if not isinstance(name, str):
        raise TableValidation(f"1 validation error detected: Value null at '{what}' failed to satisfy constraint: Member must not be null")
    if len(name) < 3:
        raise TableValidation(f"1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise TableValidation(f"1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must have length less than or equal to 255")
    if not NAME_RE.match(name):
        raise TableValidation(f"1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    return name


GSI_RANGE_MAX = 4  # a global index's key may have up to four RANGE attributes (multi-attribute keys)


def _key_schema_check(schema: Any, where: str, *, multi: bool = False) -> list[dict[str, str]]:
    """A key schema: HASH then an optional RANGE; a global index (``multi``) may list up to four RANGE attributes."""
    if not isinstance(schema, list) or not schema:
        raise TableValidation(f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null")
    if multi and 2 < len(schema) <= 1 + GSI_RANGE_MAX:
        out = _key_schema_check(schema[:2], where)
        for element in schema[2:]:
            out.append(_key_schema_check([schema[0], element], where)[1])
        names = [e["AttributeName"] for e in out]
        if len(set(names)) != len(names):
            raise TableValidation("Invalid KeySchema: Some index key attributes are defined more than once in the KeySchema")
        return out
    if len(schema) > 2:
        shown = ", ".join(f"KeySchemaElement(attributeName={e.get('AttributeName')}, keyType={e.get('KeyType')})" if isinstance(e, dict) else str(e) for e in schema)
        raise TableValidation(f"1 validation error detected: Value '[{shown}]' at '{where}' failed to satisfy constraint: Member must have length less than or equal to 2")
    out = []
    for position, element in enumerate(schema, start=1):
        name, kind = element.get("AttributeName"), element.get("KeyType")
        if not isinstance(name, str) or not name:
            raise TableValidation(f"1 validation error detected: Value null at '{where}.member.attributeName' failed to satisfy constraint: Member must not be null")
        if len(name) > 255:
            raise TableValidation(f"1 validation error detected: Value '{name}' at '{where}.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
        if kind not in ("HASH", "RANGE"):
            raise TableValidation(f"1 validation error detected: Value '{kind}' at '{where}.{position}.member.keyType' failed to satisfy constraint: "
                                  "Member must satisfy enum value set: [HASH, RANGE]")
        out.append({"AttributeName": name, "KeyType": kind})
    if out[0]["KeyType"] != "HASH":
        raise TableValidation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(out) == 2:
        if out[1]["KeyType"] != "RANGE":
            raise TableValidation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
        if out[0]["AttributeName"] == out[1]["AttributeName"]:
            # AWS words a HASH and RANGE of one name this way (seen against DynamoDB, conformance suite captures)
            raise TableValidation("Invalid KeySchema: Some index key attribute have no definition")
    return out


def _throughput_check(throughput: Any, billing: str, *, what: str = "") -> dict[str, int]:
    if billing == BillingMode.PAY_PER_REQUEST:
        if throughput:
            raise TableValidation(INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
        return {}
    if not throughput:
        raise TableValidation(f"One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {what}" if what
                              else "No provisioned throughput specified for the table")
    read, write = throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")
    if read is None or write is None:
        raise TableValidation(INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    for name, value in (("readCapacityUnits", read), ("writeCapacityUnits", write)):
        if not isinstance(value, int) or value < 1:
            raise TableValidation(f"1 validation error detected: Value '{value}' at 'provisionedThroughput.{name}' failed to satisfy constraint: Member must have value greater than or equal to 1")
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def _projection_check(projection: Any, index: str) -> dict[str, Any]:
    if not isinstance(projection, dict):
        raise TableValidation(f"1 validation error detected: Value null at 'projection' failed to satisfy constraint: Member must not be null (index {index})")
    kind = projection.get("ProjectionType") or "ALL"
    if kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
        raise TableValidation(f"1 validation error detected: Value '{kind}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
    non_key = projection.get("NonKeyAttributes")
    if kind == "INCLUDE":
        if not non_key:
            raise TableValidation(INVALID + f"ProjectionType is INCLUDE, but NonKeyAttributes is not specified for index: {index}")
        if len(set(non_key)) != len(non_key):
            raise TableValidation(INVALID + f"Duplicate attribute name in NonKeyAttributes for index: {index}")
        return {"ProjectionType": kind, "NonKeyAttributes": list(non_key)}
    if non_key:
        raise TableValidation(INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return {"ProjectionType": kind}


def _index_check(spec: Any, *, table_schema: list[dict[str, str]], local: bool, billing: str) -> dict[str, Any]:
    name = spec.get("IndexName") if isinstance(spec, dict) else None
    name = _name_check(name, "indexName")  # the same string, checked
    schema = _key_schema_check(spec.get("KeySchema"), "keySchema", multi=not local)
    out: dict[str, Any] = {"IndexName": name, "KeySchema": schema, "Projection": _projection_check(spec.get("Projection"), name)}
    if local:
        if len(table_schema) < 2:
            raise TableValidation(INVALID + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
        if len(schema) < 2:
            raise TableValidation(INVALID + f"Index KeySchema does not have a range key for index: {name}")
        if schema[0]["AttributeName"] != table_schema[0]["AttributeName"]:
            raise TableValidation(INVALID + f"Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. "
                                  f"index hash key: {schema[0]['AttributeName']}, table hash key: {table_schema[0]['AttributeName']}")
        if spec.get("ProvisionedThroughput"):
            raise TableValidation("1 validation error detected: LocalSecondaryIndex does not take ProvisionedThroughput")
    else:
        throughput = _throughput_check(spec.get("ProvisionedThroughput"), billing, what=name)
        if throughput:
            out["ProvisionedThroughput"] = throughput
    out["IndexStatus"] = "ACTIVE"
    return out


def _definitions_check(definitions: Any) -> dict[str, str]:
    if not isinstance(definitions, list) or not definitions:
        raise TableValidation("1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null")
    out: dict[str, str] = {}
    for position, definition in enumerate(definitions, start=1):
        name, kind = definition.get("AttributeName"), definition.get("AttributeType")
        if not isinstance(name, str) or not name:
            raise TableValidation("1 validation error detected: Value null at 'attributeDefinitions.member.attributeName' failed to satisfy constraint: Member must not be null")
        if kind not in ("S", "N", "B"):
            raise TableValidation(f"1 validation error detected: Value '{kind}' at 'attributeDefinitions.{position}.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
        if name in out:
            raise TableValidation("Cannot have two attributes with the same name")
        out[name] = kind
    return out


def _definitions_cover(definitions: dict[str, str], schemas: list[list[dict[str, str]]]) -> None:
    keys: list[str] = []
    for schema in schemas:
        for element in schema:
            if element["AttributeName"] not in keys:
                keys.append(element["AttributeName"])
    missing = [k for k in keys if k not in definitions]
    if missing:
        raise TableValidation(INVALID + f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
                              f"AttributeDefinitions: [{', '.join(definitions)}]")
    if len(keys) != len(definitions):
        raise TableValidation(INVALID + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")


def _stream_check(spec: Any) -> tuple[bool, str]:
    if not spec:
        return False, ""
    enabled = spec.get("StreamEnabled")
    if enabled is None:
        raise TableValidation("1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null")
    view = spec.get("StreamViewType")
    if enabled:
        if not view:
            raise TableValidation(INVALID + "You must specify a StreamViewType when enabling streams")
        if view not in StreamViewType.values:
            raise TableValidation(f"1 validation error detected: Value '{view}' at 'streamSpecification.streamViewType' failed to satisfy constraint: "
                                  "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]")
        return True, view
    if view:
        raise TableValidation(INVALID + "StreamViewType cannot be specified when StreamEnabled is false")
    return False, ""


def _tags_check(tags: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags or []:
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise TableValidation("1 validation error detected: Value at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128")
        if not isinstance(value, str) or len(value) > 256:
            raise TableValidation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
        if key.startswith("aws:"):
            raise TableValidation("Reserved tag key prefix aws: cannot be used")
        out[key] = value
    return out


def _label(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def _activate(table_pk: int) -> None:
    """The table (and its new indexes) ready: run after the creating or updating transaction commits."""
    with transaction.atomic():
        table = Table.objects.select_for_update().filter(pk=table_pk, status__in=[TableStatus.CREATING, TableStatus.UPDATING]).first()
        if table is None:
            return
        table.status = TableStatus.ACTIVE
        table.global_indexes = [{**index, "IndexStatus": "ACTIVE"} for index in table.global_indexes]
        table.save(update_fields=["status", "global_indexes", "updated_at"])


def table_create(*, name: str, key_schema: Any, attribute_definitions: Any, billing_mode: str | None = None,
                 provisioned_throughput: Mapping[str, Any] | None = None, global_indexes: list[Any] | None = None,
                 local_indexes: list[Any] | None = None, stream_specification: Mapping[str, Any] | None = None,
                 table_class: str | None = None, tags: list[Any] | None = None, deletion_protection: bool = False) -> Table:
    """A new table (``CREATING``, ``ACTIVE`` once committed); ``ResourceInUseException`` if the name is taken."""
    _name_check(name)
    billing = billing_mode or BillingMode.PROVISIONED
    if billing not in BillingMode.values:
        raise TableValidation(f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
    schema = _key_schema_check(key_schema, "keySchema")
    definitions = _definitions_check(attribute_definitions)
    throughput = _throughput_check(provisioned_throughput, billing)
    if global_indexes is not None and not global_indexes:
        raise TableValidation("1 validation error detected: Value '[]' at 'globalSecondaryIndexes' failed to satisfy constraint: Member must have length greater than or equal to 1")
    if local_indexes is not None and not local_indexes:
        raise TableValidation("1 validation error detected: Value '[]' at 'localSecondaryIndexes' failed to satisfy constraint: Member must have length greater than or equal to 1")
    gsis = [_index_check(s, table_schema=schema, local=False, billing=billing) for s in global_indexes or []]
    lsis = [_index_check(s, table_schema=schema, local=True, billing=billing) for s in local_indexes or []]
    if len(gsis) > GSI_MAX:
        raise TableValidation(INVALID + f"GlobalSecondaryIndex count exceeds the per-table limit of {GSI_MAX}")
    if len(lsis) > LSI_MAX:
        raise TableValidation(INVALID + f"LocalSecondaryIndex count exceeds the per-table limit of {LSI_MAX}")
    seen: set[str] = set()
    for index in gsis + lsis:
        if index["IndexName"] in seen:
            raise TableValidation(INVALID + f"Duplicate index name: {index['IndexName']}")
        seen.add(index["IndexName"])
    _projected_count_check(gsis + lsis)
    _definitions_cover(definitions, [schema] + [i["KeySchema"] for i in gsis + lsis])
    for index in lsis:
        index.pop("IndexStatus", None)
    stream_on, view = _stream_check(stream_specification)
    klass = table_class or "STANDARD"
    if klass not in TABLE_CLASSES:
        raise TableValidation(f"1 validation error detected: Value '{klass}' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]")
    tag_map = _tags_check(tags)
    with transaction.atomic():
        if Table.objects.filter(name=name).exists():
            raise TableInUse(f"Table already exists: {name}")
        now = timezone.now()
        table = Table.objects.create(
            name=name, table_id=uuid.uuid4(), status=TableStatus.CREATING, key_schema=schema,
            attribute_definitions=[{"AttributeName": k, "AttributeType": v} for k, v in definitions.items()],
            billing_mode=billing, provisioned_throughput=throughput, global_indexes=gsis, local_indexes=lsis,
            table_class=klass, deletion_protection=bool(deletion_protection), tags=tag_map, stream_enabled=stream_on,
            stream_view_type=view, stream_label=_label(now) if stream_on else "")
        transaction.on_commit(lambda: _activate(table.pk))
    return table


def _projected_count_check(indexes: list[dict[str, Any]]) -> None:
    names: set[str] = set()
    for index in indexes:
        names.update(index["Projection"].get("NonKeyAttributes") or [])
    if len(names) > PROJECTED_NON_KEY_MAX:
        raise LimitExceeded(f"One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of {PROJECTED_NON_KEY_MAX}")


def table_delete(*, name: str) -> Table:
    """Delete the table, its items, index entries and stream records; the table as it was, status ``DELETING``."""
    with transaction.atomic():
        table = selectors.table_get(name, lock=True)
        if table.deletion_protection:
            raise TableValidation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        table.status = TableStatus.DELETING
        snapshot = Table(**{f.attname: getattr(table, f.attname) for f in Table._meta.concrete_fields})
        IndexEntry.objects.filter(table=table).delete()
        Item.objects.filter(table=table).delete()
        table.delete()
    return snapshot


def table_update(*, name: str, billing_mode: str | None = None, provisioned_throughput: Mapping[str, Any] | None = None,
                 attribute_definitions: Any = None, gsi_updates: list[Any] | None = None,
                 stream_specification: Mapping[str, Any] | None = None, table_class: str | None = None,
                 deletion_protection: bool | None = None) -> Table:
    """Change billing, throughput, streams, class, protection, or add/update/delete a GSI (one per call)."""
    with transaction.atomic():
        table = selectors.table_get(name, lock=True)
        if table.status != TableStatus.ACTIVE:
            raise TableInUse(f"Attempt to change a resource which is still in use: Table is being {'created' if table.status == TableStatus.CREATING else 'updated'}: {name}")
        changed = False
        billing = billing_mode or table.billing_mode
        if billing not in BillingMode.values:
            raise TableValidation(f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
        if billing_mode and billing_mode != table.billing_mode:
            if billing == BillingMode.PROVISIONED:
                if not provisioned_throughput:
                    raise TableValidation(INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
                for index in table.global_indexes:
                    if not any(u.get("Update", {}).get("IndexName") == index["IndexName"] for u in gsi_updates or []):
                        index["ProvisionedThroughput"] = dict(_throughput_check(provisioned_throughput, billing))
            else:
                for index in table.global_indexes:
                    index.pop("ProvisionedThroughput", None)
            table.billing_mode = billing
            changed = True
        if provisioned_throughput:
            wanted = _throughput_check(provisioned_throughput, billing)
            current = table.provisioned_throughput or {}
            if billing == table.billing_mode == BillingMode.PROVISIONED and not gsi_updates and all(
                    current.get(k) == wanted.get(k) for k in ("ReadCapacityUnits", "WriteCapacityUnits")):
                raise TableValidation(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. "
                    f"Current ReadCapacityUnitsForTable: {current.get('ReadCapacityUnits')}. Requested ReadCapacityUnitsForTable: {wanted.get('ReadCapacityUnits')}. "
                    f"Current WriteCapacityUnitsForTable: {current.get('WriteCapacityUnits')}. Requested WriteCapacityUnitsForTable: {wanted.get('WriteCapacityUnits')}. "
                    "Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
            table.provisioned_throughput = wanted
            changed = True
        elif billing_mode == table.billing_mode == BillingMode.PAY_PER_REQUEST:
            changed = True  # AWS accepts an on-demand -> on-demand request as a no-op
        elif billing == BillingMode.PAY_PER_REQUEST and billing_mode:
            table.provisioned_throughput = {}
        definitions = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
        if attribute_definitions:
            for name_, kind in _definitions_check(attribute_definitions).items():
                if name_ in definitions and definitions[name_] != kind:
                    raise TableValidation(INVALID + f"Cannot change the type of attribute {name_}")
                definitions[name_] = kind
        backfill: list[dict[str, Any]] = []
        if gsi_updates:
            if len(gsi_updates) > 1:
                raise LimitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
            changed = True
            for update in gsi_updates:
                if "Create" in update:
                    spec = update["Create"]
                    if any(i["IndexName"] == spec.get("IndexName") for i in table.global_indexes + table.local_indexes):
                        raise TableValidation("Attempt to create an index which already exists")
                    if len(table.global_indexes) >= GSI_MAX:
                        raise LimitExceeded(f"Subscriber limit exceeded: The number of global secondary indexes exceeds the per-table limit of {GSI_MAX}")
                    index = _index_check(spec, table_schema=table.key_schema, local=False, billing=table.billing_mode)
                    index["IndexStatus"] = "CREATING"
                    table.global_indexes = [*table.global_indexes, index]
                    backfill.append(index)
                elif "Delete" in update:
                    target = update["Delete"].get("IndexName")
                    if not any(i["IndexName"] == target for i in table.global_indexes):
                        raise TableNotFound("Requested resource not found")
                    table.global_indexes = [i for i in table.global_indexes if i["IndexName"] != target]
                    IndexEntry.objects.filter(table=table, index_name=target).delete()
                elif "Update" in update:
                    target = update["Update"].get("IndexName")
                    found = [i for i in table.global_indexes if i["IndexName"] == target]
                    if not found:
                        raise TableNotFound("Requested resource not found")
                    if table.billing_mode == BillingMode.PAY_PER_REQUEST:
                        raise TableValidation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
                    found[0]["ProvisionedThroughput"] = _throughput_check(update["Update"].get("ProvisionedThroughput"), table.billing_mode, what=target)
        used = [table.key_schema] + [i["KeySchema"] for i in table.global_indexes + table.local_indexes]
        used_names = {e["AttributeName"] for s in used for e in s}
        missing = [e["AttributeName"] for s in used for e in s if e["AttributeName"] not in definitions]
        if missing:
            raise TableValidation(INVALID + f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{', '.join(dict.fromkeys(missing))}], "
                                  f"AttributeDefinitions: [{', '.join(definitions)}]")
        table.attribute_definitions = [{"AttributeName": k, "AttributeType": v} for k, v in definitions.items() if k in used_names]
        _projected_count_check(table.global_indexes + table.local_indexes)
        if stream_specification is not None:
            on, view = _stream_check(stream_specification)
            if on and table.stream_enabled:
                raise TableValidation(f"Table already has an enabled stream: {table.stream_label and selectors.table_arn(table) + '/stream/' + table.stream_label}")
            if not on and not table.stream_enabled:
                raise TableValidation(f"Table {name} does not have a stream to disable")
            table.stream_enabled = on
            if on:
                table.stream_view_type = view
                table.stream_label = _label(timezone.now())
            changed = True
        if table_class:
            if table_class not in TABLE_CLASSES:
                raise TableValidation(f"1 validation error detected: Value '{table_class}' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]")
            changed = changed or table_class != table.table_class
            table.table_class = table_class
        if deletion_protection is not None:
            changed = True
            table.deletion_protection = bool(deletion_protection)
        if not changed:
            raise TableValidation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
        table.status = TableStatus.UPDATING
        table.save()
        for index in backfill:
            _backfill(table, index)
        transaction.on_commit(lambda: _activate(table.pk))
    return table


def _backfill(table: Table, index: dict[str, Any]) -> None:
    entries = []
    for item in Item.objects.filter(table=table).only("pk", "data", "scan_hash").iterator(chunk_size=500):
        entry = index_entry_for(table, index, item)
        if entry is not None:
            entries.append(entry)
        if len(entries) >= 500:
            IndexEntry.objects.bulk_create(entries)
            entries = []
    IndexEntry.objects.bulk_create(entries)


def table_ttl_update(*, name: str, attribute: Any, enabled: Any) -> Table:
    """``UpdateTimeToLive``: turn expiry on (naming the attribute) or off; refuses a no-op change as DynamoDB does."""
    if not isinstance(attribute, str) or not attribute:
        raise TableValidation("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
    if len(attribute) > 255:
        raise TableValidation("1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
    if not isinstance(enabled, bool):
        raise TableValidation("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
    with transaction.atomic():
        table = selectors.table_get(name, lock=True)
        if enabled and table.ttl_enabled:
            raise TableValidation("TimeToLive is already enabled")
        if not enabled and not table.ttl_enabled:
            raise TableValidation("TimeToLive is already disabled")
        if not enabled and attribute != table.ttl_attribute:
            raise TableValidation(f"TimeToLive is active on a different AttributeName: current AttributeName is {table.ttl_attribute}")
        if enabled and attribute != table.ttl_attribute:
            _expires_recompute(table, attribute)
        table.ttl_attribute = attribute
        table.ttl_enabled = enabled
        table.save(update_fields=["ttl_attribute", "ttl_enabled", "updated_at"])
    return table


def _expires_recompute(table: Table, attribute: str) -> None:
    changed = []
    for item in Item.objects.filter(table=table).only("pk", "data", "expires_at").iterator(chunk_size=500):
        expires = expires_of(item.data, attribute)
        if expires != item.expires_at:
            item.expires_at = expires
            changed.append(item)
    Item.objects.bulk_update(changed, ["expires_at"], batch_size=500)


def _arn_table(arn: Any) -> Table:
    if not isinstance(arn, str) or not arn:
        raise TableValidation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
    prefix = selectors.table_arn_prefix()
    if not arn.startswith(prefix) or "/" in arn[len(prefix):]:
        raise TableValidation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return selectors.table_get(arn[len(prefix):], arn=arn)


def table_tag(*, arn: Any, tags: Any) -> None:
    tag_map = _tags_check(tags)
    with transaction.atomic():
        table = _arn_table(arn)
        table = Table.objects.select_for_update().get(pk=table.pk)
        merged = {**table.tags, **tag_map}
        if len(merged) > TAGS_MAX:
            raise LimitExceeded(INVALID + f"The number of tags exceeds the limit of {TAGS_MAX}")
        table.tags = merged
        table.save(update_fields=["tags", "updated_at"])


def table_untag(*, arn: Any, keys: Any) -> None:
    with transaction.atomic():
        table = _arn_table(arn)
        table = Table.objects.select_for_update().get(pk=table.pk)
        table.tags = {k: v for k, v in table.tags.items() if k not in set(keys or [])}
        table.save(update_fields=["tags", "updated_at"])


def table_tags(*, arn: Any) -> dict[str, str]:
    return dict(_arn_table(arn).tags)


def table_of_arn(arn: Any) -> Table:
    return _arn_table(arn)


__all__ = ["table_create", "table_delete", "table_update", "table_ttl_update", "table_tag", "table_untag", "table_tags", "table_of_arn",
           "TableNotFound"]
