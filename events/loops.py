"""Recursive loops stopped as Lambda stops them: an invocation caused, through bucket notifications, by
the writes of a chain of 16 invocations is not run.

The chain travels with the writer's credentials: an execution environment's session key names the
invocation it runs (invoker/credentials.py), the AWS endpoint reads that invocation's chain into the write's
``RequestInfo`` (aws/services/s3/common.py), and each invocation the write triggers carries ``chain_id``
and ``chain_depth`` (one more) in its trigger detail. The 17th is recorded, failed with Lambda's
``RecursiveInvocationException`` and its chain, instead of queued. Kiln counts every hop of the chain,
whichever functions it passes through.
"""

from __future__ import annotations

from typing import Any

from storage.domain import RequestInfo

MAX_CHAIN_DEPTH = 16


def chain_detail(request: RequestInfo) -> dict[str, Any]:
    """The chain fields of an invocation the write ``request`` triggers (none when no function wrote)."""
    if not request.chain_id:
        return {}
    return {"chain_id": request.chain_id, "chain_depth": request.chain_depth + 1}


def chain_too_long(detail: dict[str, Any]) -> bool:
    return int(detail.get("chain_depth") or 0) > MAX_CHAIN_DEPTH


def loop_error(function_name: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"errorType": "RecursiveInvocationException",
            "errorMessage": f"Kiln stopped invocation {detail['chain_depth']} of chain {detail['chain_id']}: function {function_name} is part of a "
                            f"recursive loop (more than {MAX_CHAIN_DEPTH} invocations in a chain of requests).",
            "stackTrace": []}
