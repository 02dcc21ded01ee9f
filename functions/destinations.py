"""Kinds of asynchronous-invocation destinations beyond functions: an ARN pattern, an existence check and a delivery.

Lambda sends the record of a finished asynchronous invocation (OnSuccess / OnFailure) to a function, an SQS
queue, an SNS topic or an event bus. Functions are the invoker's own; the other kinds are registered here by
the apps that own those resources (``topics`` registers SNS and SQS from its ``AppConfig.ready``), so this
layer and the invoker import none of them. ``check`` answers whether the resource exists (a destination is
refused when it does not); ``deliver(arn, record, parent_id)`` hands the record over inside the caller's
transaction (the invocation's finish), so it is sent exactly when the invocation is final. A kind with
``dead_letter`` may also be a function's ``DeadLetterConfig`` target, which gets the failed event itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DestinationKind:
    name: str
    arn: re.Pattern[str]
    check: Callable[[str], bool]
    deliver: Callable[[str, dict[str, Any], str], None]
    # DeadLetterConfig: ``dead_letter(arn, event payload, message attributes, request id)``, in the caller's transaction.
    dead_letter: Callable[[str, str, dict[str, dict[str, str]], str], None] | None = None


_kinds: dict[str, DestinationKind] = {}


def destination_kind_register(kind: DestinationKind) -> None:
    """Serve destinations whose ARN matches ``kind.arn``; registering a name again replaces it."""
    _kinds[kind.name] = kind


def destination_kind_for(arn: str) -> DestinationKind | None:
    return next((kind for kind in _kinds.values() if kind.arn.match(arn or "")), None)
