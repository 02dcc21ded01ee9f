"""What a Celery worker process does beside tasks: heartbeats, idle-environment reaping, clean shutdown.

Started from Celery's ``worker_ready`` signal; a heartbeat key ``kiln:worker:<name>`` (15 s expiry)
says the worker is alive, and carries a snapshot of its environments for the console and /healthz.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

from celery.signals import task_prerun, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

from core.heap import heap_freeze
from functions.limits import EPHEMERAL_DEFAULT_MB
from invoker import network, tmpdisk
from invoker.callrunner import call_threads_start, call_threads_stop
from invoker.cgroups import cgroups_remove_orphans, favor_dynamic_modifications
from invoker.pool import EnvironmentPool, get_pool
from invoker.prewarm import prewarm_enabled
from invoker.recovery import broker_restart_check, resend_check
from invoker.redis_client import get_redis
from invoker.sandbox import sandbox_mode, sandbox_status
from invoker.workers import WORKER_NAME, process_identity

log = logging.getLogger(__name__)
HEARTBEAT_S = 5
# The worker's threads hand work to each other (Runtime API server → invoking thread → output reader)
# many times per invocation; with Python's default 5 ms switch interval a busy thread can hold each hand-off.
GIL_SWITCH_INTERVAL_S = 0.0005
_stop = threading.Event()


PROVISION_SLOT_S = 20


def _provision(pool: EnvironmentPool) -> None:
    """Claim this worker's share of each function's provisioned environments and keep them warm.

    Slots ``kiln:provisioned:<revision>:<n>`` are claimed with SET NX and refreshed while held, so
    N environments are spread across workers and a dead worker's slots are taken over.
    """
    from django.db import close_old_connections

    from functions.models import Function
    from functions.versions import provisioned_targets
    from invoker.run import environment_config

    close_old_connections()
    redis = get_redis()
    wanted = {}
    targets = [(revision_id, "$LATEST", count) for revision_id, count in
               Function.objects.filter(provisioned_concurrency__gt=0, latest__isnull=False).values_list("latest_id", "provisioned_concurrency")]
    for revision_id, version, count in targets + provisioned_targets():
        config = environment_config(revision_id, version)
        mine = 0
        for slot in range(count):
            key = f"kiln:provisioned:{config.key}:{slot}"
            if redis.set(key, WORKER_NAME, nx=True, ex=PROVISION_SLOT_S) or redis.get(key) == WORKER_NAME.encode():
                redis.expire(key, PROVISION_SLOT_S)
                mine += 1
        if mine:
            wanted[config.key] = (config, mine)
    pool.ensure_provisioned(wanted)


def _beat() -> None:
    pool = get_pool()
    while not _stop.is_set():
        try:
            broker_restart_check()  # a broker that lost its messages: queued invocations are sent again at once
            resend_check()  # ... and that re-send finished even if its worker died
        except Exception as exc:  # noqa: BLE001 - Redis away: the next beat looks again
            log.warning("broker restart check failed: %s", exc)
        try:
            pool.reap_idle()
            _provision(pool)
            get_redis().set(
                f"kiln:worker:{WORKER_NAME}",
                json.dumps({"name": WORKER_NAME, "process": process_identity(), "at": time.time(), "sandbox": sandbox_status(), "environments": pool.snapshot(), "spares": pool.prewarmer.spares()}),
                ex=HEARTBEAT_S * 3,
            )
        except Exception as exc:  # noqa: BLE001 - keep beating through a Redis hiccup
            log.warning("heartbeat failed: %s", exc)
        _stop.wait(HEARTBEAT_S)


@task_prerun.connect
def _recycle_connections(**_: object) -> None:
    """Apply CONN_MAX_AGE to this thread's connection and close it after errors, as Django does per request; a
    connection not checked in the last ``KILN_DB_HEALTH_CHECK_GRACE_SECONDS`` is checked (``SELECT 1``) before
    its first query (core/db/postgresql), so a thread that sat idle while the database dropped its connection
    reconnects instead of failing its task; back-to-back tasks pay one check a second."""
    close_old_connections()


def _precompile_sdks() -> None:
    """In the background: Kiln's Java bootstrap and its class-data archive per JDK (invoker/javabuild.py), so the
    first Java cold start does not wait for javac or the archive's training run, and bytecode for the bundled
    SDK per Python runtime: `import boto3` in a function would otherwise compile botocore on every cold start
    of runtimes other than Kiln's own."""
    from functions.runtimes import available_runtimes
    from invoker.javabuild import JavaBuildFailed, class_data_archive
    from invoker.launchers import TRAINING_MEMORY_MB, java_flags
    from invoker.sandbox import precompile, sandbox_mode

    pythons = [r.executable for r in available_runtimes().values() if r.family == "python"]
    javas = [r.executable for r in available_runtimes().values() if r.family == "java"]

    def build() -> None:
        for java in javas:
            try:
                class_data_archive(java, sandbox_mode(), java_flags(TRAINING_MEMORY_MB))  # builds the bootstrap first
            except (JavaBuildFailed, RuntimeError):  # RuntimeError: KILN_SANDBOX=bwrap where bubblewrap fails
                log.exception("could not build Kiln's Java bootstrap for %s", java)
        for python in pythons:
            precompile(python, sdk=True)

    threading.Thread(target=build, name="kiln-precompile", daemon=True).start()


def _ephemeral_sizes() -> list[int]:
    """The default ephemeral storage, then the other sizes functions have now (their first cold start
    then finds a /tmp made)."""
    from functions.models import Function

    try:
        sizes = set(Function.objects.exclude(latest=None).values_list("latest__ephemeral_storage", flat=True).distinct()[:32])
    except Exception:  # noqa: BLE001 - a database not there yet only costs those first starts their speed
        sizes = set()
    finally:
        connection.close()  # the main thread's; task threads have their own
    return [EPHEMERAL_DEFAULT_MB, *sorted(sizes - {EPHEMERAL_DEFAULT_MB})]


@worker_ready.connect
def _on_ready(**_: object) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    if settings.KILN_CGROUP_FAVORDYNMODS:
        favor_dynamic_modifications()
    cgroups_remove_orphans()  # what SIGKILLed workers of this host left (their processes, their groups)
    _precompile_sdks()
    if sandbox_mode() == "bwrap":
        network.prepare()  # egress rules once, namespaces ready before the first cold start
        tmpdisk.prepare(*_ephemeral_sizes())  # what dead workers left removed, a /tmp of each size in use ready
    status = sandbox_status()
    if status["mode"] == "refused":
        log.error("FUNCTIONS WILL NOT START: %s", status["detail"])
    elif not status["isolated"]:
        log.warning("SANDBOX NOT ISOLATED: %s. Functions run as plain processes with rlimits only.", status["detail"])
    else:
        net = status["network"]
        log.info("sandbox: %s; network: %s (%s), egress: %s", status["detail"], net["isolation"], net["detail"], net.get("egress_detail"))
    threading.Thread(target=_beat, name="kiln-heartbeat", daemon=True).start()
    call_threads_start()  # synchronous calls (invoker/callrunner.py)
    if prewarm_enabled():
        get_pool().prewarmer.want_defaults()
    heap_freeze()  # what the start loaded, out of the collector's scans (core/heap.py)


@worker_shutdown.connect
def _on_shutdown(**_: object) -> None:
    _stop.set()
    call_threads_stop()  # the calls running finish before their environments stop
    get_pool().stop_all()
    tmpdisk.stop_all()
    try:
        from metrics.buffer import metrics_flush

        metrics_flush()  # the roll-ups gathered since the last write
    except Exception as exc:  # noqa: BLE001
        log.warning("could not write the last metrics: %s", exc)
    try:
        get_redis().delete(f"kiln:worker:{WORKER_NAME}")
    except Exception:  # noqa: BLE001
        pass
