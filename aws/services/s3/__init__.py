"""S3 adapter: REST-XML dispatch (path-style and virtual-hosted addressing) over ``storage``'s services.

Each operation is decided by IAM before it runs (``s3:GetObject`` on ``arn:aws:s3:::bucket/key``,
``s3:ListBucket`` on ``arn:aws:s3:::bucket``, ...). Bodies stream through ``aws.payloads`` readers, which
check the payload hash, chunk signatures and checksums while ``storage`` writes the blob.
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.hosts import virtual_bucket
from aws.models import service_model
from aws.payloads import body_reader
from aws.protocols.restxml import operation_match, restxml_parse, restxml_response
from aws.registry import handler_for
from aws.services.s3 import buckets, multipart, notifications, objects  # noqa: F401  (registers the operations)
from aws.sigv4 import Verification

DOMAIN_CODES = {
    "BucketAlreadyExists": ("BucketAlreadyOwnedByYou", 409),
    "EntityTooLarge": ("EntityTooLarge", 400),
    "*NotFound": ("NoSuchKey", 404),
    "*Invalid": ("InvalidArgument", 400),
    "*Conflict": ("OperationAborted", 409),
}
DOMAIN_CODES.update({code: (code, status) for code, status in (("NoSuchBucket", 404), ("NoSuchKey", 404), ("BucketNotEmpty", 409), ("InvalidBucketName", 400),
                                                               ("KeyTooLongError", 400), ("InvalidArgument", 400), ("IncompleteBody", 400), ("InvalidRange", 416),
                                                               ("MetadataTooLarge", 400),
                                                               ("NoSuchUpload", 404), ("InvalidPart", 400), ("InvalidPartOrder", 400), ("EntityTooSmall", 400),
                                                               ("MalformedXML", 400))})
# The root element of each XML output (botocore's model does not carry it).
ROOTS = {"ListBuckets": "ListAllMyBucketsResult", "ListObjects": "ListBucketResult", "ListObjectsV2": "ListBucketResult", "DeleteObjects": "DeleteResult",
         "CreateMultipartUpload": "InitiateMultipartUploadResult", "CompleteMultipartUpload": "CompleteMultipartUploadResult", "ListParts": "ListPartsResult",
         "ListMultipartUploads": "ListMultipartUploadsResult", "GetBucketNotificationConfiguration": "NotificationConfiguration"}


def dispatch(ctx: AwsContext, *, verification: Verification | None, body: bytes | None) -> HttpResponse | StreamingHttpResponse:
    request = ctx.request
    model = service_model("s3")
    _, bucket = virtual_bucket(request)
    path = request.path
    if bucket:
        path = f"/{bucket}" + (path if path != "/" else "")
    operation, labels = operation_match(model, method=request.method or "GET", path=path, query=request.GET, headers=request.headers)
    handler = handler_for("s3", operation.name)
    if handler is None:
        raise AwsError("NotImplemented", f"Kiln does not implement S3 {operation.name} yet.", status=501)
    reader = None
    shape = operation.input_shape
    if shape is not None and shape.serialization.get("payload"):
        if not request.META.get("CONTENT_LENGTH") and request.META.get("HTTP_TRANSFER_ENCODING") and operation.name in ("PutObject", "UploadPart"):
            raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP header.", status=411)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise AwsError("InvalidArgument", "Content-Length must be a number.") from None
        reader = body_reader(request, request.headers, verification=verification, content_length=length)
    params = restxml_parse(operation, request, labels, request.GET, body=reader)
    result = handler(ctx, params)
    if isinstance(result, HttpResponse | StreamingHttpResponse):
        return result
    return restxml_response(model, operation, result, request_id=ctx.request_id, root=ROOTS.get(operation.name), head=request.method == "HEAD")
