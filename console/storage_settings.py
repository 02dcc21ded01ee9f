"""Where Kiln keeps its blobs (code zips, layer zips, bucket object bodies): ``STORAGES["default"]``.

``KILN_STORAGE=filesystem`` (the default): a directory, ``KILN_MEDIA_ROOT`` (``KILN_DATA_DIR/media``);
with several hosts, a mount they all share (NFS, CephFS...).

``KILN_STORAGE=s3``: an S3-compatible object store (AWS S3, MinIO, Ceph RGW, another Kiln) through
django-storages' ``S3Storage``: ``KILN_STORAGE_BUCKET`` (required), ``KILN_STORAGE_ENDPOINT_URL``,
``KILN_STORAGE_ACCESS_KEY_ID`` / ``KILN_STORAGE_SECRET_ACCESS_KEY`` (else boto3's own chain: ``AWS_*``
variables, an instance role), ``KILN_STORAGE_REGION`` (us-east-1) and ``KILN_STORAGE_PREFIX`` (a folder
inside the bucket).

Options chosen for Kiln's writes and reads:

- path-style addressing and SigV4: what S3-compatible stores answer without wildcard DNS;
- no ACL and no object parameters: the bucket's own policy decides; blobs are never served from the store
  to clients (Kiln streams them itself), so no public URL, CloudFront or query-string signing matters;
- ``file_overwrite`` on: every name Kiln saves is unique (``buckets/<uuid>``) or content-addressed
  (``code/<sha256>.zip``, ``layers/<sha256>.zip``, saved only when absent: functions/code.py), so an
  overwrite can only write the same bytes again, and it spares the existence check (a HEAD) per save
  that ``file_overwrite=False`` makes to pick a free name;
- checksums only where the operation requires them (botocore's default sends CRC32 trailers that some
  stores refuse);
- reads: zips are opened through ``S3File`` (downloaded into a temporary file, kept in memory only up to
  ``max_memory_size``); object bodies are streamed, ranges included (storage/blobs.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from console.env import env_str

FILESYSTEM = "filesystem"
S3 = "s3"
# An S3File (a zip being read) spills to a temporary file past this; objects' bodies are streamed anyway.
S3_MAX_MEMORY_BYTES = 8 * 1024 * 1024


def media_root(data_dir: Path) -> Path:
    """The directory of blobs when they are on a filesystem: ``KILN_MEDIA_ROOT``, else ``<data dir>/media``."""
    return Path(env_str("KILN_MEDIA_ROOT", str(data_dir / "media"))).resolve()


def default_storage_setting() -> dict[str, Any]:
    """``STORAGES["default"]`` as the environment selects it; ``ImproperlyConfigured`` naming the variable when it cannot be used."""
    kind = env_str("KILN_STORAGE", FILESYSTEM).strip().lower()
    if kind == FILESYSTEM:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # at MEDIA_ROOT (media_root)
    if kind != S3:
        raise ImproperlyConfigured(f"KILN_STORAGE must be {FILESYSTEM!r} or {S3!r}, got {kind!r}")
    bucket = env_str("KILN_STORAGE_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured("KILN_STORAGE=s3 needs KILN_STORAGE_BUCKET: the bucket of the S3-compatible store that keeps Kiln's code zips, "
                                   "layers and object bodies (and KILN_STORAGE_ENDPOINT_URL unless it is AWS S3).")
    access_key = env_str("KILN_STORAGE_ACCESS_KEY_ID", "") or None
    secret_key = env_str("KILN_STORAGE_SECRET_ACCESS_KEY", "") or None
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured("KILN_STORAGE_ACCESS_KEY_ID and KILN_STORAGE_SECRET_ACCESS_KEY go together: set both, or neither (boto3's own credentials).")
    from botocore.config import Config  # only when selected: the filesystem default imports no boto

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_str("KILN_STORAGE_ENDPOINT_URL", "") or None,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": env_str("KILN_STORAGE_REGION", "us-east-1"),
            "location": env_str("KILN_STORAGE_PREFIX", "").strip("/"),
            # S3Storage ignores addressing_style and signature_version once a client_config is given: both are in it.
            "client_config": Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5},
                                    request_checksum_calculation="when_required", response_checksum_validation="when_required"),
            "default_acl": None,
            "object_parameters": {},
            "file_overwrite": True,
            "querystring_auth": False,
            "max_memory_size": S3_MAX_MEMORY_BYTES,
        },
    }
