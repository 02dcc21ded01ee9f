from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Kiln console"

    def ready(self) -> None:
        from console import security

        security.connect()
        _invalidate_tokens_on_change()


def _invalidate_tokens_on_change() -> None:
    """A token's cached user (console/tokens.py) is read afresh after any change to tokens, users, groups or permissions."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db.models.signals import m2m_changed

    from apitokens.models import ApiToken
    from console.tokens import TOKENS

    for model in (ApiToken, settings.AUTH_USER_MODEL, Group):
        TOKENS.invalidate_on_change(model, uid=f"tokens-cache-{model}")

    def changed(**_: object) -> None:
        TOKENS.bump_now()
        TOKENS.bump()

    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(changed, sender=through, weak=False, dispatch_uid=f"tokens-cache-m2m-{through.__name__}")
