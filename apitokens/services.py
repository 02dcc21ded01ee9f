"""Issuing and revoking the REST API's tokens, and noting their use (the only writes to ``ApiToken``).

``api_token_issue`` returns the raw token once: the database keeps its digest only (``models.token_digest``), so
no later call can show it again; a caller that lost it issues another. Any write to a token (a save, a delete)
invalidates every process's token cache (``console/apps.py``), except ``api_token_note_use``'s ``update()``,
which changes nothing authentication reads.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apitokens.models import ApiToken, token_digest

TOKEN_PREFIX = "kiln_"
TOKEN_BYTES = 30  # secrets.token_urlsafe(30): 240 random bits, 40 characters after the prefix
DISPLAY_CHARACTERS = 8  # ApiToken.prefix: "kiln_" and 3 random characters
LAST_USED_EVERY = datetime.timedelta(minutes=1)


def api_token_issue(*, user: Any) -> str:
    """A new token for ``user`` (its other tokens keep working): the raw token, which is not stored anywhere."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, digest=token_digest(raw), prefix=raw[:DISPLAY_CHARACTERS])
    return raw


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke ``token``: from the next request on (every process's cache forgets it), it authenticates nothing."""
    token.delete()


def api_token_note_use(*, token: ApiToken, now: datetime.datetime | None = None) -> bool:
    """Record that ``token`` authenticated a request, at most once per ``LAST_USED_EVERY``: whether it wrote.

    ``token`` is the (cached) instance authentication read; it remembers the time, so this process does not
    try again within the minute, and the conditional update keeps other processes from writing it again too."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return False
    token.last_used_at = now
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)  # the same edge as above: a minute on, it writes
    return ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now) == 1
