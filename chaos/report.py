"""What became of everything the harness sent: read from Kiln's database (the rows) and from the
function's own table (its runs), judged, and printed."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg

from chaos.workload import FUNCTION, Submitted

FINAL = ("succeeded", "failed", "timed_out", "throttled")


@dataclass
class Rows:
    status: dict[str, str]  # request id -> status
    error_type: dict[str, str]
    attempts: dict[str, int]
    retries: dict[str, int]
    reports: dict[str, int]  # REPORT lines in the row's log: one per finished attempt
    results: dict[str, str]


def read_rows(database_url: str) -> Rows:
    with psycopg.connect(database_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT id::text, status, coalesce(error->>'errorType', ''), attempt, retries, "
            "(length(logs) - length(replace(logs, 'REPORT RequestId', ''))) / length('REPORT RequestId'), coalesce(result, '') "
            "FROM invoker_invocation WHERE function_name = %s AND trigger = 'api'", [FUNCTION]).fetchall()
    rows = Rows({}, {}, {}, {}, {}, {})
    for request_id, status, error_type, attempt, retries, reports, result in found:
        rows.results[request_id] = result
        rows.status[request_id] = status
        rows.error_type[request_id] = error_type
        rows.attempts[request_id] = attempt
        rows.retries[request_id] = retries
        rows.reports[request_id] = reports
    return rows


def pending(database_url: str) -> int:
    """Rows of the function not final yet (any trigger)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM invoker_invocation WHERE function_name = %s AND status NOT IN ('succeeded', 'failed', 'timed_out', 'throttled')",
                            [FUNCTION]).fetchone()[0]


@dataclass
class Report:
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    unanswered: int = 0
    unconfirmed_rows: int = 0  # rows whose 202 the harness never saw (an answer lost in a fault)
    succeeded: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # by errorType (status when none)
    lost: int = 0
    lost_ids: list[str] = field(default_factory=list)
    lost_by_status: dict[str, int] = field(default_factory=dict)  # what the lost ones were at the end (missing: no row)
    rerun: int = 0  # invocations the function ran more than once
    runs_max: int = 0
    requeued: int = 0  # invocations Kiln sent back to the queue at least once (attempt > 1)
    recorded_twice: int = 0  # rows holding more finished results than attempts
    succeeded_unrun: int = 0  # succeeded rows whose function recorded no run
    wrong_result: int = 0  # succeeded rows whose result is not the one their event asks for
    runs_counted: bool = True
    sqs_sent: int = 0
    sqs_processed: int = 0
    sqs_lost: int = 0
    sqs_rerun: int = 0
    submit_s: float = 0.0
    drain_after_submit_s: float | None = None
    drain_after_fault_s: float | None = None
    faults: list[str] = field(default_factory=list)
    fault_errors: list[str] = field(default_factory=list)
    drained: bool = False
    sqs_drained: bool = True
    broker: str = ""  # the broker's queues at the deadline, when something was not drained (broker_snapshot)

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.drained and self.sqs_drained and self.sqs_lost == 0 and self.recorded_twice == 0 and self.succeeded_unrun == 0
                and self.wrong_result == 0 and not self.fault_errors and self.accepted > 0)

    def render(self) -> str:
        lines = [
            f"accepted            {self.accepted}  (refused answers: {dict(sorted(self.refused.items())) or 'none'}; answers lost in a fault: {self.unanswered})",
            f"rows without a 202  {self.unconfirmed_rows}  (submitted, answer lost; counted below like the rest)",
            f"succeeded           {self.succeeded}",
            f"failed              {sum(self.failed.values())}  {dict(sorted(self.failed.items())) or ''}".rstrip(),
            f"lost                {self.lost}  (accepted but not final at the deadline, or missing){'  ' + str(self.lost_by_status) if self.lost else ''}"
            f"{'  e.g. ' + ', '.join(self.lost_ids[:3]) if self.lost_ids else ''}",
            (f"re-run after fault  {self.rerun}  (the function ran more than once; at most {self.runs_max} times); requeued by Kiln: {self.requeued}"
             if self.runs_counted else f"re-run after fault  not counted (--no-record); requeued by Kiln: {self.requeued}"),
            f"recorded twice      {self.recorded_twice}  (rows with more results than attempts); succeeded without a run: {self.succeeded_unrun}; "
            f"wrong result: {self.wrong_result}",
        ]
        if self.sqs_sent:
            lines.append(f"sqs messages        sent {self.sqs_sent}, processed {self.sqs_processed}, lost {self.sqs_lost}, processed more than once {self.sqs_rerun}")
        drain_fault = f"{self.drain_after_fault_s:.1f} s" if self.drain_after_fault_s is not None else "not drained"
        drain_submit = f"{self.drain_after_submit_s:.1f} s" if self.drain_after_submit_s is not None else "not drained"
        lines.append(f"submission          {self.submit_s:.1f} s")
        lines.append(f"drain               {drain_submit} after the last submission, {drain_fault} after the last fault")
        lines.append("faults              " + ("; ".join(self.faults) or "none"))
        if self.broker:
            lines.append("broker at the end   " + self.broker)
        if self.fault_errors:
            lines.append("fault errors        " + "; ".join(self.fault_errors))
        lines.append("verdict             " + ("OK: nothing lost" if self.ok else "FAILED"))
        return "\n".join(lines)


def build(rows: Rows, runs: dict[str, int] | None, submitted: Submitted) -> Report:
    """Judge the rows (and the function's records of its runs; None: not recorded) against what was submitted."""
    report = Report(accepted=len(submitted.accepted), refused=dict(submitted.refused), unanswered=submitted.unanswered, runs_counted=runs is not None)
    events = {request_id: n for request_id, n in submitted.accepted.items()}
    report.unconfirmed_rows = sum(1 for request_id in rows.status if request_id not in submitted.accepted)
    failed: Counter[str] = Counter()
    for request_id, status in rows.status.items():
        if status == "succeeded":
            report.succeeded += 1
            if runs is not None and runs.get(request_id, 0) == 0:
                report.succeeded_unrun += 1
            if request_id in events and _answer(rows.results[request_id]) != {"n": events[request_id]}:
                report.wrong_result += 1
        elif status in FINAL:
            failed[rows.error_type[request_id] or status] += 1
        if rows.attempts[request_id] > 1:
            report.requeued += 1
        if status in FINAL and rows.reports[request_id] > rows.retries[request_id] + 1:
            report.recorded_twice += 1
    report.failed = dict(failed)
    lost_by: Counter[str] = Counter()
    for request_id in submitted.accepted:
        if rows.status.get(request_id) not in FINAL:
            report.lost += 1
            report.lost_ids.append(request_id)
            lost_by[rows.status.get(request_id, "missing")] += 1
    for request_id in rows.status:
        if rows.status[request_id] not in FINAL and request_id not in submitted.accepted:
            report.lost += 1  # a row whose 202 was lost is Kiln's to finish all the same
            report.lost_ids.append(request_id)
            lost_by[rows.status[request_id]] += 1
        if runs is None:
            continue
        count = runs.get(request_id, 0)
        if count > 1 + rows.retries[request_id]:
            report.rerun += 1
        report.runs_max = max(report.runs_max, count)
    report.lost_by_status = dict(lost_by)
    report.sqs_sent = len(submitted.sqs_sent)
    for message_id in submitted.sqs_sent if runs is not None else ():
        count = runs.get("sqs:" + message_id, 0)
        if count:
            report.sqs_processed += 1
        if count > 1:
            report.sqs_rerun += 1
    report.sqs_lost = report.sqs_sent - report.sqs_processed if runs is not None else 0
    return report


def _answer(result: str) -> object:
    try:
        return json.loads(result)
    except ValueError:
        return None


def wait_drained(database_url: str, accepted: set[str], deadline: float) -> float | None:
    """Until every accepted row exists and no row of the function is pending; the time it happened, or None."""
    while time.monotonic() < deadline:
        try:
            if pending(database_url) == 0:
                with psycopg.connect(database_url, autocommit=True) as conn:
                    present = {r[0] for r in conn.execute("SELECT id::text FROM invoker_invocation WHERE function_name = %s", [FUNCTION])}
                if accepted <= present:
                    return time.monotonic()
        except psycopg.OperationalError:
            pass
        time.sleep(0.5)
    return None


def broker_snapshot(redis_url: str, lost_ids: list[str]) -> str:
    """Where the broker holds messages when a run did not drain: each Celery queue's length, kombu's unacked
    messages (received by a worker, not acknowledged) by task, and which of ``lost_ids`` have a message in either."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    wanted, found = set(lost_ids), Counter[str]()
    parts = []
    for queue in ("invoke", "invoke-sync", "control"):
        keys = [queue] + [f"{queue}\x06\x16{step}" for step in (3, 6, 9)]  # kombu's priority lists
        bodies = [raw for key in keys for raw in client.lrange(key, 0, -1)]
        parts.append(f"{queue} {len(bodies)}")
        found.update(f"in {queue}" for raw in bodies if _invocation_of(json.loads(raw)) in wanted)
    unacked = Counter[str]()
    for raw in client.hvals("unacked"):
        message = json.loads(raw)[0]  # kombu keeps [message, exchange, routing key]
        unacked[message.get("headers", {}).get("task", "?")] += 1
        if _invocation_of(message) in wanted:
            found["unacked"] += 1
    parts.append(f"unacked {dict(unacked) or 0}")
    if wanted:
        parts.append(f"of the lost: {dict(found) or 'no message anywhere'}")
    return "; ".join(parts)


def _invocation_of(message: dict) -> str | None:
    """The invocation id an ``invoker.tasks.invoke`` message carries (its body is base64 JSON ``[args, kwargs, embed]``)."""
    import base64

    try:
        if message.get("headers", {}).get("task") != "invoker.tasks.invoke":
            return None
        return str(json.loads(base64.b64decode(message["body"]))[0][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
