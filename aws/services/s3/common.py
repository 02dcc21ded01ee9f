"""Shared pieces of the S3 adapter: ARNs, the owner, request info for events, bucket lookup."""

from __future__ import annotations

import hashlib

from django.conf import settings

from aws.context import AwsContext
from invoker.selectors import invocation_chain
from storage.domain import RequestInfo
from storage.models import Bucket
from storage.selectors import bucket_by_name


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def owner() -> dict[str, str]:
    """The account's canonical user (one account: one owner of every bucket)."""
    return {"ID": hashlib.sha256(f"kiln:{settings.KILN_ACCOUNT_ID}".encode()).hexdigest(), "DisplayName": "kiln"}


def request_info(ctx: AwsContext) -> RequestInfo:
    """Who wrote, for the S3 event records; a write signed by a function's environment carries its invocation
    (the parent of what the write triggers: the console's causal chain) and that invocation's loop chain."""
    chain_id, depth = invocation_chain(invocation_id=ctx.principal.invocation_id) if ctx.principal.invocation_id else ("", 0)
    return RequestInfo(principal_id=f"AWS:{ctx.principal.user_id}", source_ip=ctx.source_ip, request_id=ctx.request_id, chain_id=chain_id, chain_depth=depth,
                       invocation_id=ctx.principal.invocation_id or "")


def bucket_for(ctx: AwsContext, action: str, name: str, context: dict | None = None) -> Bucket:
    """Authorize ``action`` on the bucket, then look it up (denial comes first, as on S3)."""
    ctx.authorize(action, bucket_arn(name), context)
    return bucket_by_name(name)
