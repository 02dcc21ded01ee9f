"""Reads of functions and layers, through access checks (one account for now: any signed-in user)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from core.errors import NotFound
from functions.models import Function, Layer, SavedTestEvent


def access_function_by_name(user: AbstractBaseUser | AnonymousUser, name: str) -> Function:
    """The function named ``name`` if ``user`` may use it, else ``NotFound`` (never a hint it exists)."""
    if not user.is_authenticated:
        raise NotFound(f"Function not found: {name}")
    try:
        return Function.objects.select_related("latest", "latest__role").get(name=name)
    except Function.DoesNotExist:
        raise NotFound(f"Function not found: {name}") from None


def function_list(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Function]:
    # Invocation lives in a layer above; the history annotation names it without importing it.
    from django.apps import apps

    Invocation = apps.get_model("invoker", "Invocation")  # noqa: N806
    if not user.is_authenticated:
        return Function.objects.none()
    last = Invocation.objects.filter(function=OuterRef("pk")).order_by("-queued_at")
    return (
        Function.objects.select_related("latest", "latest__role")
        .prefetch_related("latest__layer_links__layer_version__layer")
        .annotate(last_status=Subquery(last.values("status")[:1]), last_invoked_at=Subquery(last.values("queued_at")[:1]))
        .order_by("name")
    )


def layer_list(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Layer]:
    if not user.is_authenticated:
        return Layer.objects.none()
    return Layer.objects.prefetch_related("versions").order_by("name")


def test_event_list(user: AbstractBaseUser | AnonymousUser, function: Function) -> QuerySet[SavedTestEvent]:
    """The function's test events ``user`` may see: the shared ones and their own private ones."""
    if not user.is_authenticated:
        return SavedTestEvent.objects.none()
    return SavedTestEvent.objects.filter(Q(shared=True) | Q(owner_id=user.pk), function=function).select_related("owner").order_by("name")


def access_test_event(user: AbstractBaseUser | AnonymousUser, function: Function, name: str) -> SavedTestEvent:
    """A test event ``user`` may see, else ``NotFound`` (a private one of someone else's included)."""
    found = test_event_list(user, function).filter(name=name).first()
    if found is None:
        raise NotFound(f"Test event not found: {name}")
    return found
