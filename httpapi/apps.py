from django.apps import AppConfig


class HttpApiConfig(AppConfig):
    name = "httpapi"
    verbose_name = "HTTP APIs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from functions.event_templates import template_register
        from httpapi.samples import sample_event_v1, sample_event_v2

        template_register(template_id="apigateway-http-v1", name="API Gateway HTTP API, payload format 1.0", build=sample_event_v1)
        template_register(template_id="apigateway-http-v2", name="API Gateway HTTP API, payload format 2.0 (and function URLs)", build=sample_event_v2)

        from functions.models import Function, FunctionRevision
        from httpapi.models import FunctionUrl, HttpApi, Route, Stage
        from httpapi.selectors import SERVING

        for model in (HttpApi, Stage, Route, FunctionUrl, Function, FunctionRevision):
            SERVING.invalidate_on_change(model, uid=f"http-serving-{model.__name__}")
