"""The AWS CLI v1 (awscli from PyPI) against a live Kiln: sts, s3 cp both ways, s3 ls, s3api, iam, DynamoDB PartiQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AWS = str(Path(sys.executable).with_name("aws"))


def _cli(endpoint: str, key: tuple[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1], "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    result = subprocess.run([AWS, "--endpoint-url", endpoint, *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_sts_and_s3(endpoint, root_key, tmp_path) -> None:
    identity = json.loads(_cli(endpoint, root_key, "sts", "get-caller-identity").stdout)
    assert identity["Account"] == "000000000000"
    _cli(endpoint, root_key, "s3", "mb", "s3://cli-bucket")
    source = tmp_path / "report.csv"
    source.write_bytes(b"a,b\n" * 50_000)
    _cli(endpoint, root_key, "s3", "cp", str(source), "s3://cli-bucket/reports/2026/report.csv")
    listing = _cli(endpoint, root_key, "s3", "ls", "s3://cli-bucket/reports/2026/").stdout
    assert "report.csv" in listing and str(source.stat().st_size) in listing
    target = tmp_path / "back.csv"
    _cli(endpoint, root_key, "s3", "cp", "s3://cli-bucket/reports/2026/report.csv", str(target))
    assert target.read_bytes() == source.read_bytes()
    head = json.loads(_cli(endpoint, root_key, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "reports/2026/report.csv").stdout)
    assert head["ContentLength"] == source.stat().st_size
    _cli(endpoint, root_key, "s3", "rm", "s3://cli-bucket/reports/2026/report.csv")
    _cli(endpoint, root_key, "s3", "rb", "s3://cli-bucket")


def test_cli_errors_and_iam(endpoint, root_key) -> None:
    failed = _cli(endpoint, ("AKIAUNKNOWNUNKNOWN00", "x" * 40), "s3", "ls", check=False)
    assert failed.returncode != 0 and "InvalidAccessKeyId" in failed.stderr
    user = json.loads(_cli(endpoint, root_key, "iam", "create-user", "--user-name", "cli-user").stdout)
    assert user["User"]["Arn"] == "arn:aws:iam::000000000000:user/cli-user"
    missing = _cli(endpoint, root_key, "iam", "get-user", "--user-name", "nobody", check=False)
    assert missing.returncode != 0 and "NoSuchEntity" in missing.stderr


def test_cli_multipart_copy(endpoint, root_key, tmp_path) -> None:
    _cli(endpoint, root_key, "s3", "mb", "s3://cli-multipart")
    source = tmp_path / "large.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024))  # over the CLI's 8 MiB threshold: a multipart upload
    _cli(endpoint, root_key, "s3", "cp", str(source), "s3://cli-multipart/large.bin")
    head = json.loads(_cli(endpoint, root_key, "s3api", "head-object", "--bucket", "cli-multipart", "--key", "large.bin").stdout)
    assert head["ETag"].endswith('-2"') and head["ContentLength"] == source.stat().st_size
    target = tmp_path / "large.back"
    _cli(endpoint, root_key, "s3", "cp", "s3://cli-multipart/large.bin", str(target))
    assert target.read_bytes() == source.read_bytes()


def test_cli_lambda_create_invoke_list(endpoint, root_key, tmp_path, worker, transactional_db) -> None:
    from iam.models import Role
    from tests.aws.test_lambda_api import CODE

    Role.objects.create(name="cli-role")
    package = tmp_path / "function.zip"
    package.write_bytes(CODE)
    created = json.loads(_cli(endpoint, root_key, "lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.11",
                              "--role", "arn:aws:iam::000000000000:role/cli-role", "--handler", "app.handler",
                              "--zip-file", f"fileb://{package}").stdout)
    assert created["FunctionName"] == "cli-fn" and created["CodeSize"] == len(CODE)
    out = tmp_path / "out.json"
    result = json.loads(_cli(endpoint, root_key, "lambda", "invoke", "--function-name", "cli-fn",  # v1 takes the payload raw (v2 needs --cli-binary-format raw-in-base64-out)
                             "--payload", '{"from": "cli"}', str(out)).stdout)
    assert result["StatusCode"] == 200 and result["ExecutedVersion"] == "$LATEST"
    assert json.loads(out.read_text())["event"] == {"from": "cli"}
    listed = json.loads(_cli(endpoint, root_key, "lambda", "list-functions").stdout)
    assert [f["FunctionName"] for f in listed["Functions"]] == ["cli-fn"]
    missing = _cli(endpoint, root_key, "lambda", "get-function", "--function-name", "nope", check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_cli_dynamodb_partiql(endpoint, root_key) -> None:
    _cli(endpoint, root_key, "dynamodb", "create-table", "--table-name", "cli-music", "--billing-mode", "PAY_PER_REQUEST",
         "--attribute-definitions", "AttributeName=Artist,AttributeType=S", "--key-schema", "AttributeName=Artist,KeyType=HASH")
    insert = ["dynamodb", "execute-statement", "--statement", "INSERT INTO \"cli-music\" VALUE {'Artist': ?, 'Plays': 3}", "--parameters", '[{"S": "Acme"}]']
    _cli(endpoint, root_key, *insert)
    out = json.loads(_cli(endpoint, root_key, "dynamodb", "execute-statement", "--statement", "SELECT Plays FROM \"cli-music\" WHERE Artist = 'Acme'").stdout)
    assert out["Items"] == [{"Plays": {"N": "3"}}]
    again = _cli(endpoint, root_key, *insert, check=False)
    assert again.returncode != 0 and "DuplicateItemException" in again.stderr and "Duplicate primary key exists in table" in again.stderr
