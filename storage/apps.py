from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "Storage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from storage.models import Bucket
        from storage.selectors import BUCKETS

        BUCKETS.invalidate_on_change(Bucket, uid="buckets-cache")
