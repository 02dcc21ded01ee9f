"""Templates of test events: the event shapes Kiln's own sources deliver, registered by those sources.

Each source that turns something into an event (``httpapi`` for API Gateway payloads, ``events`` for S3
records, and each later one) registers a builder here from its ``AppConfig.ready()``, so the template
is made by the very code that makes the real events, and this layer imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventTemplate:
    id: str
    name: str
    build: Callable[[], Any]


_templates: dict[str, EventTemplate] = {}


def template_register(*, template_id: str, name: str, build: Callable[[], Any]) -> None:
    """Offer ``build()``'s event as the template ``template_id``; registering again replaces it."""
    _templates[template_id] = EventTemplate(template_id, name, build)


def template_list() -> list[dict[str, Any]]:
    """``[{"id", "name", "event"}]``, events built afresh (ids and times are new each time)."""
    return [{"id": t.id, "name": t.name, "event": t.build()} for t in sorted(_templates.values(), key=lambda t: t.id)]
