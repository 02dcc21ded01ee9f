"""Tables, their items, index entries and stream records, all in Kiln's database (survive restarts, shared
by every web and worker process).

An item is stored in its wire form (``{"S": ...}`` values) with its key as ``tables.values.sort_bytes`` so
the database orders a partition's items exactly as DynamoDB does (bytes compare as memcmp in PostgreSQL's
``bytea`` and SQLite's BLOB). A secondary index's entries point at their items with the index's keys in the
same encoding. A stream record is written in the transaction that changes the item; ``sequence`` grows per
table (the table row's counter, taken with a conditional update), so records of one key keep their order.
"""

from __future__ import annotations

from django.db import models

from tables.jsonstore import ItemDecoder, ItemEncoder


class TableStatus(models.TextChoices):
    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    UPDATING = "UPDATING"
    DELETING = "DELETING"


class BillingMode(models.TextChoices):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


class StreamViewType(models.TextChoices):
    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"


class StreamEvent(models.TextChoices):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


class Table(models.Model):
    name = models.CharField(max_length=255, unique=True)
    table_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=16, choices=TableStatus.choices, default=TableStatus.CREATING)
    # [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}] as the caller gave it
    key_schema = models.JSONField()
    attribute_definitions = models.JSONField()  # [{"AttributeName": ..., "AttributeType": "S" | "N" | "B"}]
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices, default=BillingMode.PROVISIONED)
    provisioned_throughput = models.JSONField(default=dict, blank=True)  # {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    # [{"IndexName", "KeySchema", "Projection", "IndexStatus", "ProvisionedThroughput"?}] as DescribeTable shows them
    global_indexes = models.JSONField(default=list, blank=True)
    local_indexes = models.JSONField(default=list, blank=True)
    table_class = models.CharField(max_length=32, default="STANDARD")
    deletion_protection = models.BooleanField(default=False)
    tags = models.JSONField(default=dict, blank=True)
    stream_enabled = models.BooleanField(default=False)
    stream_view_type = models.CharField(max_length=24, choices=StreamViewType.choices, blank=True, default="")
    stream_label = models.CharField(max_length=32, blank=True, default="")  # the current (or last) stream's label
    stream_sequence = models.BigIntegerField(default=0)  # the last sequence number given to a record of this table
    ttl_attribute = models.CharField(max_length=255, blank=True, default="")
    ttl_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    # No index of its own: the key's unique index leads with it, and serves the key order too (one index fewer for
    # every write to maintain; an upsert whose indexed columns change writes an entry in each).
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="items", db_index=False)
    hash_key = models.BinaryField()  # sort_bytes of the partition key's value
    range_key = models.BinaryField(default=b"")  # sort_bytes of the sort key's value; b"" without a sort key
    data = models.JSONField(encoder=ItemEncoder, decoder=ItemDecoder)  # the whole item, wire form
    size_bytes = models.IntegerField()
    expires_at = models.BigIntegerField(null=True, blank=True, db_index=True)  # the TTL attribute's epoch seconds, when set
    # A hash of hash_key in [0, 2**31): Scan's order and its parallel segments (tables.items.scan_hash)
    scan_hash = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "hash_key", "range_key"], name="tables_item_key")]
        indexes = [models.Index(fields=["table", "scan_hash", "hash_key", "range_key"], name="tables_item_scan")]


class IndexEntry(models.Model):
    """An item's place in one secondary index (items without the index's key attributes have none)."""

    # Neither key has an index of its own: the unique (item, index_name) and the index order lead with them.
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="index_entries", db_index=False)
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="index_entries", db_index=False)
    index_name = models.CharField(max_length=255)
    hash_key = models.BinaryField()
    range_key = models.BinaryField(default=b"")
    scan_hash = models.BigIntegerField(default=0)  # as Item.scan_hash, of this entry's hash_key

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "index_name"], name="tables_index_entry_item")]
        indexes = [models.Index(fields=["table", "index_name", "hash_key", "range_key"], name="tables_index_order"),
                   models.Index(fields=["table", "index_name", "scan_hash", "hash_key", "range_key"], name="tables_index_scan")]


class StreamRecord(models.Model):
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="stream_records")
    stream_label = models.CharField(max_length=32)  # a stream turned off and on again is a new stream: a new label and ARN
    sequence = models.BigIntegerField()  # SequenceNumber on the wire: str(sequence).zfill(21)
    event_name = models.CharField(max_length=8, choices=StreamEvent.choices)
    keys = models.JSONField(encoder=ItemEncoder, decoder=ItemDecoder)
    new_image = models.JSONField(null=True, blank=True, encoder=ItemEncoder, decoder=ItemDecoder)  # kept as the StreamViewType asks
    old_image = models.JSONField(null=True, blank=True, encoder=ItemEncoder, decoder=ItemDecoder)
    size_bytes = models.IntegerField()
    # {"type": "Service", "principalId": "dynamodb.amazonaws.com"} for a TTL deletion, else null
    user_identity = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "sequence"], name="tables_stream_sequence")]
        indexes = [models.Index(fields=["table", "stream_label", "sequence"], name="tables_stream_order")]


class TransactionToken(models.Model):
    """A TransactWriteItems ``ClientRequestToken`` seen in the last 10 minutes, with a digest of its request."""

    token = models.CharField(max_length=36, unique=True)
    request_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
