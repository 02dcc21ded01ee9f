"""Personas (iam/personas.py): the groups' permissions, and the same personas on the AWS endpoint through a
login's own access keys, with real boto3 clients."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.contrib.auth.models import Group

from iam.models import UserPolicy
from iam.personas import ADMINISTRATORS, DEVELOPERS, PERSONA_POLICY, VIEWERS, personas_sync_groups
from iam.users import console_access_key_create
from tests.personas import persona_user


def _perms(name: str) -> set[str]:
    return {f"{app}.{codename}" for app, codename in Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")}


def test_the_groups_hold_exactly_their_personas_permissions(db: None) -> None:
    admins, developers, viewers = _perms(ADMINISTRATORS), _perms(DEVELOPERS), _perms(VIEWERS)
    assert {"auth.add_user", "iam.change_role", "functions.invoke_function", "apitokens.view_apitoken", "apitokens.delete_apitoken"} <= admins
    assert {"functions.add_function", "functions.invoke_function", "functions.view_function_secrets", "storage.delete_object", "iam.view_role"} <= developers
    assert not {p for p in developers if p.startswith(("auth.", "authtoken.", "apitokens.", "iam.")) and not p.startswith("iam.view_")}
    assert {"functions.view_function", "invoker.view_invocation", "iam.view_role", "tables.view_table"} <= viewers
    assert all(p.split(".")[1].startswith("view_") for p in viewers)
    assert not {"functions.view_function_secrets", "functions.invoke_function"} & viewers
    assert viewers < developers < admins


def test_a_tampered_group_is_put_back_by_the_next_sync(db: None) -> None:
    viewers = Group.objects.get(name=VIEWERS)
    viewers.permissions.add(*Group.objects.get(name=ADMINISTRATORS).permissions.filter(codename="add_user"))
    Group.objects.filter(name=DEVELOPERS).delete()
    personas_sync_groups()
    assert "auth.add_user" not in _perms(VIEWERS) and "functions.add_function" in _perms(DEVELOPERS)


def test_the_iam_policy_follows_the_logins_groups(db: None) -> None:
    user = persona_user("viewer")
    key = console_access_key_create(user=user).key
    policy = UserPolicy.objects.get(user=key.user, name=PERSONA_POLICY)
    assert any(s["Effect"] == "Deny" for s in policy.document["Statement"])
    user.groups.add(Group.objects.get(name=DEVELOPERS))  # both: the union, the viewer's denial of secrets included
    sids = [s["Sid"] for s in UserPolicy.objects.get(user=key.user, name=PERSONA_POLICY).document["Statement"]]
    assert sids == ["Developers", "Viewers", "ViewersNoSecrets"]
    Group.objects.get(name=VIEWERS).user_set.remove(user)  # from the group's side
    sids = [s["Sid"] for s in UserPolicy.objects.get(user=key.user, name=PERSONA_POLICY).document["Statement"]]
    assert sids == ["Developers"]
    Group.objects.get(name=DEVELOPERS).user_set.clear()
    assert not UserPolicy.objects.filter(user=key.user, name=PERSONA_POLICY).exists()  # an outsider: denied everything
    user.is_superuser = True
    user.save()
    assert UserPolicy.objects.get(user=key.user, name=PERSONA_POLICY).document["Statement"][0]["Action"] == "*"


def _client(service: str, url: str, key: Any) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key.key.access_key_id,
                        aws_secret_access_key=key.secret, config=Config(retries={"max_attempts": 1}))


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_the_aws_endpoint_allows_each_persona_what_the_console_does(transactional_db: None, live_server: Any, make_function: Any) -> None:
    make_function("persona-fn", environment={"TOKEN": "planted-secret"})
    url = live_server.url
    keys = {name: console_access_key_create(user=persona_user(name)) for name in ("developer", "viewer", "outsider")}
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

    developer = {s: _client(s, url, keys["developer"]) for s in ("lambda", "iam", "s3")}
    assert [f["FunctionName"] for f in developer["lambda"].list_functions()["Functions"]] == ["persona-fn"]
    assert developer["lambda"].get_function_configuration(FunctionName="persona-fn")["Environment"]["Variables"] == {"TOKEN": "planted-secret"}
    developer["s3"].create_bucket(Bucket="dev-made")
    assert _code(lambda: developer["iam"].create_role(RoleName="escalate", AssumeRolePolicyDocument=trust)) == "AccessDenied"

    viewer = {s: _client(s, url, keys["viewer"]) for s in ("lambda", "s3", "iam")}
    listed = viewer["lambda"].list_functions()["Functions"]
    assert [f["FunctionName"] for f in listed] == ["persona-fn"]
    assert listed[0]["Environment"]["Error"]["ErrorCode"] == "AccessDeniedException" and "Variables" not in listed[0]["Environment"]
    assert developer["lambda"].list_functions()["Functions"][0]["Environment"]["Variables"] == {"TOKEN": "planted-secret"}
    assert _code(lambda: viewer["lambda"].get_function_configuration(FunctionName="persona-fn")) == "AccessDeniedException"
    assert _code(lambda: viewer["lambda"].invoke(FunctionName="persona-fn", Payload=b"{}")) == "AccessDeniedException"
    assert _code(lambda: viewer["s3"].create_bucket(Bucket="viewer-made")) == "AccessDenied"
    assert [b["Name"] for b in viewer["s3"].list_buckets()["Buckets"]] == ["dev-made"]

    outsider = _client("lambda", url, keys["outsider"])
    assert _code(lambda: outsider.list_functions()) == "AccessDeniedException"

    # The edge of the masking: only an explicit deny hides an environment. A caller allowed ListFunctions and
    # nothing else (an implicit deny of GetFunctionConfiguration) sees it, as on Lambda.
    from iam.credentials import access_key_create
    from iam.users import user_create, user_policy_put

    lister = user_create(name="only-lists")
    user_policy_put(user=lister, name="list", document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]})
    only_lists = _client("lambda", url, access_key_create(user=lister))
    assert only_lists.list_functions()["Functions"][0]["Environment"]["Variables"] == {"TOKEN": "planted-secret"}
    assert _code(lambda: only_lists.get_function_configuration(FunctionName="persona-fn")) == "AccessDeniedException"
