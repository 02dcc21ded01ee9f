"""The REST API's tokens (apitokens/): stored as digests only, several per login, each revocable by itself, old
DRF tokens moved over by the migration, and the sign-in's answers as DRF's ``obtain_auth_token`` gave them."""

from __future__ import annotations

import datetime
import hashlib
import importlib
import json
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apitokens.models import ApiToken, token_digest
from apitokens.services import LAST_USED_EVERY, api_token_issue, api_token_note_use
from console.tokens import TOKENS
from tests.dumps import database_dump

URL = "/api/v1/auth/token/"
PASSWORD = "kiln-pass-123"
INVALID = {"error": {"code": "AuthenticationFailed", "message": "Invalid token.", "details": {}}}


@pytest.fixture
def login(db: None) -> User:
    return User.objects.create_user("token-login", password=PASSWORD, is_staff=True, is_superuser=True)


def sign_in(**kwargs: Any) -> str:
    response = APIClient().post(URL, {"username": "token-login", "password": PASSWORD}, **kwargs)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_each_sign_in_gives_a_new_token_and_all_of_them_work(login: User) -> None:
    first, second = sign_in(format="json"), sign_in()  # JSON and form bodies, as DRF's view took
    assert first != second and first.startswith("kiln_") and len(first) >= 45
    assert client(first).get("/api/v1/functions/").status_code == 200
    assert client(second).get("/api/v1/functions/").status_code == 200
    assert client(first).get("/api/v1/functions/").status_code == 200  # the second did not replace the first
    stored = list(ApiToken.objects.filter(user=login).values_list("digest", "prefix"))
    assert stored == [(hashlib.sha256(first.encode()).hexdigest(), first[:8]), (hashlib.sha256(second.encode()).hexdigest(), second[:8])]


@pytest.mark.django_db(transaction=True)
def test_no_token_is_in_a_database_dump() -> None:
    User.objects.create_user("token-login", password=PASSWORD, is_staff=True, is_superuser=True)
    tokens = [sign_in(format="json"), sign_in(), api_token_issue(user=User.objects.get(username="token-login"))]
    for token in tokens:
        assert client(token).get("/api/v1/functions/").status_code == 200  # used: last_used_at written, cached
    dump = database_dump()
    assert all(token_digest(token) in dump for token in tokens)  # the dump is of these rows
    assert not [token for token in tokens if token in dump or token[len("kiln_"):] in dump]
    assert not any(token in repr(TOKENS._entries) for token in tokens)  # nor in the per-process cache's keys
    assert set(TOKENS._entries) >= {token_digest(token) for token in tokens}


def test_delete_revokes_the_calling_token_only(login: User) -> None:
    first, second = sign_in(format="json"), sign_in(format="json")
    assert client(first).get("/api/v1/functions/").status_code == 200  # cached now
    revoked = client(first).delete(URL)
    assert revoked.status_code == 204 and not revoked.content
    for method in ("get", "delete"):
        answer = getattr(client(first), method)("/api/v1/functions/" if method == "get" else URL)
        assert answer.status_code == 401 and answer.json() == INVALID and answer["WWW-Authenticate"] == "Token"
    assert client(second).get("/api/v1/functions/").status_code == 200
    assert list(ApiToken.objects.values_list("digest", flat=True)) == [token_digest(second)]


def test_delete_needs_a_token(login: User) -> None:
    anonymous = APIClient().delete(URL)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "NotAuthenticated"
    session = APIClient()
    session.force_login(login)
    refused = session.delete(URL)
    assert refused.status_code == 403 and "Authorization: Token <token>" in refused.json()["error"]["message"]
    assert not ApiToken.objects.exists()


def test_an_unknown_token_and_a_bearer_one_are_refused_as_before(login: User) -> None:
    unknown = client("kiln_" + "x" * 40).get("/api/v1/functions/")
    assert unknown.status_code == 401 and unknown.content == json.dumps(INVALID, separators=(",", ":")).encode()
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=login)}")
    refused = bearer.get("/api/v1/functions/")
    assert refused.status_code == 401 and refused.json()["error"] == {
        "code": "AuthenticationFailed", "details": {},
        "message": "Send the token as 'Authorization: Token <token>' (from POST /api/v1/auth/token/); Bearer is not accepted."}


def test_wrong_credentials_answer_byte_for_byte_as_drfs_view_did(login: User) -> None:
    wrong = APIClient().post(URL, {"username": "token-login", "password": "wrong"}, format="json")
    assert wrong.status_code == 400 and wrong.content == (
        b'{"error":{"code":"InvalidParameterValueException","message":"Unable to log in with provided credentials.",'
        b'"details":{"fields":{"non_field_errors":["Unable to log in with provided credentials."]}}}}')
    missing = APIClient().post(URL, {}, format="json")
    assert missing.status_code == 400 and missing.content == (
        b'{"error":{"code":"InvalidParameterValueException","message":"username: This field is required.",'
        b'"details":{"fields":{"username":["This field is required."],"password":["This field is required."]}}}}')
    assert not ApiToken.objects.exists()


def test_an_inactive_logins_tokens_are_refused(login: User) -> None:
    token = sign_in()
    assert client(token).get("/api/v1/functions/").status_code == 200
    login.is_active = False
    login.save()
    answer = client(token).get("/api/v1/functions/")
    assert answer.status_code == 401 and answer.json()["error"]["message"] == "User inactive or deleted."
    assert APIClient().post(URL, {"username": "token-login", "password": PASSWORD}).status_code == 400  # nor signs in


def test_last_used_is_written_at_most_once_a_minute(login: User) -> None:
    token = sign_in()
    assert ApiToken.objects.get().last_used_at is None
    assert client(token).get("/api/v1/functions/").status_code == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client(token).get("/api/v1/functions/").status_code == 200
    assert not [q for q in queries.captured_queries if "apitokens_apitoken" in q["sql"]]  # cached, and no write
    assert ApiToken.objects.get().last_used_at == first
    later = first + datetime.timedelta(seconds=61)
    with mock.patch("apitokens.services.timezone.now", return_value=later):
        assert client(token).get("/api/v1/functions/").status_code == 200
        assert client(token).get("/api/v1/functions/").status_code == 200
    assert ApiToken.objects.get().last_used_at == later


def test_last_used_is_written_again_exactly_a_minute_later_not_before(login: User) -> None:
    """The edge of ``LAST_USED_EVERY``: just under a minute after the last write nothing is written; at a minute it is."""
    api_token_issue(user=login)
    token = ApiToken.objects.get()
    start = timezone.now()
    assert api_token_note_use(token=token, now=start)
    # Each time another process's copy, loaded before this write: only the database's condition decides.
    assert not api_token_note_use(token=ApiToken(pk=token.pk), now=start + LAST_USED_EVERY - datetime.timedelta(microseconds=1))
    assert ApiToken.objects.get().last_used_at == start
    assert api_token_note_use(token=ApiToken(pk=token.pk), now=start + LAST_USED_EVERY)
    assert ApiToken.objects.get().last_used_at == start + LAST_USED_EVERY


def test_a_drf_token_from_before_is_moved_hashed_and_keeps_working(login: User) -> None:
    from rest_framework.authtoken.models import Token  # the old model, only to plant the row the migration moves

    old = Token.objects.create(user=login)
    created = timezone.now() - datetime.timedelta(days=30)
    Token.objects.filter(pk=old.pk).update(created=created)
    migration = importlib.import_module("apitokens.migrations.0002_authtoken_tokens_hashed")
    migration.tokens_hash(apps, None)
    assert not Token.objects.exists()  # no raw key left in the old table
    moved = ApiToken.objects.get()
    assert (moved.user, moved.digest, moved.prefix, moved.created_at) == (login, hashlib.sha256(old.key.encode()).hexdigest(), old.key[:8], created)
    assert client(old.key).get("/api/v1/functions/").status_code == 200
    migration.tokens_hash(apps, None)  # again: nothing to do
    assert ApiToken.objects.count() == 1


def test_the_console_lists_tokens_but_not_drfs_plaintext_ones() -> None:
    from rest_framework.authtoken.models import TokenProxy

    assert admin.site.is_registered(ApiToken) and not admin.site.is_registered(TokenProxy)
