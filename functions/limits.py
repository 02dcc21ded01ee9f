"""Lambda's documented limits as named constants; every one is enforced at its edge and tested."""

from __future__ import annotations

MB = 1024 * 1024

FUNCTION_NAME_MAX = 64
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10_240
MEMORY_DEFAULT_MB = 128
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
TIMEOUT_DEFAULT_S = 3
EPHEMERAL_MIN_MB = 512
EPHEMERAL_MAX_MB = 10_240
EPHEMERAL_DEFAULT_MB = 512
# A function's network: "outbound" reaches other hosts (as Lambda), "none" only its Runtime API.
NETWORK_OUTBOUND = "outbound"
NETWORK_NONE = "none"
NETWORK_MODES = (NETWORK_OUTBOUND, NETWORK_NONE)
ENVIRONMENT_MAX_BYTES = 4 * 1024  # keys and values together
LAYERS_MAX = 5
ZIP_MAX_BYTES = 50 * MB  # a zip upload
UNZIPPED_MAX_BYTES = 250 * MB  # a function and its layers, unzipped
DESCRIPTION_MAX = 256
HANDLER_MAX = 128
SYNC_PAYLOAD_MAX_BYTES = 6 * MB  # RequestResponse request and response
ASYNC_PAYLOAD_MAX_BYTES = 1 * MB  # Event
INIT_TIMEOUT_S = 10
ASYNC_RETRIES_MAX = 2  # MaximumRetryAttempts: 0-2
EVENT_AGE_MIN_S = 60  # MaximumEventAgeInSeconds: 60-21600
EVENT_AGE_MAX_S = 21_600
TEST_EVENTS_MAX = 10  # saved test events per function (private and shared together), as the Lambda console
TEST_EVENT_NAME_MAX = 25
TEST_EVENT_MAX_BYTES = SYNC_PAYLOAD_MAX_BYTES  # a saved event must be invokable synchronously

# Environment variable names Lambda sets itself and refuses in a function's configuration.
RESERVED_ENV_NAMES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
