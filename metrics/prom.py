"""Prometheus counters and histograms of invocations, served at ``/metrics`` in the text format.

Kiln runs several processes (gunicorn's workers, the Celery worker), so ``prometheus-client`` runs in
its multi-process mode: every process writes its samples to memory-mapped files under
``PROMETHEUS_MULTIPROC_DIR`` (``KILN_DATA_DIR/prometheus``, set by ``console/settings.py`` before this
module is imported, and emptied by ``scripts/run.sh`` at start), and ``/metrics`` sums the files of
every process sharing the directory (named by host and pid). Without that variable (a shell, a script) the process's own registry is served.
"""

from __future__ import annotations

import os
import socket

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Files are named by process: host name and pid, since containers sharing the data dir (docker
    # compose's web and worker) reuse the same small pids.
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: f"{socket.gethostname().replace('_', '-')}-{os.getpid()}")

SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

INVOCATIONS = Counter("kiln_invocations", "Finished runs of functions (each attempt), by final status", ["function", "status"])
DURATION = Histogram("kiln_invocation_duration_seconds", "Duration of function runs (the handler's, init excluded)", ["function"], buckets=SECONDS_BUCKETS)
COLD_STARTS = Counter("kiln_cold_starts", "Runs that started a new execution environment", ["function"])
INIT_DURATION = Histogram("kiln_init_duration_seconds", "Init Duration of cold starts", ["function"], buckets=SECONDS_BUCKETS)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def prom_observe_run(*, function_name: str, status: str, duration_ms: float | None, init_duration_ms: float | None) -> None:
    """Count one finished run in this process's samples."""
    INVOCATIONS.labels(function_name, status).inc()
    if duration_ms is not None:
        DURATION.labels(function_name).observe(duration_ms / 1000.0)
    if init_duration_ms is not None:
        COLD_STARTS.labels(function_name).inc()
        INIT_DURATION.labels(function_name).observe(init_duration_ms / 1000.0)


def prom_exposition() -> bytes:
    """Every process's samples (multi-process mode), else this process's, in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
