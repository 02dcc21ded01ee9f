"""Logins with each persona of ``iam/personas.py`` (and an outsider), for the tests that drive them through
every page and endpoint."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from apitokens.services import api_token_issue
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
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


def add_counted(api: APIClient, make_function: Any, kind: str, i: int) -> None:
    """One more row of ``kind`` (function, bucket, role, layer) through the REST API, for the query-count tests."""
    if kind == "function":
        make_function(f"counted-{i}", environment={"K": "v"})
    elif kind == "bucket":
        assert api.post("/api/v1/buckets/", {"name": f"counted-{i}"}, format="json").status_code == 201
    elif kind == "role":
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        assert api.post("/api/v1/roles/", {"name": f"counted-{i}", "policy_document": policy}, format="json").status_code == 201
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("python/m.py", "x = 1\n")
        body = {"name": f"counted-{i}", "zip_base64": base64.b64encode(buffer.getvalue()).decode()}
        assert api.post("/api/v1/layers/", body, format="json").status_code == 201


def assert_queries_flat(client: Any, path: str, api: APIClient, make_function: Any, kind: str) -> None:
    """GET ``path`` with 2 rows of ``kind`` and with 8: the same number of queries (no query per row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    for i in range(2):
        add_counted(api, make_function, kind, i)
    few = count()
    for i in range(2, 8):
        add_counted(api, make_function, kind, i)
    assert count() == few
