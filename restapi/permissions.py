"""The REST API's permission check: each view names the Django model permissions its methods need.

A view sets ``permission_model = "app.model"``: reading (GET, HEAD, OPTIONS) needs ``app.view_model``,
POST ``app.add_model``, PUT and PATCH ``app.change_model``, DELETE ``app.delete_model``. ``permissions_for``
overrides a method (``{"POST": ("functions.invoke_function",)}``). A view that names neither for a method is
refused to everyone but a superuser, so a new endpoint cannot be forgotten open. The persona groups that hold
these permissions are defined in ``iam/personas.py``; the console's pages check the same permissions.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

_ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def required_permissions(view: Any, method: str) -> tuple[str, ...] | None:
    """The permissions ``method`` on ``view`` needs, or None when the view does not say (superusers only)."""
    overrides: dict[str, tuple[str, ...]] = getattr(view, "permissions_for", {}) or {}
    if method in overrides:
        return tuple(overrides[method])
    if method in ("HEAD", "OPTIONS") and "GET" in overrides:
        return tuple(overrides["GET"])
    model = getattr(view, "permission_model", None)
    action = _ACTIONS.get(method)
    if model is None or action is None:
        return None
    app, name = model.split(".")
    return (f"{app}.{action}_{name}",)


class ModelPermissions(BasePermission):
    """Signed in, and holding what ``required_permissions`` names for the method."""

    message = "You do not have permission to do this: ask an administrator for a persona (Developers, Viewers) that allows it."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        needed = required_permissions(view, request.method or "GET")
        if needed is None:
            return False
        return user.has_perms(needed)


def can_see_secrets(user: Any) -> bool:
    """Whether the user may read functions' environment variable values."""
    return bool(user and user.is_authenticated and user.has_perm("functions.view_function_secrets"))
