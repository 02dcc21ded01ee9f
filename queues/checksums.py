"""The MD5 digests SQS returns, computed exactly as AWS does so SDKs that verify them agree.

``MD5OfMessageBody`` is the MD5 of the body's UTF-8 bytes. ``MD5OfMessageAttributes`` (and of system
attributes) is the MD5 of, for each attribute sorted by name: the name, the data type, a transport byte
(1 for String/Number, 2 for Binary) and the value, each of name, type and value preceded by its length
as a 4-byte big-endian integer.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Mapping
from typing import Any


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """Attributes as stored: ``{"DataType": ..., "StringValue": str}`` or ``{"DataType": ..., "BinaryValue": base64 str}``."""
    if not attributes:
        return ""
    buffer = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        buffer += _field(name.encode("utf-8")) + _field(value["DataType"].encode("utf-8"))
        if "StringValue" in value:
            buffer += b"\x01" + _field(value["StringValue"].encode("utf-8"))
        else:
            buffer += b"\x02" + _field(base64.b64decode(value["BinaryValue"]))
    return hashlib.md5(bytes(buffer)).hexdigest()
