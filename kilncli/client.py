"""boto3 clients for the Kiln endpoint, and the errors the commands turn into a message and an exit code.

Credentials, profile and region come from the usual AWS places (``AWS_ACCESS_KEY_ID``…, ``AWS_PROFILE``,
``~/.aws/config``); the endpoint is ``--endpoint-url``, else ``KILN_ENDPOINT``, else one configured the AWS
way (``AWS_ENDPOINT_URL[_LAMBDA|_CLOUDWATCH_LOGS]`` or a profile's ``endpoint_url``), else the local Kiln.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_ENDPOINT = "http://localhost:8000"
DEFAULT_REGION = "us-east-1"
# Long enough for a synchronous invocation at Lambda's longest timeout (900 s).
READ_TIMEOUT_S = 910


class CommandError(Exception):
    """A failure the user can act on: printed as ``kiln: <message>``, exits with ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _configured_endpoint(session: boto3.Session, service_env: str) -> bool:
    if os.environ.get(f"AWS_ENDPOINT_URL_{service_env}") or os.environ.get("AWS_ENDPOINT_URL"):
        return True
    try:
        return bool(session._session.get_scoped_config().get("endpoint_url"))  # botocore has no public getter
    except Exception:  # a profile that does not exist: boto3 says so when the client is made
        return False


def endpoint_of(args: argparse.Namespace, session: boto3.Session, service_env: str) -> str | None:
    """The endpoint URL to pass to boto3 (``None``: the one configured the AWS way)."""
    explicit = getattr(args, "endpoint_url", None) or os.environ.get("KILN_ENDPOINT")
    if explicit:
        return explicit
    return None if _configured_endpoint(session, service_env) else DEFAULT_ENDPOINT


def make_client(args: argparse.Namespace, service: str, *, retries: int = 3) -> Any:
    """A boto3 client for ``service`` ("lambda", "logs") on the Kiln endpoint; ``retries`` 1 for calls that must not repeat."""
    try:
        session = boto3.Session(profile_name=getattr(args, "profile", None) or None)
    except Exception as exc:  # botocore.exceptions.ProfileNotFound
        raise CommandError(str(exc)) from None
    region = getattr(args, "region", None) or session.region_name or DEFAULT_REGION
    env_name = {"lambda": "LAMBDA", "logs": "CLOUDWATCH_LOGS"}.get(service, service.upper())
    config = Config(retries={"mode": "standard", "max_attempts": retries}, connect_timeout=5, read_timeout=READ_TIMEOUT_S,
                    user_agent_extra="kiln-cli")
    return session.client(service, region_name=region, endpoint_url=endpoint_of(args, session, env_name), config=config)


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', str(exc))}"
