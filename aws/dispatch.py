"""From a verified request to a handler and back, per protocol family.

``query_dispatch`` serves the query protocol (IAM, STS): the form's ``Action`` names the operation in the
model, ``aws.protocols.query`` parses and renders. The REST-XML dispatch of S3 lives with its adapter
(``aws.services.s3``) because S3 also needs the body stream and bucket addressing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from botocore.model import OperationNotFoundError
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.query import query_parse, query_response
from aws.registry import handler_for


def query_dispatch(ctx: AwsContext, *, body: bytes) -> HttpResponse:
    model = service_model(ctx.service)
    form = {k: v for k, v in ctx.request.GET.dict().items() if not k.startswith("X-Amz-")}
    try:
        form.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise AwsError("MalformedQueryString", "The request body is not UTF-8 form data.") from None
    action = form.get("Action", "")
    if not action:
        raise AwsError("MissingAction", "Missing Action")
    try:
        operation = model.operation_model(action)
    except OperationNotFoundError:
        raise AwsError("InvalidAction", f"Could not find operation {action} for version {model.api_version}") from None
    handler = handler_for(ctx.service, action)
    if handler is None:
        raise AwsError("NotImplemented", f"Kiln does not implement {model.service_id} {action} yet.", status=501)
    params = query_parse(operation, form)
    return query_response(model, operation, handler(ctx, params), ctx.request_id)
