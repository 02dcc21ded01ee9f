"""Storage's errors, in the one envelope, with S3's error codes."""

from __future__ import annotations

from core.errors import Conflict, KilnError, NotFound, TooLarge, ValidationFailed


class InvalidBucketName(ValidationFailed):
    code = "InvalidBucketName"


class InvalidKey(ValidationFailed):
    code = "KeyTooLongError"


class InvalidArgument(ValidationFailed):
    code = "InvalidArgument"


class NoSuchBucket(NotFound):
    code = "NoSuchBucket"

    @classmethod
    def named(cls, name: str) -> NoSuchBucket:
        """S3's words for a bucket that is not there (the name in ``bucketName``)."""
        return cls(f"The specified bucket does not exist: {name}", details={"bucketName": name})


class NoSuchKey(NotFound):
    code = "NoSuchKey"


class BucketAlreadyExists(Conflict):
    code = "BucketAlreadyExists"


class BucketNotEmpty(Conflict):
    code = "BucketNotEmpty"


class EntityTooLarge(TooLarge):
    code = "EntityTooLarge"


class IncompleteBody(ValidationFailed):
    code = "IncompleteBody"


class InvalidRange(KilnError):
    status = 416
    code = "InvalidRange"


class NoSuchUpload(NotFound):
    code = "NoSuchUpload"


class InvalidPart(ValidationFailed):
    code = "InvalidPart"


class InvalidPartOrder(ValidationFailed):
    code = "InvalidPartOrder"


class EntityTooSmall(ValidationFailed):
    code = "EntityTooSmall"
