"""Code packages: building a zip from inline files, checking zips against Lambda's limits, storing them.

Zips are stored through Django's storage API under ``code/<sha256>.zip`` or ``layers/<sha256>.zip``
(content-addressed, so the same code is stored once). Inline files are packed deterministically
(fixed timestamps and order), so the same files always give the same sha256.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.errors import TooLarge, ValidationFailed
from functions import limits

INLINE_FILE_NAME_MAX = 255


@dataclass(frozen=True)
class CheckedZip:
    data: bytes
    sha256: str
    size: int
    unzipped_size: int
    names: frozenset[str]


def _safe_member(name: str) -> bool:
    if not name or "\x00" in name or name.startswith("/") or "\\" in name:
        return False
    return ".." not in posixpath.normpath(name).split("/")


def _unzip_test(archive: zipfile.ZipFile, what: str) -> None:
    """Unzip every member once (to nowhere), as Lambda does at upload: a damaged member, one whose data does not
    match the size or checksum its header claims (a header lying about a bomb's size), an encrypted or unknown
    compression is refused now with a clear error, not when a worker unpacks it. Reading stops at each member's
    declared size, so the sizes summed above bound the work."""
    try:
        damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as error:
        raise ValidationFailed(f"The {what} could not be unzipped ({error}); build it again with a standard zip tool.", code="InvalidZipFileException") from None
    if damaged is not None:
        raise ValidationFailed(f"The {what} is damaged: {damaged!r} does not match its size or checksum.", code="InvalidZipFileException")


def zip_check(data: bytes, *, what: str = "zip") -> CheckedZip:
    """Validate a zip against the upload and unzipped limits and against unsafe member names."""
    if len(data) > limits.ZIP_MAX_BYTES:
        raise TooLarge(
            f"The {what} is {len(data)} bytes; a zip upload may be at most {limits.ZIP_MAX_BYTES} bytes (50 MB).",
            code="RequestEntityTooLargeException",
            details={"size": len(data), "limit": limits.ZIP_MAX_BYTES},
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed(f"The {what} is not a valid zip file.", code="InvalidZipFileException") from None
    unzipped = 0
    names = set()
    for info in infos:
        if not _safe_member(info.filename):
            raise ValidationFailed(f"The {what} holds an unsafe path {info.filename!r}; paths must be relative and stay inside the package.", code="InvalidZipFileException")
        unzipped += info.file_size
        names.add(info.filename.rstrip("/"))
    if unzipped > limits.UNZIPPED_MAX_BYTES:
        raise ValidationFailed(
            f"Unzipped size must be smaller than {limits.UNZIPPED_MAX_BYTES} bytes; the {what} unzips to {unzipped} bytes.",
            details={"unzipped_size": unzipped, "limit": limits.UNZIPPED_MAX_BYTES},
        )
    _unzip_test(archive, what)
    return CheckedZip(data, hashlib.sha256(data).hexdigest(), len(data), unzipped, frozenset(names))


def zip_from_files(files: dict[str, str]) -> bytes:
    """Pack inline files (name → text) into a deterministic zip."""
    if not isinstance(files, dict) or not files:
        raise ValidationFailed('code.files must be an object of at least one "name": "text" pair.', details={"field": "code"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            content = files[name]
            if not isinstance(name, str) or not _safe_member(name) or len(name) > INLINE_FILE_NAME_MAX or name.endswith("/"):
                raise ValidationFailed(f"Inline file name {name!r} must be a relative path inside the package.", details={"field": "code"})
            if not isinstance(content, str):
                raise ValidationFailed(f"Inline file {name!r} must be text.", details={"field": "code"})
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            executable = name == "bootstrap" or name.endswith((".sh", "/bootstrap"))
            info.external_attr = ((stat.S_IFREG | (0o755 if executable else 0o644)) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()


def zip_store(checked: CheckedZip, *, folder: str) -> str:
    """Store the zip under ``folder/<sha256>.zip`` unless already there; return its storage name."""
    name = f"{folder}/{checked.sha256}.zip"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(checked.data))
        if saved != name:  # a concurrent writer stored the same content first
            default_storage.delete(saved)
    return name


@dataclass(frozen=True)
class ZipEntry:
    """One file of a stored code package, as the console lists it."""

    name: str
    size: int  # unzipped bytes
    executable: bool


@dataclass(frozen=True)
class ZipText:
    """A file of a code package for reading: its text, or why there is none (binary, too large)."""

    name: str
    size: int
    text: str | None
    binary: bool = False
    too_large: bool = False


@contextmanager
def _open_stored(zip_name: str) -> Iterator[zipfile.ZipFile]:
    """The stored zip, read in place (members are read on demand, not the whole package)."""
    with default_storage.open(zip_name, "rb") as stored, zipfile.ZipFile(stored) as archive:
        yield archive


def zip_entries(zip_name: str, *, limit: int = 5000) -> list[ZipEntry]:
    """The files (not folders) of the stored zip ``zip_name``, sorted by name, at most ``limit``."""
    with _open_stored(zip_name) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and _safe_member(i.filename)]
    infos.sort(key=lambda i: i.filename)
    return [ZipEntry(i.filename, i.file_size, bool((i.external_attr >> 16) & 0o111)) for i in infos[:limit]]


def zip_read_text(zip_name: str, name: str, *, max_bytes: int) -> ZipText | None:
    """The member ``name`` of the stored zip as UTF-8 text; ``None`` if there is no such file.

    A file larger than ``max_bytes`` is not read (``too_large``); one with a NUL byte or that is not
    UTF-8 is ``binary``.
    """
    with _open_stored(zip_name) as archive:
        try:
            info = archive.getinfo(name)
        except KeyError:
            return None
        if info.is_dir():
            return None
        if info.file_size > max_bytes:
            return ZipText(name, info.file_size, None, too_large=True)
        data = archive.read(info)
    if b"\x00" in data[:8192]:
        return ZipText(name, info.file_size, None, binary=True)
    try:
        return ZipText(name, info.file_size, data.decode("utf-8"))
    except UnicodeDecodeError:
        return ZipText(name, info.file_size, None, binary=True)


CODE_URL_SALT = "kiln.functions.code"
CODE_URL_SECONDS = 600  # as Lambda's presigned ``Code.Location``: valid for 10 minutes


def code_url_token(revision_uuid: str) -> str:
    """A signed, expiring token naming a revision's code zip (the Lambda API's ``Code.Location``)."""
    return signing.dumps({"r": revision_uuid}, salt=CODE_URL_SALT)


def code_token_revision(token: str) -> str | None:
    """The revision a ``Code.Location`` token names, or ``None`` when it is forged or older than 10 minutes."""
    try:
        return str(signing.loads(token, salt=CODE_URL_SALT, max_age=CODE_URL_SECONDS)["r"])
    except (signing.BadSignature, KeyError, TypeError):
        return None
