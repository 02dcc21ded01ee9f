"""IAM and STS over the query protocol with real boto3: users, access keys, roles, inline and managed
policies, trust policies and AssumeRole, the simulator, and IAM's error codes."""

from __future__ import annotations

import datetime
import json

import pytest
from botocore.exceptions import ClientError

from iam.models import AccessKey

ALLOW_GET = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]}


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_users_and_access_keys(root, make_client) -> None:
    iam = root("iam")
    created = iam.create_user(UserName="alice", Path="/team/")["User"]
    assert created["Arn"] == "arn:aws:iam::000000000000:user/team/alice" and created["UserId"].startswith("AIDA")
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    with pytest.raises(ClientError) as duplicate:
        iam.create_user(UserName="alice")
    assert _error(duplicate) == ("EntityAlreadyExists", 409)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    stored = AccessKey.objects.get(access_key_id=key["AccessKeyId"])
    assert key["SecretAccessKey"] not in stored.secret_encrypted  # encrypted at rest
    alice = make_client("iam", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert make_client("sts", (key["AccessKeyId"], key["SecretAccessKey"])).get_caller_identity()["Arn"] == created["Arn"]
    with pytest.raises(ClientError) as denied:
        alice.list_users()
    assert _error(denied) == ("AccessDenied", 403)
    iam.create_access_key(UserName="alice")
    with pytest.raises(ClientError) as quota:
        iam.create_access_key(UserName="alice")
    assert _error(quota) == ("LimitExceeded", 409)
    assert len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]) == 2
    with pytest.raises(ClientError) as conflict:
        iam.delete_user(UserName="alice")
    assert _error(conflict) == ("DeleteConflict", 409)
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as inactive:
        alice.get_user()
    assert _error(inactive) == ("InvalidClientTokenId", 403)
    for item in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="alice", AccessKeyId=item["AccessKeyId"])
    iam.delete_user(UserName="alice")
    with pytest.raises(ClientError) as missing:
        iam.get_user(UserName="alice")
    assert _error(missing) == ("NoSuchEntity", 404)


def test_access_key_last_used(root, root_key, make_client) -> None:
    iam = root("iam")
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    never = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert never["UserName"] == "bob" and never["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    with pytest.raises(ClientError):
        make_client("s3", (key["AccessKeyId"], key["SecretAccessKey"])).list_buckets()  # denied, but authenticated: it counts
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("s3", "us-east-1") and used["LastUsedDate"] >= before
    make_client("sts", (key["AccessKeyId"], key["SecretAccessKey"])).get_caller_identity()  # within the minute: not rewritten
    assert iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]["ServiceName"] == "s3"
    fresh = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    with pytest.raises(ClientError) as bad:
        make_client("s3", (fresh, "wrong-secret-0000000000000000000000000")).list_buckets()
    assert _error(bad) == ("SignatureDoesNotMatch", 403)
    assert iam.get_access_key_last_used(AccessKeyId=fresh)["AccessKeyLastUsed"]["ServiceName"] == "N/A"  # a signature that does not verify is no use
    assert iam.get_access_key_last_used(AccessKeyId=root_key[0])["UserName"] == "root"
    with pytest.raises(ClientError) as missing:
        iam.get_access_key_last_used(AccessKeyId="AKIANOSUCHKEY0000000")
    assert _error(missing) == ("NoSuchEntity", 404)


def test_user_manages_own_keys_when_allowed(root, make_client) -> None:
    iam = root("iam")
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="self", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:*AccessKey*", "iam:GetUser"], "Resource": "arn:aws:iam::000000000000:user/${aws:username}"}]}))
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob = make_client("iam", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert bob.get_user()["User"]["UserName"] == "bob"
    assert [k["AccessKeyId"] for k in bob.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    iam.create_user(UserName="carol")
    with pytest.raises(ClientError) as other:
        bob.list_access_keys(UserName="carol")
    assert _error(other) == ("AccessDenied", 403)
    assert iam.get_user_policy(UserName="bob", PolicyName="self")["PolicyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["self"]


def test_roles_and_inline_policies(root) -> None:
    iam = root("iam")
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=_trust("arn:aws:iam::000000000000:root"), Description="reads", MaxSessionDuration=7200)["Role"]
    assert role["Arn"] == "arn:aws:iam::000000000000:role/reader" and role["RoleId"].startswith("AROA") and role["MaxSessionDuration"] == 7200
    got = iam.get_role(RoleName="reader")["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::000000000000:root"
    assert "reader" in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.put_role_policy(RoleName="reader", PolicyName="get", PolicyDocument=json.dumps(ALLOW_GET))
    assert iam.get_role_policy(RoleName="reader", PolicyName="get")["PolicyDocument"] == ALLOW_GET
    assert iam.list_role_policies(RoleName="reader")["PolicyNames"] == ["get"]
    with pytest.raises(ClientError) as malformed:
        iam.put_role_policy(RoleName="reader", PolicyName="bad", PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}')
    assert _error(malformed) == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError) as conflict:
        iam.delete_role(RoleName="reader")
    assert _error(conflict) == ("DeleteConflict", 409)
    iam.update_assume_role_policy(RoleName="reader", PolicyDocument=_trust("arn:aws:iam::000000000000:user/alice"))
    assert iam.get_role(RoleName="reader")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"].endswith("user/alice")
    iam.delete_role_policy(RoleName="reader", PolicyName="get")
    with pytest.raises(ClientError) as gone:
        iam.get_role_policy(RoleName="reader", PolicyName="get")
    assert _error(gone) == ("NoSuchEntity", 404)
    iam.delete_role(RoleName="reader")
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName="reader")
    assert _error(missing) == ("NoSuchEntity", 404)


def test_managed_policies(root) -> None:
    iam = root("iam")
    policy = iam.create_policy(PolicyName="s3-read", PolicyDocument=json.dumps(ALLOW_GET))["Policy"]
    assert policy["Arn"] == "arn:aws:iam::000000000000:policy/s3-read"
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["DefaultVersionId"] == "v1"
    assert iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]["Document"] == ALLOW_GET
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust("arn:aws:iam::000000000000:root"))
    iam.attach_role_policy(RoleName="r", PolicyArn=policy["Arn"])
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [{"PolicyName": "s3-read", "PolicyArn": policy["Arn"]}]
    with pytest.raises(ClientError) as attached:
        iam.delete_policy(PolicyArn=policy["Arn"])
    assert _error(attached) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName="r", PolicyArn=policy["Arn"])
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(ClientError) as missing:
        iam.attach_role_policy(RoleName="r", PolicyArn=policy["Arn"])
    assert _error(missing) == ("NoSuchEntity", 404)


def test_assume_role(root, make_client) -> None:
    iam = root("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    dev = (key["AccessKeyId"], key["SecretAccessKey"])
    iam.create_role(RoleName="named", AssumeRolePolicyDocument=_trust("arn:aws:iam::000000000000:user/dev"))
    iam.create_role(RoleName="account", AssumeRolePolicyDocument=_trust("arn:aws:iam::000000000000:root"))
    iam.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    sts = make_client("sts", dev)
    assumed = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/named", RoleSessionName="work", DurationSeconds=900)
    creds = assumed["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/named/work"
    session = make_client("sts", (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))
    assert session.get_caller_identity()["Arn"] == "arn:aws:sts::000000000000:assumed-role/named/work"
    with pytest.raises(ClientError) as account_only:  # trusted through the account: dev's own policy must allow it too
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/account", RoleSessionName="work")
    assert _error(account_only) == ("AccessDenied", 403)
    iam.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::000000000000:role/account"}]}))
    assert sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/account", RoleSessionName="work")["Credentials"]["AccessKeyId"]
    for arn in ("arn:aws:iam::000000000000:role/lambda-only", "arn:aws:iam::000000000000:role/missing"):
        with pytest.raises(ClientError) as refused:
            sts.assume_role(RoleArn=arn, RoleSessionName="work")
        assert _error(refused) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as too_long:
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/named", RoleSessionName="work", DurationSeconds=7200)
    assert _error(too_long) == ("ValidationError", 400)
    with pytest.raises(ClientError) as as_root:
        root("sts").assume_role(RoleArn="arn:aws:iam::000000000000:role/named", RoleSessionName="work")
    assert _error(as_root) == ("AccessDenied", 403)


def test_simulate_principal_policy(root) -> None:
    iam = root("iam")
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowData", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::data/*"},
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/secret/*"}]}))
    results = iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::000000000000:user/sim", ActionNames=["s3:GetObject", "s3:DeleteBucket"],
                                            ResourceArns=["arn:aws:s3:::data/a.txt", "arn:aws:s3:::data/secret/k"])["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}
    assert decisions == {("s3:GetObject", "arn:aws:s3:::data/a.txt"): "allowed", ("s3:GetObject", "arn:aws:s3:::data/secret/k"): "explicitDeny",
                         ("s3:DeleteBucket", "arn:aws:s3:::data/a.txt"): "allowed", ("s3:DeleteBucket", "arn:aws:s3:::data/secret/k"): "allowed"}
    deny = next(r for r in results if r["EvalDecision"] == "explicitDeny")
    assert deny["MatchedStatements"][0]["SourcePolicyId"] == "p"
    iam.put_user_policy(UserName="sim", PolicyName="ip", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                                                                                      "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}}]}))

    def decide(ip: str, tags: list[str]) -> str:
        entries = [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [ip], "ContextKeyType": "ip"},
                   {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": tags, "ContextKeyType": "stringList"}]
        return iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::000000000000:user/sim", ActionNames=["iam:GetUser"],
                                             ContextEntries=entries)["EvaluationResults"][0]["EvalDecision"]

    assert decide("10.1.1.1", ["a"]) == "allowed"
    assert decide("10.1.1.1", ["a", "c"]) == "implicitDeny"
    assert decide("192.168.0.1", ["a"]) == "implicitDeny"
    with pytest.raises(ClientError) as unknown:
        iam.put_user_policy(UserName="sim", PolicyName="bad", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*", "Condition": {"StringSortOf": {"a": "b"}}}]}))
    assert _error(unknown) == ("MalformedPolicyDocument", 400)


def test_query_protocol_errors(endpoint, root_key) -> None:
    from tests.aws.conftest import error_code, signed_send

    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, _, body, _ = signed_send(endpoint, "POST", "/", root_key, service="iam", headers=form, body=b"Action=FlyToTheMoon&Version=2010-05-08")
    assert (status, error_code(body)) == (400, "InvalidAction") and b"<ErrorResponse" in body and b"<Type>Sender</Type>" in body
    status, _, body, _ = signed_send(endpoint, "POST", "/", root_key, service="iam", headers=form, body=b"Action=GetRole&Version=2010-05-08")
    assert (status, error_code(body)) == (400, "ValidationError")
    status, _, body, _ = signed_send(endpoint, "POST", "/", root_key, service="iam", headers=form, body=b"Version=2010-05-08")
    assert (status, error_code(body)) == (400, "MissingAction")
    status, _, body, _ = signed_send(endpoint, "POST", "/", root_key, service="sts", headers=form, body=b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 200 and b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' in body and b"<RequestId>" in body
