"""``KILN_STORAGE`` and its variables → ``STORAGES["default"]`` (console/storage_settings.py), without a store:
what each selects, and the clear errors of a configuration that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage

from console.storage_settings import default_storage_setting, media_root

VARIABLES = ("KILN_STORAGE", "KILN_MEDIA_ROOT", "KILN_STORAGE_BUCKET", "KILN_STORAGE_ENDPOINT_URL", "KILN_STORAGE_ACCESS_KEY_ID",
             "KILN_STORAGE_SECRET_ACCESS_KEY", "KILN_STORAGE_REGION", "KILN_STORAGE_PREFIX")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_filesystem_is_the_default_under_the_data_dir(tmp_path: Path) -> None:
    assert default_storage_setting() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_root(tmp_path) == (tmp_path / "media").resolve()


def test_kiln_media_root_selects_the_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KILN_STORAGE", "filesystem")
    monkeypatch.setenv("KILN_MEDIA_ROOT", str(tmp_path / "shared" / "kiln"))
    assert media_root(tmp_path / "data") == (tmp_path / "shared" / "kiln").resolve()
    assert default_storage_setting()["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_s3_without_a_bucket_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_STORAGE", "s3")
    monkeypatch.setenv("KILN_STORAGE_ENDPOINT_URL", "http://minio:9000")
    with pytest.raises(ImproperlyConfigured, match="KILN_STORAGE=s3 needs KILN_STORAGE_BUCKET"):
        default_storage_setting()


def test_an_unknown_kind_and_half_a_key_pair_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_STORAGE", "nfs")
    with pytest.raises(ImproperlyConfigured, match="KILN_STORAGE must be 'filesystem' or 's3', got 'nfs'"):
        default_storage_setting()
    monkeypatch.setenv("KILN_STORAGE", "s3")
    monkeypatch.setenv("KILN_STORAGE_BUCKET", "kiln-blobs")
    monkeypatch.setenv("KILN_STORAGE_ACCESS_KEY_ID", "AKIAEXAMPLE")
    with pytest.raises(ImproperlyConfigured, match="KILN_STORAGE_SECRET_ACCESS_KEY go together"):
        default_storage_setting()


def test_s3_options_build_a_path_style_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_STORAGE", "S3")
    monkeypatch.setenv("KILN_STORAGE_BUCKET", "kiln-blobs")
    monkeypatch.setenv("KILN_STORAGE_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("KILN_STORAGE_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("KILN_STORAGE_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("KILN_STORAGE_PREFIX", "/prod/kiln/")
    setting = default_storage_setting()
    assert setting["BACKEND"] == "storages.backends.s3.S3Storage"
    storage = S3Storage(**setting["OPTIONS"])  # no request is made until a blob is read or written
    assert (storage.bucket_name, storage.endpoint_url, storage.region_name, storage.location) == ("kiln-blobs", "http://minio:9000", "us-east-1", "prod/kiln")
    assert (storage.access_key, storage.secret_key, storage.default_acl, storage.file_overwrite) == ("AKIAEXAMPLE", "secret", None, True)
    assert storage.client_config.s3 == {"addressing_style": "path"} and storage.client_config.signature_version == "s3v4"
    assert storage._normalize_name("code/abc.zip") == "prod/kiln/code/abc.zip"
    monkeypatch.delenv("KILN_STORAGE_ACCESS_KEY_ID")
    monkeypatch.delenv("KILN_STORAGE_SECRET_ACCESS_KEY")
    monkeypatch.setenv("KILN_STORAGE_REGION", "eu-west-3")
    options = default_storage_setting()["OPTIONS"]
    assert (options["access_key"], options["secret_key"], options["region_name"]) == (None, None, "eu-west-3")  # boto3's own chain


def test_the_running_settings_are_the_filesystem_default() -> None:
    from django.conf import settings
    from django.core.files.storage import default_storage

    assert isinstance(default_storage, FileSystemStorage) and Path(default_storage.location) == Path(settings.MEDIA_ROOT)
