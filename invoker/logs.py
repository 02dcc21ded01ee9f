"""Lambda's log lines, in its exact format (tab-separated REPORT fields, trailing tab included)."""

from __future__ import annotations

from datetime import UTC, datetime

LOG_CAP_BYTES = 256 * 1024  # per invocation; the rest is cut with a marker
TRUNCATED_MARKER = "\n[Kiln] Log output truncated: this invocation printed {dropped} more bytes past the {cap} byte limit.\n"


def render_output(data: bytes, dropped: int) -> str:
    """A runtime's output as text, with the truncation marker when ``dropped`` bytes were cut."""
    text = data.decode("utf-8", "replace")
    if dropped:
        text += TRUNCATED_MARKER.format(dropped=dropped, cap=LOG_CAP_BYTES)
    return text


def init_start_line(runtime: str) -> str:
    return f"INIT_START Runtime Version: {runtime.replace('nodejs', 'nodejs:').replace('python', 'python:')}\n"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(request_id: str, *, duration_ms: float, billed_ms: int, memory_size: int, max_memory_mb: int, init_ms: float | None) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    return line + "\n"


def timeout_line(request_id: str, timeout_s: float) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds\n"


def denied_line(request_id: str, message: str) -> str:
    """The line Kiln adds to an invocation's log when IAM refuses a request signed with its environment's credentials."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {request_id} [Kiln] AccessDenied: {message}\n"
