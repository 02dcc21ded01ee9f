"""The REST API's token authentication (``Authorization: Token <token>``), telling a caller who sends ``Bearer`` what
to send instead.

A token is looked up by its digest (``apitokens``: the database keeps no raw token), and its use noted at most
once a minute. Loaded by DRF from ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` while ``rest_framework.views``
imports, so it imports nothing of Kiln's at module level. A token's user is cached per process (``TOKENS``, keyed
by the digest, never the raw token) and invalidated by any write to a token, a user, a group or their permissions
(``console/apps.py``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header


class KilnTokenAuthentication(TokenAuthentication):
    """DRF's token header parsing and messages, over Kiln's hashed tokens (``apitokens.ApiToken``)."""

    def authenticate(self, request: Any) -> Any:
        header = get_authorization_header(request).split()
        if header and header[0].lower() == b"bearer":
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Token <token>' (from POST /api/v1/auth/token/); Bearer is not accepted.")
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> Any:
        from apitokens.models import token_digest
        from apitokens.services import api_token_note_use
        from console.tokens import TOKENS

        digest = token_digest(key)
        found = TOKENS.get(digest, lambda: _token_load(digest), cacheable=lambda pair: pair is not None)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        api_token_note_use(token=token)
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return "Token"


def _token_load(digest: str) -> Any:
    from apitokens.selectors import api_token_by_digest

    token = api_token_by_digest(digest=digest)
    return (token.user, token) if token is not None else None
