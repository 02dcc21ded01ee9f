"""Fixtures for the AWS endpoint: a live Kiln server, the root key, and real boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from iam.credentials import access_key_create

REGION = "us-east-1"


@pytest.fixture
def endpoint(live_server: Any) -> str:
    return live_server.url


@pytest.fixture
def root_key(transactional_db: None) -> tuple[str, str]:
    issued = access_key_create(root=True)
    return issued.key.access_key_id, issued.secret


@pytest.fixture
def make_client(endpoint: str) -> Callable[..., Any]:
    """``make_client("s3", key)`` with ``key`` = ``(id, secret)`` or ``(id, secret, token)``."""

    def make(service: str, key: tuple[str, ...], **config: Any) -> Any:
        options: dict[str, Any] = {"retries": {"max_attempts": 1}, "s3": {"addressing_style": "path"}}
        options.update(config)
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key[0], aws_secret_access_key=key[1],
                            aws_session_token=key[2] if len(key) > 2 else None, config=Config(**options))

    return make


@pytest.fixture
def root(make_client: Callable[..., Any], root_key: tuple[str, str]) -> Callable[[str], Any]:
    return lambda service: make_client(service, root_key)
