"""SNS's limits, as AWS documents them (https://docs.aws.amazon.com/general/latest/gr/sns.html, the API reference)."""

from __future__ import annotations

TOPIC_NAME_MAX = 256
MESSAGE_SIZE_MAX = 262_144  # 256 KiB: message, subject and attributes together
SUBJECT_MAX = 100
MESSAGE_ATTRIBUTES_MAX = 10
MESSAGE_ATTRIBUTE_NAME_MAX = 256
BATCH_ENTRIES_MAX = 10
BATCH_ID_MAX = 80
BATCH_SIZE_TOTAL_MAX = MESSAGE_SIZE_MAX
DEDUP_WINDOW_SECONDS = 300
DEDUP_ID_MAX = 128
GROUP_ID_MAX = 128
TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
LIST_PAGE = 100
FILTER_POLICY_MAX = 256 * 1024  # bytes of a FilterPolicy document
DISPLAY_NAME_MAX = 100
# Deliveries to Lambda and SQS (AWS-managed endpoints) retried after server-side failures: the immediate and
# pre-backoff phases of AWS's policy (3 at once, 2 one second apart), then exponential up to 20 s; Kiln stops after these.
MANAGED_RETRY_DELAYS = (0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0)
# HTTP/S: the default healthy retry policy (3 retries, 20 s apart), changed by DeliveryPolicy; the whole at most an hour.
HTTP_RETRIES_DEFAULT = 3
HTTP_DELAY_DEFAULT = 20
HTTP_RETRY_TOTAL_MAX = 3600
HTTP_TIMEOUT_SECONDS = 15.0
# A delivery still claimed after this is taken as lost (its worker died) and sent again by the sweep.
CLAIM_STALE_SECONDS = 120
# Published messages whose deliveries are all final are kept this long (the console's history), then pruned.
MESSAGE_KEEP_SECONDS = 24 * 3600
