"""Functions' environment variables are encrypted at rest (functions/fields.py): the column holds ciphertext, the
API and the runtime see the values, a value stored before encryption still reads, a changed key reads as empty."""

from __future__ import annotations

import pytest
from django.db import connection

from functions.fields import SealedJSONField
from functions.models import FunctionRevision
from iam.crypto import is_sealed

pytestmark = pytest.mark.django_db


def _raw(revision_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT environment FROM {FunctionRevision._meta.db_table} WHERE id = %s", [revision_id])
        return cursor.fetchone()[0]


def test_the_column_holds_ciphertext_and_the_api_the_values(api) -> None:
    body = {"name": "sealed", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": "def handler(e, c):\n    return 1\n"}},
            "environment": {"DB_PASSWORD": "hunter2-very-secret", "MODE": "prod"}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    revision = FunctionRevision.objects.get(function__name="sealed")
    stored = _raw(revision.pk)
    assert is_sealed(stored) and "hunter2" not in stored and "DB_PASSWORD" not in stored
    assert revision.environment == {"DB_PASSWORD": "hunter2-very-secret", "MODE": "prod"}
    assert api.get("/api/v1/functions/sealed/").json()["environment"] == {"DB_PASSWORD": "hunter2-very-secret", "MODE": "prod"}
    # Two writes of the same variables are two different ciphertexts (a fresh nonce each time).
    FunctionRevision.objects.filter(pk=revision.pk).update(environment={"DB_PASSWORD": "hunter2-very-secret", "MODE": "prod"})
    assert _raw(revision.pk) != stored


def test_a_value_stored_before_encryption_still_reads() -> None:
    field = SealedJSONField(context="function-environment")
    assert field.from_db_value('{"LEGACY": "plain"}', None, connection) == {"LEGACY": "plain"}
    assert field.from_db_value("", None, connection) == {}


def test_a_ciphertext_under_other_key_material_reads_as_empty(settings) -> None:
    field = SealedJSONField(context="function-environment")
    sealed = field.get_prep_value({"A": "1"})
    assert field.from_db_value(sealed, None, connection) == {"A": "1"}
    settings.KILN_KMS_KEY = "another key entirely"
    assert field.from_db_value(sealed, None, connection) == {}
    # Bound to what it is: a sealed environment does not open as another kind of value.
    settings.KILN_KMS_KEY = ""
    assert SealedJSONField(context="something-else").from_db_value(sealed, None, connection) == {}
