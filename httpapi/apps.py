from django.apps import AppConfig


class HttpApiConfig(AppConfig):
    name = "httpapi"
    verbose_name = "HTTP APIs"
    default_auto_field = "django.db.models.BigAutoField"
