"""Secrets at rest, the way an attacker with a database backup or the logs would look: plant an environment
variable, a console login's access key, an IAM user's and the root's, a REST API token, use them (a function runs
with the variable, the keys sign requests, the token authenticates), then grep a real ``pg_dump`` of the database and the worker's log."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.conf import settings

from iam.credentials import access_key_create
from iam.users import console_access_key_create, user_create
from tests.dumps import database_dump
from tests.personas import persona_user

pytestmark = pytest.mark.django_db(transaction=True)


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

    dump = database_dump()
    assert "keeps-a-secret" in dump and console_key.key.access_key_id in dump  # the dump is of these rows
    planted = {"environment value": planted_env, "console key": console_key.secret, "IAM user key": iam_key.secret, "root key": root_key.secret,
               "REST API token": api._credentials["HTTP_AUTHORIZATION"].split()[1]}  # the api fixture's, which made the function
    found = {what for what, value in planted.items() if value in dump}
    assert not found, f"in plain text in a pg_dump: {found}"
    assert "SERVICE_PASSWORD" not in dump  # nor the variable's name

    logs = "".join(path.read_text(errors="replace") for path in Path(settings.DATA_DIR).glob("worker*.log"))
    assert logs, "the worker's log is where the tests start it"
    assert not {what for what, value in planted.items() if value in logs}
