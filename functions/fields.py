"""Model fields of the functions app: a JSON value encrypted at rest (functions' environment variables)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import models

from iam.crypto import SecretUnreadable, is_sealed, seal, unseal

log = logging.getLogger(__name__)


class SealedJSONField(models.TextField):
    """A JSON value stored encrypted (AES-256-GCM under ``KILN_KMS_KEY`` or ``SECRET_KEY``, iam/crypto.py), as Lambda
    keeps environment variables encrypted at rest. A value stored before encryption (plain JSON) still reads; one that
    no longer decrypts (the key material changed) reads as ``{}`` and is logged, as the key must be set back to read it."""

    # For django-stubs: what the field takes and gives is JSON (a dict), not the text stored.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def __init__(self, *args: Any, context: str = "", **kwargs: Any) -> None:
        self.context = context
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["context"] = self.context
        return name, path, args, kwargs

    def _load(self, value: str) -> Any:
        if not is_sealed(value):
            return json.loads(value) if value else {}
        try:
            return json.loads(unseal(stored=value, context=self.context))
        except SecretUnreadable:
            log.error("a %s value does not decrypt under the current KILN_KMS_KEY/SECRET_KEY; it reads as empty", self.context)
            return {}

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else self._load(value)

    def to_python(self, value: Any) -> Any:
        return self._load(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return seal(plaintext=json.dumps(value, sort_keys=True, separators=(",", ":")), context=self.context)

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))
