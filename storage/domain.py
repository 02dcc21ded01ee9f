"""Domain events storage announces on the core event bus (inside the write's transaction)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestInfo:
    """Who asked and from where; carried into S3 event records."""

    principal_id: str = ""
    source_ip: str = "127.0.0.1"
    request_id: str = ""
    # The request id of the invocation whose code made this request (set by the entry point that knows
    # it, e.g. the AWS endpoint from an environment's credentials), so what it triggers records its parent.
    invocation_id: str = ""
    chain_id: str = ""  # the write came from a function: the chain of invocations it is in (events/loops.py) ...
    chain_depth: int = 0  # ... and how many invocations deep the writer is


@dataclass(frozen=True)
class ObjectEvent:
    bucket: str
    key: str
    event_name: str  # S3's, without "s3:" e.g. "ObjectCreated:Put"
    sequencer: str
    occurred_at: datetime.datetime
    request: RequestInfo = field(default_factory=RequestInfo)


@dataclass(frozen=True)
class ObjectCreated(ObjectEvent):
    size: int = 0
    etag: str = ""


@dataclass(frozen=True)
class ObjectRemoved(ObjectEvent):
    pass
