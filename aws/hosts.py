"""Kiln's S3 host names: ``s3.localhost`` (path style) and ``<bucket>.s3.localhost`` (virtual-hosted style)."""

from __future__ import annotations

import re

from django.http import HttpRequest

_S3_HOST = re.compile(r"^(?:(?P<bucket>[a-z0-9][a-z0-9.-]*)\.)?s3(?:\.[a-z0-9-]+)?\.localhost$")


def virtual_bucket(request: HttpRequest) -> tuple[bool, str | None]:
    """Whether the host is Kiln's S3 host, and the bucket it names (virtual-hosted style), if any."""
    host = (request.META.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower()
    match = _S3_HOST.match(host)
    if not match:
        return False, None
    return True, match.group("bucket")
