"""A tiny synchronous domain-event bus: layers below announce, layers above subscribe.

``publish(event)`` calls every handler subscribed to the event's class (or a base class) in the caller's
thread and transaction, so a handler's writes commit or roll back with the change it reacts to.
Handlers are registered once, from an ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]
_subscribers: dict[type, list[Handler]] = {}


def subscribe(event_type: type, handler: Handler) -> None:
    """Call ``handler(event)`` for every published instance of ``event_type``; idempotent per handler."""
    handlers = _subscribers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event_type: type, handler: Handler) -> None:
    handlers = _subscribers.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)


def publish(event: object) -> None:
    """Deliver ``event`` to its subscribers, synchronously; a handler's exception propagates to the publisher."""
    for event_type in type(event).__mro__:
        for handler in list(_subscribers.get(event_type, ())):
            handler(event)
