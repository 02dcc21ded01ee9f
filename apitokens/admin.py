"""The console's list of REST API tokens: each login's, by prefix and last use; an administrator may revoke one
(delete it) but neither make nor see a token here (a token is issued by ``POST /api/v1/auth/token/``, shown once).

DRF's own token admin (``rest_framework.authtoken``, still installed for ``migrations/0002``'s sake) is
unregistered: a token made there would be stored in plain text and authenticate nothing.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest

from apitokens.models import ApiToken

if apps.is_installed("rest_framework.authtoken"):
    from rest_framework.authtoken.models import TokenProxy

    if admin.site.is_registered(TokenProxy):
        admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    fields = ("prefix", "user", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
