from django.apps import AppConfig


class TopicsConfig(AppConfig):
    name = "topics"
    verbose_name = "Topics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from functions.event_templates import template_register
        from topics import destinations
        from topics.envelope import sample_event

        destinations.register()  # SNS topics and SQS queues as destinations of asynchronous invocations
        template_register(template_id="sns-notification", name="SNS Notification", build=sample_event)
