"""The REST API's tokens, cached per process by digest (read on every API request; invalidated in ``console/apps.py``)."""

from __future__ import annotations

from typing import Any

from core.generations import GenerationCache

TOKENS: GenerationCache[Any] = GenerationCache("api-tokens", ttl_s=30.0)
