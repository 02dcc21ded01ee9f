"""Reads of invocation history, through access checks."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from core.errors import NotFound, ValidationFailed
from invoker.models import Invocation, InvocationStatus

LIST_FIELDS = ("id", "function_name", "qualifier", "invocation_type", "trigger", "trigger_detail", "status", "queued_at", "started_at",
               "finished_at", "duration_ms", "billed_duration_ms", "memory_size", "max_memory_used_mb", "init_duration_ms", "cold_start", "attempt", "retries", "error")


def invocation_list(user: AbstractBaseUser | AnonymousUser, *, function: str | None = None, status: str | None = None, trigger: str | None = None, bucket: str | None = None) -> QuerySet[Invocation]:
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


def invocation_chain(*, invocation_id: str) -> tuple[str, int]:
    """The chain of invocations ``invocation_id`` belongs to and its depth in it (1: it started the chain).

    An invocation caused by another's write carries ``chain_id``/``chain_depth`` in its trigger detail
    (events/loops.py); any other starts a chain of its own."""
    detail = Invocation.objects.filter(pk=invocation_id).values_list("trigger_detail", flat=True).first() or {}
    return str(detail.get("chain_id") or invocation_id), int(detail.get("chain_depth") or 1)
