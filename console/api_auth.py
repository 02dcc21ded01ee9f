"""The REST API's token authentication (DRF's), telling a caller who sends ``Bearer`` what to send instead.

Loaded by DRF from ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` while ``rest_framework.views`` imports,
so it imports nothing of Kiln's.
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

    def authenticate_header(self, request: Any) -> str:
        return "Token"
