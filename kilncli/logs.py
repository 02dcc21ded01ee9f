"""``kiln logs NAME [--follow] [--since 10m]``: the function's log lines through the CloudWatch Logs API.

Reads ``/aws/lambda/NAME`` with FilterLogEvents (all pages) from ``--since`` ago; ``--follow`` keeps
polling once a second for new events until Ctrl-C (exit code 0), and waits for a group that has no event yet. Each event prints as
``<UTC time> <log stream> <message>``.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from kilncli.client import CommandError, error_code, make_client

FOLLOW_POLL_SECONDS = 1.0
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("logs", parents=[common], help="print a function's log lines",
                                   description="Print the function's log events (log group /aws/lambda/NAME) since a time; --follow for new ones.")
    parser.add_argument("function", metavar="NAME", help="the function's name")
    parser.add_argument("--since", "-s", default="10m", help="how far back: 30s, 10m, 2h, 1d, 1w, or an ISO 8601 time (default: 10m)")
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new events until Ctrl-C")
    parser.set_defaults(run=run)


def since_ms(text: str, now: float | None = None) -> int:
    """``--since`` as a start time in epoch milliseconds: a duration back from ``now`` or an ISO 8601 time (UTC when no zone)."""
    now = time.time() if now is None else now
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if match:
        return int((now - int(match.group(1)) * UNITS[match.group(2)]) * 1000)
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--since {text!r}: give a duration such as 30s, 10m, 2h, 1d or 1w, or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def event_line(event: dict[str, Any]) -> str:
    moment = datetime.datetime.fromtimestamp(event["timestamp"] / 1000, tz=datetime.UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return f"{stamp} {event.get('logStreamName', '')} {event.get('message', '').rstrip(chr(10))}"


def events_since(logs: Any, group: str, start_ms: int) -> Iterator[dict[str, Any]]:
    """Every event of ``group`` from ``start_ms`` on, following nextToken through the pages."""
    params: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    while True:
        page = logs.filter_log_events(**params)
        yield from page.get("events", [])
        token = page.get("nextToken")
        if not token or token == params.get("nextToken"):
            return
        params["nextToken"] = token


class Follower:
    """New events of a group, each printed once.

    Kiln writes an invocation's lines when it finishes, stamped with when it started, so an event can arrive
    later than a newer one: each poll reads again from ``LOOKBACK_MS`` before the newest event seen and skips
    the event ids already printed.
    """

    LOOKBACK_MS = 120_000

    def __init__(self, logs: Any, group: str, start_ms: int) -> None:
        self.logs, self.group, self.start_ms = logs, group, start_ms
        self.newest_ms = start_ms
        self.seen: dict[str, int] = {}  # event id -> timestamp, for the events inside the look-back window

    def poll(self) -> list[dict[str, Any]]:
        window_ms = max(self.start_ms, self.newest_ms - self.LOOKBACK_MS)
        fresh = [e for e in events_since(self.logs, self.group, window_ms) if e["eventId"] not in self.seen]
        for event in fresh:
            self.seen[event["eventId"]] = event["timestamp"]
            self.newest_ms = max(self.newest_ms, event["timestamp"])
        floor = max(self.start_ms, self.newest_ms - self.LOOKBACK_MS)
        self.seen = {event_id: stamp for event_id, stamp in self.seen.items() if stamp >= floor}
        return fresh


def run(args: argparse.Namespace, sleep: Callable[[float], None] = time.sleep) -> int:
    group = f"/aws/lambda/{args.function}"
    follower = Follower(make_client(args, "logs"), group, since_ms(args.since))
    waiting_said = False
    try:
        while True:
            try:
                events = follower.poll()
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                if not args.follow:
                    raise CommandError(f"no logs for function {args.function!r}: log group {group} not found") from None
                if not waiting_said:
                    print(f"kiln: log group {group} not found yet; waiting for it", file=sys.stderr, flush=True)
                    waiting_said = True
                events = []
            for event in events:
                print(event_line(event), flush=True)
            if not args.follow:
                return 0
            sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return 0
