"""Static files as every way of starting Kiln serves them: collected, hashed and compressed for WhiteNoise.

WhiteNoise serves ``STATIC_ROOT`` from the web process (far-future caching for hashed names, gzip and
brotli variants). A plain ``gunicorn console.wsgi`` or a container whose data volume hides files collected at
build time would otherwise answer 404 for every asset, so the WSGI module calls :func:`ensure_collected`
before it serves: it collects when the source files changed since the last collection (a fingerprint of
their names, sizes and modification times), once per change, under a file lock shared by all web workers.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import Any

import brotli
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

BROTLI_QUALITY = 6  # brotli's default, 11, took ~40 s on a fresh data dir; 6 is ~20x faster and ~5 % larger
SKIP_COMPRESS = ("map",)  # source maps: a developer tool's download, not worth compressing at every first start


class _Compressor(Compressor):
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        return brotli.compress(data, quality=BROTLI_QUALITY)


class StaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed and compressed storage, compressing at a level a first start can wait for: the web
    process collects before it answers (:func:`ensure_collected`), so `make run` on a fresh data dir waits on it."""

    def create_compressor(self, **kwargs: Any) -> Compressor:
        skipped = kwargs.pop("extensions", None) or Compressor.SKIP_COMPRESS_EXTENSIONS  # WHITENOISE_SKIP_COMPRESS_EXTENSIONS, if set
        return _Compressor(extensions=[*skipped, *SKIP_COMPRESS], **kwargs)


MARKER = ".kiln-collected"
MANIFEST = "staticfiles.json"


def static_fingerprint() -> str:
    """A digest of every source static file's path, size and mtime, as Django's finders see them."""
    digest = hashlib.sha256()
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = Path(storage.path(path)).stat()
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def ensure_collected() -> bool:
    """Collect static files into ``STATIC_ROOT`` unless they are current; True when it collected."""
    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    fingerprint = static_fingerprint()
    marker = root / MARKER

    def current() -> bool:
        return (root / MANIFEST).exists() and marker.exists() and marker.read_text() == fingerprint

    if current():
        return False
    with open(root / ".kiln-collect.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if current():  # another web worker collected while this one waited
            return False
        call_command("collectstatic", interactive=False, verbosity=0)
        marker.write_text(fingerprint)
    return True
