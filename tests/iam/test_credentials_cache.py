"""Resolved credentials are cached per process, and every write that changes what they stand for invalidates them."""

from __future__ import annotations

from django.contrib.auth.models import User

from iam.credentials import access_key_create, access_key_delete, access_key_set_status, credential_resolve
from iam.models import AccessKeyStatus, IamUser, unique_id


def test_a_revoked_or_deleted_key_stops_resolving_at_once(transactional_db: None) -> None:
    issued = access_key_create(root=True)
    key_id = issued.key.access_key_id
    assert credential_resolve(key_id) is not None and credential_resolve(key_id) is not None  # the second from the cache
    access_key_set_status(key=issued.key, status=AccessKeyStatus.INACTIVE)
    assert credential_resolve(key_id) is None
    access_key_set_status(key=issued.key, status=AccessKeyStatus.ACTIVE)
    assert credential_resolve(key_id) is not None
    access_key_delete(key=issued.key)
    assert credential_resolve(key_id) is None


def test_a_deactivated_login_or_renamed_user_is_seen_at_once(transactional_db: None) -> None:
    login = User.objects.create_user("cache-owner", password="x")
    user = IamUser.objects.create(name="cache-user", user_id=unique_id("AIDA"), console_user=login)
    issued = access_key_create(user=user)
    key_id = issued.key.access_key_id
    assert credential_resolve(key_id).principal.arn.endswith(":user/cache-user")
    user.name = "renamed"
    user.save()
    assert credential_resolve(key_id).principal.arn.endswith(":user/renamed")
    login.is_active = False
    login.save()
    assert credential_resolve(key_id) is None
