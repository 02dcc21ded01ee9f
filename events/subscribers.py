"""Turns storage's domain events into invocations, inside the object write's transaction.

``invocation_submit`` writes each invocation ``QUEUED`` in that transaction and publishes only after
commit, so the object and its pending notifications commit together; a lost message is re-sent by the
invoker's reaper. Delivery is therefore at least once; the sequencer lets handlers de-duplicate.
Each invocation records its cause: bucket, key, object version (``"null"`` while buckets are
unversioned) and, when a function's own write made the event, that invocation as its parent.
"""

from __future__ import annotations

import json

from events.loops import chain_detail, chain_too_long, loop_error
from events.s3 import s3_event
from events.selectors import matching_notifications
from invoker.models import InvocationType, Trigger
from invoker.submit import invocation_record_stopped, invocation_submit
from storage.domain import ObjectEvent


def object_event_notify(event: ObjectEvent) -> None:
    for config in matching_notifications(event.bucket, event.key, event.event_name):
        payload = json.dumps(s3_event(event, configuration_id=config.config_id)).encode()
        detail = {"bucket": event.bucket, "key": event.key, "version_id": getattr(event, "version_id", None) or "null", "event_name": event.event_name,
                  "sequencer": event.sequencer, "configuration_id": config.config_id, **chain_detail(event.request)}
        if chain_too_long(detail):  # a recursive loop (events/loops.py): recorded, not run
            invocation_record_stopped(function=config.function, payload=payload, trigger=Trigger.S3, trigger_detail=detail,
                                      error=loop_error(config.function.name, detail), parent_id=event.request.invocation_id or None)
            continue
        invocation_submit(function=config.function, payload=payload, invocation_type=InvocationType.EVENT, trigger=Trigger.S3, trigger_detail=detail,
                          parent_id=event.request.invocation_id or None)
