"""``kiln invoke NAME``: run the function once and print its response payload.

``--payload`` (JSON text) or ``--payload-file`` (``-`` for standard input) is the event; ``--qualifier``
picks a version or alias; ``--async`` queues it (``Event``, nothing to print); ``--tail`` prints the last
4 KB of the invocation's log (Lambda's ``LogResult``) to standard error. Exit code 1 when the function
failed (``FunctionError``; its error document is still printed), 2 when Kiln refused the call.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from kilncli.client import CommandError, error_code, error_message, make_client


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("invoke", parents=[common], help="invoke a function and print its result",
                                   description="Invoke the function and print its response payload (exit code 1 when the function failed).")
    parser.add_argument("function", metavar="NAME", help="the function's name or ARN (NAME:QUALIFIER also works)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--payload", "-p", metavar="JSON", help="the event as JSON text (default: {})")
    source.add_argument("--payload-file", metavar="FILE", help="a file holding the event as JSON ('-': standard input)")
    parser.add_argument("--qualifier", "-q", help="a version number or alias (default: $LATEST)")
    parser.add_argument("--async", dest="asynchronous", action="store_true", help="queue the invocation (InvocationType Event) and return at once")
    parser.add_argument("--tail", "-t", action="store_true", help="print the invocation's log (last 4 KB) to standard error")
    parser.set_defaults(run=run)


def payload_of(args: argparse.Namespace) -> bytes:
    """The event bytes to send, checked to be JSON (Lambda's events are)."""
    if args.payload_file:
        try:
            data = sys.stdin.buffer.read() if args.payload_file == "-" else Path(args.payload_file).read_bytes()
        except OSError as exc:
            raise CommandError(f"--payload-file: {exc.strerror or exc}: {args.payload_file}") from None
        origin = "--payload-file"
    elif args.payload is not None:
        data, origin = args.payload.encode(), "--payload"
    else:
        return b"{}"
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{origin} is not valid JSON: {exc}") from None
    return data


def run(args: argparse.Namespace) -> int:
    if args.asynchronous and args.tail:
        raise CommandError("--tail needs a synchronous invocation: an --async one has no log to return yet")
    payload = payload_of(args)
    lam = make_client(args, "lambda", retries=1)  # an invocation must not run twice because a read timed out
    params: dict[str, Any] = {"FunctionName": args.function, "Payload": payload,
                              "InvocationType": "Event" if args.asynchronous else "RequestResponse"}
    if args.qualifier:
        params["Qualifier"] = args.qualifier
    if args.tail:
        params["LogType"] = "Tail"
    try:
        answer = lam.invoke(**params)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            what = f"{args.function}:{args.qualifier}" if args.qualifier else args.function
            raise CommandError(f"function {what!r} not found ({error_message(exc)})") from None
        raise
    if args.asynchronous:
        request_id = answer.get("ResponseMetadata", {}).get("RequestId", "")
        print(f"queued {args.function} (StatusCode {answer.get('StatusCode')}, RequestId {request_id})", file=sys.stderr, flush=True)
        return 0
    if args.tail and answer.get("LogResult"):
        log = base64.b64decode(answer["LogResult"]).decode("utf-8", errors="replace")
        sys.stderr.write(log if log.endswith("\n") else log + "\n")
        sys.stderr.flush()
    body = answer["Payload"].read()
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
    sys.stdout.flush()
    return 1 if answer.get("FunctionError") else 0
