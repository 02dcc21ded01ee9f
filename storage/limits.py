"""Storage limits, each with a clear error at its edge (tests cover both sides)."""

BUCKET_NAME_MIN = 3
BUCKET_NAME_MAX = 63
KEY_MAX_BYTES = 1024
OBJECT_MAX_BYTES = 5 * 1024**3  # 5 GB per single upload, as S3's PUT
METADATA_MAX_BYTES = 2 * 1024  # user metadata, keys plus values, as S3
LIST_MAX_KEYS = 1000  # entries per page of a listing
STREAM_CHUNK_BYTES = 1024 * 1024
MULTIPART_MIN_PART_BYTES = 5 * 1024**2  # every part but the last, as S3
MULTIPART_MAX_PART_BYTES = 5 * 1024**3
MULTIPART_MAX_PARTS = 10_000
MULTIPART_MAX_OBJECT_BYTES = 5 * 1024**4  # 5 TiB, as S3
