"""The console's "My access keys" page: the signed-in login's own access keys for Kiln's AWS endpoint.

Thin: each POST calls one ``iam.users`` service and redirects. A new key's secret is shown exactly once: the
POST keeps only the new key's id in the session, and the next page view takes it out and shows the secret
(read from the key's encrypted copy, with ``Cache-Control: no-store``); a reload shows only the id.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.arns import user_arn
from core.errors import KilnError
from iam.credentials import ACCESS_KEYS_PER_USER
from iam.models import AccessKeyStatus
from iam.selectors import console_access_keys, console_iam_user, console_new_key_secret
from iam.users import console_access_key_create, console_access_key_delete, console_access_key_set_status

NEW_KEY_SESSION = "kiln_new_access_key"


def _post(request: HttpRequest) -> None:
    action, key_id = request.POST.get("action", ""), request.POST.get("access_key_id", "")
    try:
        if action == "create":
            issued = console_access_key_create(user=request.user)  # type: ignore[arg-type]
            request.session[NEW_KEY_SESSION] = issued.key.access_key_id
        elif action in ("activate", "deactivate"):
            status = AccessKeyStatus.ACTIVE if action == "activate" else AccessKeyStatus.INACTIVE
            console_access_key_set_status(user=request.user, access_key_id=key_id, status=status)  # type: ignore[arg-type]
            messages.success(request, f"Access key {key_id} is now {status.lower()}.")
        elif action == "delete":
            console_access_key_delete(user=request.user, access_key_id=key_id)  # type: ignore[arg-type]
            messages.success(request, f"Access key {key_id} deleted. Requests signed with it are refused.")
        else:
            messages.error(request, "Unknown action.")
    except KilnError as error:
        messages.error(request, error.message)


def security_credentials_view(site: AdminSite, request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _post(request)
        return HttpResponseRedirect(reverse("admin:security_credentials", current_app=site.name))
    new_id = request.session.pop(NEW_KEY_SESSION, None)
    new_key: dict[str, Any] | None = None
    if new_id:
        secret = console_new_key_secret(request.user, new_id)  # type: ignore[arg-type]
        if secret is not None:
            new_key = {"access_key_id": new_id, "secret": secret}
    iam_user = console_iam_user(request.user)  # type: ignore[arg-type]
    keys = console_access_keys(request.user)  # type: ignore[arg-type]
    context: dict[str, Any] = {
        **site.each_context(request), "title": "My access keys", "iam_user": iam_user, "keys": keys, "new_key": new_key,
        "iam_user_arn": user_arn(iam_user.name, iam_user.path) if iam_user else "", "region": settings.KILN_REGION, "limit": ACCESS_KEYS_PER_USER, "at_limit": len(keys) >= ACCESS_KEYS_PER_USER, "endpoint": request.build_absolute_uri("/").rstrip("/"),
        "policies": [p.name for p in iam_user.inline_policies.all()] + [p.name for p in iam_user.attached_policies.all()] if iam_user else [],
    }
    response = TemplateResponse(request, "console/security_credentials.html", context)
    response["Cache-Control"] = "no-store"
    return response
