"""Lambda adapter: the Lambda API (2015-03-31, rest-json) over ``functions``, ``invoker`` and ``httpapi``'s services.

Every operation is decided by IAM before it runs (``lambda:GetFunction`` on the function's ARN, with its
qualifier where one is given; ``iam:PassRole`` on the role given to CreateFunction and
UpdateFunctionConfiguration). Names resolve as Lambda resolves them (``functions.versions.name_split``).
"""

from __future__ import annotations

from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.restjson import restjson_match, restjson_parse, restjson_response
from aws.registry import handler_for
from aws.services.lambda_ import aliases, functions, invoke, layers, mappings, settings, urls  # noqa: F401  (registers the operations)

DOMAIN_CODES = {
    "RequestTooLargeException": ("RequestEntityTooLargeException", 413),
    "InvalidRequest": ("InvalidParameterValueException", 400),
}


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("lambda")
    operation, labels = restjson_match(model, ctx.request)
    handler = handler_for("lambda", operation.name)
    if handler is None:
        raise AwsError("NotImplementedException", f"Kiln does not implement Lambda {operation.name} yet.", status=501, sender=False)
    params = restjson_parse(operation, ctx.request, labels, body or b"")
    result = handler(ctx, params)
    if isinstance(result, HttpResponse):
        return result
    return restjson_response(operation, result, request_id=ctx.request_id)
