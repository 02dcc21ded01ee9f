"""EventBridge's documented limits (the service quotas page and the API reference)."""

from __future__ import annotations

PUT_EVENTS_ENTRIES_MAX = 10
PUT_EVENTS_SIZE_MAX = 256 * 1024  # the entries' total, as "Calculating PutEvents event entry size" computes it
TIME_SIZE = 14  # bytes an entry's Time counts for
TARGETS_PER_RULE_MAX = 5
PUT_TARGETS_MAX = 100  # PutTargets' Targets list (the model: 1-100)
RULES_PER_BUS_MAX = 300
BUSES_MAX = 100
RULE_NAME_MAX = 64
BUS_NAME_MAX = 256
TARGET_ID_MAX = 64
DESCRIPTION_MAX = 512
EVENT_PATTERN_MAX = 4096
SCHEDULE_EXPRESSION_MAX = 256
INPUT_MAX = 8192
INPUT_PATH_MAX = 256
INPUT_PATHS_MAP_MAX = 100
INPUT_TEMPLATE_MAX = 8192
RETRY_ATTEMPTS_MAX = 185
RETRY_ATTEMPTS_DEFAULT = 185
EVENT_AGE_MIN = 60
EVENT_AGE_MAX = 86400
EVENT_AGE_DEFAULT = 86400
LIST_LIMIT_MAX = 100
TAGS_MAX = 50
BUS_HOPS_MAX = 5  # an event forwarded bus to bus more often than this is dropped (a loop)
# Back-off between delivery attempts (seconds): EventBridge retries with exponential back-off and jitter.
RETRY_BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)
