"""The console login's inline policy is now ``KilnConsolePersona``, kept equal to its personas (iam/personas.py).

``KilnConsoleAdministrator`` was made only for superusers, with the administrator's document, so it is the
persona policy under its old name: renamed, and brought in line with the login's groups at its next change.
"""

from django.db import migrations


def rename(apps, schema_editor):
    apps.get_model("iam", "UserPolicy").objects.filter(name="KilnConsoleAdministrator", user__console_user__isnull=False).update(name="KilnConsolePersona")


def unrename(apps, schema_editor):
    apps.get_model("iam", "UserPolicy").objects.filter(name="KilnConsolePersona", user__console_user__isnull=False).update(name="KilnConsoleAdministrator")


class Migration(migrations.Migration):
    dependencies = [("iam", "0005_accesskey_last_used")]
    operations = [migrations.RunPython(rename, unrename)]
