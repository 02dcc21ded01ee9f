from typing import Any

from django.apps import AppConfig


class IamConfig(AppConfig):
    name = "iam"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from iam.credentials import CREDENTIALS
        from iam.models import AccessKey, IamUser, ManagedPolicy, Role, RolePolicy, UserPolicy
        from iam.selectors import POLICIES

        def changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
            if sender is AccessKey and instance.environment_id and created:
                # A cold start writes its environment's key: a new key is in no process's cache, so it must not
                # empty every process's cache. Its deletion (the environment stopped) bumps like any other key's.
                return
            CREDENTIALS.bump()

        for model in (AccessKey, IamUser, Role, settings.AUTH_USER_MODEL):
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"iam-credentials-{model}")
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"iam-credentials-del-{model}")

        # A principal's policies (read by every signed request's authorization): any change to a role, an IAM user,
        # a policy or an attachment empties every process's cache of them.
        policy_models: tuple[type, ...] = (Role, RolePolicy, IamUser, UserPolicy, ManagedPolicy)
        for policy_model in policy_models:
            POLICIES.invalidate_on_change(policy_model, uid=f"iam-policies-{policy_model.__name__}")

        def attachments_changed(**_: object) -> None:
            POLICIES.bump_now()
            POLICIES.bump()

        for through in (Role.attached_policies.through, IamUser.attached_policies.through):
            m2m_changed.connect(attachments_changed, sender=through, weak=False, dispatch_uid=f"iam-policies-m2m-{through.__name__}")
        self._connect_personas()

    def _connect_personas(self) -> None:
        """Persona groups after every migrate or flush; a login's IAM policy after its groups or flags change."""
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_migrate, post_save

        from iam.personas import persona_policy_sync, personas_sync_groups

        user_model = get_user_model()

        def migrated(sender: Any, **kwargs: Any) -> None:
            # post_migrate is sent once per app with models; the permissions of every app exist by the last one's.
            last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
            if sender is last and kwargs.get("using", "default") == "default":
                personas_sync_groups()

        def user_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
            if not raw and set(kwargs.get("update_fields") or ()) != {"last_login"}:  # not at every sign-in
                persona_policy_sync(instance)

        def groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any) -> None:
            if not reverse:  # user.groups.add(...): the instance is the login
                if action in ("post_add", "post_remove", "post_clear"):
                    persona_policy_sync(instance)
                return
            if action == "pre_clear":  # group.user_set.clear(): remember whom it held
                instance._kiln_cleared = list(instance.user_set.values_list("pk", flat=True))
                return
            if action in ("post_add", "post_remove", "post_clear"):
                pks = pk_set if action != "post_clear" else getattr(instance, "_kiln_cleared", [])
                for login in user_model.objects.filter(pk__in=pks or []):
                    persona_policy_sync(login)

        post_migrate.connect(migrated, weak=False, dispatch_uid="iam-personas-groups")
        post_save.connect(user_saved, sender=user_model, weak=False, dispatch_uid="iam-personas-user")
        m2m_changed.connect(groups_changed, sender=user_model.groups.through, weak=False, dispatch_uid="iam-personas-groups-changed")
