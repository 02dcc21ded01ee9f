from django.apps import AppConfig


class QueuesConfig(AppConfig):
    name = "queues"
    verbose_name = "Queues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from queues.models import Queue
        from queues.selectors import QUEUES

        QUEUES.invalidate_on_change(Queue, uid="queues-cache")
