from django.apps import AppConfig


class FunctionsConfig(AppConfig):
    name = "functions"
    verbose_name = "Functions"

    def ready(self) -> None:
        from functions.models import Function, FunctionRevision
        from functions.selectors import FUNCTIONS
        from iam.models import Role

        # A new revision, a setting or a role changed: every process reads the function afresh (core/generations.py).
        for model in (Function, FunctionRevision, Role):
            FUNCTIONS.invalidate_on_change(model, uid=f"functions-cache-{model.__name__}")
