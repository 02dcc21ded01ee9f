"""DRF's tokens (``authtoken_token``, the raw key as primary key) become ``ApiToken`` rows holding the key's
SHA-256 only, so every token issued before keeps working; the old rows are then deleted, leaving no raw token in
the database. Not reversible in substance (the raw keys are gone): going back leaves the moved tokens revoked.
"""

import hashlib

from django.apps import apps as global_apps
from django.db import migrations

DISPLAY_CHARACTERS = 8


def tokens_hash(apps, schema_editor):
    try:
        Token = apps.get_model("authtoken", "Token")
    except LookupError:  # rest_framework.authtoken not installed (any more): nothing to move
        return
    ApiToken = apps.get_model("apitokens", "ApiToken")
    for old in Token.objects.all().iterator():
        digest = hashlib.sha256(old.key.encode()).hexdigest()
        moved, _ = ApiToken.objects.get_or_create(digest=digest, defaults={"user_id": old.user_id, "prefix": old.key[:DISPLAY_CHARACTERS]})
        ApiToken.objects.filter(pk=moved.pk).update(created_at=old.created)  # auto_now_add set it to now
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("apitokens", "0001_initial")]
    if global_apps.is_installed("rest_framework.authtoken"):
        dependencies.append(("authtoken", "0004_alter_tokenproxy_options"))

    operations = [migrations.RunPython(tokens_hash, migrations.RunPython.noop)]
