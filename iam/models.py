"""IAM roles: a name and a policy document, assumed by functions when they run."""

from __future__ import annotations

from django.db import models

from core.arns import role_arn
from core.models import TimeStampedModel


def default_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}]}


class Role(TimeStampedModel):
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=1000, blank=True, default="")
    policy_document = models.JSONField(default=default_policy)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return role_arn(self.name)
