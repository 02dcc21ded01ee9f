"""Reads of invocation history, through access checks: the filtered list, one invocation, its lineage."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from core.errors import NotFound, ValidationFailed
from invoker.models import Invocation, InvocationStatus

LIST_FIELDS = ("id", "function_name", "qualifier", "invocation_type", "trigger", "trigger_detail", "status", "queued_at", "started_at",
               "finished_at", "duration_ms", "billed_duration_ms", "memory_size", "max_memory_used_mb", "init_duration_ms", "cold_start", "attempt", "retries", "error", "parent")
CAUSED_MAX = 100
_REQUEST_ID_PREFIX = re.compile(r"^[0-9a-fA-F-]{1,36}$")


def _time(value: str, field: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO-8601 time such as 2026-12-01T10:00:00Z, not {value!r}.", details={"field": field}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def request_id_range(prefix: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The smallest and largest request ids starting with ``prefix`` (hex digits, hyphens optional):
    a prefix is a range of the primary key, so it is found through its index on every backend."""
    if not _REQUEST_ID_PREFIX.match(prefix):
        raise ValidationFailed("request_id must be the start of a request id (hex digits and hyphens).", details={"field": "request_id"})
    digits = prefix.replace("-", "").lower()
    if len(digits) > 32:
        raise ValidationFailed("request_id is longer than a request id.", details={"field": "request_id"})
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def invocation_list(user: AbstractBaseUser | AnonymousUser, *, function: str | None = None, status: str | None = None, trigger: str | None = None, bucket: str | None = None,
                    since: str | None = None, until: str | None = None, request_id: str | None = None) -> QuerySet[Invocation]:
    """Invocations newest first, filtered by function name, status, trigger, bucket, queued time
    (``since`` inclusive, ``until`` exclusive, ISO-8601) and request id prefix."""
    if not user.is_authenticated:
        return Invocation.objects.none()
    queryset = Invocation.objects.only(*LIST_FIELDS)
    if function:
        queryset = queryset.filter(function_name=function)
    if status:
        if status not in InvocationStatus.values:
            raise ValidationFailed(f"status must be one of: {', '.join(InvocationStatus.values)}.", details={"field": "status"})
        queryset = queryset.filter(status=status)
    if trigger:
        queryset = queryset.filter(trigger=trigger)
    if bucket:
        queryset = queryset.filter(trigger_detail__bucket=bucket)
    if since:
        queryset = queryset.filter(queued_at__gte=_time(since, "since"))
    if until:
        queryset = queryset.filter(queued_at__lt=_time(until, "until"))
    if request_id:
        low, high = request_id_range(request_id)
        queryset = queryset.filter(id__gte=low, id__lte=high)
    return queryset.order_by("-queued_at", "-id")


def access_invocation(user: AbstractBaseUser | AnonymousUser, request_id: str) -> Invocation:
    """The invocation with this request id, else ``NotFound`` (also for a malformed id)."""
    try:
        key = uuid.UUID(request_id)
    except ValueError:
        raise NotFound(f"Invocation not found: {request_id}") from None
    invocation = Invocation.objects.filter(pk=key).first() if user.is_authenticated else None
    if invocation is None:
        raise NotFound(f"Invocation not found: {request_id}")
    return invocation


def _link(invocation: Invocation) -> dict[str, Any]:
    return {"request_id": str(invocation.id), "function": invocation.function_name, "status": invocation.status, "trigger": invocation.trigger, "queued_at": invocation.queued_at}


def invocation_lineage(invocation: Invocation) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """What caused ``invocation`` (its parent, ``{"request_id", ...}``; only the id when that row is
    gone) and what it caused (its children, oldest first, at most ``CAUSED_MAX``)."""
    parent = None
    if invocation.parent_id is not None:
        found = Invocation.objects.only("id", "function_name", "status", "trigger", "queued_at").filter(pk=invocation.parent_id).first()
        parent = _link(found) if found else {"request_id": str(invocation.parent_id), "function": None, "status": None, "trigger": None, "queued_at": None}
    children = Invocation.objects.only("id", "function_name", "status", "trigger", "queued_at").filter(parent_id=invocation.pk).order_by("queued_at", "id")[:CAUSED_MAX]
    return parent, [_link(c) for c in children]


def invocation_chain(*, invocation_id: str) -> tuple[str, int]:
    """The chain of invocations ``invocation_id`` belongs to and its depth in it (1: it started the chain).

    An invocation caused by another's write carries ``chain_id``/``chain_depth`` in its trigger detail
    (events/loops.py); any other starts a chain of its own."""
    detail = Invocation.objects.filter(pk=invocation_id).values_list("trigger_detail", flat=True).first() or {}
    return str(detail.get("chain_id") or invocation_id), int(detail.get("chain_depth") or 1)
