from typing import Any

from django.apps import AppConfig


class QueuesConfig(AppConfig):
    name = "queues"
    verbose_name = "Queues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from queues.models import Queue
        from queues.selectors import QUEUES

        def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            # At once (nothing cached from a transaction that rolls back) and after commit (nothing another
            # process loads before the commit stays cached), as tables.apps does.
            QUEUES.bump_now()
            QUEUES.bump()

        post_save.connect(changed, sender=Queue, weak=False, dispatch_uid="queues-cache")
        post_delete.connect(changed, sender=Queue, weak=False, dispatch_uid="queues-cache-del")
