"""CloudWatch Logs' limits, as AWS documents them (API reference of each operation; the service quotas page)."""

from __future__ import annotations

GROUP_NAME_MAX = 512
STREAM_NAME_MAX = 512
FILTER_NAME_MAX = 512
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
BATCH_EVENTS_MAX = 10_000
BATCH_BYTES_MAX = 1_048_576  # the sum of the messages in UTF-8 plus EVENT_OVERHEAD per event
EVENT_OVERHEAD = 26
EVENT_BYTES_MAX = 1_048_576  # "Each log event can be no larger than 1 MB" (256 KB until 2025), overhead included
PAST_MAX_MS = 14 * 24 * 3600 * 1000  # older events are rejected (tooOldLogEventEndIndex)
FUTURE_MAX_MS = 2 * 3600 * 1000  # events further ahead are rejected (tooNewLogEventStartIndex)
BATCH_SPAN_MAX_MS = 24 * 3600 * 1000
SUBSCRIPTION_FILTERS_MAX = 2  # per log group
DESCRIBE_LIMIT_MAX = 50
EVENTS_LIMIT_MAX = 10_000
TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
# Subscription deliveries: at most this many events in one awslogs invocation (its payload must stay under
# Lambda's 1 MB asynchronous limit after gzip and base64; the batch is split by size as well).
DELIVERY_EVENTS_MAX = 1_000
DELIVERY_BYTES_MAX = 256 * 1024  # raw message bytes per delivery, before gzip
# Invocation logs are scanned for subscription filters once finished at least this long ago, so a row
# committed a moment after a later one is not skipped by the checkpoint.
SCAN_LAG_SECONDS = 2.0
SCAN_BATCH = 500
CHAIN_DEPTH_MAX = 16  # as bucket notifications (events/loops.py): a longer chain of deliveries is a loop
