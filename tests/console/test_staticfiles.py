"""Static files collected as the web process collects them on a fresh data dir: quickly, hashed, compressed.

`make run` on a fresh data dir answers nothing until its first web worker has collected (console/wsgi.py), so
collecting at brotli's top level took ~45 s (now ~2 s at level 6: console/staticfiles.py); source maps are
copied, not compressed. What it costs is measured by timing `make run` to its first /healthz, not here.
"""

from __future__ import annotations

from pathlib import Path

import brotli
from django.core.management import call_command


def test_collected_brotli_and_gzip_variants_are_the_files_and_maps_stay_uncompressed(settings, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    vendored = sorted((tmp_path / "static" / "console" / "vendor").glob("codemirror-*.min.js"))
    assert vendored, "no CodeMirror bundle collected"
    for bundle in vendored:
        compressed = bundle.with_name(bundle.name + ".br")
        assert brotli.decompress(compressed.read_bytes()) == bundle.read_bytes()
        assert bundle.with_name(bundle.name + ".gz").is_file()
    maps = list((tmp_path / "static").rglob("*.map"))
    assert maps and not list((tmp_path / "static").rglob("*.map.br")) and not list((tmp_path / "static").rglob("*.map.gz"))
