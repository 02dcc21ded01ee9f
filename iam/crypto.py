"""Encryption at rest of access-key secrets (and of other values: ``seal``/``unseal``, e.g. functions' environment
variables): AES-256-GCM under a key derived from ``KILN_KMS_KEY`` or ``SECRET_KEY``.

A stored secret is ``v1:<base64(nonce || ciphertext+tag)>``; the access key id is the associated data, so
a ciphertext copied onto another key's row does not decrypt. Changing the key material makes every stored
secret unreadable (the keys must then be re-issued), which is the point of keeping it outside the database.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v1"
_INFO = b"kiln iam access-key secrets v1"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt under the current key material."""


@functools.lru_cache(maxsize=4)
def _cipher(material: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kiln-iam", info=_INFO).derive(material.encode())
    return AESGCM(key)


def _current() -> AESGCM:
    return _cipher(getattr(settings, "KILN_KMS_KEY", "") or settings.SECRET_KEY)


def secret_encrypt(*, secret: str, access_key_id: str) -> str:
    nonce = os.urandom(12)
    sealed = _current().encrypt(nonce, secret.encode(), access_key_id.encode())
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def secret_decrypt(*, stored: str, access_key_id: str) -> str:
    version, _, payload = stored.partition(":")
    if version != _VERSION:
        raise SecretUnreadable("unknown secret format")
    raw = base64.b64decode(payload)
    try:
        return _current().decrypt(raw[:12], raw[12:], access_key_id.encode()).decode()
    except InvalidTag:
        raise SecretUnreadable("the secret does not decrypt under the current key") from None


def seal(*, plaintext: str, context: str) -> str:
    """``plaintext`` encrypted in the same format as a secret, bound to ``context`` (what the value is: a ciphertext
    of one kind does not decrypt as another)."""
    nonce = os.urandom(12)
    sealed = _current().encrypt(nonce, plaintext.encode(), context.encode())
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(*, stored: str, context: str) -> str:
    return secret_decrypt(stored=stored, access_key_id=context)


def is_sealed(stored: str) -> bool:
    return stored.startswith(f"{_VERSION}:")
