"""A principal's policies and execution environments' keys are cached per process (read by every signed request),
and every write that changes them is seen by the next request: no query on a hit, no stale decision after a write."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from iam.credentials import CREDENTIALS, access_key_create, credential_resolve, environment_sessions_revoke, session_create
from iam.selectors import principal_authorize
from iam.services import role_create, role_delete, role_policy_attach, role_policy_delete, role_policy_detach, role_policy_put, role_update
from iam.users import managed_policy_create, user_create, user_policy_attach, user_policy_put

GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
PUT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
DENY_GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]}


def _allowed(principal: Any, action: str) -> bool:
    return principal_authorize(principal, action=action, resource="arn:aws:s3:::b/k").allowed


def _principal_of_session(role: Any) -> Any:
    issued = session_create(role=role, session_name="cached", duration_seconds=900)
    found = credential_resolve(issued.key.access_key_id)
    assert found is not None
    return found.principal


def test_a_hit_costs_no_query_and_each_policy_write_decides_the_next_request(transactional_db: None) -> None:
    role = role_create(name="cached-role")
    role_policy_put(role=role, name="get", document=GET)
    principal = _principal_of_session(role)
    assert _allowed(principal, "s3:GetObject") and not _allowed(principal, "s3:PutObject")
    with CaptureQueriesContext(connection) as queries:
        assert _allowed(principal, "s3:GetObject")
    assert len(queries) == 0  # the policies came from the cache

    role_policy_put(role=role, name="put", document=PUT)  # an inline policy added
    assert _allowed(principal, "s3:PutObject")
    role_policy_put(role=role, name="get", document=DENY_GET)  # an inline policy rewritten
    assert not _allowed(principal, "s3:GetObject")
    role_policy_delete(role=role, name="get")
    role_policy_delete(role=role, name="put")
    assert not _allowed(principal, "s3:PutObject")

    managed = managed_policy_create(name="managed-get", document=GET)
    role_policy_attach(role=role, policy=managed)  # an attachment (m2m) added
    assert _allowed(principal, "s3:GetObject")
    managed.document = DENY_GET  # the managed policy itself rewritten
    managed.save()
    assert not _allowed(principal, "s3:GetObject")
    role_policy_detach(role=role, policy=managed)
    role_update(role=role, policy_document=PUT)  # the role's own policy document
    assert _allowed(principal, "s3:PutObject") and not _allowed(principal, "s3:GetObject")
    role_update(role=role, policy_document=GET)
    assert not _allowed(principal, "s3:PutObject") and _allowed(principal, "s3:GetObject")


def test_a_users_policies_are_cached_and_invalidated_too(transactional_db: None) -> None:
    user = user_create(name="cached-user")
    found = credential_resolve(access_key_create(user=user).key.access_key_id)
    assert found is not None
    principal = found.principal
    assert not _allowed(principal, "s3:GetObject")
    user_policy_put(user=user, name="get", document=GET)
    assert _allowed(principal, "s3:GetObject")
    user_policy_attach(user=user, policy=managed_policy_create(name="deny-get", document=DENY_GET))
    assert not _allowed(principal, "s3:GetObject")  # an explicit deny from the attachment wins


def test_a_deleted_role_decides_nothing_at_once(transactional_db: None) -> None:
    role = role_create(name="short-lived", policy_document=GET)
    principal = _principal_of_session(role)
    assert _allowed(principal, "s3:GetObject")
    role_delete(role=role)
    assert not _allowed(principal, "s3:GetObject")


def test_an_environments_key_is_cached_and_refused_once_its_environment_stops(transactional_db: None) -> None:
    role = role_create(name="env-role", policy_document=GET)
    issued = session_create(role=role, session_name="env-session", duration_seconds=900, environment_id="env0000000000001")
    key_id = issued.key.access_key_id
    assert credential_resolve(key_id) is not None
    with CaptureQueriesContext(connection) as queries:
        assert credential_resolve(key_id) is not None
    assert len(queries) == 0  # a signed request from a function costs no query for its key

    # A cold start writing another environment's key leaves the cache alone (it would empty every process's).
    generation = CREDENTIALS._generation()
    session_create(role=None, session_name="other", duration_seconds=900, environment_id="env0000000000002")
    assert CREDENTIALS._generation() == generation
    with CaptureQueriesContext(connection) as queries:
        assert credential_resolve(key_id) is not None
    assert len(queries) == 0

    assert environment_sessions_revoke(environment_id="env0000000000001") == 1  # the environment stopped
    assert credential_resolve(key_id) is None  # at once, in this process and (the generation moved) in every other
    assert CREDENTIALS._generation() != generation
