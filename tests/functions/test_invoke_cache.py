"""The invoke path's per-process caches (functions, API tokens) against Kiln started as ``make run`` starts it
(two gunicorn processes, each with its own cache): a change made through one process is what every process
serves from the next request on."""

from __future__ import annotations

import time

from tests.stack import Stack

VERSION = "def handler(event, context):\n    return {'version': %d}\n"


def _deploy(stack: Stack, name: str, version: int, *, create: bool = False) -> None:
    body = {"runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": VERSION % version}}}
    if create:
        stack.api("POST", "/functions/", {"name": name, **body}, expect=201)
    else:
        stack.api("PATCH", f"/functions/{name}/", body, expect=200)


def _versions(stack: Stack, name: str, calls: int) -> list[int]:
    """Each call on a new connection, so gunicorn's processes take turns."""
    out = []
    for _ in range(calls):
        answer = stack.request("POST", f"/api/v1/functions/{name}/invoke/", {})
        assert answer.status == 200, answer.body
        out.append(answer.json()["version"])
    return out


def test_a_new_revision_reaches_every_web_process_at_once(kiln_stack: Stack) -> None:
    stack = kiln_stack
    name = stack.unique("cached")
    _deploy(stack, name, 1, create=True)
    assert set(_versions(stack, name, 12)) == {1}  # both processes have the function cached now
    for version in (2, 3):
        _deploy(stack, name, version)
        started = time.monotonic()
        seen = _versions(stack, name, 12)
        assert seen == [version] * 12, f"after the switch to {version}: {seen}"
        assert time.monotonic() - started < 30


def test_a_token_deleted_or_its_user_deactivated_is_refused_at_once(transactional_db) -> None:
    """The token cache (console/tokens.py) forgets a token on any change to it or its user."""
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    from apitokens.models import ApiToken
    from apitokens.services import api_token_issue, api_token_revoke

    user = User.objects.create_user("cache-user", password="pass-123-word", is_staff=True)
    user.groups.add(Group.objects.get(name="Viewers"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    assert client.get("/api/v1/functions/").status_code == 200
    assert client.get("/api/v1/functions/").status_code == 200  # from the cache now
    user.is_active = False
    user.save()
    assert client.get("/api/v1/functions/").status_code == 401
    user.is_active = True
    user.save()
    assert client.get("/api/v1/functions/").status_code == 200
    api_token_revoke(token=ApiToken.objects.get(user=user))
    answer = client.get("/api/v1/functions/")
    assert answer.status_code == 401 and answer.json()["error"]["message"] == "Invalid token."
