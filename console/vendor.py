"""The console's vendored front-end libraries, by name, as ``scripts/assets.sh`` (``make assets``) wrote them.

``console/static/console/vendor/vendor.json`` maps a name (``codemirror``, ``chartjs``) to its versioned
static path; templates use ``{% load kiln_static %}{% vendor_static "chartjs" %}``, form and admin
``Media`` use ``vendor_path("chartjs")`` (Django's ``static()`` then gives the hashed URL).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent / "static" / "console" / "vendor" / "vendor.json"


@functools.cache
def _manifest() -> dict[str, str]:
    return json.loads(MANIFEST.read_text())


def vendor_path(name: str) -> str:
    """The static path (relative to ``STATIC_URL``) of the vendored library ``name``."""
    try:
        return _manifest()[name]
    except KeyError:
        raise KeyError(f"No vendored library {name!r} in {MANIFEST}; run `make assets`.") from None
