"""An execution environment's AWS credentials: a session of its function's role, issued when the
environment gets its function (a cold start, or a prewarmed runtime's assignment) and deleted when it stops.

The session key records the environment's id, and the worker notes in Redis which invocation the environment
runs (``kiln:environment-invocation:<id>``, one SET per run instead of a database write), so the AWS endpoint
knows where a request signed with it comes from (and logs a denial against that invocation). A function without a role gets a session with no policies: IAM denies it everything (Lambda
requires a role; Kiln lets a function have none and keeps the SDKs' errors the same as a role that allows
nothing). The environment is told Kiln's endpoint as seen from inside its sandbox (invoker/network.py
forwards ``127.0.0.1:KILN_PORT``); no Kiln secret is ever put in it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from redis.exceptions import RedisError

from iam.credentials import SESSION_MAX_SECONDS, environment_sessions_revoke, session_create
from iam.models import Role
from invoker.redis_client import get_redis

log = logging.getLogger(__name__)


def environment_credentials_issue(*, environment_id: str, function_name: str, role_id: int | None) -> dict[str, str]:
    """The variables an environment's SDKs read: a fresh role session (at most 12 h) and Kiln's endpoint."""
    role = Role.objects.filter(pk=role_id).first() if role_id is not None else None
    issued = session_create(role=role, session_name=function_name[:64], duration_seconds=SESSION_MAX_SECONDS, environment_id=environment_id)
    return {
        "AWS_ACCESS_KEY_ID": issued.key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": issued.secret,
        "AWS_SESSION_TOKEN": issued.session_token,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{settings.KILN_PORT}",
    }


def _invocation_key(environment_id: str) -> str:
    return f"kiln:environment-invocation:{environment_id}"


def environment_credentials_note_invocation(*, environment_id: str, invocation_id: str, seconds: float = SESSION_MAX_SECONDS) -> None:
    """Note the invocation the environment runs from now on (called by the worker as it dispatches); kept
    ``seconds`` (the run's timeout and a margin), as nothing runs in the environment after it."""
    key, value, ttl_s = environment_invocation_mark(environment_id=environment_id, invocation_id=invocation_id, seconds=seconds)
    get_redis().set(key, value, ex=max(1, int(ttl_s)))


def environment_invocation_mark(*, environment_id: str, invocation_id: str, seconds: float = SESSION_MAX_SECONDS) -> tuple[str, str, float]:
    """The same note as a (key, value, seconds) mark the concurrency lease's script sets (invoker/leases.py): a warm
    environment chosen before its run's lease is noted in the lease's round trip."""
    return _invocation_key(environment_id), invocation_id, seconds


def environment_invocation(environment_id: str) -> str:
    """The invocation an execution environment runs now ("" if none is noted, or Redis cannot say)."""
    try:
        found = get_redis().get(_invocation_key(environment_id))
    except RedisError as exc:
        log.warning("could not read the invocation of environment %s: %s", environment_id, exc)
        return ""
    return found.decode() if found else ""


def environment_credentials_revoke(*, environment_id: str) -> None:
    """Delete the environment's session (it stopped); best effort, as stopping must not fail."""
    try:
        environment_sessions_revoke(environment_id=environment_id)
    except Exception as exc:  # noqa: BLE001 - an expired key is refused anyway and purged later
        log.warning("could not revoke the credentials of environment %s: %s", environment_id, exc)
