"""The REST API's tokens (``Authorization: Token kiln_...``), of which the database keeps only a SHA-256 digest.

An app of its own rather than a model in ``console`` or ``iam``: ``console`` is the Django project (settings,
URLs, the admin site) and has no models or migrations, and ``iam`` holds the AWS endpoint's identities and
policies, not the REST API's sign-in. Here the model, its services and its one endpoint
(``POST``/``DELETE /api/v1/auth/token/``) sit together, under the layers of ``console`` that authenticates with it.
It replaces DRF's ``rest_framework.authtoken``, whose ``Token`` kept the raw key as its primary key (so a database
dump held every live token); ``migrations/0002`` moved those tokens here, as digests.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


def token_digest(raw: str) -> str:
    """What the database keeps of a token: its SHA-256, hex.

    Unkeyed on purpose: a token is 240 random bits (``services.api_token_issue``), so no dictionary or brute force
    reaches it through its hash, which a password's would need a slow, salted one against; and with no key the
    digests survive a rotation of ``SECRET_KEY``. Lookups go by digest (an index), not by comparing secrets.
    """
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """One token of a login (a login may hold several): its digest, its first characters for display, its use."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    # token_digest(raw token); the raw token itself is never stored.
    digest = models.CharField(max_length=64, unique=True)
    # The token's first characters ("kiln_AbC"), to tell a login's tokens apart; too few to guess the rest from.
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it last authenticated a request, written at most once a minute (services.api_token_note_use).
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "REST API token"

    def __str__(self) -> str:
        return f"{self.prefix}..."
