"""Create the first admin user: from KILN_ADMIN_USER / KILN_ADMIN_PASSWORD, else generated and printed once."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the Kiln admin user if no superuser exists yet."

    def handle(self, *args: object, **options: object) -> None:
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("KILN_ADMIN_USER") or "admin"
        password = os.environ.get("KILN_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if os.environ.get("KILN_ADMIN_PASSWORD"):
            self.stdout.write(f"kiln: created admin user {username!r} from KILN_ADMIN_USER/KILN_ADMIN_PASSWORD")
        else:
            self.stdout.write(f"kiln: created admin user {username!r} with password {password!r} (shown once; change it in the console)")
