"""Message signatures: an RSA key Kiln holds and its self-signed certificate, served at the envelope's SigningCertURL.

The key and certificate are made once (``KILN_DATA_DIR/sns/``) by whichever process needs them first and then
shared by every process. SignatureVersion 1 signs with SHA1withRSA, 2 with SHA256withRSA, over the string SNS
signs: the envelope's fields ``Message, MessageId, Subject (when set), Timestamp, TopicArn, Type`` for
notifications, and ``Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type`` for confirmations,
each as ``name\\nvalue\\n``.
"""

from __future__ import annotations

import base64
import datetime
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID
from django.conf import settings

CERT_PATH = "/sns/SimpleNotificationService-kiln.pem"
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_lock = threading.Lock()


def _directory() -> Path:
    path = Path(settings.DATA_DIR) / "sns"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _make(directory: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.kiln.localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    staged = directory / f"signing.{os.getpid()}.{threading.get_ident()}.tmp"
    staged.write_bytes(pem + cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(staged, 0o600)
    try:
        os.link(staged, directory / "signing.pem")  # the first process to finish wins; the others read its pair
    except FileExistsError:
        pass
    finally:
        staged.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _material() -> tuple[RSAPrivateKey, bytes]:
    with _lock:
        directory = _directory()
        path = directory / "signing.pem"
        if not path.exists():
            _make(directory)
        data = path.read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    assert isinstance(key, RSAPrivateKey)
    cert = data[data.index(b"-----BEGIN CERTIFICATE-----"):]
    return key, cert


def certificate_pem() -> bytes:
    return _material()[1]


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    fields = CONFIRMATION_FIELDS if envelope.get("Type") in ("SubscriptionConfirmation", "UnsubscribeConfirmation") else NOTIFICATION_FIELDS
    return "".join(f"{name}\n{envelope[name]}\n" for name in fields if envelope.get(name) is not None).encode("utf-8")


def sign(envelope: dict[str, Any], version: str = "1") -> str:
    """The base64 signature of the envelope (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2)."""
    key, _ = _material()
    digest = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 - SNS's SignatureVersion 1 is SHA1withRSA
    return base64.b64encode(key.sign(string_to_sign(envelope), padding.PKCS1v15(), digest)).decode()
