"""Table tests of the IAM policy evaluator (pure logic): actions, resources, Not*, wildcards, every condition
operator family, set operators, IfExists, Null, policy variables, and deny > allow > implicit deny."""

from __future__ import annotations

from typing import Any

import pytest

from iam.evaluation import NamedPolicy, policy_evaluate

S3 = "arn:aws:s3:::bucket/key.txt"


def allow(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


def _s(effect: str, **statement: Any) -> dict[str, Any]:
    return {"Effect": effect, **statement}


# (case id, policy statements, action, resource, context, expected decision)
CASES: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any], str]] = [
    # actions
    ("exact action", [_s("Allow", Action="s3:GetObject", Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("action case-insensitive", [_s("Allow", Action="S3:getobject", Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("action star", [_s("Allow", Action="s3:*", Resource="*")], "s3:PutObject", S3, {}, "allowed"),
    ("action prefix star", [_s("Allow", Action="s3:Get*", Resource="*")], "s3:GetObjectAcl", S3, {}, "allowed"),
    ("action prefix star miss", [_s("Allow", Action="s3:Get*", Resource="*")], "s3:PutObject", S3, {}, "implicitDeny"),
    ("action question mark", [_s("Allow", Action="s3:?etObject", Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("question mark is one char", [_s("Allow", Action="s3:?Object", Resource="*")], "s3:GetObject", S3, {}, "implicitDeny"),
    ("other service", [_s("Allow", Action="s3:*", Resource="*")], "iam:GetUser", "*", {}, "implicitDeny"),
    ("global star", [_s("Allow", Action="*", Resource="*")], "iam:DeleteRole", "*", {}, "allowed"),
    ("action list", [_s("Allow", Action=["s3:PutObject", "s3:GetObject"], Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("NotAction allows others", [_s("Allow", NotAction="s3:DeleteObject", Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("NotAction excludes", [_s("Allow", NotAction="s3:DeleteObject", Resource="*")], "s3:DeleteObject", S3, {}, "implicitDeny"),
    ("NotAction wildcard", [_s("Allow", NotAction="iam:*", Resource="*")], "iam:CreateUser", "*", {}, "implicitDeny"),
    # resources
    ("exact resource", [_s("Allow", Action="*", Resource=S3)], "s3:GetObject", S3, {}, "allowed"),
    ("resource star suffix", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/*")], "s3:GetObject", S3, {}, "allowed"),
    ("bucket arn does not cover objects", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket")], "s3:GetObject", S3, {}, "implicitDeny"),
    ("resource star spans slashes", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/*")], "s3:GetObject", "arn:aws:s3:::bucket/a/b/c", {}, "allowed"),
    ("resource other bucket", [_s("Allow", Action="*", Resource="arn:aws:s3:::other/*")], "s3:GetObject", S3, {}, "implicitDeny"),
    ("resource question mark", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/key.tx?")], "s3:GetObject", S3, {}, "allowed"),
    ("resource case-sensitive", [_s("Allow", Action="*", Resource="arn:aws:s3:::BUCKET/*")], "s3:GetObject", S3, {}, "implicitDeny"),
    ("arn segment wildcard", [_s("Allow", Action="*", Resource="arn:aws:iam::*:role/app-*")], "sts:AssumeRole", "arn:aws:iam::000000000000:role/app-web", {}, "allowed"),
    ("arn segment mismatch", [_s("Allow", Action="*", Resource="arn:aws:iam::111111111111:role/*")], "sts:AssumeRole", "arn:aws:iam::000000000000:role/x", {}, "implicitDeny"),
    ("NotResource", [_s("Allow", Action="*", NotResource="arn:aws:s3:::secret/*")], "s3:GetObject", S3, {}, "allowed"),
    ("NotResource excludes", [_s("Allow", Action="*", NotResource="arn:aws:s3:::bucket/*")], "s3:GetObject", S3, {}, "implicitDeny"),
    # evaluation logic
    ("no statements", [], "s3:GetObject", S3, {}, "implicitDeny"),
    ("explicit deny wins", [_s("Allow", Action="*", Resource="*"), _s("Deny", Action="s3:GetObject", Resource=S3)], "s3:GetObject", S3, {}, "explicitDeny"),
    ("deny elsewhere ignored", [_s("Allow", Action="*", Resource="*"), _s("Deny", Action="s3:PutObject", Resource="*")], "s3:GetObject", S3, {}, "allowed"),
    ("deny only", [_s("Deny", Action="s3:PutObject", Resource="*")], "s3:GetObject", S3, {}, "implicitDeny"),
    ("deny with NotAction", [_s("Allow", Action="*", Resource="*"), _s("Deny", NotAction="s3:GetObject", Resource="*")], "s3:PutObject", S3, {}, "explicitDeny"),
    # string conditions
    ("StringEquals hit", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "alice"}})], "s3:GetObject", S3, {"aws:username": "alice"}, "allowed"),
    ("StringEquals miss", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "alice"}})], "s3:GetObject", S3, {"aws:username": "bob"}, "implicitDeny"),
    ("StringEquals any value", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": ["a", "bob"]}})], "s3:GetObject", S3, {"aws:username": "bob"}, "allowed"),
    ("StringEquals key case-insensitive", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"AWS:UserName": "bob"}})], "s3:GetObject", S3, {"aws:username": "bob"}, "allowed"),
    ("StringEquals value case-sensitive", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "Bob"}})], "s3:GetObject", S3, {"aws:username": "bob"}, "implicitDeny"),
    ("StringEquals missing key", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "bob"}})], "s3:GetObject", S3, {}, "implicitDeny"),
    ("StringNotEquals hit", [_s("Allow", Action="*", Resource="*", Condition={"StringNotEquals": {"aws:username": "bob"}})], "s3:GetObject", S3, {"aws:username": "eve"}, "allowed"),
    ("StringNotEquals miss", [_s("Allow", Action="*", Resource="*", Condition={"StringNotEquals": {"aws:username": ["bob", "eve"]}})], "s3:GetObject", S3, {"aws:username": "eve"}, "implicitDeny"),
    ("StringNotEquals missing key holds", [_s("Allow", Action="*", Resource="*", Condition={"StringNotEquals": {"aws:username": "bob"}})], "s3:GetObject", S3, {}, "allowed"),
    ("StringEqualsIgnoreCase", [_s("Allow", Action="*", Resource="*", Condition={"StringEqualsIgnoreCase": {"aws:username": "BOB"}})], "s3:GetObject", S3, {"aws:username": "bob"}, "allowed"),
    ("StringNotEqualsIgnoreCase", [_s("Allow", Action="*", Resource="*", Condition={"StringNotEqualsIgnoreCase": {"aws:username": "BOB"}})], "s3:GetObject", S3, {"aws:username": "bob"}, "implicitDeny"),
    ("StringLike", [_s("Allow", Action="*", Resource="*", Condition={"StringLike": {"s3:prefix": "home/*"}})], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "home/x/"}, "allowed"),
    ("StringLike miss", [_s("Allow", Action="*", Resource="*", Condition={"StringLike": {"s3:prefix": "home/*"}})], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "etc/"}, "implicitDeny"),
    ("StringNotLike", [_s("Allow", Action="*", Resource="*", Condition={"StringNotLike": {"s3:prefix": "secret*"}})], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "pub/"}, "allowed"),
    ("StringNotLike miss", [_s("Allow", Action="*", Resource="*", Condition={"StringNotLike": {"s3:prefix": "secret*"}})], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "secrets/"}, "implicitDeny"),
    # numeric
    ("NumericLessThan", [_s("Allow", Action="*", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}})], "s3:ListBucket", "*", {"s3:max-keys": "5"}, "allowed"),
    ("NumericLessThan miss", [_s("Allow", Action="*", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}})], "s3:ListBucket", "*", {"s3:max-keys": "10"}, "implicitDeny"),
    ("NumericLessThanEquals", [_s("Allow", Action="*", Resource="*", Condition={"NumericLessThanEquals": {"s3:max-keys": 10}})], "s3:ListBucket", "*", {"s3:max-keys": "10"}, "allowed"),
    ("NumericGreaterThan", [_s("Allow", Action="*", Resource="*", Condition={"NumericGreaterThan": {"k": "1.5"}})], "s3:ListBucket", "*", {"k": "2"}, "allowed"),
    ("NumericGreaterThanEquals miss", [_s("Allow", Action="*", Resource="*", Condition={"NumericGreaterThanEquals": {"k": "3"}})], "s3:ListBucket", "*", {"k": "2"}, "implicitDeny"),
    ("NumericEquals", [_s("Allow", Action="*", Resource="*", Condition={"NumericEquals": {"k": "3"}})], "s3:ListBucket", "*", {"k": "3.0"}, "allowed"),
    ("NumericNotEquals", [_s("Allow", Action="*", Resource="*", Condition={"NumericNotEquals": {"k": "3"}})], "s3:ListBucket", "*", {"k": "3"}, "implicitDeny"),
    ("Numeric not a number", [_s("Allow", Action="*", Resource="*", Condition={"NumericEquals": {"k": "3"}})], "s3:ListBucket", "*", {"k": "three"}, "implicitDeny"),
    # dates
    ("DateLessThan", [_s("Allow", Action="*", Resource="*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})], "s3:GetObject", S3, {"aws:CurrentTime": "2026-12-01T10:00:00Z"}, "allowed"),
    ("DateLessThan past", [_s("Allow", Action="*", Resource="*", Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})], "s3:GetObject", S3, {"aws:CurrentTime": "2026-12-01T10:00:00Z"}, "implicitDeny"),
    ("DateGreaterThan epoch", [_s("Allow", Action="*", Resource="*", Condition={"DateGreaterThan": {"aws:EpochTime": "1500000000"}})], "s3:GetObject", S3, {"aws:EpochTime": "1796000000"}, "allowed"),
    ("DateEquals", [_s("Allow", Action="*", Resource="*", Condition={"DateEquals": {"d": "2026-12-01T00:00:00Z"}})], "s3:GetObject", S3, {"d": "2026-12-01T00:00:00+00:00"}, "allowed"),
    ("DateNotEquals", [_s("Allow", Action="*", Resource="*", Condition={"DateNotEquals": {"d": "2026-12-01T00:00:00Z"}})], "s3:GetObject", S3, {"d": "2026-12-01T00:00:00Z"}, "implicitDeny"),
    ("DateGreaterThanEquals", [_s("Allow", Action="*", Resource="*", Condition={"DateGreaterThanEquals": {"d": "2026-12-01"}})], "s3:GetObject", S3, {"d": "2026-12-01T00:00:00Z"}, "allowed"),
    # bool, binary
    ("Bool true", [_s("Allow", Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}})], "s3:GetObject", S3, {"aws:SecureTransport": True}, "allowed"),
    ("Bool false", [_s("Allow", Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}})], "s3:GetObject", S3, {"aws:SecureTransport": False}, "implicitDeny"),
    ("Bool JSON boolean", [_s("Allow", Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": False}})], "s3:GetObject", S3, {"aws:SecureTransport": "false"}, "allowed"),
    ("deny insecure transport", [_s("Allow", Action="*", Resource="*"), _s("Deny", Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}})], "s3:GetObject", S3, {"aws:SecureTransport": False}, "explicitDeny"),
    ("BinaryEquals", [_s("Allow", Action="*", Resource="*", Condition={"BinaryEquals": {"b": "QmluYXJ5"}})], "s3:GetObject", S3, {"b": "QmluYXJ5"}, "allowed"),
    # IP addresses
    ("IpAddress in range", [_s("Allow", Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], "s3:GetObject", S3, {"aws:SourceIp": "10.1.2.3"}, "allowed"),
    ("IpAddress out of range", [_s("Allow", Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}})], "s3:GetObject", S3, {"aws:SourceIp": "127.0.0.1"}, "implicitDeny"),
    ("IpAddress single host", [_s("Allow", Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1"}})], "s3:GetObject", S3, {"aws:SourceIp": "127.0.0.1"}, "allowed"),
    ("IpAddress v6", [_s("Allow", Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "2001:db8::/32"}})], "s3:GetObject", S3, {"aws:SourceIp": "2001:db8::1"}, "allowed"),
    ("NotIpAddress", [_s("Allow", Action="*", Resource="*"), _s("Deny", Action="*", Resource="*", Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})], "s3:GetObject", S3, {"aws:SourceIp": "8.8.8.8"}, "explicitDeny"),
    ("NotIpAddress inside", [_s("Allow", Action="*", Resource="*"), _s("Deny", Action="*", Resource="*", Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})], "s3:GetObject", S3, {"aws:SourceIp": "127.0.0.5"}, "allowed"),
    # ARN operators
    ("ArnEquals", [_s("Allow", Action="*", Resource="*", Condition={"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/alice"}})], "s3:GetObject", S3, {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/alice"}, "allowed"),
    ("ArnLike", [_s("Allow", Action="*", Resource="*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}})], "s3:GetObject", S3, {"aws:PrincipalArn": "arn:aws:iam::000000000000:role/app-1"}, "allowed"),
    ("ArnNotLike", [_s("Allow", Action="*", Resource="*", Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}})], "s3:GetObject", S3, {"aws:PrincipalArn": "arn:aws:iam::000000000000:role/app-1"}, "implicitDeny"),
    ("ArnNotEquals missing key holds", [_s("Allow", Action="*", Resource="*", Condition={"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::x"}})], "s3:GetObject", S3, {}, "allowed"),
    # IfExists and Null
    ("IfExists absent holds", [_s("Allow", Action="*", Resource="*", Condition={"StringEqualsIfExists": {"s3:prefix": "a/"}})], "s3:ListBucket", "*", {}, "allowed"),
    ("IfExists present must match", [_s("Allow", Action="*", Resource="*", Condition={"StringEqualsIfExists": {"s3:prefix": "a/"}})], "s3:ListBucket", "*", {"s3:prefix": "b/"}, "implicitDeny"),
    ("NumericLessThanIfExists present", [_s("Allow", Action="*", Resource="*", Condition={"NumericLessThanIfExists": {"s3:max-keys": "100"}})], "s3:ListBucket", "*", {"s3:max-keys": "50"}, "allowed"),
    ("Null true when absent", [_s("Allow", Action="*", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "true"}})], "s3:GetObject", S3, {}, "allowed"),
    ("Null true when present", [_s("Allow", Action="*", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "true"}})], "s3:GetObject", S3, {"aws:TokenIssueTime": "x"}, "implicitDeny"),
    ("Null false when present", [_s("Allow", Action="*", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "false"}})], "s3:GetObject", S3, {"aws:TokenIssueTime": "x"}, "allowed"),
    # set operators
    ("ForAnyValue hit", [_s("Allow", Action="*", Resource="*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["cost", "team"]}, "allowed"),
    ("ForAnyValue miss", [_s("Allow", Action="*", Resource="*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["cost"]}, "implicitDeny"),
    ("ForAnyValue absent fails", [_s("Allow", Action="*", Resource="*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}})], "s3:GetObject", S3, {}, "implicitDeny"),
    ("ForAllValues subset", [_s("Allow", Action="*", Resource="*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["team"]}, "allowed"),
    ("ForAllValues not subset", [_s("Allow", Action="*", Resource="*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["team", "cost"]}, "implicitDeny"),
    ("ForAllValues absent holds", [_s("Allow", Action="*", Resource="*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}})], "s3:GetObject", S3, {}, "allowed"),
    ("ForAllValues StringLike", [_s("Allow", Action="*", Resource="*", Condition={"ForAllValues:StringLike": {"aws:TagKeys": ["kiln-*"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["kiln-a", "kiln-b"]}, "allowed"),
    ("ForAnyValue negated", [_s("Allow", Action="*", Resource="*", Condition={"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["env", "x"]}, "allowed"),
    ("ForAllValues negated", [_s("Allow", Action="*", Resource="*", Condition={"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}})], "s3:GetObject", S3, {"aws:TagKeys": ["env", "x"]}, "implicitDeny"),
    # combinations
    ("two operators both hold", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "a"}, "IpAddress": {"aws:SourceIp": "127.0.0.1/32"}})], "s3:GetObject", S3, {"aws:username": "a", "aws:SourceIp": "127.0.0.1"}, "allowed"),
    ("two operators one fails", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "a"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], "s3:GetObject", S3, {"aws:username": "a", "aws:SourceIp": "127.0.0.1"}, "implicitDeny"),
    ("two keys one fails", [_s("Allow", Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "a", "s3:prefix": "p"}})], "s3:GetObject", S3, {"aws:username": "a", "s3:prefix": "q"}, "implicitDeny"),
    ("unknown operator never holds", [_s("Allow", Action="*", Resource="*", Condition={"StringSortOf": {"aws:username": "a"}})], "s3:GetObject", S3, {"aws:username": "a"}, "implicitDeny"),
    # policy variables
    ("variable in resource", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/home/${aws:username}/*")], "s3:GetObject", "arn:aws:s3:::bucket/home/alice/x", {"aws:username": "alice"}, "allowed"),
    ("variable in resource other user", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/home/${aws:username}/*")], "s3:GetObject", "arn:aws:s3:::bucket/home/bob/x", {"aws:username": "alice"}, "implicitDeny"),
    ("variable missing never matches", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/home/${aws:username}/*")], "s3:GetObject", "arn:aws:s3:::bucket/home//x", {}, "implicitDeny"),
    ("variable default", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/home/${aws:username, 'guest'}/*")], "s3:GetObject", "arn:aws:s3:::bucket/home/guest/x", {}, "allowed"),
    ("variable in condition", [_s("Allow", Action="*", Resource="*", Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})], "s3:ListBucket", "*", {"aws:username": "bo", "s3:prefix": "home/bo/x"}, "allowed"),
    ("escaped star variable", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/${*}")], "s3:GetObject", "arn:aws:s3:::bucket/*", {}, "allowed"),
    ("escaped star is literal", [_s("Allow", Action="*", Resource="arn:aws:s3:::bucket/${*}")], "s3:GetObject", "arn:aws:s3:::bucket/other", {}, "implicitDeny"),
    ("no variables in Numeric values", [_s("Allow", Action="*", Resource="*", Condition={"NumericEquals": {"k": "${aws:username}"}})], "s3:GetObject", S3, {"aws:username": "1", "k": "1"}, "implicitDeny"),
]


@pytest.mark.parametrize("case, statements, action, resource, context, expected", CASES, ids=[c[0] for c in CASES])
def test_policy_table(case: str, statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, Any], expected: str) -> None:
    decision = policy_evaluate([{"Version": "2012-10-17", "Statement": statements}], action=action, resource=resource, context=context)
    assert decision.decision == expected, case


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60


def test_single_statement_object_and_deciding_statement() -> None:
    document = {"Version": "2012-10-17", "Statement": {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    decision = policy_evaluate([NamedPolicy(document=document, name="inline")], action="s3:GetObject", resource=S3)
    assert decision.allowed and (decision.statement.policy, decision.statement.sid, decision.statement.index) == ("inline", "One", 0)


def test_deny_across_policies_wins() -> None:
    allow_all = NamedPolicy(document=allow(Action="*", Resource="*"), name="a")
    deny = NamedPolicy(document={"Version": "2012-10-17", "Statement": [{"Sid": "No", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}, name="b")
    decision = policy_evaluate([allow_all, deny], action="s3:GetObject", resource=S3)
    assert decision.decision == "explicitDeny" and decision.statement.policy == "b"


def test_trust_policy_principals() -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::000000000000:user/dev"], "Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    role = "arn:aws:iam::000000000000:role/r"
    assert policy_evaluate([trust], action="sts:AssumeRole", resource=role, principal={"AWS": ["arn:aws:iam::000000000000:user/dev"]}).allowed
    assert policy_evaluate([trust], action="sts:AssumeRole", resource=role, principal={"Service": ["lambda.amazonaws.com"]}).allowed
    assert not policy_evaluate([trust], action="sts:AssumeRole", resource=role, principal={"AWS": ["arn:aws:iam::000000000000:user/eve"]}).allowed
    star = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}
    assert policy_evaluate([star], action="sts:AssumeRole", resource=role, principal={"AWS": ["x"]}).allowed
    not_principal = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::000000000000:user/dev"}, "Action": "*"},
                                                            {"Effect": "Allow", "Principal": "*", "Action": "*"}]}
    assert policy_evaluate([not_principal], action="sts:AssumeRole", resource=role, principal={"AWS": ["arn:aws:iam::000000000000:user/dev"]}).allowed
    assert policy_evaluate([not_principal], action="sts:AssumeRole", resource=role, principal={"AWS": ["arn:aws:iam::000000000000:user/eve"]}).decision == "explicitDeny"
