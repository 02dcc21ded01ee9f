from typing import Any

from django.apps import AppConfig


class IamConfig(AppConfig):
    name = "iam"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from iam.credentials import CREDENTIALS
        from iam.models import AccessKey, IamUser, Role

        def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            if sender is AccessKey and instance.environment_id:
                return  # environment keys are never cached
            CREDENTIALS.bump()

        for model in (AccessKey, IamUser, Role, settings.AUTH_USER_MODEL):
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"iam-credentials-{model}")
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"iam-credentials-del-{model}")
