"""Logins with each persona of ``iam/personas.py`` (and an outsider), for the tests that drive them through
every page and endpoint."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from iam.personas import ADMINISTRATORS, DEVELOPERS, VIEWERS

PASSWORD = "kiln-pass-123"
# name -> the persona group (None: an outsider, staff but in no group)
PERSONAS: dict[str, str | None] = {"admin": ADMINISTRATORS, "developer": DEVELOPERS, "viewer": VIEWERS, "outsider": None}


def persona_user(name: str, *, staff: bool = True) -> User:
    """A login (not a superuser) in the persona ``name``'s group."""
    user = User.objects.create_user(username=f"{name}-login", password=PASSWORD, is_staff=staff)
    group = PERSONAS[name]
    if group is not None:
        user.groups.add(Group.objects.get(name=group))
    return user


def token_client(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
