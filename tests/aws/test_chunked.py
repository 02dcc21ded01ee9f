"""aws-chunked uploads as SDKs send them: signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), unsigned chunks
with a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), payload hashes and Content-MD5; every failure
leaves the previous object untouched. Chunk signatures here are computed independently of Kiln and botocore."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib

from tests.aws.conftest import REGION, error_code, signed_send, signing_key

EMPTY = hashlib.sha256(b"").hexdigest()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)] + [b""]


def _signed_body(data: bytes, seed: str, key: tuple[str, str], amz_date: str, *, size: int = 8192, corrupt: int | None = None,
                 trailer: str | None = None, corrupt_trailer: bool = False) -> bytes:
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    signing = signing_key(key[1], amz_date[:8])
    previous, out = seed, b""
    for index, chunk in enumerate(_chunks(data, size)):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY, hashlib.sha256(chunk).hexdigest()])
        signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
        previous = signature
        if corrupt == index:
            signature = "0" * 64
        out += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + (b"\r\n" if chunk or trailer is None else b"")
    if trailer is not None:
        line = f"x-amz-checksum-crc32:{trailer}"
        to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, hashlib.sha256((line + "\n").encode()).hexdigest()])
        signature = "f" * 64 if corrupt_trailer else hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
        out += f"{line}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return out


def _seed_headers(data: bytes, mode: str, encoded_length: int) -> dict[str, str]:
    return {"x-amz-content-sha256": mode, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
            "content-length": str(encoded_length)}


def _put_signed_chunks(endpoint: str, key: tuple[str, str], path: str, data: bytes, *, corrupt: int | None = None, trailer: str | None = None,
                       corrupt_trailer: bool = False) -> tuple[int, bytes]:
    # Sign the seed first (the body's length must be known for Content-Length, so sign twice: once to learn the date/seed).
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = endpoint.split("//", 1)[1]
    probe_len = len(_signed_body(data, "0" * 64, key, "20260101T000000Z", trailer=trailer))
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" if trailer is not None else "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    headers = _seed_headers(data, mode, probe_len)
    if trailer is not None:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    request = AWSRequest(method="PUT", url=f"http://{host}{path}", headers=dict(headers))
    SigV4Auth(Credentials(*key), "s3", REGION).add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    body = _signed_body(data, seed, key, request.headers["X-Amz-Date"], corrupt=corrupt, trailer=trailer, corrupt_trailer=corrupt_trailer)
    assert len(body) == probe_len
    import http.client

    hostname, port = host.split(":")
    connection = http.client.HTTPConnection(hostname, int(port), timeout=30)
    sent = dict(request.headers.items())
    connection.request("PUT", path, body=body, headers=sent)
    response = connection.getresponse()
    return response.status, response.read()


def test_signed_chunked_upload(root, endpoint, root_key) -> None:
    root("s3").create_bucket(Bucket="chunks")
    data = bytes(range(256)) * 100  # 25,600 bytes: three full chunks and a short one
    status, body = _put_signed_chunks(endpoint, root_key, "/chunks/signed.bin", data)
    assert status == 200, body
    assert root("s3").get_object(Bucket="chunks", Key="signed.bin")["Body"].read() == data


def test_bad_chunk_signature_stores_nothing(root, endpoint, root_key) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    s3.put_object(Bucket="chunks", Key="k.bin", Body=b"before")
    status, body = _put_signed_chunks(endpoint, root_key, "/chunks/k.bin", b"y" * 20000, corrupt=1)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket="chunks", Key="k.bin")["Body"].read() == b"before"


def _trailer_body(data: bytes, checksum: str, size: int = 8192, name: str = "x-amz-checksum-crc32") -> bytes:
    out = b""
    for chunk in _chunks(data, size)[:-1]:
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    return out + b"0\r\n" + f"{name}:{checksum}\r\n".encode() + b"\r\n"


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_unsigned_trailer_upload_with_crc32(root, endpoint, root_key) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    data = b"trailer payload " * 1000
    body = _trailer_body(data, _crc32(data))
    headers = _seed_headers(data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(body))
    headers.update({"x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"})
    status, response_headers, answer, _ = signed_send(endpoint, "PUT", "/chunks/trailer.txt", root_key, headers=headers, body=body, sign_body=b"")
    assert status == 200, answer
    assert response_headers.get("x-amz-checksum-crc32") == _crc32(data)
    assert s3.get_object(Bucket="chunks", Key="trailer.txt")["Body"].read() == data


def test_wrong_trailer_checksum_is_bad_digest(root, endpoint, root_key) -> None:
    root("s3").create_bucket(Bucket="chunks")
    data = b"z" * 10000
    body = _trailer_body(data, _crc32(b"something else"))
    headers = _seed_headers(data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(body))
    headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    status, _, answer, _ = signed_send(endpoint, "PUT", "/chunks/bad.txt", root_key, headers=headers, body=body, sign_body=b"")
    assert (status, error_code(answer)) == (400, "BadDigest")


def test_payload_hash_mismatch(root, endpoint, root_key) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    claimed = hashlib.sha256(b"what I signed").hexdigest()
    status, _, answer, _ = signed_send(endpoint, "PUT", "/chunks/h.txt", root_key, headers={"x-amz-content-sha256": claimed}, body=b"what I sent!!")
    assert (status, error_code(answer)) == (400, "XAmzContentSHA256Mismatch")
    assert s3.list_objects_v2(Bucket="chunks")["KeyCount"] == 0


def test_content_md5_checked(root) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    s3.put_object(Bucket="chunks", Key="m", Body=b"abc", ContentMD5=good)
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="chunks", Key="m", Body=b"abd", ContentMD5=good)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    assert s3.get_object(Bucket="chunks", Key="m")["Body"].read() == b"abc"


def test_boto3_default_checksums_and_file_objects(root, tmp_path) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    path = tmp_path / "big.bin"
    path.write_bytes(b"0123456789" * 300_000)  # 3 MB: boto3 sends it as a file object with its CRC32
    with open(path, "rb") as handle:
        s3.put_object(Bucket="chunks", Key="big.bin", Body=handle)
    s3.upload_file(str(path), "chunks", "uploaded.bin")
    for key in ("big.bin", "uploaded.bin"):
        assert s3.get_object(Bucket="chunks", Key=key)["Body"].read() == path.read_bytes()


def test_signed_chunks_with_signed_trailer(root, endpoint, root_key) -> None:
    s3 = root("s3")
    s3.create_bucket(Bucket="chunks")
    data = b"signed trailer " * 2000
    status, body = _put_signed_chunks(endpoint, root_key, "/chunks/st.txt", data, trailer=_crc32(data))
    assert status == 200, body
    assert s3.get_object(Bucket="chunks", Key="st.txt")["Body"].read() == data
    status, body = _put_signed_chunks(endpoint, root_key, "/chunks/st2.txt", data, trailer=_crc32(data), corrupt_trailer=True)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    status, body = _put_signed_chunks(endpoint, root_key, "/chunks/st3.txt", data, trailer=_crc32(b"other"))
    assert (status, error_code(body)) == (400, "BadDigest")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="chunks")["Contents"]] == ["st.txt"]


def test_crc32c_and_crc64nvme_checked(root, endpoint, root_key) -> None:
    """boto3 computes these with awscrt; Kiln checks them with the same library, in headers and trailers."""
    import pytest
    from awscrt import checksums
    from botocore.exceptions import ClientError

    s3 = root("s3")
    s3.create_bucket(Bucket="crcs")
    data = b"castagnoli and nvme " * 5000
    for algorithm in ("CRC32C", "CRC64NVME"):
        s3.put_object(Bucket="crcs", Key=algorithm, Body=data, ChecksumAlgorithm=algorithm)  # boto3: an aws-chunked body with a trailer
        assert s3.get_object(Bucket="crcs", Key=algorithm)["Body"].read() == data
    crc32c = base64.b64encode(checksums.crc32c(data).to_bytes(4, "big")).decode()
    s3.put_object(Bucket="crcs", Key="header", Body=data, ChecksumCRC32C=crc32c)  # in a header
    with pytest.raises(ClientError) as wrong:
        s3.put_object(Bucket="crcs", Key="wrong", Body=data, ChecksumCRC32C=base64.b64encode(checksums.crc32c(b"x").to_bytes(4, "big")).decode())
    assert wrong.value.response["Error"]["Code"] == "BadDigest"
    body = _trailer_body(data, base64.b64encode(checksums.crc64nvme(b"other").to_bytes(8, "big")).decode(), name="x-amz-checksum-crc64nvme")
    headers = _seed_headers(data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(body))
    headers["x-amz-trailer"] = "x-amz-checksum-crc64nvme"
    status, _, answer, _ = signed_send(endpoint, "PUT", "/crcs/bad-trailer", root_key, headers=headers, body=body, sign_body=b"")
    assert (status, error_code(answer)) == (400, "BadDigest")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="crcs")["Contents"]) == ["CRC32C", "CRC64NVME", "header"]
