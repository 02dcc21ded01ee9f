from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Kiln console"

    def ready(self) -> None:
        from console import security

        security.connect()
