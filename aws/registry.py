"""The operation registry: ``@operation("s3", "GetObject")`` binds a handler to a service's operation.

A handler takes the request's ``AwsContext`` and the parsed input parameters (member names of botocore's
input shape) and returns the output members as a dict, which the service's protocol renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Handler = Callable[..., dict[str, Any]]
_HANDLERS: dict[tuple[str, str], Handler] = {}
_H = TypeVar("_H", bound=Callable[..., Any])  # a handler, typed as written (some of S3's return an HttpResponse of their own)


def operation(service: str, name: str) -> Callable[[_H], _H]:
    def register(handler: _H) -> _H:
        _HANDLERS[(service, name)] = handler
        return handler

    return register


def handler_for(service: str, name: str) -> Handler | None:
    return _HANDLERS.get((service, name))


def operations_of(service: str) -> list[str]:
    return sorted(name for svc, name in _HANDLERS if svc == service)
