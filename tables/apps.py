from django.apps import AppConfig


class TablesConfig(AppConfig):
    name = "tables"
    verbose_name = "Tables"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tables.models import Table
        from tables.selectors import TABLES

        TABLES.invalidate_on_change(Table, uid="tables-cache")
