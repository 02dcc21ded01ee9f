"""Reads of functions and layers, through access checks (one account for now: any signed-in user)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from core.errors import NotFound
from core.generations import GenerationCache
from functions.code import ZipEntry, ZipText, zip_entries, zip_read_text
from functions.models import Function, FunctionRevision, Layer, SavedTestEvent

# The function an invoke names, with its $LATEST revision and role: read on every synchronous call, so cached per
# process and invalidated by any write to a function, a revision or a role (functions/apps.py), the queryset
# updates in functions/services.py included. Callers only read what it returns.
FUNCTIONS: GenerationCache[Function | None] = GenerationCache("functions", ttl_s=30.0)


def function_for_invoke(user: AbstractBaseUser | AnonymousUser, name: str) -> Function:
    """``access_function_by_name`` from the per-process cache, for the invoke paths (read only: never saved)."""
    if not user.is_authenticated:
        raise NotFound(f"Function not found: {name}")
    found = FUNCTIONS.get(name, lambda: Function.objects.select_related("latest", "latest__role").filter(name=name).first(),
                          cacheable=lambda function: function is not None)
    if found is None:
        raise NotFound(f"Function not found: {name}")
    return found


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


CODE_VIEW_MAX_BYTES = 1024 * 1024  # the console shows files of a zip up to 1 MB


def revision_code_entries(revision: FunctionRevision) -> list[ZipEntry]:
    """The files of a revision's code package (for a zip upload, what the console lists)."""
    return zip_entries(revision.code_zip.name)


def revision_code_text(revision: FunctionRevision, path: str, *, max_bytes: int = CODE_VIEW_MAX_BYTES) -> ZipText:
    """One file of a revision's code package as text; ``NotFound`` if the package has no such file."""
    found = zip_read_text(revision.code_zip.name, path, max_bytes=max_bytes) if path else None
    if found is None:
        raise NotFound(f"The code package has no file {path!r}.")
    return found


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
