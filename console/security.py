"""The console's browser-facing protections: a Content-Security-Policy on its pages and sign-in throttling.

CSP covers the console (``/console/``) and the API docs (``/api/docs/``, Swagger UI served with its script as a
file). Scripts only from Kiln's own origin (no inline script, no ``eval``); styles from Kiln plus inline
styles (CodeMirror and Chart.js set them); no framing, no plugins, forms post only to Kiln. HTTP triggers and
function URLs serve their functions' content and get none of this; the AWS endpoint answers before it.
Django's own middleware adds ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy`` and ``Cross-Origin-Opener-Policy``; HSTS and secure cookies follow ``KILN_HTTPS``.

Sign-ins (console login and ``/api/v1/auth/token/``) are throttled per account and per client address in
Redis: after ``LOGIN_FAILURES_PER_ACCOUNT`` failures within ``LOGIN_WINDOW_S`` the account's sign-in is refused,
even with the right password, until the window passes; a success clears the account's count. The check is in
the authentication backend (Django's ``ModelBackend``, extended), so every way of signing in passes through it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
])
CSP_PATHS = ("/console/", "/api/docs/")

LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURES_PER_ADDRESS = 50
LOGIN_WINDOW_S = 15 * 60


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(CSP_PATHS) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CSP
        return response


def _keys(username: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"kiln:login-failures:account:{account}", f"kiln:login-failures:address:{address}"


def _address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def login_throttled(username: str, request: HttpRequest | None) -> bool:
    """Whether sign-ins for ``username`` (or from this client) are refused for now."""
    from invoker.redis_client import get_redis

    account, address = _keys(username, _address(request))
    try:
        counts = get_redis().mget([account, address])
    except Exception:  # Redis away: sign-in keeps working, unthrottled (logged)
        log.warning("sign-in throttling skipped: Redis unavailable")
        return False
    return int(counts[0] or 0) >= LOGIN_FAILURES_PER_ACCOUNT or int(counts[1] or 0) >= LOGIN_FAILURES_PER_ADDRESS


THROTTLED_MESSAGE = (f"Too many failed sign-ins for this account or from this address: sign-in is refused for up to "
                     f"{LOGIN_WINDOW_S // 60} minutes. Wait, or ask an administrator to reset the password.")


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend, refusing sign-in while throttled (``PermissionDenied`` stops ``authenticate``)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        if username and login_throttled(username, request):
            raise PermissionDenied(THROTTLED_MESSAGE)
        return super().authenticate(request, username=username, password=password, **kwargs)


def _failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    from invoker.redis_client import get_redis

    username = str(credentials.get("username") or "")
    account, address = _keys(username, _address(request))
    try:
        pipe = get_redis().pipeline()
        for key in (account, address):
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW_S, nx=True)
        pipe.execute()
    except Exception:
        log.warning("could not count a failed sign-in: Redis unavailable")


def _succeeded(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    from invoker.redis_client import get_redis

    try:
        get_redis().delete(_keys(user.get_username(), _address(request))[0])
    except Exception:
        log.warning("could not clear sign-in failures: Redis unavailable")


def connect() -> None:
    user_login_failed.connect(_failed, dispatch_uid="kiln-login-failed")
    user_logged_in.connect(_succeeded, dispatch_uid="kiln-login-succeeded")
