"""Choosing the route for a request as API Gateway HTTP APIs do.

The most specific route wins: compared segment by segment, a static segment beats a ``{param}``,
which beats a greedy ``{proxy+}``; on equal paths an exact method beats ``ANY``; the ``$default``
route, when defined, catches what nothing else matches. Pure: no database access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

STATIC, PARAM, GREEDY = 0, 1, 2


class RouteLike(Protocol):
    route_key: str
    method: str
    path: str


_Route = TypeVar("_Route", bound=RouteLike)  # the caller's route type (a Route model), kept in the Match


@dataclass(frozen=True)
class Match(Generic[_Route]):
    route: _Route
    path_parameters: dict[str, str]


def split_path(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _match_path(template: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """The specificity key and parameters when ``segments`` match ``template``, else None."""
    parts = split_path(template)
    ranks: list[int] = []
    params: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            tail = segments[index:]
            if not tail:
                return None
            params[part[1:-2]] = "/".join(tail)
            ranks.append(GREEDY)
            return tuple(ranks), params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            if segments[index] == "":
                return None
            params[part[1:-1]] = segments[index]
            ranks.append(PARAM)
        elif part == segments[index]:
            ranks.append(STATIC)
        else:
            return None
    if len(parts) != len(segments):
        return None
    return tuple(ranks), params


def route_match(routes: Iterable[_Route], method: str, path: str) -> Match[_Route] | None:
    """The route that serves ``method path`` (``path`` without the stage), or None (404)."""
    segments = split_path(path)
    method = method.upper()
    best: tuple[tuple[int, ...], int] | None = None
    chosen: Match[_Route] | None = None
    fallback: _Route | None = None
    for route in routes:
        if not route.method:
            fallback = route
            continue
        if route.method != "ANY" and route.method != method:
            continue
        found = _match_path(route.path, segments)
        if found is None:
            continue
        # Lower is more specific; a shorter greedy prefix is less specific, so pad with a high rank.
        ranks, params = found
        key = (ranks + (GREEDY + 1,) * (len(segments) + 1 - len(ranks)), 0 if route.method == method else 1)
        if best is None or key < best:
            best, chosen = key, Match(route=route, path_parameters=params)
    if chosen is None and fallback is not None:
        return Match(route=fallback, path_parameters={})
    return chosen
