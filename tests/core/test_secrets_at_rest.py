"""Secrets at rest, the way an attacker with a database backup or the logs would look: plant an environment
variable, a console login's access key, an IAM user's and the root's, use them (a function runs with the
variable, the keys sign requests), then grep a real ``pg_dump`` of the database and the worker's log."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.conf import settings
from django.db import connection

from iam.credentials import access_key_create
from iam.users import console_access_key_create, user_create
from tests.personas import persona_user

pytestmark = pytest.mark.django_db(transaction=True)


def _dump() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.fail("this test dumps the PostgreSQL test database with pg_dump (installed with PostgreSQL's client)")
    command = ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", db["NAME"]]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def test_no_planted_secret_is_in_a_database_dump_or_the_logs(api: Any, make_function: Any, worker: Any, live_server: Any) -> None:
    planted_env = "planted-env-" + secrets.token_hex(12)
    make_function("keeps-a-secret", handler="echo", environment={"SERVICE_PASSWORD": planted_env})
    answer = api.post("/api/v1/functions/keeps-a-secret/invoke/", data='{"ping": 1}', content_type="application/json")
    assert answer.status_code == 200, answer.content  # it ran, its environment decrypted for it

    console_key = console_access_key_create(user=persona_user("developer"))
    iam_key = access_key_create(user=user_create(name="planted-user"))
    root_key = access_key_create(root=True)
    for issued in (console_key, root_key):
        sts = boto3.client("sts", endpoint_url=live_server.url, region_name="us-east-1", aws_access_key_id=issued.key.access_key_id,
                           aws_secret_access_key=issued.secret, config=Config(retries={"max_attempts": 1}))
        assert sts.get_caller_identity()["Account"] == settings.KILN_ACCOUNT_ID  # the stored secret verifies signatures

    dump = _dump()
    assert "keeps-a-secret" in dump and console_key.key.access_key_id in dump  # the dump is of these rows
    planted = {"environment value": planted_env, "console key": console_key.secret, "IAM user key": iam_key.secret, "root key": root_key.secret}
    found = {what for what, value in planted.items() if value in dump}
    assert not found, f"in plain text in a pg_dump: {found}"
    assert "SERVICE_PASSWORD" not in dump  # nor the variable's name

    logs = "".join(path.read_text(errors="replace") for path in Path(settings.DATA_DIR).glob("worker*.log"))
    assert logs, "the worker's log is where the tests start it"
    assert not {what for what, value in planted.items() if value in logs}
