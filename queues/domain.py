"""What the queues app announces on the core event bus (after commit): a queue may have messages to deliver."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessagesAvailable:
    """Messages were sent to (or made visible again in) the queue ``queue_arn``; event source mappings poll it."""

    queue_id: int
    queue_arn: str
