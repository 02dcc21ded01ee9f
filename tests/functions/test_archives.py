"""Hostile and extreme archives: zip slip, absolute and odd paths, symlinks, a header lying about a bomb's size,
10,000 tiny files, and the 250 MB limit of a function with its layers at its edge. Each refused one gets a clear
error and leaves nothing written; each accepted one runs."""

from __future__ import annotations

import base64
import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from core.errors import ValidationFailed
from functions import limits
from functions.code import zip_check
from functions.models import Function, LayerVersion
from functions.services import Code, FunctionConfig, function_create, layer_version_publish

HANDLER = "def handler(event, context):\n    return 'ok'\n"


def _zip(members: dict[str, bytes], *, infos: list[zipfile.ZipInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for info in infos or []:
            archive.writestr(info, b"/etc/passwd")
    return buffer.getvalue()


def _stored_zips() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*.zip")} if root.exists() else set()


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/cron.d/evil", "a\\..\\evil.py", ".."])
def test_a_path_leaving_the_package_is_refused_and_nothing_is_stored(api, name: str) -> None:
    before = _stored_zips()
    body = {"name": "slipped", "runtime": "python3.11", "handler": "index.handler",
            "code": {"zip_base64": base64.b64encode(_zip({"index.py": HANDLER.encode(), name: b"owned"})).decode()}}
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "InvalidZipFileException" and "unsafe path" in error["message"]
    assert not Function.objects.filter(name="slipped").exists() and _stored_zips() == before


def test_a_header_lying_about_its_size_is_refused_at_upload() -> None:
    """A zip bomb whose headers claim 10 bytes for 8 MiB of data: the sizes pass, unzipping it does not."""
    data = bytearray(_zip({"bomb.bin": b"\0" * (8 << 20)}))
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 10)  # the local header's uncompressed size
    struct.pack_into("<I", data, central + 24, 10)  # the central directory's
    with pytest.raises(ValidationFailed) as refused:
        zip_check(bytes(data))
    assert refused.value.code == "InvalidZipFileException" and "bomb.bin" in refused.value.message


def test_a_truncated_or_encrypted_member_is_refused() -> None:
    whole = _zip({"index.py": HANDLER.encode() * 500})
    with pytest.raises(ValidationFailed) as truncated:
        zip_check(whole[:40] + whole[-200:])
    assert truncated.value.code == "InvalidZipFileException"
    encrypted = bytearray(_zip({"index.py": HANDLER.encode()}))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        struct.pack_into("<H", encrypted, at + flags_at, struct.unpack_from("<H", encrypted, at + flags_at)[0] | 0x1)
    with pytest.raises(ValidationFailed, match="could not be unzipped") as locked:
        zip_check(bytes(encrypted))
    assert locked.value.code == "InvalidZipFileException"


def test_a_symlink_member_unpacks_as_a_plain_file_inside_the_package(db: None, tmp_path: Path, settings) -> None:
    """Nothing is followed: a member marked as a symlink to /etc/passwd or out of the package is written as an
    ordinary file holding its target's text, so neither reading nor a later member's write can leave the package."""
    from invoker.codecache import code_dir

    settings.KILN_WORK_DIR = str(tmp_path / "work")
    links = []
    for name in ("passwd-link", "escape"):
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        links.append(info)
    archive = _zip({"index.py": HANDLER.encode()}, infos=links)
    function = function_create(name="linked", config=FunctionConfig(runtime="python3.11", handler="index.handler"), code=Code(zip_bytes=archive))
    revision = function.latest
    assert revision is not None
    unpacked = code_dir(revision.code_sha256, revision.code_zip.name)
    for name in ("passwd-link", "escape"):
        path = unpacked / name
        assert path.is_file() and not path.is_symlink() and path.read_bytes() == b"/etc/passwd"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["escape", "index.py", "passwd-link"]


def test_ten_thousand_tiny_files_are_accepted_and_all_there_when_it_runs(api, worker, transactional_db) -> None:
    members = {"index.py": b"import os\n\ndef handler(event, context):\n    return len(os.listdir('files'))\n"}
    members.update({f"files/f{i:05d}.txt": str(i).encode() for i in range(10_000)})
    body = {"name": "many-files", "runtime": "python3.11", "handler": "index.handler", "code": {"zip_base64": base64.b64encode(_zip(members)).decode()}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    answer = api.post("/api/v1/functions/many-files/invoke/", data="{}", content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == 10_000


def _deflated(size: int, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w", force_zip64=True) as handle:
        chunk, remaining = b"\0" * (1 << 20), size
        while remaining:
            handle.write(chunk[: min(remaining, len(chunk))])
            remaining -= min(remaining, len(chunk))
    return buffer.getvalue()


def test_function_and_layers_together_at_the_250_mb_edge(db: None) -> None:
    layer = layer_version_publish(name="padding", zip_bytes=_deflated(50 << 20, "python/padding.bin"))
    assert isinstance(layer, LayerVersion) and layer.unzipped_size == 50 << 20
    code_size = limits.UNZIPPED_MAX_BYTES - layer.unzipped_size
    fits = function_create(name="at-the-edge", config=FunctionConfig(runtime="python3.11", handler="index.handler", layers=[layer.arn]),
                           code=Code(zip_bytes=_deflated(code_size, "index.bin")))
    assert fits.latest is not None and fits.latest.code_unzipped_size + layer.unzipped_size == limits.UNZIPPED_MAX_BYTES
    with pytest.raises(ValidationFailed) as over:
        function_create(name="past-the-edge", config=FunctionConfig(runtime="python3.11", handler="index.handler", layers=[layer.arn]),
                        code=Code(zip_bytes=_deflated(code_size + 1, "index.bin")))
    assert "together they must be at most" in over.value.message and over.value.details["unzipped_size"] == limits.UNZIPPED_MAX_BYTES + 1
    assert not Function.objects.filter(name="past-the-edge").exists()
    assert os.path.exists(settings.MEDIA_ROOT)
