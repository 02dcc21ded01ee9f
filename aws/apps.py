from django.apps import AppConfig


class AwsConfig(AppConfig):
    name = "aws"
    verbose_name = "AWS-compatible endpoint"
    default_auto_field = "django.db.models.BigAutoField"
