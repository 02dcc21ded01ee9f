"""Access keys at rest and the root key command: secrets encrypted and bound to their key id, unreadable
under other key material, the root key made once from the environment or generated and printed once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from iam.credentials import CREDENTIALS, access_key_create, credential_resolve, session_create
from iam.crypto import SecretUnreadable, secret_decrypt, secret_encrypt
from iam.models import AccessKey
from iam.services import role_create
from iam.users import user_create


def test_secret_round_trip_and_binding(settings) -> None:
    stored = secret_encrypt(secret="wJalrXUtnFEMI/K7MDENG", access_key_id="AKIAAAAAAAAAAAAAAAAA")
    assert "wJalr" not in stored and stored.startswith("v1:")
    assert secret_decrypt(stored=stored, access_key_id="AKIAAAAAAAAAAAAAAAAA") == "wJalrXUtnFEMI/K7MDENG"
    with pytest.raises(SecretUnreadable):
        secret_decrypt(stored=stored, access_key_id="AKIABBBBBBBBBBBBBBBB")  # copied onto another row
    settings.KILN_KMS_KEY = "another key entirely"
    with pytest.raises(SecretUnreadable):
        secret_decrypt(stored=stored, access_key_id="AKIAAAAAAAAAAAAAAAAA")


@pytest.mark.django_db
def test_resolve_user_key_and_unreadable_secret(settings) -> None:
    user = user_create(name="u1")
    issued = access_key_create(user=user)
    credential = credential_resolve(issued.key.access_key_id)
    assert credential is not None and credential.secret == issued.secret and credential.principal.arn == "arn:aws:iam::000000000000:user/u1"
    assert issued.secret not in AccessKey.objects.get(pk=issued.key.pk).secret_encrypted
    settings.KILN_KMS_KEY = "rotated without re-issuing"
    CREDENTIALS.clear_local()  # new key material means a restarted process: nothing cached
    assert credential_resolve(issued.key.access_key_id) is None
    assert credential_resolve("AKIANOSUCHKEY0000000") is None


@pytest.mark.django_db
def test_session_credentials() -> None:
    role = role_create(name="r1")
    issued = session_create(role=role, session_name="sess", duration_seconds=900)
    credential = credential_resolve(issued.key.access_key_id)
    assert credential is not None and issued.key.access_key_id.startswith("ASIA")
    assert credential.token_matches(issued.session_token) and not credential.token_matches("other") and not credential.token_matches(None)
    assert issued.session_token not in AccessKey.objects.get(pk=issued.key.pk).session_token_sha256
    assert not credential.expired()
    assert credential.principal.user_id == f"{role.role_id}:sess"


@pytest.mark.django_db
def test_root_key_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("KILN_ROOT_ACCESS_KEY_ID", "AKIAKILNROOT00000001")
    monkeypatch.setenv("KILN_ROOT_SECRET_ACCESS_KEY", "root-secret-from-env-123")
    out = io.StringIO()
    call_command("kiln_root_key", stdout=out)
    assert "AKIAKILNROOT00000001" in out.getvalue() and "root-secret-from-env-123" not in out.getvalue()
    credential = credential_resolve("AKIAKILNROOT00000001")
    assert credential is not None and credential.principal.is_root and credential.secret == "root-secret-from-env-123"
    again = io.StringIO()
    call_command("kiln_root_key", stdout=again)
    assert again.getvalue() == "" and AccessKey.objects.filter(is_root=True).count() == 1


@pytest.mark.django_db
def test_root_key_generated_and_printed_once(monkeypatch) -> None:
    monkeypatch.delenv("KILN_ROOT_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("KILN_ROOT_SECRET_ACCESS_KEY", raising=False)
    out = io.StringIO()
    call_command("kiln_root_key", stdout=out)
    key = AccessKey.objects.get(is_root=True)
    credential = credential_resolve(key.access_key_id)
    assert credential is not None and credential.secret in out.getvalue() and key.access_key_id in out.getvalue()
    again = io.StringIO()
    call_command("kiln_root_key", stdout=again)
    assert again.getvalue() == "" and AccessKey.objects.filter(is_root=True).count() == 1


@pytest.mark.django_db
def test_root_key_needs_both_variables(monkeypatch) -> None:
    monkeypatch.setenv("KILN_ROOT_ACCESS_KEY_ID", "AKIAKILNROOT00000001")
    monkeypatch.delenv("KILN_ROOT_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(SystemExit):
        call_command("kiln_root_key", stdout=io.StringIO(), stderr=io.StringIO())
