"""How items are kept in JSON columns: PostgreSQL's jsonb cannot hold U+0000, which a DynamoDB string or name may
contain, so strings are stored with U+0000 written as U+E000 U+E002 (and U+E000 itself as U+E000 U+E001), and read
back as they were. Text without either character is stored unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

_MARK = "\ue000"
_STORED = re.compile("\ue000([\ue001\ue002])")
_PLAIN = {"\ue001": _MARK, "\ue002": "\x00"}


def _hide(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(_MARK, _MARK + "\ue001").replace("\x00", _MARK + "\ue002")
    if isinstance(value, dict):
        return {_hide(k): _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return value


def _show(value: Any) -> Any:
    if isinstance(value, str):
        return _STORED.sub(lambda m: _PLAIN[m.group(1)], value) if _MARK in value else value
    if isinstance(value, dict):
        return {_show(k): _show(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_show(v) for v in value]
    return value


class ItemEncoder(json.JSONEncoder):
    """Writes U+0000 and U+E000 in strings and keys as their stored forms."""

    def encode(self, o: Any) -> str:
        text = super().encode(o)
        if "\\u0000" in text or "\\ue000" in text or _MARK in text:
            text = super().encode(_hide(o))
        return text


class ItemDecoder(json.JSONDecoder):
    """Reads what ``ItemEncoder`` wrote."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        value = super().decode(s, *args, **kwargs)
        if "\\ue000" in s or _MARK in s:
            value = _show(value)
        return value
