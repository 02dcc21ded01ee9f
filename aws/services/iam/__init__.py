"""IAM adapter: the query-protocol operations over ``iam``'s services, split by entity (roles, users, policies).

Every operation asks IAM itself first (``iam:<Action>`` on the entity's ARN); the root may do everything.
Policy documents travel URL-encoded, as IAM sends them.
"""

from __future__ import annotations

from django.http import HttpResponse

from aws.context import AwsContext
from aws.dispatch import query_dispatch
from aws.services.iam import policies, roles, users  # noqa: F401  (registers the operations)

DOMAIN_CODES = {
    "ResourceConflictException": ("EntityAlreadyExists", 409),
    "*NotFound": ("NoSuchEntity", 404),
    "*Conflict": ("EntityAlreadyExists", 409),
    "MalformedPolicyDocument": ("MalformedPolicyDocument", 400),
    "*Invalid": ("ValidationError", 400),
}


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    return query_dispatch(ctx, body=body or b"")
