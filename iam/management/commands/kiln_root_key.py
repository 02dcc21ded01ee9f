"""Create the root access key on first run: from KILN_ROOT_ACCESS_KEY_ID / KILN_ROOT_SECRET_ACCESS_KEY, else generated
and printed once. With the variables set and a root key of another id present, the given key is added beside it."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from iam.credentials import access_key_create
from iam.models import AccessKey


class Command(BaseCommand):
    help = "Create Kiln's root access key if none exists yet (or the one named by KILN_ROOT_ACCESS_KEY_ID)."

    def handle(self, *args: object, **options: object) -> None:
        key_id = os.environ.get("KILN_ROOT_ACCESS_KEY_ID") or None
        secret = os.environ.get("KILN_ROOT_SECRET_ACCESS_KEY") or None
        if (key_id is None) != (secret is None):
            self.stderr.write("kiln: set both KILN_ROOT_ACCESS_KEY_ID and KILN_ROOT_SECRET_ACCESS_KEY, or neither")
            raise SystemExit(2)
        if key_id is not None:
            if AccessKey.objects.filter(access_key_id=key_id).exists():
                return
            access_key_create(root=True, access_key_id=key_id, secret=secret)
            self.stdout.write(f"kiln: created root access key {key_id} from KILN_ROOT_ACCESS_KEY_ID/KILN_ROOT_SECRET_ACCESS_KEY")
            return
        if AccessKey.objects.filter(is_root=True).exists():
            return
        issued = access_key_create(root=True)
        self.stdout.write(f"kiln: created root access key {issued.key.access_key_id} with secret {issued.secret} (shown once; keep it safe)")
