"""The console's "My access keys" page: a login's own keys, the secret shown once, status changes, deletion,
IAM's limit of two, and the keys working (or refused) with real boto3 against a live Kiln."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.contrib.auth.models import User
from django.test import Client

from iam.crypto import secret_decrypt
from iam.models import AccessKey, AccessKeyStatus, IamUser
from iam.personas import PERSONA_POLICY

PAGE = "/console/security-credentials/"
KEY_ID = re.compile(r'id="new-key-id">(AKIA[A-Z0-9]+)<')
SECRET = re.compile(r'id="new-key-secret">([^<]+)<')


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _create(client: Client) -> tuple[str, str]:
    """Create a key through the page; (id, secret) from the one page that shows the secret."""
    response = client.post(PAGE, {"action": "create"})
    assert response.status_code == 302 and response["Location"] == PAGE
    page = client.get(PAGE)
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    return KEY_ID.search(html).group(1), SECRET.search(html).group(1)  # type: ignore[union-attr]


def _s3(endpoint: str, key: tuple[str, str]) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


@pytest.fixture
def staff(db: None) -> User:
    """A teammate with the Viewers persona (iam/personas.py): read-only, on the AWS endpoint too."""
    from django.contrib.auth.models import Group

    user = User.objects.create_user(username="teammate", password="kiln-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Viewers"))
    return user


def test_the_page_is_linked_from_every_console_page_and_starts_empty(owner) -> None:
    client = _client(owner)
    home = client.get("/console/").content.decode()
    assert f'href="{PAGE}"' in home and "My access keys" in home
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "You have no access keys." in page.content.decode()
    assert not IamUser.objects.exists()  # made with the first key, not by looking


def test_create_shows_the_secret_exactly_once_and_stores_it_encrypted(owner) -> None:
    client = _client(owner)
    key_id, secret = _create(client)
    key = AccessKey.objects.get(access_key_id=key_id)
    assert secret not in key.secret_encrypted and secret_decrypt(stored=key.secret_encrypted, access_key_id=key_id) == secret
    assert key.user.console_user == owner and key.user.name == "owner" and key.user.path == "/console/"
    assert list(key.user.inline_policies.values_list("name", flat=True)) == [PERSONA_POLICY]  # a superuser administers
    again = client.get(PAGE).content.decode()
    assert secret not in again and key_id in again and "new-key-secret" not in again
    assert "arn:aws:iam::000000000000:user/console/owner" in again
    # another session of the same login never sees it either
    assert secret not in _client(owner).get(PAGE).content.decode()


def test_limit_of_two_keys_with_a_clear_message(owner) -> None:
    client = _client(owner)
    _create(client)
    _create(client)
    page = client.get(PAGE).content.decode()
    assert "the most IAM allows a user" in page and 'id="create-key" disabled' in page
    response = client.post(PAGE, {"action": "create"}, follow=True)
    assert "You already have 2 access keys, the most IAM allows a user." in response.content.decode()
    assert AccessKey.objects.filter(user__console_user=owner).count() == 2


def test_deactivate_activate_delete_only_ones_own_keys(owner, staff) -> None:
    mine = _client(owner)
    key_id, _ = _create(mine)
    theirs = _client(staff)
    response = theirs.post(PAGE, {"action": "delete", "access_key_id": key_id}, follow=True)
    assert f"You have no access key {key_id}." in response.content.decode()
    assert AccessKey.objects.filter(access_key_id=key_id).exists()
    mine.post(PAGE, {"action": "deactivate", "access_key_id": key_id})
    assert AccessKey.objects.get(access_key_id=key_id).status == AccessKeyStatus.INACTIVE
    assert ">Activate</button>" in mine.get(PAGE).content.decode()
    mine.post(PAGE, {"action": "activate", "access_key_id": key_id})
    assert AccessKey.objects.get(access_key_id=key_id).status == AccessKeyStatus.ACTIVE
    response = mine.post(PAGE, {"action": "delete", "access_key_id": key_id}, follow=True)
    assert f"Access key {key_id} deleted." in response.content.decode()
    assert not AccessKey.objects.filter(access_key_id=key_id).exists()


def test_keys_sign_requests_as_the_logins_iam_user(owner, staff, live_server, transactional_db) -> None:
    client = _client(owner)
    key = _create(client)
    s3 = _s3(live_server.url, key)
    s3.create_bucket(Bucket="from-console")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["from-console"]
    row = AccessKey.objects.get(access_key_id=key[0])
    assert row.last_used_at is not None and row.last_used_service == "s3"
    assert re.search(rf'data-key="{key[0]}">.*?class="key-last-used">[^<]*\(s3\)', client.get(PAGE).content.decode(), re.S)
    sts = boto3.client("sts", endpoint_url=live_server.url, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1])
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/console/owner"
    # deactivated: refused as an unknown key
    client.post(PAGE, {"action": "deactivate", "access_key_id": key[0]})
    with pytest.raises(ClientError) as inactive:
        s3.list_buckets()
    assert inactive.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    client.post(PAGE, {"action": "activate", "access_key_id": key[0]})
    assert s3.list_buckets()["Buckets"]
    # a deactivated login's keys are refused too
    owner.is_active = False
    owner.save()
    with pytest.raises(ClientError) as login_off:
        s3.list_buckets()
    assert login_off.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    # a viewer's keys read but do not write; taken out of every persona, they are denied everything
    staff_key = _create(_client(staff))
    viewer_s3 = _s3(live_server.url, staff_key)
    assert viewer_s3.list_buckets()["Buckets"]
    with pytest.raises(ClientError) as denied:
        viewer_s3.create_bucket(Bucket="viewer-made")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "<code>KilnConsolePersona</code>" in _client(staff).get(PAGE).content.decode()
    staff.groups.clear()
    with pytest.raises(ClientError) as outsider:
        viewer_s3.list_buckets()
    assert outsider.value.response["Error"]["Code"] == "AccessDenied"


def test_deleting_the_login_deletes_its_iam_user_and_keys(owner) -> None:
    _create(_client(owner))
    owner.delete()
    assert not IamUser.objects.exists() and not AccessKey.objects.exists()


def test_an_iam_user_of_the_same_name_is_not_taken_over(owner) -> None:
    from iam.users import user_create

    user_create(name="owner")
    key_id, _ = _create(_client(owner))
    assert AccessKey.objects.get(access_key_id=key_id).user.name == "console-owner"
    assert not AccessKey.objects.filter(user__name="owner").exists()
