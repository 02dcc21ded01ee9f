"""Request bodies of signed requests, streamed and checked as they are read.

``body_reader`` wraps the raw WSGI stream according to ``x-amz-content-sha256``:
- a hex SHA-256: the body is hashed while read; a mismatch at the end is ``XAmzContentSHA256Mismatch``;
- ``UNSIGNED-PAYLOAD``: read as is;
- ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (and ``...-TRAILER``): ``aws-chunked`` chunks, each chunk's
  signature chained from the seed signature and checked with botocore's signer;
- ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: ``aws-chunked`` chunks without signatures, with a checksum trailer.
Checksums the client sends (``Content-MD5``, ``x-amz-checksum-crc32|crc32c|crc64nvme|sha1|sha256`` in a header or trailer)
are checked at the end too. A failure raises while the body is being consumed, so a streaming write of it
(``storage.services.object_put``) throws its new blob away and nothing is committed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from awscrt import checksums as crt_checksums

from aws.errors import AwsError
from aws.sigv4 import Verification, chunk_signature

if TYPE_CHECKING:
    from django.http import HttpRequest

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
MAX_CHUNK_HEADER = 4096


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _CrtChecksum:
    """CRC32C and CRC64NVME through awscrt (the AWS Common Runtime botocore itself uses for them)."""

    def __init__(self, function: Callable[[bytes, int], int], size: int) -> None:
        self.function, self.size, self.value = function, size, 0

    def update(self, data: bytes) -> None:
        self.value = self.function(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.size, "big")


_CHECKSUMS: dict[str, tuple[str, Callable[[], Any]]] = {
    "x-amz-checksum-crc32": ("CRC32", _Crc32),
    "x-amz-checksum-crc32c": ("CRC32C", lambda: _CrtChecksum(crt_checksums.crc32c, 4)),
    "x-amz-checksum-crc64nvme": ("CRC64NVME", lambda: _CrtChecksum(crt_checksums.crc64nvme, 8)),
    "x-amz-checksum-sha1": ("SHA1", hashlib.sha1),
    "x-amz-checksum-sha256": ("SHA256", hashlib.sha256),
}


class _Checks:
    """Digests kept over the decoded body and compared with what the client claimed."""

    def __init__(self, *, sha256_hex: str | None, content_md5: str | None, checksums: dict[str, str]) -> None:
        self.sha256_hex = sha256_hex.lower() if sha256_hex else None
        self.sha256 = hashlib.sha256() if sha256_hex else None
        self.md5_expected: bytes | None = None
        if content_md5:
            try:
                self.md5_expected = base64.b64decode(content_md5, validate=True)
            except (binascii.Error, ValueError):
                raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.") from None
            if len(self.md5_expected) != 16:
                raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.")
        self.md5 = hashlib.md5(usedforsecurity=False) if content_md5 else None
        self.expected: dict[str, str] = {}
        self.digests: dict[str, Any] = {}
        for name in checksums:
            self.expect(name, checksums[name])

    def expect(self, name: str, value: str | None) -> None:
        """Track checksum header ``name``; ``value`` may come later (from a trailer)."""
        if name in _CHECKSUMS:
            if name not in self.digests:
                self.digests[name] = _CHECKSUMS[name][1]()
            if value is not None:
                self.expected[name] = value.strip()

    def update(self, data: bytes) -> None:
        if self.sha256 is not None:
            self.sha256.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        for digest in self.digests.values():
            digest.update(data)

    def finish(self) -> dict[str, str]:
        """Compare everything; the computed checksums (base64) by header name."""
        if self.sha256 is not None and self.sha256.hexdigest() != self.sha256_hex:
            raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                           fields={"ClientComputedContentSHA256": self.sha256_hex, "S3ComputedContentSHA256": self.sha256.hexdigest()})
        if self.md5 is not None and self.md5.digest() != self.md5_expected:
            raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.")
        computed: dict[str, str] = {}
        for name, digest in self.digests.items():
            value = base64.b64encode(digest.digest()).decode()
            computed[name] = value
            if name in self.expected and self.expected[name] != value:
                raise AwsError("BadDigest", f"The {_CHECKSUMS[name][0]} you specified did not match the calculated checksum.")
        return computed


class PlainBody:
    """``Content-Length`` bytes of the raw stream, checked at the end."""

    def __init__(self, raw: IO[bytes] | HttpRequest, *, length: int, checks: _Checks) -> None:
        self.raw, self.remaining, self.checks = raw, length, checks
        self.computed: dict[str, str] = {}
        self.length = length
        if length == 0:
            self.computed = checks.finish()

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        want = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self.raw.read(want)
        if not data:
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly")
        self.remaining -= len(data)
        self.checks.update(data)
        if self.remaining == 0:
            self.computed = self.checks.finish()
        return data


class ChunkedBody:
    """An ``aws-chunked`` body, decoded: ``length`` is ``x-amz-decoded-content-length``."""

    def __init__(self, raw: IO[bytes] | HttpRequest, *, length: int, checks: _Checks, verification: Verification | None, trailer: bool) -> None:
        self.raw, self.length, self.checks = raw, length, checks
        self.verification, self.trailer = verification, trailer
        self.previous = verification.signature if verification else ""
        self.delivered = 0
        self.chunk_left = 0
        self.chunk_signature = ""
        self.chunk_hash: Any = None
        self.finished = False
        self.computed: dict[str, str] = {}
        if length == 0:
            self._finish()

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            more = self.raw.read(size - len(data))
            if not more:
                break
            data += more
        return data

    def _line(self) -> bytes:
        line = self.raw.readline(MAX_CHUNK_HEADER)
        if not line.endswith(b"\r\n"):
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly")
        return line[:-2]

    def _header(self) -> int:
        line = self._line()
        size_text, _, extension = line.partition(b";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise AwsError("InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes") from None
        self.chunk_signature = ""
        if self.verification is not None:
            name, _, value = extension.partition(b"=")
            if name.strip() != b"chunk-signature" or not value:
                raise AwsError("SignatureDoesNotMatch", "A chunk of the aws-chunked body carries no chunk-signature.", status=403)
            self.chunk_signature = value.strip().decode("ascii", "replace")
        self.chunk_hash = hashlib.sha256() if self.verification is not None else None
        self.chunk_left = size
        if size == 0:
            self._verify_chunk()
        return size

    def _verify_chunk(self) -> None:
        if self.verification is None:
            return
        expected = chunk_signature(self.verification, previous=self.previous, chunk_sha256=self.chunk_hash.hexdigest())
        if not _same(expected, self.chunk_signature):
            raise AwsError("SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided.", status=403)
        self.previous = expected

    def _finish(self) -> None:
        """Read the final zero-length chunk and any trailer; check everything."""
        if self.finished:
            return
        if self._header() != 0:
            raise AwsError("IncompleteBody", "The aws-chunked body holds more than x-amz-decoded-content-length bytes.")
        trailer_lines: list[bytes] = []
        trailer_signature = ""
        while True:
            line = self._line() if (self.trailer or self.raw_has_more()) else b""
            if not line:
                break
            name, _, value = line.partition(b":")
            lname = name.strip().lower().decode("ascii", "replace")
            if lname == "x-amz-trailer-signature":
                trailer_signature = value.strip().decode("ascii", "replace")
                continue
            trailer_lines.append(line)
            self.checks.expect(lname, value.strip().decode("ascii", "replace"))
        if self.verification is not None and self.trailer:
            digest = hashlib.sha256(b"".join(line.strip() + b"\n" for line in trailer_lines)).hexdigest()
            expected = chunk_signature(self.verification, previous=self.previous, chunk_sha256=digest, kind="AWS4-HMAC-SHA256-TRAILER")
            if not _same(expected, trailer_signature):
                raise AwsError("SignatureDoesNotMatch", "The trailer signature we calculated does not match the signature you provided.", status=403)
        self.finished = True
        self.computed = self.checks.finish()

    def raw_has_more(self) -> bool:
        stream = getattr(self.raw, "_stream", self.raw)
        limit, position = getattr(stream, "limit", None), getattr(stream, "_pos", None)
        return limit is None or position is None or position < limit

    def read(self, size: int = -1) -> bytes:
        if self.delivered >= self.length:
            self._finish()
            return b""
        if self.chunk_left == 0:
            if self._header() == 0:
                raise AwsError("IncompleteBody", "The aws-chunked body holds fewer than x-amz-decoded-content-length bytes.")
        want = self.chunk_left if size is None or size < 0 else min(size, self.chunk_left)
        data = self.raw.read(want)
        if not data:
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly")
        self.chunk_left -= len(data)
        self.delivered += len(data)
        if self.delivered > self.length:
            raise AwsError("IncompleteBody", "The aws-chunked body holds more than x-amz-decoded-content-length bytes.")
        if self.chunk_hash is not None:
            self.chunk_hash.update(data)
        self.checks.update(data)
        if self.chunk_left == 0:
            if self._exact(2) != b"\r\n":
                raise AwsError("IncompleteBody", "An aws-chunked chunk does not end with CRLF.")
            self._verify_chunk()
        if self.delivered == self.length:
            self._finish()
        return data


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def body_reader(raw: IO[bytes] | HttpRequest, headers: Any, *, verification: Verification | None, content_length: int) -> PlainBody | ChunkedBody:
    """The right reader for this request's ``x-amz-content-sha256`` (``headers``: Django's ``request.headers``)."""
    mode = headers.get("x-amz-content-sha256") or UNSIGNED
    checksums = {name: headers[name] for name in _CHECKSUMS if headers.get(name)}
    content_md5 = headers.get("content-md5")
    if mode in STREAMING:
        decoded = headers.get("x-amz-decoded-content-length")
        try:
            length = int(decoded)
        except (TypeError, ValueError):
            raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP header.", status=411) from None
        checks = _Checks(sha256_hex=None, content_md5=content_md5, checksums=checksums)
        for name in (headers.get("x-amz-trailer") or "").split(","):
            if name.strip():
                checks.expect(name.strip().lower(), None)
        signed = mode != STREAMING_UNSIGNED_TRAILER
        return ChunkedBody(raw, length=length, checks=checks, verification=verification if signed else None, trailer=mode != STREAMING_SIGNED)
    sha = None if mode == UNSIGNED else mode
    if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha)):
        raise AwsError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.")
    return PlainBody(raw, length=content_length, checks=_Checks(sha256_hex=sha, content_md5=content_md5, checksums=checksums))
