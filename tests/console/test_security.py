"""The console's protections as a browser or script meets them: security headers and CSP where they belong,
sign-in throttling on the console login and the token endpoint, and a deployment check that passes over HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.security import CSP, LOGIN_FAILURES_PER_ACCOUNT, _keys
from invoker.redis_client import get_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_throttle() -> None:
    for name in ("throttled", "other"):
        get_redis().delete(*_keys(name, "127.0.0.1"))


def test_console_pages_carry_csp_and_frame_denial(db: None) -> None:
    client = Client()
    login = client.get("/console/login/")
    assert login.status_code == 200
    assert login["Content-Security-Policy"] == CSP and "script-src 'self'" in CSP and "'unsafe-eval'" not in CSP
    assert login["X-Frame-Options"] == "DENY" and login["X-Content-Type-Options"] == "nosniff"
    assert login["Referrer-Policy"] == "same-origin"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and docs["Content-Security-Policy"] == CSP
    assert b"<script>" not in docs.content  # Swagger UI's start-up script is a file, as the CSP demands
    assert "Content-Security-Policy" not in client.get("/healthz")  # not a console page
    assert "Strict-Transport-Security" not in login  # plain HTTP by default: no HSTS


def test_sign_in_is_refused_after_repeated_failures_even_with_the_password(db: None, clean_throttle: None) -> None:
    User.objects.create_user("throttled", password="right-password", is_staff=True)
    User.objects.create_user("other", password="other-password", is_staff=True)
    client = Client()
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT - 1):
        assert client.post("/console/login/", {"username": "throttled", "password": "wrong"}).status_code == 200
    # one failure short of the limit: the right password still works, and clears the count
    assert client.post("/console/login/", {"username": "throttled", "password": "right-password"}).status_code == 302
    client.logout()
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
        client.post("/console/login/", {"username": "throttled", "password": "wrong"})
    refused = client.post("/console/login/", {"username": "Throttled ", "password": "right-password"})
    assert refused.status_code == 200 and b"Too many failed sign-ins" in refused.content
    token = client.post("/api/v1/auth/token/", {"username": "throttled", "password": "right-password"}, content_type="application/json")
    assert token.status_code == 400 and "token" not in token.json()
    # another account from elsewhere is not affected
    assert Client(REMOTE_ADDR="10.9.9.9").post("/console/login/", {"username": "other", "password": "other-password"}).status_code == 302


def test_deploy_check_is_clean_with_https_settings(tmp_path: Path) -> None:
    env = {**os.environ, "KILN_HTTPS": "1", "DEBUG": "0", "SECRET_KEY": "k" * 20 + "-Zq8#pW2!vT7@xL4$mN9%rB3^cF6&hJ1*dS5(gK0)",
           "KILN_DATA_DIR": str(tmp_path), "ALLOWED_HOSTS": "kiln.example.com", "KILN_HSTS_PRELOAD": "1"}
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--tag", "security"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "System check identified no issues" in done.stdout, done.stdout + done.stderr
