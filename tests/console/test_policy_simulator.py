"""The console's policy simulator: roles and IAM users, allowed / explicit deny / implicit deny with the
deciding statement, the principal's own condition keys and given context keys, and clear input errors."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from core.arns import role_arn, user_arn
from iam.models import Role
from iam.selectors import policy_simulate
from iam.services import role_policy_put
from iam.users import user_create, user_policy_put

PAGE = "/console/policy-simulator/"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadUploads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uploads/*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::uploads/secret/*"},
    {"Sid": "OfficeOnly", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
]}


@pytest.fixture
def console(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def reader(db: None) -> Role:
    role = Role.objects.create(name="reader", policy_document=POLICY)
    role_policy_put(role=role, name="extra", document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
    return role


def _simulate(client: Client, **params: str) -> str:
    response = client.get(PAGE + "?" + urlencode(params))
    assert response.status_code == 200
    return response.content.decode()


def test_selector_decisions_and_deciding_statements(reader) -> None:
    arn = role_arn("reader")
    allowed = policy_simulate(principal_arn=arn, action="s3:GetObject", resource="arn:aws:s3:::uploads/a.jpg")
    assert allowed.decision.decision == "allowed" and allowed.deciding_statement["Sid"] == "ReadUploads"
    assert [p.name for p in allowed.policies] == ["reader (role policy)", "extra"]
    denied = policy_simulate(principal_arn=arn, action="s3:GetObject", resource="arn:aws:s3:::uploads/secret/x")
    assert denied.decision.decision == "explicitDeny" and denied.deciding_statement["Sid"] == "NoSecrets"
    implicit = policy_simulate(principal_arn=arn, action="s3:DeleteObject", resource="arn:aws:s3:::uploads/a.jpg")
    assert implicit.decision.decision == "implicitDeny" and implicit.deciding_statement is None
    assert policy_simulate(principal_arn=arn, action="s3:PutObject", resource="*").decision.decision == "implicitDeny"
    office = policy_simulate(principal_arn=arn, action="s3:PutObject", resource="*", context={"aws:SourceIp": "10.1.2.3"})
    assert office.decision.allowed and office.deciding_statement["Sid"] == "OfficeOnly"
    assert policy_simulate(principal_arn=arn, action="logs:PutLogEvents").decision.statement.policy == "extra"


def test_principal_condition_keys_for_users_and_roles(db) -> None:
    user = user_create(name="alice")
    user_policy_put(user=user, name="home", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::shared/home/${aws:username}/*"}]})
    arn = user_arn("alice")
    assert policy_simulate(principal_arn=arn, action="s3:GetObject", resource="arn:aws:s3:::shared/home/alice/x").decision.allowed
    assert not policy_simulate(principal_arn=arn, action="s3:GetObject", resource="arn:aws:s3:::shared/home/bob/x").decision.allowed
    Role.objects.create(name="self-aware", policy_document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn("self-aware")}}}]})
    assert policy_simulate(principal_arn=role_arn("self-aware"), action="s3:ListBucket").decision.allowed


def test_console_page_shows_decision_and_statement(console, reader) -> None:
    empty = _simulate(console)
    assert f'value="{role_arn("reader")}"' in empty and 'id="sim-result"' not in empty
    html = _simulate(console, principal=role_arn("reader"), action="s3:GetObject", resource="arn:aws:s3:::uploads/a.jpg")
    assert 'data-decision="allowed"' in html and 'id="sim-decision">Allowed<' in html
    assert re.search(r"number 1 \(Sid <code>ReadUploads</code>\) of policy <strong>reader \(role policy\)</strong>", html)
    assert "&quot;Sid&quot;: &quot;ReadUploads&quot;" in html
    assert f'value="{role_arn("reader")}" selected' in html  # the form keeps what was asked
    html = _simulate(console, principal=role_arn("reader"), action="s3:PutObject", resource="arn:aws:s3:::uploads/secret/plan")
    assert 'data-decision="explicitDeny"' in html and "NoSecrets" in html
    html = _simulate(console, principal=role_arn("reader"), action="s3:PutObject", resource="arn:aws:s3:::uploads/a", context='{"aws:SourceIp": "10.9.9.9"}')
    assert 'data-decision="allowed"' in html and "OfficeOnly" in html
    html = _simulate(console, principal=role_arn("reader"), action="sqs:SendMessage", resource="*")
    assert 'data-decision="implicitDeny"' in html and "no statement allows it" in html and 'id="sim-statement"' not in html


def test_console_page_input_errors(console, reader) -> None:
    for params, message in (({"action": "GetObject"}, "is not an action"), ({"action": "s3:GetObject", "context": "[1]"}, "must be a JSON object"),
                            ({"action": "s3:GetObject", "context": "{"}, "must be a JSON object"), ({"action": "s3:GetObject", "resource": ""}, "A resource is an ARN")):
        html = _simulate(console, principal=role_arn("reader"), **params)
        assert 'id="sim-error"' in html and message in html, params
    html = _simulate(console, principal=role_arn("ghost"), action="s3:GetObject")
    assert "cannot be found" in html


def test_simulator_is_in_the_navigation(console) -> None:
    assert f'href="{PAGE}"' in console.get("/console/").content.decode()


def test_a_roles_page_links_to_the_simulator_for_it(console, reader) -> None:
    html = console.get(f"/console/iam/role/{reader.pk}/change/").content.decode()
    link = re.search(r'href="([^"]+)" id="role-simulate"', html)
    assert link is not None
    page = console.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert f'value="{role_arn("reader")}" selected' in page
