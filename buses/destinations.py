"""Event buses as destinations of asynchronous invocations (OnSuccess / OnFailure), registered into ``functions``.

Lambda puts the invocation record on the bus as an event from source ``lambda`` with detail type
``Lambda Function Invocation Result - Success`` (or ``- Failure``), the record as its detail and the function's
and the bus's ARNs as resources; the bus's rules route it like any PutEvents entry, inside the transaction
that finishes the invocation.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from buses.selectors import bus_find
from buses.services import envelope, event_route
from functions.destinations import DestinationKind, destination_kind_register

log = logging.getLogger(__name__)

BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}$")


def destination_event(arn: str, record: dict[str, Any]) -> dict[str, Any]:
    """The event Lambda sends to an event bus destination for ``record``."""
    context = record.get("requestContext", {})
    outcome = "Success" if context.get("condition") == "Success" else "Failure"
    function_arn = str(context.get("functionArn", ""))
    return envelope(source="lambda", detail_type=f"Lambda Function Invocation Result - {outcome}", detail=record,
                    resources=[arn, function_arn] if function_arn else [arn])


def _to_bus(arn: str, record: dict[str, Any], parent_id: str) -> None:
    bus = bus_find(arn)
    if bus is None:
        log.warning("destination event bus %s no longer exists; the record of %s is dropped", arn, parent_id)
        return
    event_route(bus, destination_event(bus.arn, record))


def register() -> None:
    destination_kind_register(DestinationKind(name="event-bus", arn=BUS_ARN, check=lambda arn: bus_find(arn) is not None, deliver=_to_bus))
