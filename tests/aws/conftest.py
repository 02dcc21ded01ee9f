"""Fixtures for the AWS endpoint: a live Kiln server, the root key, and real boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler, _StaticFilesHandler

from iam.credentials import access_key_create
from iam.models import Role
from invoker.models import Invocation
from tests.conftest import WORKER_KILN_PORT

REGION = "us-east-1"


@pytest.fixture
def endpoint(live_server: Any) -> str:
    return live_server.url


class _ReusableLiveServerThread(LiveServerThread):
    """Django's live server, binding with SO_REUSEADDR: the port is fixed, and the last server's closed
    connections may still be in TIME_WAIT on it."""

    def _create_server(self, connections_override: Any = None) -> Any:
        return self.server_class((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=True, connections_override=connections_override)


@pytest.fixture(scope="module")
def kiln_web(django_db_blocker: Any) -> Iterator[str]:
    """A Kiln web server on the port the test worker's sandboxes are told is Kiln's (``WORKER_KILN_PORT``;
    tests/invoker/test_network.py serves that port with a stand-in)."""
    with django_db_blocker.unblock():
        thread = _ReusableLiveServerThread("127.0.0.1", _StaticFilesHandler, port=WORKER_KILN_PORT)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
    yield f"http://127.0.0.1:{WORKER_KILN_PORT}"
    thread.terminate()


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


def allow_role(name: str, actions: list[str], resource: str) -> Role:
    """A role whose policy allows ``actions`` on ``resource`` (and nothing else)."""
    return Role.objects.create(name=name, policy_document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})


def wait_invocation(filters: dict[str, Any], seconds: float = 60.0) -> Invocation:
    """The first invocation matching ``filters`` once it is final."""
    import time

    deadline = time.time() + seconds
    while time.time() < deadline:
        found = Invocation.objects.filter(**filters).first()
        if found is not None and found.is_final:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no final invocation for {filters}")


def signing_key(secret: str, date: str, region: str = REGION, service: str = "s3") -> bytes:
    """SigV4's signing key, computed independently of botocore (for chunk signatures in the tests)."""
    import hashlib
    import hmac

    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_send(endpoint: str, method: str, path: str, key: tuple[str, ...], *, service: str = "s3", headers: dict[str, str] | None = None,
                body: bytes = b"", host: str | None = None, sign_body: bytes | None = None, tamper: Callable[[dict[str, str]], None] | None = None) -> Any:
    """Sign a request with botocore's SigV4Auth (headers as given, ``x-amz-content-sha256`` kept) and send it with http.client.

    ``host`` is the Host header signed and sent (the connection still goes to the endpoint's address).
    Returns ``(status, headers, body, auth_headers)``.
    """
    import http.client
    from urllib.parse import urlsplit

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(endpoint)
    host_header = host or parts.netloc
    request = AWSRequest(method=method, url=f"http://{host_header}{path}", headers=dict(headers or {}), data=sign_body if sign_body is not None else body)
    SigV4Auth(Credentials(key[0], key[1], key[2] if len(key) > 2 else None), service, REGION).add_auth(request)
    sent = dict(request.headers.items())
    sent["Host"] = host_header
    if tamper:
        tamper(sent)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data, sent


def error_code(body: bytes) -> str:
    import re

    match = re.search(rb"<Code>([^<]*)</Code>", body)
    return match.group(1).decode() if match else ""
