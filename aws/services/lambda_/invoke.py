"""Lambda's Invoke: synchronous (``RequestResponse``), asynchronous (``Event``, 202) and ``DryRun`` (204).

Who may invoke is decided by the caller's identity policies and the function's resource policy together
(AddPermission statements), as on AWS within one account: an explicit deny in either refuses, an allow in
either permits. An alias with weights picks its version per call; the version that ran is recorded
on the invocation and answered in ``X-Amz-Executed-Version``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws.context import AwsContext
from aws.errors import AwsError
from aws.registry import operation
from aws.services.lambda_.common import function_resource
from functions.limits import ASYNC_PAYLOAD_MAX_BYTES, SYNC_PAYLOAD_MAX_BYTES
from functions.models import Function
from functions.versions import function_policy_allows, qualified_resolve
from invoker.calls import WORKER_LOST, invocation_call
from invoker.models import Invocation, InvocationStatus, InvocationType, Trigger
from invoker.submit import invocation_submit

CLIENT_CONTEXT_MAX = 3583  # bytes of the base64 text, as Lambda
LOG_TAIL_BYTES = 4096
INVOCATION_TYPES = {"RequestResponse": InvocationType.REQUEST_RESPONSE, "Event": InvocationType.EVENT, "DryRun": None}


def _invoke_authorized(ctx: AwsContext, resource: str, function: Function) -> None:
    identity = ctx.decide("lambda:InvokeFunction", resource)
    if identity.allowed:
        return
    if identity.decision != "explicitDeny" and function_policy_allows(function, ctx.principal, action="lambda:InvokeFunction", resource=resource,
                                                                      context=ctx.request_context()):
        return
    ctx.authorize("lambda:InvokeFunction", resource)  # raises, in AWS's words


def _client_context(text: str | None) -> str:
    if not text:
        return ""
    if len(text) > CLIENT_CONTEXT_MAX:
        raise AwsError("InvalidParameterValueException", f"Client context must be at most {CLIENT_CONTEXT_MAX} bytes of base64; got {len(text)}.")
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
        if not isinstance(json.loads(decoded), dict):
            raise ValueError("not an object")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.") from None
    return decoded


@operation("lambda", "Invoke")
def invoke(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = params["FunctionName"], params.get("Qualifier")
    kind = params.get("InvocationType") or "RequestResponse"
    if kind not in INVOCATION_TYPES:
        raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
    log_type = params.get("LogType") or "None"
    if log_type not in ("None", "Tail"):
        raise AwsError("InvalidParameterValueException", f"1 validation error detected: Value '{log_type}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]")
    payload: bytes = params.get("Payload") or b""
    limit = ASYNC_PAYLOAD_MAX_BYTES if kind == "Event" else SYNC_PAYLOAD_MAX_BYTES
    if len(payload) > limit:
        raise AwsError("RequestEntityTooLargeException", f"{len(payload)} byte payload is too large for the {kind} invocation type (limit {limit} bytes)", status=413)
    resolved = qualified_resolve(name, qualifier)
    resource = function_resource(name, qualifier)
    _invoke_authorized(ctx, resource, resolved.function)
    client_context = _client_context(params.get("ClientContext"))
    invocation_type = INVOCATION_TYPES[kind]
    if invocation_type is None:
        return {"StatusCode": 204}
    common: dict[str, Any] = {"function": resolved.function, "payload": payload, "trigger": Trigger.AWS,
              "trigger_detail": {"principal": ctx.principal.arn, "source_ip": ctx.source_ip, "operation": "Invoke"},
              "revision": resolved.revision, "qualifier": resolved.qualifier or "$LATEST", "executed_version": resolved.version, "client_context": client_context}
    if invocation_type == InvocationType.EVENT:
        invocation_submit(invocation_type=invocation_type, **common)
        return {"StatusCode": 202, "Payload": b""}
    finished = invocation_call(**common, with_logs=log_type == "Tail")
    return _sync_answer(finished, tail=log_type == "Tail")


def _sync_answer(invocation: Invocation, *, tail: bool) -> dict[str, Any]:
    if invocation.status == InvocationStatus.THROTTLED:
        error = invocation.error or {}
        raise AwsError("TooManyRequestsException", error.get("errorMessage", "Rate Exceeded."), status=429,
                       fields={"Reason": error.get("Reason") or "ConcurrentInvocationLimitExceeded", "retryAfterSeconds": "1"})
    if not invocation.is_final:
        raise AwsError("ServiceException", f"No worker finished invocation {invocation.id} in time; it is {invocation.status}.", status=500, sender=False)
    if invocation.status == InvocationStatus.FAILED and (invocation.error or {}).get("errorType") in ("ResourceNotFoundException", "ServiceException", "Kiln.InternalError", WORKER_LOST):
        error = invocation.error or {}
        raise AwsError(error["errorType"] if error["errorType"] not in ("Kiln.InternalError", WORKER_LOST) else "ServiceException", error.get("errorMessage", ""),
                       status=404 if error["errorType"] == "ResourceNotFoundException" else 500, sender=error["errorType"] == "ResourceNotFoundException")
    out: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": (invocation.result if invocation.result is not None else "null").encode(),
        "ExecutedVersion": invocation.executed_version,
    }
    if invocation.status != InvocationStatus.SUCCEEDED:
        out["FunctionError"] = "Unhandled"
    if tail:
        logs = invocation.logs or Invocation.objects.filter(pk=invocation.pk).values_list("logs", flat=True).first() or ""
        out["LogResult"] = base64.b64encode(logs.encode()[-LOG_TAIL_BYTES:]).decode()
    return out


@operation("lambda", "InvokeAsync")
def invoke_async(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """The deprecated InvokeAsync: an ``Event`` invocation answered ``202 {"Status": 202}``."""
    body = params.get("InvokeArgs")
    payload = body if isinstance(body, bytes) else (body.read() if body is not None else b"")
    result = invoke(ctx, {"FunctionName": params["FunctionName"], "InvocationType": "Event", "Payload": payload})
    return {"Status": result["StatusCode"]}


@operation("lambda", "InvokeWithResponseStream")
def invoke_with_response_stream(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    raise AwsError("UnsupportedMediaTypeException", "Kiln does not stream responses yet: call Invoke, which returns the whole response (up to 6 MB).", status=415)
