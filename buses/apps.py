from django.apps import AppConfig


class BusesConfig(AppConfig):
    name = "buses"
    verbose_name = "Event buses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from buses import destinations

        destinations.register()
