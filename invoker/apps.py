from django.apps import AppConfig


class InvokerConfig(AppConfig):
    name = "invoker"
    verbose_name = "Invocations"
