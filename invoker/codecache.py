"""Unpacking function code and layers on a worker, once per content hash.

``code_dir(sha, name)`` gives ``<work>/code/<sha>``; ``opt_dir(layers)`` gives ``<work>/opt/<hash>``
with the layers unpacked in order (a later layer overwrites an earlier one's files, as on Lambda).
Unpacking goes to a temporary directory renamed into place, so a crash never leaves half a tree,
and member paths are checked again so no archive writes outside its directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage


def _extract(zip_name: str, target: Path) -> None:
    with default_storage.open(zip_name, "rb") as handle, zipfile.ZipFile(handle) as archive:
        root = target.resolve()
        for info in archive.infolist():
            destination = (target / info.filename).resolve()
            if not str(destination).startswith(str(root) + os.sep) and destination != root:
                raise ValueError(f"unsafe path in {zip_name}: {info.filename!r}")
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists() or destination.is_symlink():
                destination.unlink()
            with archive.open(info) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            executable = bool(mode & stat.S_IXUSR)
            destination.chmod(0o755 if executable else 0o644)


def _materialise(final: Path, zips: list[str]) -> Path:
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=final.parent))
    try:
        for zip_name in zips:
            _extract(zip_name, staging)
        staging.chmod(0o755)
        try:
            staging.rename(final)
        except OSError:  # another thread won the race; theirs is identical
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def code_dir(sha256: str, zip_name: str) -> Path:
    return _materialise(Path(settings.KILN_WORK_DIR) / "code" / sha256, [zip_name])


def opt_dir(layers: list[tuple[str, str]]) -> Path:
    """The merged ``/opt`` of layers given as ``(sha256, zip name)`` in order."""
    digest = hashlib.sha256("\n".join(sha for sha, _ in layers).encode()).hexdigest()[:32]
    return _materialise(Path(settings.KILN_WORK_DIR) / "opt" / digest, [name for _, name in layers])


def link_tree(source: Path, target: Path) -> None:
    """Fill ``target`` with hard links to ``source``'s files (copies across filesystems), keeping modes."""
    for root, dirs, files in os.walk(source):
        relative = Path(root).relative_to(source)
        destination = target / relative
        for name in dirs:
            (destination / name).mkdir(mode=0o755, exist_ok=True)
        for name in files:
            src, dst = Path(root) / name, destination / name
            try:
                os.link(src, dst)
            except FileExistsError:  # a later layer overwrites an earlier one's file, as when unpacking
                dst.unlink()
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
