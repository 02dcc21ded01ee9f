"""IAM decides every S3 operation end to end: users and role sessions with allowing and denying policies,
policy variables, condition keys on ListBucket, AccessDenied instead of NoSuchKey without s3:ListBucket,
and per-key decisions in DeleteObjects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def world(root) -> Any:
    s3 = root("s3")
    s3.create_bucket(Bucket="shared")
    for key in ("public/a.txt", "home/alice/notes.txt", "home/bob/notes.txt", "secret/plans.txt"):
        s3.put_object(Bucket="shared", Key=key, Body=key.encode())
    return s3


def _user(root: Callable[[str], Any], make_client: Callable[..., Any], name: str, *statements: dict[str, Any]) -> Callable[[str], Any]:
    iam = root("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: make_client(service, (key["AccessKeyId"], key["SecretAccessKey"]))


def test_user_without_policies_is_denied_everything(root, make_client, world) -> None:
    nobody = _user(root, make_client, "nobody")("s3")
    for call in (lambda: nobody.list_buckets(), lambda: nobody.get_object(Bucket="shared", Key="public/a.txt"),
                 lambda: nobody.put_object(Bucket="shared", Key="x", Body=b"x"), lambda: nobody.list_objects_v2(Bucket="shared"),
                 lambda: nobody.create_bucket(Bucket="mine"), lambda: nobody.delete_bucket(Bucket="shared")):
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc) == ("AccessDenied", 403)


def test_allow_with_explicit_deny_and_variables(root, make_client, world) -> None:
    alice = _user(root, make_client, "alice",
                  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::shared/public/*", "arn:aws:s3:::shared/home/${aws:username}/*"]},
                  {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::shared/secret/*"},
                  {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/secret/*"})("s3")
    assert alice.get_object(Bucket="shared", Key="public/a.txt")["Body"].read() == b"public/a.txt"
    assert alice.get_object(Bucket="shared", Key="home/alice/notes.txt")["Body"].read() == b"home/alice/notes.txt"
    alice.put_object(Bucket="shared", Key="home/alice/new.txt", Body=b"mine")
    for key in ("home/bob/notes.txt", "secret/plans.txt"):
        with pytest.raises(ClientError) as exc:
            alice.get_object(Bucket="shared", Key=key)
        assert _error(exc) == ("AccessDenied", 403)
    alice.put_object(Bucket="shared", Key="secret/drop.txt", Body=b"write-only")  # allowed; only reading is denied
    with pytest.raises(ClientError) as put_bob:
        alice.put_object(Bucket="shared", Key="home/bob/x.txt", Body=b"no")
    assert _error(put_bob) == ("AccessDenied", 403)


def test_missing_key_is_access_denied_without_list_bucket(root, make_client, world) -> None:
    reader = _user(root, make_client, "reader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"})("s3")
    with pytest.raises(ClientError) as hidden:
        reader.get_object(Bucket="shared", Key="does/not/exist")
    assert _error(hidden) == ("AccessDenied", 403)
    lister = _user(root, make_client, "lister", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"},
                   {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared"})("s3")
    with pytest.raises(ClientError) as shown:
        lister.get_object(Bucket="shared", Key="does/not/exist")
    assert _error(shown) == ("NoSuchKey", 404)


def test_list_bucket_condition_on_prefix(root, make_client, world) -> None:
    bob = _user(root, make_client, "bob", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared",
                                           "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}}})("s3")
    assert [o["Key"] for o in bob.list_objects_v2(Bucket="shared", Prefix="home/bob/")["Contents"]] == ["home/bob/notes.txt"]
    for prefix in ("home/alice/", ""):
        with pytest.raises(ClientError) as exc:
            bob.list_objects_v2(Bucket="shared", Prefix=prefix)
        assert _error(exc) == ("AccessDenied", 403)


def test_delete_objects_decides_each_key(root, make_client, world) -> None:
    cleaner = _user(root, make_client, "cleaner", {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::shared/public/*"})("s3")
    result = cleaner.delete_objects(Bucket="shared", Delete={"Objects": [{"Key": "public/a.txt"}, {"Key": "secret/plans.txt"}]})
    assert [d["Key"] for d in result["Deleted"]] == ["public/a.txt"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("secret/plans.txt", "AccessDenied")]
    assert world.head_object(Bucket="shared", Key="secret/plans.txt")["ContentLength"] > 0


def test_role_session_allowed_and_denied(root, make_client, world) -> None:
    iam = root("iam")
    dev = _user(root, make_client, "dev")
    trust = _doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/dev"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="can-read", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="can-read", PolicyName="read", PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}))
    iam.create_role(RoleName="cannot-read", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="cannot-read", PolicyName="deny", PolicyDocument=_doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}))

    def session(role: str) -> Any:
        creds = dev("sts").assume_role(RoleArn=f"arn:aws:iam::000000000000:role/{role}", RoleSessionName="tt")["Credentials"]
        return make_client("s3", (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))

    assert session("can-read").get_object(Bucket="shared", Key="public/a.txt")["Body"].read() == b"public/a.txt"
    with pytest.raises(ClientError) as exc:
        session("cannot-read").get_object(Bucket="shared", Key="public/a.txt")
    assert _error(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as put:
        session("can-read").put_object(Bucket="shared", Key="public/b.txt", Body=b"x")
    assert _error(put) == ("AccessDenied", 403)


def test_rest_api_role_policy_counts_too(root, make_client, world, transactional_db) -> None:
    from iam.services import role_create

    role_create(name="from-rest", policy_document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]},
                trust_policy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/dev2"}, "Action": "sts:AssumeRole"}]})
    dev = _user(root, make_client, "dev2")
    creds = dev("sts").assume_role(RoleArn="arn:aws:iam::000000000000:role/from-rest", RoleSessionName="tt")["Credentials"]
    s3 = make_client("s3", (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["shared"]
