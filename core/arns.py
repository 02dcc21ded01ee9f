"""Amazon Resource Names for Kiln's resources, in AWS's formats, for the configured region and account."""

from __future__ import annotations

from django.conf import settings


def function_arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def layer_arn(name: str) -> str:
    return f"arn:aws:lambda:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:layer:{name}"


def layer_version_arn(name: str, version: int) -> str:
    return f"{layer_arn(name)}:{version}"


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{settings.KILN_ACCOUNT_ID}:role{path or '/'}{name}"


def user_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{settings.KILN_ACCOUNT_ID}:user{path or '/'}{name}"


def policy_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{settings.KILN_ACCOUNT_ID}:policy{path or '/'}{name}"


def root_arn() -> str:
    return f"arn:aws:iam::{settings.KILN_ACCOUNT_ID}:root"


def assumed_role_arn(role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{settings.KILN_ACCOUNT_ID}:assumed-role/{role_name}/{session_name}"
