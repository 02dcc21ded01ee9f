"""Personas: what a console login may do, as Django groups for the console and the REST API and as an IAM
policy for its access keys on the AWS endpoint, so the three agree.

- **Administrators**: everything (a superuser is one without the group).
- **Developers**: functions, layers, invocations, triggers (HTTP APIs, function URLs, bucket notifications,
  event source mappings, schedules and rules), buckets and objects, queues, topics, tables, log groups;
  roles and policies read-only (they pass a role to a function but do not change whom it trusts or what
  it allows), no logins, groups or tokens.
- **Viewers**: read-only on what a developer sees, without secrets: no environment variable values, no
  invoking, no sending or receiving messages.
- **Outsider**: any login in none of these groups: nothing.

``personas_sync_groups`` (run after every migrate and flush) keeps the three groups' permissions exactly as
defined here; ``persona_policy_sync`` keeps a linked IAM user's ``KilnConsolePersona`` inline policy equal to
its login's groups (called when a login's groups or superuser flag change, and when its IAM user is made).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction

ADMINISTRATORS = "Administrators"
DEVELOPERS = "Developers"
VIEWERS = "Viewers"
PERSONAS = (ADMINISTRATORS, DEVELOPERS, VIEWERS)

# Apps whose every model a developer may add, change, delete and view (and whose custom permissions they hold).
DEVELOPER_APPS = ("functions", "invoker", "httpapi", "storage", "queues", "tables", "topics", "logs", "events", "buses", "metrics")
# Models a developer and a viewer may only look at.
READ_ONLY_MODELS = (("iam", "role"), ("iam", "managedpolicy"), ("iam", "rolepolicy"))
# Permissions a viewer does not get although they read: secrets and actions.
SECRET_PERMISSIONS = ("functions.view_function_secrets", "functions.invoke_function")

PERSONA_POLICY = "KilnConsolePersona"

_READ_ACTIONS = ["lambda:List*", "lambda:Get*", "s3:List*", "s3:Get*", "sqs:List*", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                 "sns:List*", "sns:Get*", "events:List*", "events:Describe*", "scheduler:List*", "scheduler:Get*",
                 "logs:Describe*", "logs:Get*", "logs:FilterLogEvents", "logs:ListTagsForResource", "dynamodb:Describe*", "dynamodb:List*",
                 "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:GetRecords",
                 "dynamodb:GetShardIterator", "iam:Get*", "iam:List*", "sts:GetCallerIdentity"]
POLICIES: dict[str, dict[str, Any]] = {
    ADMINISTRATORS: {"Version": "2012-10-17", "Statement": [{"Sid": "Administrators", "Effect": "Allow", "Action": "*", "Resource": "*"}]},
    DEVELOPERS: {"Version": "2012-10-17", "Statement": [
        {"Sid": "Developers", "Effect": "Allow", "Resource": "*",
         "Action": ["lambda:*", "s3:*", "sqs:*", "sns:*", "events:*", "scheduler:*", "logs:*", "dynamodb:*", "iam:Get*", "iam:List*",
                    "iam:PassRole", "iam:SimulatePrincipalPolicy", "sts:GetCallerIdentity", "sts:AssumeRole"]}]},
    VIEWERS: {"Version": "2012-10-17", "Statement": [
        {"Sid": "Viewers", "Effect": "Allow", "Resource": "*", "Action": _READ_ACTIONS},
        # A function's configuration carries its environment variables: secrets a viewer does not read.
        {"Sid": "ViewersNoSecrets", "Effect": "Deny", "Resource": "*", "Action": ["lambda:GetFunction", "lambda:GetFunctionConfiguration"]}]},
}


def _permissions_for(persona: str) -> list[Permission]:
    everything = Permission.objects.select_related("content_type")
    if persona == ADMINISTRATORS:
        return list(everything)
    read_only = [p for p in everything.filter(codename__startswith="view_") if (p.content_type.app_label, p.content_type.model) in READ_ONLY_MODELS]
    developer = list(everything.filter(content_type__app_label__in=DEVELOPER_APPS))
    if persona == DEVELOPERS:
        return developer + read_only
    secret = {tuple(name.split(".")) for name in SECRET_PERMISSIONS}
    return [p for p in developer if p.codename.startswith("view_") and (p.content_type.app_label, p.codename) not in secret] + read_only


def personas_sync_groups() -> None:
    """Create the three persona groups and set each one's permissions to exactly its definition."""
    with transaction.atomic():
        for persona in PERSONAS:
            group, _ = Group.objects.get_or_create(name=persona)
            group.permissions.set(_permissions_for(persona))


def user_personas(user: AbstractBaseUser) -> list[str]:
    """The personas of a login, most powerful first; a superuser is an administrator."""
    if not getattr(user, "is_active", False):
        return []
    if getattr(user, "is_superuser", False):
        return [ADMINISTRATORS]
    names = set(user.groups.filter(name__in=PERSONAS).values_list("name", flat=True))  # type: ignore[attr-defined]
    return [p for p in PERSONAS if p in names]


def persona_policy_document(user: AbstractBaseUser) -> dict[str, Any] | None:
    """The IAM policy of the login's personas (their statements together), or None for an outsider."""
    statements = [s for persona in user_personas(user) for s in POLICIES[persona]["Statement"]]
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def persona_policy_sync(user: AbstractBaseUser) -> None:
    """Make the login's IAM user's ``KilnConsolePersona`` policy match its groups (none for an outsider)."""
    from iam.models import IamUser, UserPolicy

    iam_user = IamUser.objects.filter(console_user_id=user.pk).first()
    if iam_user is None:
        return
    document = persona_policy_document(user)
    if document is None:
        UserPolicy.objects.filter(user=iam_user, name=PERSONA_POLICY).delete()
    else:
        UserPolicy.objects.update_or_create(user=iam_user, name=PERSONA_POLICY, defaults={"document": document})
