"""Reading the REST API's tokens: the one lookup authentication makes, by digest (``models.token_digest``)."""

from __future__ import annotations

from apitokens.models import ApiToken


def api_token_by_digest(*, digest: str) -> ApiToken | None:
    """The token of ``digest`` with its user, or None (unknown, or revoked)."""
    return ApiToken.objects.select_related("user").filter(digest=digest).first()
