"""The Kiln console: Django's admin site, branded, mounted at ``/console/`` as the default site.

``KilnAdminConfig`` replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` so that every app's
``@admin.register`` (and ``admin.site``) lands on ``KilnAdminSite``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class KilnAdminSite(admin.AdminSite):
    site_header = "Kiln"
    site_title = "Kiln console"
    index_title = "Functions, layers, roles and invocations"
    enable_nav_sidebar = True


class KilnAdminConfig(AdminConfig):
    default_site = "console.admin_site.KilnAdminSite"
