"""Access keys and who they stand for: create, list, delete, resolve at request time, and role sessions.

A long-term key (``AKIA...``) belongs to the root or to an IAM user; a session key (``ASIA...``) to a role
session made by AssumeRole (or, later, by an execution environment), valid with its session token until
``expires_at``. Secrets are stored encrypted (``iam.crypto``); session tokens only as SHA-256 digests.
``credential_resolve`` is what the AWS endpoint calls for every signed request.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.arns import assumed_role_arn, root_arn, user_arn
from core.generations import GenerationCache
from iam.crypto import SecretUnreadable, secret_decrypt, secret_encrypt
from iam.errors import EntityAlreadyExists, InvalidInput, LimitExceeded
from iam.models import AccessKey, AccessKeyStatus, IamUser, Role, unique_id

ACCESS_KEYS_PER_USER = 2  # IAM's quota
SESSION_MIN_SECONDS = 900
SESSION_MAX_SECONDS = 12 * 3600
LAST_USED_EVERY = datetime.timedelta(minutes=1)  # a key's last use is written at most this often
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Principal:
    """Who signed a request: the root, an IAM user, or a role session."""

    kind: Literal["root", "user", "assumed-role"]
    arn: str
    user_id: str  # GetCallerIdentity's UserId
    name: str  # user name, role name, or "root"
    access_key_id: str
    account: str
    user_pk: int | None = None
    role_pk: int | None = None
    session_name: str = ""
    environment_id: str = ""  # an execution environment's session: which environment ...
    invocation_id: str = ""  # ... and which invocation it was running when the key was resolved

    @property
    def is_root(self) -> bool:
        return self.kind == "root"


@dataclass(frozen=True)
class Credential:
    """A resolved access key: its secret for verifying the signature, and the principal it stands for."""

    access_key_id: str
    secret: str
    principal: Principal
    session_token_sha256: str = ""
    expires_at: datetime.datetime | None = None
    last_used_at: datetime.datetime | None = None

    def token_matches(self, token: str | None) -> bool:
        if not self.session_token_sha256:
            return not token
        if not token:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).hexdigest(), self.session_token_sha256)

    def expired(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at


@dataclass(frozen=True)
class IssuedKey:
    """A key as issued: the only moment its secret (and session token) is seen in plain text."""

    key: AccessKey
    secret: str
    session_token: str = ""


def _new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def _store(*, access_key_id: str, secret: str, **fields: object) -> AccessKey:
    try:
        with transaction.atomic():
            return AccessKey.objects.create(access_key_id=access_key_id, secret_encrypted=secret_encrypt(secret=secret, access_key_id=access_key_id), **fields)
    except IntegrityError:
        raise EntityAlreadyExists(f"Access key {access_key_id} already exists.") from None


def access_key_create(*, user: IamUser | None = None, root: bool = False, access_key_id: str | None = None, secret: str | None = None) -> IssuedKey:
    """A long-term key for ``user`` or the root (``root=True``); given ids and secrets are kept, else generated."""
    if (user is None) == (not root):
        raise InvalidInput("An access key belongs to exactly one of a user or the root.")
    if access_key_id is not None and not _KEY_ID.match(access_key_id):
        raise InvalidInput("An access key id is 16-128 upper-case letters and digits.")
    if secret is not None and len(secret) < 16:
        raise InvalidInput("A secret access key has at least 16 characters.")
    if user is not None and AccessKey.objects.filter(user=user, role__isnull=True).count() >= ACCESS_KEYS_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
    plain = secret or _new_secret()
    key = _store(access_key_id=access_key_id or unique_id("AKIA", 20), secret=plain, user=user, is_root=root)
    return IssuedKey(key=key, secret=plain)


def access_key_delete(*, key: AccessKey) -> None:
    key.delete()


def access_key_set_status(*, key: AccessKey, status: str) -> AccessKey:
    if status not in AccessKeyStatus.values:
        raise InvalidInput(f"Status must be one of {', '.join(AccessKeyStatus.values)}.")
    key.status = status
    key.save(update_fields=["status"])
    return key


def session_create(*, role: Role | None, session_name: str, duration_seconds: int, environment_id: str = "") -> IssuedKey:
    """Temporary credentials for a session of ``role``, valid for ``duration_seconds``.

    ``environment_id`` marks an execution environment's session; ``role=None`` is allowed only there (a
    function without a role: its session has no policies, so IAM denies it everything)."""
    if role is None and not environment_id:
        raise InvalidInput("A role session needs a role.")
    token = secrets.token_urlsafe(48)
    expires = timezone.now() + datetime.timedelta(seconds=duration_seconds)
    key = _store(access_key_id=unique_id("ASIA", 20), secret=_new_secret(), role=role, session_name=session_name,
                 session_token_sha256=hashlib.sha256(token.encode()).hexdigest(), expires_at=expires, environment_id=environment_id)
    return IssuedKey(key=key, secret=secret_decrypt(stored=key.secret_encrypted, access_key_id=key.access_key_id), session_token=token)


def sessions_purge_expired(*, older_than: datetime.timedelta = datetime.timedelta(hours=1)) -> int:
    """Delete session keys expired for longer than ``older_than`` (they answer ExpiredToken until then)."""
    deleted, _ = AccessKey.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted


def environment_sessions_revoke(*, environment_id: str) -> int:
    """Delete an execution environment's session keys (it stopped); how many there were."""
    deleted, _ = AccessKey.objects.filter(environment_id=environment_id).delete()
    return deleted


NO_ROLE_NAME = "kiln-no-role"  # the role name in a role-less function's session ARN


def principal_of(key: AccessKey) -> Principal:
    account = settings.KILN_ACCOUNT_ID
    if key.environment_id and key.role_id is None:
        return Principal(kind="assumed-role", arn=assumed_role_arn(NO_ROLE_NAME, key.session_name), user_id=f"AROAKILNNOROLE:{key.session_name}",
                         name=NO_ROLE_NAME, access_key_id=key.access_key_id, account=account, session_name=key.session_name,
                         environment_id=key.environment_id, invocation_id=key.invocation_id)
    if key.is_root:
        return Principal(kind="root", arn=root_arn(), user_id=account, name="root", access_key_id=key.access_key_id, account=account)
    if key.role_id is not None:
        role = key.role
        assert role is not None
        return Principal(kind="assumed-role", arn=assumed_role_arn(role.name, key.session_name), user_id=f"{role.role_id}:{key.session_name}",
                         name=role.name, access_key_id=key.access_key_id, account=account, role_pk=role.pk, session_name=key.session_name,
                         environment_id=key.environment_id, invocation_id=key.invocation_id)
    user = key.user
    assert user is not None
    return Principal(kind="user", arn=user_arn(user.name, user.path), user_id=user.user_id, name=user.name, access_key_id=key.access_key_id,
                     account=account, user_pk=user.pk)


# Long-term keys and role sessions, resolved on every signed request, are cached per process; any write to a
# key, IAM user, role or console login bumps the generation (iam/apps.py), so a revoked key stops at once.
# Every key is cached, execution environments' too (a cold start's new key bumps nothing; a key's deletion, when
# its environment stops, bumps like any write: iam/apps.py).
CREDENTIALS: GenerationCache[Credential | None] = GenerationCache("iam-credentials", ttl_s=30.0)
_last_noted: dict[str, datetime.datetime] = {}


def credential_resolve(access_key_id: str) -> Credential | None:
    """The active key ``access_key_id`` with its decrypted secret and principal; ``None`` if unknown or inactive,
    or if it belongs to the IAM user of a console login that is deactivated."""
    return CREDENTIALS.get(access_key_id, lambda: _credential_load(access_key_id),
                           cacheable=lambda found: found is not None)


def _credential_load(access_key_id: str) -> Credential | None:
    key = AccessKey.objects.select_related("user", "user__console_user", "role").filter(access_key_id=access_key_id, status=AccessKeyStatus.ACTIVE).first()
    if key is None:
        return None
    if key.user is not None and key.user.console_user is not None and not key.user.console_user.is_active:
        return None
    try:
        secret = secret_decrypt(stored=key.secret_encrypted, access_key_id=key.access_key_id)
    except SecretUnreadable:
        return None
    return Credential(access_key_id=key.access_key_id, secret=secret, principal=principal_of(key),
                      session_token_sha256=key.session_token_sha256, expires_at=key.expires_at, last_used_at=key.last_used_at)


def access_key_note_use(*, credential: Credential, service: str) -> None:
    """Record that a request signed with a long-term key authenticated (for the console's "last used").

    Written at most once per ``LAST_USED_EVERY`` per key, so the hot path costs no write; session keys
    (role sessions, execution environments) are not recorded."""
    if credential.session_token_sha256:
        return
    now = timezone.now()
    noted = max(filter(None, (credential.last_used_at, _last_noted.get(credential.access_key_id))), default=None)
    if noted is not None and now - noted < LAST_USED_EVERY:
        return
    _last_noted[credential.access_key_id] = now
    AccessKey.objects.filter(access_key_id=credential.access_key_id).update(last_used_at=now, last_used_service=service[:32])
