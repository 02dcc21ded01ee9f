"""IAM's objects in Kiln's one account: roles (trust policy, inline and attached policies), users,
customer managed policies, and access keys (long-term for users and the root, temporary for role sessions).

``Role.policy_document`` is the policy Kiln's REST API and console edit; it counts in evaluation beside the
role's IAM inline policies (``RolePolicy``) and attached managed policies.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from core.arns import role_arn
from core.models import TimeStampedModel

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def unique_id(prefix: str, length: int = 21) -> str:
    """An IAM-style unique id: ``prefix`` then upper-case base32 characters (``AKIA...``, ``AROA...``)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))


def default_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}]}


def default_trust_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class ManagedPolicy(TimeStampedModel):
    """A customer managed policy (one version, ``v1``, is kept)."""

    name = models.CharField(max_length=128, unique=True)
    path = models.CharField(max_length=512, default="/")
    policy_id = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=1000, blank=True, default="")
    document = models.JSONField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(TimeStampedModel):
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=1000, blank=True, default="")
    policy_document = models.JSONField(default=default_policy)
    path = models.CharField(max_length=512, default="/")
    role_id = models.CharField(max_length=32, blank=True, default="")
    trust_policy = models.JSONField(default=default_trust_policy)
    max_session_duration = models.PositiveIntegerField(default=3600)
    attached_policies = models.ManyToManyField(ManagedPolicy, blank=True, related_name="roles")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.role_id:
            self.role_id = unique_id("AROA")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def arn(self) -> str:
        return role_arn(self.name, path=self.path)


class RolePolicy(TimeStampedModel):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="inline_policies")
    name = models.CharField(max_length=128)
    document = models.JSONField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["role", "name"], name="unique_role_policy_name")]


class IamUser(TimeStampedModel):
    """An IAM user: a name that access keys and policies belong to.

    ``console_user`` ties it to a console login, whose own access keys it holds (``iam.users``): deleting
    the login deletes the user and its keys, and a deactivated login's keys are refused."""

    name = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=512, default="/")
    user_id = models.CharField(max_length=32, unique=True)
    attached_policies = models.ManyToManyField(ManagedPolicy, blank=True, related_name="users")
    console_user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="iam_user")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserPolicy(TimeStampedModel):
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="inline_policies")
    name = models.CharField(max_length=128)
    document = models.JSONField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_user_policy_name")]


class AccessKeyStatus(models.TextChoices):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class AccessKey(models.Model):
    """A key id and its secret (encrypted, ``iam.crypto``), owned by the root, an IAM user, or a role session.

    A session key (``ASIA...``) also has a session token, kept only as its SHA-256, and an expiry.
    """

    access_key_id = models.CharField(max_length=32, unique=True)
    secret_encrypted = models.TextField()
    status = models.CharField(max_length=16, choices=AccessKeyStatus.choices, default=AccessKeyStatus.ACTIVE)
    is_root = models.BooleanField(default=False)
    user = models.ForeignKey(IamUser, null=True, blank=True, on_delete=models.CASCADE, related_name="access_keys")
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions")
    session_name = models.CharField(max_length=64, blank=True, default="")
    session_token_sha256 = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    # An execution environment's session (invoker/credentials.py): the environment, and the invocation it runs now.
    environment_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    invocation_id = models.CharField(max_length=36, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # When a signed request last authenticated with a long-term key (at most once a minute), and for which service.
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.access_key_id
