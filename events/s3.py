"""S3 event records in AWS's shape (event version 2.1), as Lambda receives them.

Object keys are URL-encoded as S3 encodes them (``quote_plus``: a space becomes ``+``), so handlers
written for Lambda decode them with ``unquote_plus`` / ``decodeURIComponent(key.replace(/\\+/g, " "))``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.utils import timezone

from storage.domain import ObjectCreated, ObjectEvent, RequestInfo

EVENT_VERSION = "2.1"
CREATED = ("s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload")
REMOVED = ("s3:ObjectRemoved:Delete",)
EVENT_TYPES = ("s3:ObjectCreated:*", *CREATED, "s3:ObjectRemoved:*", *REMOVED)


def event_time(event: ObjectEvent) -> str:
    return event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.occurred_at.microsecond // 1000:03d}Z"


def expand(event_type: str) -> frozenset[str]:
    """The concrete event names an event type (possibly a wildcard) stands for."""
    if event_type == "s3:ObjectCreated:*":
        return frozenset(CREATED)
    if event_type == "s3:ObjectRemoved:*":
        return frozenset(REMOVED)
    return frozenset({event_type})


def owner_id() -> str:
    return "A" + hashlib.sha1(settings.KILN_ACCOUNT_ID.encode(), usedforsecurity=False).hexdigest()[:13].upper()


def s3_record(event: ObjectEvent, *, configuration_id: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": quote_plus(event.key, safe="/")}
    if isinstance(event, ObjectCreated):
        obj.update({"size": event.size, "eTag": event.etag})
    obj["sequencer"] = event.sequencer
    request_id = event.request.request_id or event.sequencer[-16:]
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": settings.KILN_REGION,
        "eventTime": event_time(event),
        "eventName": event.event_name,
        "userIdentity": {"principalId": event.request.principal_id or "anonymous"},
        "requestParameters": {"sourceIPAddress": event.request.source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": event.bucket, "ownerIdentity": {"principalId": owner_id()}, "arn": f"arn:aws:s3:::{event.bucket}"},
            "object": obj,
        },
    }


def s3_event(event: ObjectEvent, *, configuration_id: str) -> dict[str, Any]:
    return {"Records": [s3_record(event, configuration_id=configuration_id)]}


def sample_put_event() -> dict[str, Any]:
    """An S3 put event as a notification would deliver it, for test-event templates."""
    created = ObjectCreated(bucket="example-bucket", key="uploads/photo 1.jpg", event_name="ObjectCreated:Put", sequencer="0000000000000001",
                            occurred_at=timezone.now(), request=RequestInfo(principal_id="KILN:admin", source_ip="203.0.113.7", request_id="C3D13FE58DE4C810"),
                            size=1024, etag="0123456789abcdef0123456789abcdef")
    return s3_event(created, configuration_id="example-notification")
