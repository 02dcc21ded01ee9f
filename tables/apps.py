from typing import Any

from django.apps import AppConfig


class TablesConfig(AppConfig):
    name = "tables"
    verbose_name = "Tables"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tables.models import Table
        from tables.selectors import TABLES

        def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            # At once (a transaction rolled back leaves nothing cached from it) and again after commit (nothing
            # another process loads before the commit stays cached).
            TABLES.bump_now()
            TABLES.bump()

        post_save.connect(changed, sender=Table, weak=False, dispatch_uid="tables-cache")
        post_delete.connect(changed, sender=Table, weak=False, dispatch_uid="tables-cache-del")
