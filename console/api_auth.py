"""The REST API's token authentication (DRF's), telling a caller who sends ``Bearer`` what to send instead.

Loaded by DRF from ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` while ``rest_framework.views`` imports,
so it imports nothing of Kiln's at module level. A token's user is cached per process (``TOKENS``) and
invalidated by any write to a token, a user, a group or their permissions (``console/apps.py``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header


class KilnTokenAuthentication(TokenAuthentication):
    """DRF's token authentication (``Authorization: Token <key>``), telling a caller who sends ``Bearer`` what to send."""

    def authenticate(self, request: Any) -> Any:
        header = get_authorization_header(request).split()
        if header and header[0].lower() == b"bearer":
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Token <token>' (from POST /api/v1/auth/token/); Bearer is not accepted.")
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> Any:
        from console.tokens import TOKENS

        found = TOKENS.get(key, lambda: _token_load(key), cacheable=lambda pair: pair is not None)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return "Token"


def _token_load(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return (token.user, token) if token is not None else None
