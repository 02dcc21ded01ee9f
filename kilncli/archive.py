"""A directory as a deterministic zip (same files, same bytes) and the snapshot that tells when it changed.

What is packaged: every regular file under the directory (symlinks to files are followed) except
version-control and cache litter: ``.git``, ``__pycache__``, ``*.pyc`` and ``node_modules/.cache``.
Entries are sorted, dated 1980-01-01 and carry the files' Unix modes, so an unchanged tree zips to the
same CodeSha256 and an executable (a ``bootstrap``) stays executable.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset({".git", "__pycache__"})
SKIPPED_SUFFIXES = (".pyc",)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# One entry per packaged file: (size, mtime in ns, mode); a tree's snapshot maps relative paths to it.
Snapshot = dict[str, tuple[int, int, int]]


@dataclass(frozen=True)
class Package:
    """A built zip: its bytes, Lambda's CodeSha256 of them (base64 SHA-256) and how many files it holds."""

    data: bytes
    files: int

    @property
    def sha256(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


def _skipped_dir(parent: str, name: str) -> bool:
    return name in SKIPPED_DIRS or (name == ".cache" and os.path.basename(parent) == "node_modules")


def packaged_files(root: Path) -> list[tuple[str, Path]]:
    """``(archive name, path)`` of each file that goes into the zip, sorted by archive name."""
    found: list[tuple[str, Path]] = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(parent, d))
        for name in files:
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(parent, name)
            if not path.is_file():  # a broken symlink, a socket, a fifo
                continue
            found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


def snapshot(root: Path) -> Snapshot:
    """Size, modification time and mode of each packaged file: two snapshots differ when a save changed the tree."""
    out: Snapshot = {}
    for name, path in packaged_files(root):
        try:
            st = path.stat()
        except FileNotFoundError:  # removed between the walk and the stat: the next poll sees it gone
            continue
        out[name] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def build_zip(root: Path) -> Package:
    """The zip of ``root``'s packaged files, byte for byte the same for the same names, contents and modes."""
    buffer = io.BytesIO()
    files = packaged_files(root)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in files:
            mode = stat.S_IMODE(path.stat().st_mode) | stat.S_IFREG
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix: the high 16 bits of external_attr are the file's mode
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return Package(data=buffer.getvalue(), files=len(files))
