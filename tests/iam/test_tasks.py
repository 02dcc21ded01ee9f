"""Beat's session purge: expired session keys go an hour after they expire; live ones and long-term keys stay."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from iam.credentials import access_key_create, session_create
from iam.models import AccessKey
from iam.tasks import purge_sessions


def test_purge_sessions_deletes_only_keys_expired_for_an_hour(db: None) -> None:
    root = access_key_create(root=True)
    live = session_create(role=None, session_name="live", duration_seconds=900, environment_id="env-live")
    old = session_create(role=None, session_name="old", duration_seconds=900, environment_id="env-old")
    recent = session_create(role=None, session_name="recent", duration_seconds=900, environment_id="env-recent")
    AccessKey.objects.filter(pk=old.key.pk).update(expires_at=timezone.now() - datetime.timedelta(hours=2))
    AccessKey.objects.filter(pk=recent.key.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=10))
    assert purge_sessions() == 1
    assert set(AccessKey.objects.values_list("pk", flat=True)) == {root.key.pk, live.key.pk, recent.key.pk}
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-sessions"]["task"] == "iam.tasks.purge_sessions"
